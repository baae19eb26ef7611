//! [`RunTrace`]: the trace of one run — started when the run starts, one span per model call and
//! per tool call, ended with the run's outcome — handed to the `TraceRecorder` the runtime was
//! given (nothing happens without one).
//!
//! Each model call is priced by the runtime's `PriceList`: the span keeps its cost under
//! `metadata.cost` (when not 0) and the trace's `total_cost` is the sum over the run.
//!
//! Recording never waits (see `goclaw_telemetry::TraceRecorder`), so tracing cannot slow a run
//! down. A trace dropped without being finished (a panicking run) ends as `error`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use goclaw_core::traces::span_type;
use goclaw_core::{
    Agent, ChatResponse, PriceList, ProviderError, Span, ToolCall, ToolOutput, Trace, Usage,
};
use goclaw_telemetry::{TraceRecord, TraceRecorder};
use serde_json::json;
use uuid::Uuid;

use crate::events::clip_chars;
use crate::model::ModelCandidate;
use crate::types::RunOutcome;

/// How many characters of a tool's input and output a span keeps.
pub(crate) const PREVIEW_CHARS: usize = 500;

/// The trace of the run in progress.
pub(crate) struct RunTrace {
    recorder: Option<TraceRecorder>,
    prices: Arc<PriceList>,
    trace: Trace,
    finished: bool,
}

/// When a span started.
#[derive(Clone, Copy)]
pub(crate) struct SpanStart(DateTime<Utc>);

impl SpanStart {
    pub(crate) fn now() -> Self {
        Self(Utc::now())
    }
}

