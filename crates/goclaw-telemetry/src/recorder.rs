//! [`TraceRecorder`]: where agent runs drop their trace and span records, and the background
//! flusher that writes them to the store in batches (and hands them to the OTLP exporter).
//!
//! **Invariant:** recording never blocks a run. `record` is a plain function over a bounded
//! channel: when the buffer is full the record is dropped and counted, and a rate-limited
//! warning (`tracing: span buffer full`) says so. Only the flusher ever awaits the store.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use goclaw_core::{Span, Store, StoreError, Trace};
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::metrics::SpanDropCounter;
use crate::otlp::OtlpExporter;

/// Default number of records the buffer holds before new ones are dropped.
pub const DEFAULT_TRACE_BUFFER: usize = 10_000;
/// Default time between two flushes (a half-full buffer flushes at once).
pub const DEFAULT_FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// The message logged when records are dropped.
pub const BUFFER_FULL_WARNING: &str = "tracing: span buffer full";
/// At most one buffer-full warning per this interval.
const WARN_INTERVAL: Duration = Duration::from_secs(10);
/// How long an OTLP export may take before the flusher moves on.
const EXPORT_TIMEOUT: Duration = Duration::from_secs(10);

/// One thing a run reports.
#[derive(Debug, Clone, PartialEq)]
pub enum TraceRecord {
    /// A trace as it is now (started, or ended).
    Trace(Trace),
    /// A span that has ended.
    Span(Span),
}

/// Where the flusher writes batches; the store in production, anything in tests.
#[async_trait]
pub trait TraceSink: Send + Sync {
    async fn write_batch(&self, traces: &[Trace], spans: &[Span]) -> Result<(), StoreError>;
}

/// The store's [`goclaw_core::TraceStore`] as a sink.
pub struct StoreSink(pub Arc<dyn Store>);

#[async_trait]
impl TraceSink for StoreSink {
    async fn write_batch(&self, traces: &[Trace], spans: &[Span]) -> Result<(), StoreError> {
        self.0.traces().write_batch(traces, spans).await
    }
}

/// Buffer size and flush cadence.
#[derive(Debug, Clone, Copy)]
pub struct RecorderSettings {
    pub capacity: usize,
    pub flush_interval: Duration,
}

impl Default for RecorderSettings {
    fn default() -> Self {
        Self {
            capacity: DEFAULT_TRACE_BUFFER,
            flush_interval: DEFAULT_FLUSH_INTERVAL,
        }
    }
}

/// The recorder runs hold. Cheap to clone; clones share the buffer.
#[derive(Clone)]
pub struct TraceRecorder {
    tx: mpsc::Sender<TraceRecord>,
    shared: Arc<Shared>,
}

struct Shared {
    /// Remaining capacity at or below which the flusher is woken early.
    wake_below: usize,
    dropped: AtomicU64,
    last_warning: Mutex<Option<Instant>>,
    wake: Notify,
    stop: CancellationToken,
    flusher: Mutex<Option<JoinHandle<()>>>,
    drop_counter: Option<SpanDropCounter>,
}

impl std::fmt::Debug for TraceRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TraceRecorder")
            .field("dropped", &self.dropped_spans())
            .finish_non_exhaustive()
    }
}

impl TraceRecorder {
    /// Starts the flusher on the current tokio runtime, writing to `sink` and, when given,
    /// exporting over OTLP; dropped records are also added to `drop_counter`.
    pub fn start(
        sink: Arc<dyn TraceSink>,
        exporter: Option<Arc<OtlpExporter>>,
        settings: RecorderSettings,
        drop_counter: Option<SpanDropCounter>,
    ) -> Self {
        let capacity = settings.capacity.max(1);
        let (tx, rx) = mpsc::channel(capacity);
        let shared = Arc::new(Shared {
            wake_below: capacity / 2,
            dropped: AtomicU64::new(0),
            last_warning: Mutex::new(None),
            wake: Notify::new(),
            stop: CancellationToken::new(),
            flusher: Mutex::new(None),
            drop_counter,
        });
        let flusher = Flusher {
            rx,
            sink,
            exporter,
            shared: shared.clone(),
            interval: settings.flush_interval,
            max_batch: capacity,
        };
        let handle = tokio::spawn(flusher.run());
        if let Ok(mut slot) = shared.flusher.lock() {
            *slot = Some(handle);
        }
        Self { tx, shared }
    }

