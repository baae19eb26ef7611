//! The doctor's memory section: whether episodic memory is on, and what the running
//! gateway's episodic worker has done — read from its `/metrics` (the `GOCLAW_METRICS_ADDR`
//! listener, else the gateway's own port with the gateway token), since the counters live in
//! the gateway process. Failed or refused summaries are a warning.

use std::time::Duration;

use goclaw_config::LoadedConfig;

use super::{Check, Section};

const S: &str = "memory";
/// How long the doctor waits for the gateway's `/metrics`.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// The episodic worker's counters, as `/metrics` shows them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct WorkerCounts {
    pub written: f64,
    pub failed: f64,
    pub rejected: f64,
    pub retried: f64,
    pub queued: f64,
}

pub async fn section(loaded: &LoadedConfig) -> Section {
    let memory = &loaded.config.agents.defaults.memory;
    let episodic = &memory.episodic;
    if !memory.enabled || !episodic.enabled {
        return Section::new("Memory", vec![Check::ok(S, "episodic memory", "off")]);
    }
    let mut checks = vec![Check::ok(
        S,
        "episodic memory",
        format!(
            "on: sessions idle for {} s are summarized (queue {}, {} attempts, kept {} days)",
            episodic.idle_timeout_ms / 1000,
            episodic.queue_capacity,
            episodic.max_attempts,
            episodic.ttl_days
        ),
    )];
    let (url, token) = metrics_url(loaded);
    checks.push(match fetch(&url, token.as_deref()).await {
        Err(reason) => Check::ok(
            S,
            "episodic worker",
            format!("no running gateway answered at {url} ({reason}): no counters"),
        ),
        Ok(text) => verdict(&counts(&text)),
    });
    Section::new("Memory", checks)
}

fn verdict(counts: &WorkerCounts) -> Check {
    let detail = format!(
        "{} written, {} failed, {} refused (queue full), {} retried, {} waiting",
        counts.written, counts.failed, counts.rejected, counts.retried, counts.queued
    );
    if counts.failed > 0.0 {
        Check::warn(S, "episodic worker", detail).fix(
            "summaries failed after every retry: check the agents' providers and the log lines \
             `episodic memory: summary failed`",
        )
    } else if counts.rejected > 0.0 {
        Check::warn(S, "episodic worker", detail)
            .fix("raise agents.defaults.memory.episodic.queue_capacity")
    } else {
        Check::ok(S, "episodic worker", detail)
    }
}

/// Where the running gateway serves `/metrics`, and the token it wants there.
fn metrics_url(loaded: &LoadedConfig) -> (String, Option<String>) {
    if let Some(addr) = loaded.runtime.metrics_addr {
        return (format!("http://{addr}/metrics"), None);
    }
    let gateway = &loaded.config.gateway;
    let host = match gateway.host.as_str() {
        "" | "0.0.0.0" | "::" => "127.0.0.1",
        host => host,
    };
    let token = gateway
        .token
        .as_ref()
        .map(|t| t.expose().to_owned())
        .filter(|t| !t.is_empty());
    (format!("http://{host}:{}/metrics", gateway.port), token)
}

async fn fetch(url: &str, token: Option<&str>) -> Result<String, String> {
    let client = reqwest::Client::builder()
        .timeout(PROBE_TIMEOUT)
        .build()
        .map_err(|e| e.to_string())?;
    let mut request = client.get(url);
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    let response = request.send().await.map_err(|e| {
        if e.is_connect() {
            "connection refused".to_owned()
        } else if e.is_timeout() {
            "no answer".to_owned()
        } else {
            "request failed".to_owned()
        }
    })?;
    if !response.status().is_success() {
        return Err(format!("HTTP {}", response.status().as_u16()));
    }
    response.text().await.map_err(|e| e.to_string())
}

/// The worker's counters in an OpenMetrics exposition (absent ones are 0).
pub fn counts(exposition: &str) -> WorkerCounts {
    let mut counts = WorkerCounts::default();
    for line in exposition.lines() {
        let Some((name, value)) = line.rsplit_once(' ') else {
            continue;
        };
        let Ok(value) = value.parse::<f64>() else {
            continue;
        };
        let slot = match name {
            "goclaw_episodic_queue_depth" => &mut counts.queued,
            r#"goclaw_episodic_jobs_total{outcome="written"}"# => &mut counts.written,
            r#"goclaw_episodic_jobs_total{outcome="failed"}"# => &mut counts.failed,
            r#"goclaw_episodic_jobs_total{outcome="rejected"}"# => &mut counts.rejected,
            r#"goclaw_episodic_jobs_total{outcome="retried"}"# => &mut counts.retried,
            _ => continue,
        };
        *slot = value;
    }
    counts
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(exposition: &str, expected: WorkerCounts) {
        assert_eq!(counts(exposition), expected, "{exposition:?}");
    }

    #[test]
    fn counters_are_read_from_the_exposition() {
        check("# EOF", WorkerCounts::default());
        check(
            "goclaw_episodic_jobs_total{outcome=\"failed\"} 3\n\
             goclaw_episodic_jobs_total{outcome=\"written\"} 12\n\
             goclaw_episodic_jobs_total{outcome=\"duplicate\"} 5\n\
             goclaw_episodic_queue_depth 2\n# EOF",
            WorkerCounts {
                written: 12.0,
                failed: 3.0,
                queued: 2.0,
                ..WorkerCounts::default()
            },
        );
    }

    #[test]
    fn failures_and_refusals_warn() {
        let status = |counts: WorkerCounts| verdict(&counts).status;
        use super::super::Status;
        assert_eq!(status(WorkerCounts::default()), Status::Ok);
        let failed = WorkerCounts {
            failed: 1.0,
            ..WorkerCounts::default()
        };
        assert_eq!(status(failed), Status::Warn);
        let refused = WorkerCounts {
            rejected: 4.0,
            ..WorkerCounts::default()
        };
        assert_eq!(status(refused), Status::Warn);
    }
}
