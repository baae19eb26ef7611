//! [`Metrics`]: the gateway's Prometheus registry and every metric it exposes, each named
//! `goclaw_…` and each with a small recording method, so callers never touch label arrays.
//!
//! The registry is built once, with every family registered up front, and shared by cloning:
//! there is no global. A labelled family shows in the exposition from its first sample on. The exposition is the OpenMetrics text format, which Prometheus scrapes natively.
//! This module knows nothing about the gateway's types: lanes, routes, tools and providers
//! arrive as plain strings.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The `Content-Type` of [`Metrics::encode`]'s output.
pub const METRICS_CONTENT_TYPE: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

type Labels<const N: usize> = [(&'static str, String); N];
type Counters<const N: usize> = Family<Labels<N>, Counter>;
type Gauges<const N: usize> = Family<Labels<N>, Gauge>;
type Histograms<const N: usize> = Family<Labels<N>, Histogram, fn() -> Histogram>;

/// Every metric of the gateway. Cheap to clone; clones record into the same registry.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    runs_started: Counters<1>,
    runs_completed: Counters<2>,
    turns: Counter,
    llm_tokens: Counters<3>,
    tool_calls: Counters<2>,
    lane_queue_depth: Gauges<1>,
    lane_running: Gauges<1>,
    lane_wait: Histograms<1>,
    ws_clients: Gauge,
    webhook_sources: Gauge,
    provider_latency: Histograms<1>,
    provider_errors: Counters<2>,
    rate_limited: Counters<1>,
    trace_spans_dropped: Counter,
    http_requests: Counters<3>,
    http_duration: Histograms<2>,
    episodic_jobs: Counters<1>,
    episodic_queue_depth: Gauge,
}

/// How many trace spans were dropped; a handle another component keeps and adds to.
#[derive(Debug, Clone)]
pub struct SpanDropCounter(Counter);

impl SpanDropCounter {
    /// Counts `n` more dropped spans.
    pub fn add(&self, n: u64) {
        self.0.inc_by(n);
    }
}

/// Token counts of one LLM call, by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TokenCounts {
    pub input: u64,
    pub output: u64,
    pub cache_read: u64,
    pub cache_write: u64,
}

