//! The fake's HTTP server: binds `127.0.0.1:0`, records every request, answers each with the
//! next scripted reply (or the default one), and streams it with the requested delays and
//! faults. Embedding requests have their own script, default and record, so a test of chat
//! turns is not disturbed by the memory's embedding calls.

use std::collections::{BTreeMap, VecDeque};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use futures_util::stream;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use crate::embeddings::{self, EmbeddingReply, EmbeddingReplyKind};
use crate::frame::{Frame, FrameKind};
use crate::reply::{ErrorEvent, Reply, ReplyBody};
use crate::{anthropic, openai};

/// One request the fake received.
#[derive(Debug, Clone)]
pub struct RecordedRequest {
    /// The path, e.g. `/v1/messages`.
    pub path: String,
    /// Headers with lower-case names; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The JSON body (`Value::String` of the raw text when it was not JSON).
    pub body: Value,
}

impl RecordedRequest {
    /// A header by (case-insensitive) name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }
}

/// A running fake LLM server; stops when dropped.
pub struct FakeLlm {
    addr: SocketAddr,
    state: Arc<Shared>,
    task: JoinHandle<()>,
}

/// Replies for the requests whose body contains `needle`.
struct Route {
    needle: String,
    script: VecDeque<Reply>,
    fallback: Option<Reply>,
}

struct Shared {
    script: Mutex<VecDeque<Reply>>,
    /// Checked in order before `script`: the first route whose needle the request holds and
    /// that has a reply answers it.
    routes: Mutex<Vec<Route>>,
    default_reply: Mutex<Reply>,
    requests: Mutex<Vec<RecordedRequest>>,
    next_id: AtomicU64,
    /// Whether requests are kept for [`FakeLlm::requests`]; a benchmark turns this off.
    recording: AtomicBool,
    /// Requests answered to the end of their body, and the time spent answering them.
    served: AtomicU64,
    served_nanos: AtomicU64,
    embedding_script: Mutex<VecDeque<EmbeddingReply>>,
    embedding_default: Mutex<EmbeddingReply>,
    embedding_requests: Mutex<Vec<RecordedRequest>>,
    /// Embedding requests received and the inputs they carried, counted even when not recording.
    embedding_calls: AtomicU64,
    embedding_inputs: AtomicU64,
}

#[derive(Debug, Clone, Copy)]
enum Wire {
    Anthropic,
    OpenAi,
}