    /// Buffers a record for the next flush. Never waits: when the buffer is full the record
    /// is dropped and counted.
    pub fn record(&self, record: TraceRecord) {
        match self.tx.try_send(record) {
            Ok(()) => {
                if self.tx.capacity() <= self.shared.wake_below {
                    self.shared.wake.notify_one();
                }
            }
            Err(_) => self.dropped(),
        }
    }

    /// How many records were dropped because the buffer was full (or the recorder stopped).
    pub fn dropped_spans(&self) -> u64 {
        self.shared.dropped.load(Ordering::Relaxed)
    }

    /// Stops the flusher after it has written (and exported) everything buffered.
    pub async fn shutdown(&self) {
        self.shared.stop.cancel();
        let handle = self.shared.flusher.lock().ok().and_then(|mut h| h.take());
        if let Some(handle) = handle {
            let _ = handle.await;
        }
    }

    fn dropped(&self) {
        let total = self.shared.dropped.fetch_add(1, Ordering::Relaxed) + 1;
        if let Some(counter) = &self.shared.drop_counter {
            counter.add(1);
        }
        // `try_lock`: a contended warning is skipped, never waited for.
        let Ok(mut last) = self.shared.last_warning.try_lock() else {
            return;
        };
        let now = Instant::now();
        if last.is_some_and(|at| now.duration_since(at) < WARN_INTERVAL) {
            return;
        }
        *last = Some(now);
        tracing::warn!(dropped = total, "{}", BUFFER_FULL_WARNING);
    }
}

/// One record per trace: a run records its trace when it starts and again when it ends, and
/// both usually land in the same batch. A later record replaces an earlier one of the same
/// trace (each is the whole trace as it was then) at the earlier one's place, so the store
/// writes each trace once and a parent still comes before the traces that name it.
fn latest_versions(traces: Vec<Trace>) -> Vec<Trace> {
    let mut kept: Vec<Trace> = Vec::with_capacity(traces.len());
    let mut at: std::collections::HashMap<uuid::Uuid, usize> =
        std::collections::HashMap::with_capacity(traces.len());
    for trace in traces {
        match at.get(&trace.id) {
            Some(&i) => kept[i] = trace,
            None => {
                at.insert(trace.id, kept.len());
                kept.push(trace);
            }
        }
    }
    kept
}

struct Flusher {
    rx: mpsc::Receiver<TraceRecord>,
    sink: Arc<dyn TraceSink>,
    exporter: Option<Arc<OtlpExporter>>,
    shared: Arc<Shared>,
    interval: Duration,
    max_batch: usize,
}

impl Flusher {
    async fn run(mut self) {
        loop {
            let stopping = tokio::select! {
                _ = tokio::time::sleep(self.interval) => false,
                _ = self.shared.wake.notified() => false,
                _ = self.shared.stop.cancelled() => true,
            };
            if stopping {
                self.rx.close();
                while self.flush().await {}
                return;
            }
            self.flush().await;
        }
    }

    /// Writes up to one batch; `false` when there was nothing to write.
    async fn flush(&mut self) -> bool {
        let mut traces = Vec::new();
        let mut spans = Vec::new();
        while traces.len() + spans.len() < self.max_batch {
            match self.rx.try_recv() {
                Ok(TraceRecord::Trace(trace)) => traces.push(trace),
                Ok(TraceRecord::Span(span)) => spans.push(span),
                Err(_) => break,
            }
        }
        if traces.is_empty() && spans.is_empty() {
            return false;
        }
        let traces = latest_versions(traces);
        if let Err(error) = self.sink.write_batch(&traces, &spans).await {
            tracing::warn!(
                error = %error,
                traces = traces.len(),
                spans = spans.len(),
                "writing traces failed; batch dropped"
            );
        }
        if let Some(exporter) = &self.exporter {
            let export = exporter.export(&traces, &spans);
            if tokio::time::timeout(EXPORT_TIMEOUT, export).await.is_err() {
                tracing::warn!("OTLP export timed out; batch not exported");
            }
        }
        true
    }
}