fn lane_wait_histogram() -> Histogram {
    // 1 ms … ~33 s.
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

fn provider_latency_histogram() -> Histogram {
    // 50 ms … ~100 s: LLM calls stream for long.
    Histogram::new(exponential_buckets(0.05, 2.0, 12))
}

fn http_duration_histogram() -> Histogram {
    // 1 ms … ~60 s.
    Histogram::new(exponential_buckets(0.001, 2.5, 13))
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

impl Metrics {
    /// A fresh registry with every metric registered at zero.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("goclaw");
        let runs_started = Counters::<1>::default();
        registry.register(
            "runs_started",
            "Agent runs started, by lane",
            runs_started.clone(),
        );
        let runs_completed = Counters::<2>::default();
        registry.register(
            "runs_completed",
            "Agent runs ended, by lane and status (completed, failed, cancelled, dropped)",
            runs_completed.clone(),
        );
        let turns = Counter::default();
        registry.register(
            "agent_turns",
            "Model turns (think steps) taken by agent runs",
            turns.clone(),
        );
        let llm_tokens = Counters::<3>::default();
        registry.register(
            "llm_tokens",
            "LLM tokens by provider, model and type (input, output, cache_read, cache_write)",
            llm_tokens.clone(),
        );
        let tool_calls = Counters::<2>::default();
        registry.register(
            "tool_calls",
            "Tool calls by tool and status (ok, error)",
            tool_calls.clone(),
        );
        let lane_queue_depth = Gauges::<1>::default();
        registry.register(
            "lane_queue_depth",
            "Runs waiting for a permit of their lane",
            lane_queue_depth.clone(),
        );
        let lane_running = Gauges::<1>::default();
        registry.register(
            "lane_running",
            "Runs holding a permit of their lane",
            lane_running.clone(),
        );
        let lane_wait: Histograms<1> = Family::new_with_constructor(lane_wait_histogram);
        registry.register(
            "lane_wait_seconds",
            "Time a run waited for a permit of its lane",
            lane_wait.clone(),
        );
        let ws_clients = Gauge::default();
        registry.register(
            "ws_clients",
            "Connected WebSocket clients",
            ws_clients.clone(),
        );
        let webhook_sources = Gauge::default();
        registry.register(
            "webhook_sources_tracked",
            "Caller addresses the webhook routes' per-source window tracks (at most 4096)",
            webhook_sources.clone(),
        );
        let provider_latency: Histograms<1> =
            Family::new_with_constructor(provider_latency_histogram);
        registry.register(
            "provider_request_duration_seconds",
            "Duration of one LLM provider call (each retry counts), by provider",
            provider_latency.clone(),
        );
        let provider_errors = Counters::<2>::default();
        registry.register(
            "provider_errors",
            "Failed LLM provider calls by provider and kind",
            provider_errors.clone(),
        );
        let rate_limited = Counters::<1>::default();
        registry.register(
            "rate_limit_hits",
            "Chat messages refused by the per-user rate limit, by surface",
            rate_limited.clone(),
        );
        let trace_spans_dropped = Counter::default();
        registry.register(
            "trace_spans_dropped",
            "Trace spans dropped because the span buffer was full",
            trace_spans_dropped.clone(),
        );
        let http_requests = Counters::<3>::default();
        registry.register(
            "http_requests",
            "HTTP requests by method, matched route template and status",
            http_requests.clone(),
        );
        let http_duration: Histograms<2> = Family::new_with_constructor(http_duration_histogram);
        registry.register(
            "http_request_duration_seconds",
            "HTTP request duration by method and matched route template",
            http_duration.clone(),
        );
        let episodic_jobs = Counters::<1>::default();
        registry.register(
            "episodic_jobs",
            "Episodic summary jobs by outcome (enqueued, rejected, written, duplicate, skipped, \
             retried, failed, listener_failed)",
            episodic_jobs.clone(),
        );
        let episodic_queue_depth = Gauge::default();
        registry.register(
            "episodic_queue_depth",
            "Sessions waiting in the episodic summary queue",
            episodic_queue_depth.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                runs_started,
                runs_completed,
                turns,
                llm_tokens,
                tool_calls,
                lane_queue_depth,
                lane_running,
                lane_wait,
                ws_clients,
                provider_latency,
                provider_errors,
                rate_limited,
                trace_spans_dropped,
                http_requests,
                http_duration,
                episodic_jobs,
                episodic_queue_depth,
                webhook_sources,
            }),
        }
    }

    /// The exposition of every metric, in the OpenMetrics text format
    /// ([`METRICS_CONTENT_TYPE`]).
    pub fn encode(&self) -> Result<String, fmt::Error> {
        let mut out = String::new();
        encode(&mut out, &self.inner.registry)?;
        Ok(out)
    }

    /// A run of `lane` started.
    pub fn run_started(&self, lane: &str) {
        self.inner
            .runs_started
            .get_or_create(&[("lane", lane.to_owned())])
            .inc();
    }

    /// A run of `lane` ended with `status`.
    pub fn run_completed(&self, lane: &str, status: &str) {
        self.inner
            .runs_completed
            .get_or_create(&[("lane", lane.to_owned()), ("status", status.to_owned())])
            .inc();
    }

    /// A run took one more model turn.
    pub fn turn(&self) {
        self.inner.turns.inc();
    }

    /// One LLM call of `provider`/`model` used `tokens`.
    pub fn llm_tokens(&self, provider: &str, model: &str, tokens: TokenCounts) {
        let kinds = [
            ("input", tokens.input),
            ("output", tokens.output),
            ("cache_read", tokens.cache_read),
            ("cache_write", tokens.cache_write),
        ];
        for (kind, count) in kinds {
            self.inner
                .llm_tokens
                .get_or_create(&[
                    ("provider", provider.to_owned()),
                    ("model", model.to_owned()),
                    ("type", kind.to_owned()),
                ])
                .inc_by(count);
        }
    }

    /// A call of `tool` finished, failed or not.
    pub fn tool_call(&self, tool: &str, is_error: bool) {
        let status = if is_error { "error" } else { "ok" };
        self.inner
            .tool_calls
            .get_or_create(&[("tool", tool.to_owned()), ("status", status.to_owned())])
            .inc();
    }

    /// The load of `lane` now (read at scrape time).
    pub fn set_lane_load(&self, lane: &str, waiting: usize, running: usize) {
        let labels = [("lane", lane.to_owned())];
        self.inner
            .lane_queue_depth
            .get_or_create(&labels)
            .set(saturating_i64(waiting));
        self.inner
            .lane_running
            .get_or_create(&labels)
            .set(saturating_i64(running));
    }

    /// A run of `lane` waited `waited` for its permit.
    pub fn lane_wait(&self, lane: &str, waited: Duration) {
        self.inner
            .lane_wait
            .get_or_create(&[("lane", lane.to_owned())])
            .observe(waited.as_secs_f64());
    }

    /// How many WebSocket clients are connected now (read at scrape time).
    pub fn set_ws_clients(&self, connected: usize) {
        self.inner.ws_clients.set(saturating_i64(connected));
    }

    /// How many caller addresses the webhook per-source window tracks now (read at scrape
    /// time).
    pub fn set_webhook_sources(&self, tracked: usize) {
        self.inner.webhook_sources.set(saturating_i64(tracked));
    }

    /// One call of `provider` took `took`; `error` is the failure's kind, if it failed.
    pub fn provider_call(&self, provider: &str, took: Duration, error: Option<&str>) {
        self.inner
            .provider_latency
            .get_or_create(&[("provider", provider.to_owned())])
            .observe(took.as_secs_f64());
        if let Some(kind) = error {
            self.inner
                .provider_errors
                .get_or_create(&[("provider", provider.to_owned()), ("kind", kind.to_owned())])
                .inc();
        }
    }

    /// The chat rate limit refused a message arriving through `surface` (`chat.send`,
    /// `/v1/chat/completions`).
    pub fn rate_limit_hit(&self, surface: &str) {
        self.inner
            .rate_limited
            .get_or_create(&[("surface", surface.to_owned())])
            .inc();
    }

    /// Counts `n` more dropped trace spans.
    pub fn add_trace_spans_dropped(&self, n: u64) {
        self.inner.trace_spans_dropped.inc_by(n);
    }

    /// A handle on `goclaw_trace_spans_dropped_total` for a span recorder to keep.
    pub fn trace_spans_dropped(&self) -> SpanDropCounter {
        SpanDropCounter(self.inner.trace_spans_dropped.clone())
    }

    /// An HTTP request to `route` (the router's template, e.g. `/v1/agents/{id}`) was
    /// answered with `status` after `took`.
    pub fn http_request(&self, method: &str, route: &str, status: u16, took: Duration) {
        self.inner
            .http_requests
            .get_or_create(&[
                ("method", method.to_owned()),
                ("route", route.to_owned()),
                ("status", status.to_string()),
            ])
            .inc();
        self.inner
            .http_duration
            .get_or_create(&[("method", method.to_owned()), ("route", route.to_owned())])
            .observe(took.as_secs_f64());
    }

    /// An episodic summary job ended a step with `outcome` (`enqueued`, `rejected`,
    /// `written`, `duplicate`, `skipped`, `retried`, `failed`, or `listener_failed` when the
    /// knowledge-graph extraction of a new episode failed).
    pub fn episodic_job(&self, outcome: &str) {
        self.inner
            .episodic_jobs
            .get_or_create(&[("outcome", outcome.to_owned())])
            .inc();
    }

    /// Sessions now waiting in the episodic summary queue.
    pub fn set_episodic_queue_depth(&self, waiting: usize) {
        self.inner.episodic_queue_depth.set(saturating_i64(waiting));
    }
}