impl FakeLlm {
    /// Starts a server on a free loopback port, answering `ok` until told otherwise.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding a loopback port for the fake LLM");
        let addr = listener
            .local_addr()
            .expect("a bound listener has an address");
        let state = Arc::new(Shared {
            script: Mutex::new(VecDeque::new()),
            routes: Mutex::new(Vec::new()),
            default_reply: Mutex::new(Reply::text("ok")),
            requests: Mutex::new(Vec::new()),
            next_id: AtomicU64::new(1),
            recording: AtomicBool::new(true),
            served: AtomicU64::new(0),
            served_nanos: AtomicU64::new(0),
            embedding_script: Mutex::new(VecDeque::new()),
            embedding_default: Mutex::new(EmbeddingReply::vectors()),
            embedding_requests: Mutex::new(Vec::new()),
            embedding_calls: AtomicU64::new(0),
            embedding_inputs: AtomicU64::new(0),
        });
        let app = Router::new()
            .route("/v1/messages", post(anthropic_handler))
            .route("/v1/chat/completions", post(openai_handler))
            .route("/v1/embeddings", post(embeddings_handler))
            .route("/v1/models", axum::routing::get(crate::models::list))
            .fallback(not_found)
            .with_state(state.clone());
        let task = tokio::spawn(async move {
            // The server runs until the handle is dropped; an accept error ends it early and
            // shows up in the test as a refused connection.
            let _ = axum::serve(listener, app).await;
        });
        Self { addr, state, task }
    }

    /// `http://127.0.0.1:PORT/v1`, the base URL for either client.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Queues a reply for the next request without one.
    pub fn push(&self, reply: Reply) {
        lock(&self.state.script).push_back(reply);
    }

    /// Queues several replies in order.
    pub fn push_all(&self, replies: impl IntoIterator<Item = Reply>) {
        lock(&self.state.script).extend(replies);
    }

    /// Answers every chat request whose body contains `needle` with `reply` (unless a reply
    /// queued with [`FakeLlm::push_routed`] for the same needle comes first), leaving the
    /// main queue to the others: the way to tell a background call (a summary, an
    /// extraction) from a turn's.
    pub fn route(&self, needle: impl Into<String>, reply: Reply) {
        self.with_route(needle.into(), |route| route.fallback = Some(reply));
    }

    /// Queues `reply` for the next chat request whose body contains `needle`.
    pub fn push_routed(&self, needle: impl Into<String>, reply: Reply) {
        self.with_route(needle.into(), |route| route.script.push_back(reply));
    }

    fn with_route(&self, needle: String, change: impl FnOnce(&mut Route)) {
        let mut routes = lock(&self.state.routes);
        match routes.iter_mut().find(|r| r.needle == needle) {
            Some(route) => change(route),
            None => {
                let mut route = Route {
                    needle,
                    script: VecDeque::new(),
                    fallback: None,
                };
                change(&mut route);
                routes.push(route);
            }
        }
    }

    /// The reply used when the queue is empty.
    pub fn set_default(&self, reply: Reply) {
        *lock(&self.state.default_reply) = reply;
    }

    /// Replies still queued.
    pub fn pending(&self) -> usize {
        lock(&self.state.script).len()
    }

    /// Queues an answer for the next embedding request without one.
    pub fn push_embedding(&self, reply: EmbeddingReply) {
        lock(&self.state.embedding_script).push_back(reply);
    }

    /// Queues several embedding answers in order, e.g. two 500s before the normal answer.
    pub fn push_embeddings(&self, replies: impl IntoIterator<Item = EmbeddingReply>) {
        lock(&self.state.embedding_script).extend(replies);
    }

    /// The embedding answer used when its queue is empty ([`EmbeddingReply::vectors`] at
    /// start).
    pub fn set_default_embedding(&self, reply: EmbeddingReply) {
        *lock(&self.state.embedding_default) = reply;
    }

    /// Every embedding request received so far, in order (not part of [`FakeLlm::requests`]).
    pub fn embedding_requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.embedding_requests).clone()
    }

    /// How many embedding requests were received, answered or not.
    pub fn embedding_request_count(&self) -> u64 {
        self.state.embedding_calls.load(Ordering::Relaxed)
    }

    /// How many texts all embedding requests carried together.
    pub fn embedding_input_count(&self) -> u64 {
        self.state.embedding_inputs.load(Ordering::Relaxed)
    }

    /// Every request received so far, in order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.state.requests).clone()
    }

    /// How many requests were received.
    pub fn request_count(&self) -> usize {
        lock(&self.state.requests).len()
    }

    /// Stops (or resumes) keeping requests for [`FakeLlm::requests`], so a long benchmark does
    /// not grow the fake's memory with every prompt it receives.
    pub fn set_recording(&self, on: bool) {
        self.state.recording.store(on, Ordering::Relaxed);
    }

    /// How many requests the fake answered to the end of their body, and the total time it
    /// spent on them from the handler's start to the last byte handed to the server (scripted
    /// delays included). A benchmark subtracts this from client latency.
    pub fn served(&self) -> (u64, Duration) {
        let count = self.state.served.load(Ordering::Relaxed);
        let nanos = self.state.served_nanos.load(Ordering::Relaxed);
        (count, Duration::from_nanos(nanos))
    }
}

impl Drop for FakeLlm {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl std::fmt::Debug for FakeLlm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FakeLlm").field("addr", &self.addr).finish()
    }
}

/// Locks a mutex, ignoring poisoning: a panicking test must not hide its cause behind ours.
fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

async fn anthropic_handler(
    State(state): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&state, Wire::Anthropic, &uri, &headers, &body).await
}

async fn openai_handler(
    State(state): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    answer(&state, Wire::OpenAi, &uri, &headers, &body).await
}

