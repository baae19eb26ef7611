//! The trace recorder under a flood: with the flusher stuck in a slow store, `record` keeps
//! returning (on a current-thread runtime, where a waiting `record` could never be released),
//! the overflow is dropped and counted, `tracing: span buffer full` is logged, and what was
//! accepted is written once the store answers again. A trace recorded twice before a flush
//! (started, then ended) is written once, as it was last recorded.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::traces::span_type;
use goclaw_core::{MASTER_TENANT_ID, Span, StoreError, Trace};
use goclaw_telemetry::{
    BUFFER_FULL_WARNING, RecorderSettings, TraceRecord, TraceRecorder, TraceSink,
};
use tokio::sync::Semaphore;
use uuid::Uuid;

/// A store whose writes wait for a permit the test hands out.
struct GatedSink {
    gate: Semaphore,
    written: Mutex<usize>,
}

#[async_trait]
impl TraceSink for GatedSink {
    async fn write_batch(&self, traces: &[Trace], spans: &[Span]) -> Result<(), StoreError> {
        let permit = self.gate.acquire().await.expect("gate open");
        permit.forget();
        *self.written.lock().expect("lock") += traces.len() + spans.len();
        Ok(())
    }
}

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().expect("lock").extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn span(trace: Uuid) -> TraceRecord {
    TraceRecord::Span(Span::start(trace, span_type::TOOL_CALL, "execute_tool x"))
}

#[tokio::test(flavor = "current_thread")]
async fn a_full_buffer_drops_and_warns_without_blocking() {
    let logs = Captured::default();
    let writer = logs.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || writer.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let sink = Arc::new(GatedSink {
        gate: Semaphore::new(0),
        written: Mutex::new(0),
    });
    let recorder = TraceRecorder::start(
        sink.clone(),
        None,
        RecorderSettings {
            capacity: 4,
            flush_interval: Duration::from_secs(3600),
        },
        None,
    );
    let trace = Trace::start(Uuid::now_v7(), MASTER_TENANT_ID, "invoke_agent default");
    recorder.record(TraceRecord::Trace(trace.clone()));
    recorder.record(span(trace.id));
    // Half full: the flusher is woken, takes both records and blocks in the store.
    tokio::task::yield_now().await;
    tokio::task::yield_now().await;

    // The flusher cannot run while this task does not yield: had `record` waited for room,
    // this loop would never finish.
    for _ in 0..1000 {
        recorder.record(span(trace.id));
    }
    assert_eq!(recorder.dropped_spans(), 1000 - 4);
    let text = String::from_utf8(logs.0.lock().expect("lock").clone()).expect("utf-8");
    assert!(text.contains(BUFFER_FULL_WARNING), "{text}");
    assert!(text.contains("dropped=1"), "the count is a field: {text}");
    assert_eq!(
        text.matches(BUFFER_FULL_WARNING).count(),
        1,
        "the warning is rate-limited"
    );

    sink.gate.add_permits(100);
    recorder.shutdown().await;
    assert_eq!(*sink.written.lock().expect("lock"), 2 + 4);
}

/// A store that keeps every batch it is given.
#[derive(Default)]
struct KeepingSink {
    batches: Mutex<Vec<(Vec<Trace>, usize)>>,
}

#[async_trait]
impl TraceSink for KeepingSink {
    async fn write_batch(&self, traces: &[Trace], spans: &[Span]) -> Result<(), StoreError> {
        self.batches
            .lock()
            .expect("lock")
            .push((traces.to_vec(), spans.len()));
        Ok(())
    }
}

#[tokio::test(flavor = "current_thread")]
async fn a_trace_recorded_twice_in_one_batch_is_written_once_as_last_recorded() {
    let sink = Arc::new(KeepingSink::default());
    let recorder = TraceRecorder::start(
        sink.clone(),
        None,
        RecorderSettings {
            capacity: 100,
            flush_interval: Duration::from_secs(3600),
        },
        None,
    );
    let parent = Trace::start(Uuid::now_v7(), MASTER_TENANT_ID, "invoke_agent default");
    let mut child = Trace::start(Uuid::now_v7(), MASTER_TENANT_ID, "invoke_agent helper");
    child.parent_trace_id = Some(parent.id);
    let mut parent_ended = parent.clone();
    parent_ended.status = "ok".to_owned();
    parent_ended.span_count = 1;
    recorder.record(TraceRecord::Trace(parent.clone()));
    recorder.record(TraceRecord::Trace(child.clone()));
    recorder.record(span(parent.id));
    recorder.record(TraceRecord::Trace(parent_ended.clone()));
    recorder.shutdown().await;

    let batches = sink.batches.lock().expect("lock");
    assert_eq!(batches.len(), 1, "one flush at shutdown");
    let (traces, spans) = &batches[0];
    assert_eq!(*spans, 1);
    assert_eq!(
        traces,
        &vec![parent_ended, child],
        "the parent once, in its first place, as it was last recorded"
    );
}
