//! [`OtlpExporter`]: ended traces and spans sent to an OpenTelemetry collector as OTLP spans over
//! HTTP/protobuf.
//!
//! Ids come from ours, so a span is the same in the database and in the collector: the OTLP
//! trace id is the trace's UUID, a span id is the two halves of the span's UUID XOR-ed (the
//! trace's own UUID for the run's root span). Attributes follow the OpenTelemetry GenAI
//! conventions (`gen_ai.*`) where one exists, `goclaw.*` otherwise. gRPC is not built in (it
//! would pull in tonic); the caller decides what to do about a `grpc` setting.

use std::borrow::Cow;
use std::collections::HashMap;
use std::time::{Duration, SystemTime};

use goclaw_core::traces::span_type;
use goclaw_core::{Span, TRACE_RUNNING, Trace};
use opentelemetry::trace::{
    SpanContext, SpanId, SpanKind, Status, TraceFlags, TraceId, TraceState,
};
use opentelemetry::{InstrumentationScope, KeyValue};
use opentelemetry_otlp::{Protocol, WithExportConfig, WithHttpConfig};
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::trace::{SpanData, SpanEvents, SpanExporter as _, SpanLinks};
use uuid::Uuid;

/// Where and how to export.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    /// Full URL of the collector's traces endpoint (`http://host:4318/v1/traces`).
    pub endpoint: String,
    pub headers: HashMap<String, String>,
    pub service_name: String,
    pub timeout: Duration,
}

/// Why the exporter could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the OTLP exporter for {endpoint}: {reason}")]
pub struct OtlpError {
    pub endpoint: String,
    pub reason: String,
}

/// Sends ended traces and spans to a collector; failures are logged, never returned.
#[derive(Debug)]
pub struct OtlpExporter {
    inner: opentelemetry_otlp::SpanExporter,
    endpoint: String,
}

impl OtlpExporter {
    pub fn new(settings: &OtlpSettings) -> Result<Self, OtlpError> {
        let mut inner = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(settings.endpoint.clone())
            .with_timeout(settings.timeout)
            .with_headers(settings.headers.clone())
            .build()
            .map_err(|e| OtlpError {
                endpoint: settings.endpoint.clone(),
                reason: e.to_string(),
            })?;
        inner.set_resource(
            &Resource::builder_empty()
                .with_service_name(settings.service_name.clone())
                .build(),
        );
        Ok(Self {
            inner,
            endpoint: settings.endpoint.clone(),
        })
    }

    /// Exports the ended traces of `traces` (as root spans) and every span.
    pub async fn export(&self, traces: &[Trace], spans: &[Span]) {
        let batch: Vec<SpanData> = traces
            .iter()
            .filter(|t| t.status != TRACE_RUNNING)
            .map(root_span)
            .chain(spans.iter().map(child_span))
            .collect();
        if batch.is_empty() {
            return;
        }
        let count = batch.len();
        if let Err(error) = self.inner.export(batch).await {
            tracing::warn!(
                endpoint = %self.endpoint,
                spans = count,
                error = %error,
                "OTLP export failed"
            );
        }
    }
}

/// The OTLP span id standing for one of our UUIDs.
pub fn otlp_span_id(id: Uuid) -> SpanId {
    let bytes = id.as_bytes();
    let mut out = [0u8; 8];
    for (i, b) in out.iter_mut().enumerate() {
        *b = bytes[i] ^ bytes[i + 8];
    }
    SpanId::from_bytes(out)
}

fn context(trace: Uuid, span: SpanId) -> SpanContext {
    SpanContext::new(
        TraceId::from_bytes(*trace.as_bytes()),
        span,
        TraceFlags::SAMPLED,
        false,
        TraceState::default(),
    )
}

fn status(status: &str, error: Option<&str>) -> Status {
    match status {
        "ok" => Status::Ok,
        _ => Status::error(error.unwrap_or(status).to_owned()),
    }
}