fn saturating_i64(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(metrics: &Metrics, expected_line: &str) {
        let text = metrics.encode().unwrap_or_default();
        assert!(
            text.lines().any(|line| line == expected_line),
            "{expected_line:?} missing from:\n{text}"
        );
    }

    #[test]
    fn unlabelled_metrics_show_before_traffic() {
        let metrics = Metrics::new();
        check(&metrics, "# TYPE goclaw_agent_turns counter");
        check(&metrics, "# TYPE goclaw_ws_clients gauge");
        check(&metrics, "goclaw_trace_spans_dropped_total 0");
        check(&metrics, "# EOF");
    }

    #[test]
    fn recordings_show_with_their_labels() {
        let metrics = Metrics::new();
        let clone = metrics.clone();
        clone.run_started("main");
        clone.run_completed("main", "completed");
        clone.tool_call("exec", false);
        clone.rate_limit_hit("chat.send");
        clone.trace_spans_dropped().add(3);
        clone.add_trace_spans_dropped(1);
        clone.set_ws_clients(2);
        clone.http_request("GET", "/v1/agents/{id}", 200, Duration::from_millis(3));
        let tokens = TokenCounts {
            input: 10,
            output: 5,
            ..TokenCounts::default()
        };
        clone.llm_tokens("anthropic", "claude", tokens);
        clone.episodic_job("failed");
        clone.episodic_job("failed");
        clone.set_episodic_queue_depth(7);
        check(&metrics, r#"goclaw_runs_started_total{lane="main"} 1"#);
        check(
            &metrics,
            r#"goclaw_runs_completed_total{lane="main",status="completed"} 1"#,
        );
        check(
            &metrics,
            r#"goclaw_tool_calls_total{tool="exec",status="ok"} 1"#,
        );
        check(
            &metrics,
            r#"goclaw_rate_limit_hits_total{surface="chat.send"} 1"#,
        );
        check(&metrics, "goclaw_trace_spans_dropped_total 4");
        check(&metrics, "goclaw_ws_clients 2");
        check(
            &metrics,
            r#"goclaw_episodic_jobs_total{outcome="failed"} 2"#,
        );
        check(&metrics, "goclaw_episodic_queue_depth 7");
        check(
            &metrics,
            r#"goclaw_http_requests_total{method="GET",route="/v1/agents/{id}",status="200"} 1"#,
        );
        check(
            &metrics,
            r#"goclaw_llm_tokens_total{provider="anthropic",model="claude",type="input"} 10"#,
        );
    }
}