async fn embeddings_handler(
    State(state): State<Arc<Shared>>,
    uri: Uri,
    headers: HeaderMap,
    raw: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&raw).into_owned()));
    let texts = embeddings::inputs(&body);
    state.embedding_calls.fetch_add(1, Ordering::Relaxed);
    let count = texts.as_ref().map_or(0, Vec::len);
    state
        .embedding_inputs
        .fetch_add(u64::try_from(count).unwrap_or(u64::MAX), Ordering::Relaxed);
    if state.recording.load(Ordering::Relaxed) {
        lock(&state.embedding_requests).push(RecordedRequest {
            path: uri.path().to_owned(),
            headers: record_headers(&headers),
            body: body.clone(),
        });
    }
    let reply = lock(&state.embedding_script)
        .pop_front()
        .unwrap_or_else(|| lock(&state.embedding_default).clone());
    if !reply.first_byte_delay.is_zero() {
        tokio::time::sleep(reply.first_byte_delay).await;
    }
    let (forced_dimensions, reversed) = match reply.kind {
        EmbeddingReplyKind::Http {
            status,
            body,
            retry_after,
        } => return http_error(status, &body, retry_after.as_deref()),
        EmbeddingReplyKind::Vectors {
            dimensions,
            reversed,
        } => (dimensions, reversed),
    };
    let Some(texts) = texts else {
        let message = "'input' must be a string or an array of strings";
        return http_error(
            400,
            &embeddings::error_body("invalid_request_error", message),
            None,
        );
    };
    let requested = match body.get("dimensions") {
        None | Some(Value::Null) => embeddings::DEFAULT_EMBEDDING_DIMENSIONS,
        Some(value) => match value.as_u64().and_then(|n| usize::try_from(n).ok()) {
            Some(n) if n > 0 => n,
            _ => {
                let message = "'dimensions' must be a positive integer";
                return http_error(
                    400,
                    &embeddings::error_body("invalid_request_error", message),
                    None,
                );
            }
        },
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("fake-embedding");
    let dimensions = forced_dimensions.unwrap_or(requested);
    axum::Json(embeddings::response_json(
        &texts, model, dimensions, reversed,
    ))
    .into_response()
}

async fn not_found(uri: Uri) -> Response {
    let body = json!({"error": {"type": "not_found_error", "message": format!("no route {}", uri.path())}});
    (StatusCode::NOT_FOUND, axum::Json(body)).into_response()
}

/// The reply of the first route whose needle the request's body holds, if it has one.
fn routed_reply(state: &Shared, raw: &Bytes) -> Option<Reply> {
    let mut routes = lock(&state.routes);
    if routes.is_empty() {
        return None;
    }
    let text = String::from_utf8_lossy(raw);
    routes
        .iter_mut()
        .filter(|route| text.contains(route.needle.as_str()))
        .find_map(|route| route.script.pop_front().or_else(|| route.fallback.clone()))
}

async fn answer(
    state: &Arc<Shared>,
    wire: Wire,
    uri: &Uri,
    headers: &HeaderMap,
    raw: &Bytes,
) -> Response {
    let timer = ServeTimer {
        started: Instant::now(),
        state: state.clone(),
    };
    let body: Value = serde_json::from_slice(raw)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(raw).into_owned()));
    if state.recording.load(Ordering::Relaxed) {
        lock(&state.requests).push(RecordedRequest {
            path: uri.path().to_owned(),
            headers: record_headers(headers),
            body: body.clone(),
        });
    }
    let routed = routed_reply(state, raw);
    let reply = routed.unwrap_or_else(|| {
        lock(&state.script)
            .pop_front()
            .unwrap_or_else(|| lock(&state.default_reply).clone())
    });
    if !reply.first_byte_delay.is_zero() {
        tokio::time::sleep(reply.first_byte_delay).await;
    }
    let output = match &reply.body {
        ReplyBody::Http {
            status,
            body,
            retry_after,
        } => return http_error(*status, body, retry_after.as_deref()),
        ReplyBody::Output(output) => output,
    };
    let model = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("fake-model")
        .to_owned();
    let n = state.next_id.fetch_add(1, Ordering::Relaxed);
    let streaming = body.get("stream").and_then(Value::as_bool).unwrap_or(false);
    if !streaming {
        let json = match wire {
            Wire::Anthropic => anthropic::message_json(output, &model, &format!("msg_fake{n}")),
            Wire::OpenAi => openai::completion_json(output, &model, &format!("chatcmpl-fake{n}")),
        };
        drop(timer);
        return axum::Json(json).into_response();
    }
    let frames = match wire {
        Wire::Anthropic => anthropic::stream_frames(output, &model, &format!("msg_fake{n}")),
        Wire::OpenAi => {
            let include_usage = body
                .pointer("/stream_options/include_usage")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            openai::stream_frames(output, &model, &format!("chatcmpl-fake{n}"), include_usage)
        }
    };
    let error_frame = reply.error_event.as_ref().map(
        |ErrorEvent {
             after,
             kind,
             message,
         }| {
            let frame = match wire {
                Wire::Anthropic => anthropic::error_frame(kind, message),
                Wire::OpenAi => openai::error_frame(kind, message),
            };
            (*after, frame)
        },
    );
    let plan = StreamPlan {
        frames: frames.into(),
        sent_content: 0,
        chunk_delay: reply.chunk_delay,
        disconnect_after: reply.disconnect_after,
        truncate_after: reply.truncate_after,
        error_frame,
        done: false,
        _timer: timer,
    };
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .header(header::CACHE_CONTROL, "no-cache")
        .body(Body::from_stream(stream::unfold(plan, StreamPlan::next)))
        .unwrap_or_else(|_| StatusCode::INTERNAL_SERVER_ERROR.into_response())
}