fn root_span(trace: &Trace) -> SpanData {
    let agent = trace
        .metadata
        .get("agent_key")
        .and_then(|v| v.as_str())
        .unwrap_or_default()
        .to_owned();
    let attributes = vec![
        KeyValue::new("gen_ai.operation.name", "invoke_agent"),
        KeyValue::new("gen_ai.agent.name", agent),
        KeyValue::new("gen_ai.usage.input_tokens", trace.input_tokens),
        KeyValue::new("gen_ai.usage.output_tokens", trace.output_tokens),
        KeyValue::new("goclaw.usage.cache_read_tokens", trace.cache_read_tokens),
        KeyValue::new("goclaw.usage.cache_write_tokens", trace.cache_write_tokens),
        KeyValue::new("goclaw.tenant_id", trace.tenant_id.to_string()),
        KeyValue::new("goclaw.session_key", trace.session_key.clone()),
        KeyValue::new("goclaw.run_id", trace.run_id.clone()),
        KeyValue::new("goclaw.user_id", trace.user_id.clone()),
        KeyValue::new("goclaw.channel", trace.channel.clone()),
        KeyValue::new("goclaw.status", trace.status.clone()),
        KeyValue::new("goclaw.llm_call_count", i64::from(trace.llm_call_count)),
        KeyValue::new("goclaw.tool_call_count", i64::from(trace.tool_call_count)),
    ];
    SpanData {
        span_context: context(trace.id, otlp_span_id(trace.id)),
        parent_span_id: SpanId::INVALID,
        parent_span_is_remote: false,
        span_kind: SpanKind::Server,
        name: Cow::Owned(trace.name.clone()),
        start_time: SystemTime::from(trace.start_time),
        end_time: SystemTime::from(trace.end_time.unwrap_or(trace.start_time)),
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: status(&trace.status, trace.error.as_deref()),
        instrumentation_scope: scope(),
    }
}

fn child_span(span: &Span) -> SpanData {
    let mut attributes = vec![
        KeyValue::new("goclaw.span_type", span.span_type.clone()),
        KeyValue::new("goclaw.status", span.status.clone()),
    ];
    let kind = if span.span_type == span_type::LLM_CALL {
        attributes.extend([
            KeyValue::new("gen_ai.operation.name", "chat"),
            KeyValue::new("gen_ai.request.model", span.model.clone()),
            KeyValue::new("gen_ai.provider.name", span.provider.clone()),
            KeyValue::new("gen_ai.usage.input_tokens", span.input_tokens),
            KeyValue::new("gen_ai.usage.output_tokens", span.output_tokens),
            KeyValue::new("goclaw.usage.cache_read_tokens", span.cache_read_tokens),
            KeyValue::new("goclaw.usage.cache_write_tokens", span.cache_write_tokens),
        ]);
        SpanKind::Client
    } else {
        attributes.push(KeyValue::new("gen_ai.operation.name", "execute_tool"));
        if let Some(name) = &span.tool_name {
            attributes.push(KeyValue::new("gen_ai.tool.name", name.clone()));
        }
        if let Some(id) = &span.tool_call_id {
            attributes.push(KeyValue::new("gen_ai.tool.call.id", id.clone()));
        }
        SpanKind::Internal
    };
    let parent = span.parent_span_id.unwrap_or(span.trace_id);
    SpanData {
        span_context: context(span.trace_id, otlp_span_id(span.id)),
        parent_span_id: otlp_span_id(parent),
        parent_span_is_remote: false,
        span_kind: kind,
        name: Cow::Owned(span.name.clone()),
        start_time: SystemTime::from(span.start_time),
        end_time: SystemTime::from(span.end_time.unwrap_or(span.start_time)),
        attributes,
        dropped_attributes_count: 0,
        events: SpanEvents::default(),
        links: SpanLinks::default(),
        status: status(&span.status, span.error.as_deref()),
        instrumentation_scope: scope(),
    }
}

fn scope() -> InstrumentationScope {
    InstrumentationScope::builder("goclaw").build()
}
