//! Logging for the gateway: JSON lines (or human text) on stdout, with every configured secret
//! replaced by `***` before a byte leaves the process.
//!
//! Masking happens at the writer, after formatting, so it covers messages, fields, error chains
//! and anything a dependency logs — not only the fields we remember to mark as secret. This crate
//! knows nothing about the gateway, its configuration or its wire formats.
#![forbid(unsafe_code)]

mod file;
mod logging;
mod mask;
mod metrics;
mod otlp;
mod recorder;

pub use file::{RotatingFile, Rotation};
pub use logging::{
    LogFormat, LogSettings, LoggingError, init_logging, init_logging_file, init_logging_stderr,
    subscriber,
};
pub use mask::{MASK, MaskingMakeWriter, SecretMask, global_mask};
pub use metrics::{METRICS_CONTENT_TYPE, Metrics, SpanDropCounter, TokenCounts};
pub use otlp::{OtlpError, OtlpExporter, OtlpSettings, otlp_span_id};
pub use recorder::{
    BUFFER_FULL_WARNING, DEFAULT_FLUSH_INTERVAL, DEFAULT_TRACE_BUFFER, RecorderSettings, StoreSink,
    TraceRecord, TraceRecorder, TraceSink,
};