/// The remaining frames of a streamed reply and the faults to inject into it.
struct StreamPlan {
    frames: VecDeque<Frame>,
    sent_content: usize,
    chunk_delay: std::time::Duration,
    disconnect_after: Option<usize>,
    truncate_after: Option<usize>,
    error_frame: Option<(usize, Frame)>,
    done: bool,
    /// Counts the reply as served when the stream ends (and the plan is dropped).
    _timer: ServeTimer,
}

/// Adds the time from the handler's start to its drop to [`FakeLlm::served`].
struct ServeTimer {
    started: Instant,
    state: Arc<Shared>,
}

impl Drop for ServeTimer {
    fn drop(&mut self) {
        let nanos = u64::try_from(self.started.elapsed().as_nanos()).unwrap_or(u64::MAX);
        self.state.served.fetch_add(1, Ordering::Relaxed);
        self.state.served_nanos.fetch_add(nanos, Ordering::Relaxed);
    }
}

impl StreamPlan {
    async fn next(mut self) -> Option<(Result<Bytes, io::Error>, Self)> {
        if self.done {
            return None;
        }
        let kind = self.frames.front()?.kind;
        if kind != FrameKind::Meta {
            if self.truncate_after.is_some_and(|k| self.sent_content >= k) {
                return None;
            }
            if self
                .disconnect_after
                .is_some_and(|k| self.sent_content >= k)
            {
                // An error from the body stream makes the server drop the connection without
                // finishing the chunked body, as a real network failure would. Yielding first
                // lets the server flush the chunks already written, which it would otherwise
                // discard with the connection.
                for _ in 0..3 {
                    tokio::task::yield_now().await;
                }
                self.done = true;
                return Some((Err(io::Error::other("scripted disconnect")), self));
            }
            if let Some((after, frame)) = self.error_frame.take() {
                if self.sent_content >= after {
                    self.done = true;
                    return Some((Ok(Bytes::from(frame.text)), self));
                }
                self.error_frame = Some((after, frame));
            }
        }
        let frame = self.frames.pop_front()?;
        if frame.kind == FrameKind::Content {
            if !self.chunk_delay.is_zero() {
                tokio::time::sleep(self.chunk_delay).await;
            }
            self.sent_content += 1;
        }
        Some((Ok(Bytes::from(frame.text)), self))
    }
}

fn http_error(status: u16, body: &str, retry_after: Option<&str>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut response = (status, body.to_owned()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(value) = retry_after.and_then(|v| HeaderValue::from_str(v).ok()) {
        headers.insert(header::RETRY_AFTER, value);
    }
    response
}

fn record_headers(headers: &HeaderMap) -> BTreeMap<String, String> {
    let mut out: BTreeMap<String, String> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        out.entry(name.as_str().to_owned())
            .and_modify(|existing| {
                existing.push_str(", ");
                existing.push_str(&value);
            })
            .or_insert(value);
    }
    out
}