/// How a model call ended, for its span.
pub(crate) enum LlmResult<'a> {
    Answer(&'a ChatResponse),
    Cancelled,
    Error(&'a ProviderError),
}

impl RunTrace {
    /// Starts (and records, as `running`) the trace of a run.
    pub(crate) fn start(
        recorder: Option<TraceRecorder>,
        tenant: goclaw_core::TenantId,
        agent_key: &str,
        session_key: &str,
        run_id: &str,
        user_id: &str,
        channel: &str,
    ) -> Self {
        let mut trace = Trace::start(Uuid::now_v7(), tenant, format!("invoke_agent {agent_key}"));
        trace.session_key = session_key.to_owned();
        trace.run_id = run_id.to_owned();
        trace.user_id = user_id.to_owned();
        trace.channel = channel.to_owned();
        trace.metadata = json!({ "agent_key": agent_key });
        let this = Self {
            recorder,
            prices: Arc::default(),
            trace,
            finished: false,
        };
        this.send_trace();
        this
    }

    /// Prices the run's model calls by `prices`.
    pub(crate) fn with_prices(mut self, prices: Arc<PriceList>) -> Self {
        self.prices = prices;
        self
    }

    /// Links the trace to the agent once it is resolved.
    pub(crate) fn set_agent(&mut self, agent: &Agent) {
        self.trace.agent_id = Some(agent.id);
    }

    /// Records the span of one model call.
    pub(crate) fn llm_call(
        &mut self,
        started: SpanStart,
        candidates: &[ModelCandidate],
        result: LlmResult<'_>,
    ) {
        self.trace.llm_call_count += 1;
        let first = candidates.first();
        let answering = match &result {
            LlmResult::Answer(response) => candidates
                .iter()
                .find(|c| c.model == response.model)
                .or(first),
            _ => first,
        };
        let model = match &result {
            LlmResult::Answer(response) if !response.model.is_empty() => response.model.clone(),
            _ => answering.map(|c| c.model.clone()).unwrap_or_default(),
        };
        let mut span = self.span(span_type::LLM_CALL, format!("chat {model}"), started);
        span.provider = answering
            .map(|c| c.provider_name.clone())
            .unwrap_or_default();
        span.model = model;
        match result {
            LlmResult::Answer(response) => {
                let usage = &response.usage;
                span.input_tokens = tokens(usage.input_tokens);
                span.output_tokens = tokens(usage.output_tokens);
                span.cache_read_tokens = tokens(usage.cache_read_tokens);
                span.cache_write_tokens = tokens(usage.cache_creation_tokens);
                let cost = self.prices.cost(&span.provider, &span.model, usage);
                if cost > 0.0 {
                    span.metadata = json!({ "cost": cost });
                    self.trace.total_cost += cost;
                }
                span.status = "ok".to_owned();
            }
            LlmResult::Cancelled => span.status = "aborted".to_owned(),
            LlmResult::Error(error) => {
                span.status = "error".to_owned();
                span.error = Some(error.to_string());
            }
        }
        self.send_span(span);
    }

    /// Records the span of one tool call; `output` is `None` when the run was aborted during it.
    pub(crate) fn tool_call(
        &mut self,
        started: SpanStart,
        call: &ToolCall,
        output: Option<&ToolOutput>,
    ) {
        self.trace.tool_call_count += 1;
        let mut span = self.span(
            span_type::TOOL_CALL,
            format!("execute_tool {}", call.name),
            started,
        );
        span.tool_name = Some(call.name.clone());
        span.tool_call_id = Some(call.id.clone());
        span.input_preview = Some(preview(&call.arguments.to_string()));
        match output {
            Some(output) => {
                span.output_preview = Some(preview(&output.content));
                if output.is_error {
                    span.status = "error".to_owned();
                    span.error = Some(preview(&output.content));
                } else {
                    span.status = "ok".to_owned();
                }
            }
            None => span.status = "aborted".to_owned(),
        }
        self.send_span(span);
    }

    /// Ends the trace with the run's outcome and usage.
    pub(crate) fn finish(&mut self, outcome: &RunOutcome, usage: &Usage) {
        let (status, error) = match outcome {
            RunOutcome::Completed { .. } => ("ok", None),
            RunOutcome::Failed { error, .. } => ("error", Some(error.clone())),
            RunOutcome::Cancelled { .. } => ("aborted", None),
            RunOutcome::Dropped { reason } => ("error", Some(reason.clone())),
        };
        self.end(status, error, usage);
    }

    fn end(&mut self, status: &str, error: Option<String>, usage: &Usage) {
        let now = Utc::now();
        let trace = &mut self.trace;
        trace.status = status.to_owned();
        trace.error = error;
        trace.end_time = Some(now);
        trace.duration_ms = Some((now - trace.start_time).num_milliseconds());
        trace.input_tokens = tokens(usage.input_tokens);
        trace.output_tokens = tokens(usage.output_tokens);
        trace.cache_read_tokens = tokens(usage.cache_read_tokens);
        trace.cache_write_tokens = tokens(usage.cache_creation_tokens);
        trace.span_count = trace.llm_call_count + trace.tool_call_count;
        self.finished = true;
        self.send_trace();
    }

    fn span(&self, kind: &str, name: String, started: SpanStart) -> Span {
        let mut span = Span::start(self.trace.id, kind, name);
        let now = Utc::now();
        span.start_time = started.0;
        span.end_time = Some(now);
        span.duration_ms = Some((now - started.0).num_milliseconds());
        span
    }

    fn send_trace(&self) {
        if let Some(recorder) = &self.recorder {
            recorder.record(TraceRecord::Trace(self.trace.clone()));
        }
    }

    fn send_span(&self, span: Span) {
        if let Some(recorder) = &self.recorder {
            recorder.record(TraceRecord::Span(span));
        }
    }
}

impl Drop for RunTrace {
    fn drop(&mut self) {
        if !self.finished && self.recorder.is_some() {
            let error = "the run stopped unexpectedly".to_owned();
            self.end("error", Some(error), &Usage::default());
        }
    }
}

fn tokens(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// A stored (and possibly exported) preview of tool input or output: credentials scrubbed, then
/// cut to [`PREVIEW_CHARS`]. Traces leave the process through OpenTelemetry, so they get the
/// scrubbing whether or not `tools.scrub_credentials` is on.
fn preview(text: &str) -> String {
    clip_chars(&goclaw_tools::scrub::scrub(text), PREVIEW_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previews_are_scrubbed_and_capped() {
        let key = "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345";
        let input = format!("{{\"command\":\"curl -H 'x-api-key: {key}' https://api\"}}");
        let shown = preview(&input);
        assert!(!shown.contains(key), "{shown}");
        assert!(shown.contains("curl"), "{shown}");
        let long = "x".repeat(PREVIEW_CHARS * 3);
        assert_eq!(
            preview(&long).chars().count(),
            PREVIEW_CHARS + 1,
            "cut, with an ellipsis"
        );
    }
}
