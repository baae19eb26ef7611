//! The MCP client side of the HTTP+SSE transport (protocol revision 2024-11-05), which rmcp
//! no longer ships: `GET <url>` with `Accept: text/event-stream` opens the server's event
//! stream; its first `endpoint` event names the URL the client `POST`s its JSON-RPC messages
//! to; the server's messages arrive as `message` events on the stream.
//!
//! [`SseClientTransport`] is an rmcp client [`Transport`]: the stream is read by a task of its
//! own into a bounded queue, so the end of the stream is the end of the transport (rmcp then
//! fails the calls in flight, and the link reconnects on the next call). The endpoint must be
//! on the stream's own origin — a server cannot send the configured headers elsewhere — and no
//! redirect is followed, for the same reason. Errors never carry a URL or a header.
//!
//! [`SseParser`] is the event-stream reader (WHATWG HTML §9.2): events split across chunks,
//! `\n`, `\r\n` and `\r` line ends, multi-line `data:`, comments, and a size cap per event.

use std::borrow::Cow;
use std::time::Duration;

use http::HeaderMap;
use http::header::{ACCEPT, CACHE_CONTROL, CONTENT_TYPE};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::RoleClient;
use rmcp::transport::Transport;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use url::Url;

/// Largest event (its lines and data together) the client accepts.
pub const MAX_EVENT_BYTES: usize = 16 * 1024 * 1024;
/// Server messages read ahead of the MCP service.
const INBOUND_QUEUE: usize = 64;
/// How long opening the TCP/TLS connection may take (the link bounds the whole attempt).
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the transport could not open or send. Never carries the URL or a header.
#[derive(Debug, thiserror::Error)]
pub enum SseError {
    /// The HTTP request failed (the URL is stripped from the cause).
    #[error("HTTP request failed: {0}")]
    Http(#[source] reqwest::Error),
    /// The server answered with a status other than 2xx.
    #[error("the server answered HTTP {0}")]
    Status(u16),
    /// The URL is not an absolute http(s) URL.
    #[error("the URL is not an http:// or https:// URL")]
    BadUrl,
    /// The stream ended (or failed) before its `endpoint` event.
    #[error("the event stream ended before naming its endpoint")]
    NoEndpoint,
    /// The `endpoint` event names a URL that cannot be read, or one of another origin.
    #[error("the endpoint event names {0}")]
    Endpoint(&'static str),
    /// One event was larger than [`MAX_EVENT_BYTES`].
    #[error("an event of the stream is larger than {MAX_EVENT_BYTES} bytes")]
    EventTooLarge,
    /// A message could not be serialized.
    #[error("a message could not be serialized: {0}")]
    Json(#[from] serde_json::Error),
}

impl From<reqwest::Error> for SseError {
    fn from(error: reqwest::Error) -> Self {
        Self::Http(error.without_url())
    }
}

/// An open HTTP+SSE connection to one MCP server.
pub struct SseClientTransport {
    http: reqwest::Client,
    endpoint: Url,
    headers: HeaderMap,
    post_timeout: Duration,
    inbound: mpsc::Receiver<ServerJsonRpcMessage>,
    reader: JoinHandle<()>,
}

impl SseClientTransport {
    /// Opens the event stream at `url` with `headers` and waits for its `endpoint` event;
    /// each message posted afterwards may take `post_timeout`. The caller bounds the wait.
    pub async fn connect(
        url: &str,
        headers: HeaderMap,
        post_timeout: Duration,
    ) -> Result<Self, SseError> {
        let base = Url::parse(url).map_err(|_| SseError::BadUrl)?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err(SseError::BadUrl);
        }
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .build()?;
        let mut response = http
            .get(base.clone())
            .headers(headers.clone())
            .header(ACCEPT, "text/event-stream")
            .header(CACHE_CONTROL, "no-cache")
            .send()
            .await?;
        if !response.status().is_success() {
            return Err(SseError::Status(response.status().as_u16()));
        }

        let mut parser = SseParser::default();
        let mut pending = Vec::new();
        let endpoint = 'found: loop {
            let Some(chunk) = response.chunk().await? else {
                return Err(SseError::NoEndpoint);
            };
            pending.extend(parser.feed(&chunk)?);
            let mut events = std::mem::take(&mut pending).into_iter();
            while let Some(event) = events.next() {
                if event.event == "endpoint" {
                    pending.extend(events);
                    break 'found endpoint_url(&base, &event.data)?;
                }
                // Anything before the endpoint has no request to answer yet.
                tracing::debug!(event = %event.event, "mcp.sse.event_before_endpoint");
            }
        };

        let (sender, inbound) = mpsc::channel(INBOUND_QUEUE);
        let reader = tokio::spawn(read_stream(response, parser, pending, sender));
        Ok(Self {
            http,
            endpoint,
            headers,
            post_timeout,
            inbound,
            reader,
        })
    }
}

impl Drop for SseClientTransport {
    fn drop(&mut self) {
        // Ends the GET request, which a server takes as the end of the session.
        self.reader.abort();
    }
}

impl Transport<RoleClient> for SseClientTransport {
    type Error = SseError;

    fn name() -> Cow<'static, str> {
        "sse".into()
    }

    fn send(
        &mut self,
        item: ClientJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let request = self
            .http
            .post(self.endpoint.clone())
            .headers(self.headers.clone())
            .header(CONTENT_TYPE, "application/json")
            .timeout(self.post_timeout);
        async move {
            let body = serde_json::to_vec(&item)?;
            let response = request.body(body).send().await?;
            if !response.status().is_success() {
                return Err(SseError::Status(response.status().as_u16()));
            }
            // The answer comes on the stream; the body (`Accepted`) says nothing.
            Ok(())
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ServerJsonRpcMessage>> + Send {
        self.inbound.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.reader.abort();
        self.inbound.close();
        Ok(())
    }
}

/// Reads the rest of the stream, passing on every `message` event; returns (closing the
/// queue) when the stream ends or fails, which ends the transport.
async fn read_stream(
    mut response: reqwest::Response,
    mut parser: SseParser,
    pending: Vec<SseEvent>,
    sender: mpsc::Sender<ServerJsonRpcMessage>,
) {
    for event in pending {
        if !forward(event, &sender).await {
            return;
        }
    }
    loop {
        let chunk = match response.chunk().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => {
                tracing::debug!("mcp.sse.stream_ended");
                return;
            }
            Err(error) => {
                tracing::debug!(error = %error.without_url(), "mcp.sse.stream_failed");
                return;
            }
        };
        let events = match parser.feed(&chunk) {
            Ok(events) => events,
            Err(error) => {
                tracing::warn!(error = %error, "mcp.sse.stream_refused");
                return;
            }
        };
        for event in events {
            if !forward(event, &sender).await {
                return;
            }
        }
    }
}

/// Queues one event's message; `false` when the transport is gone.
async fn forward(event: SseEvent, sender: &mpsc::Sender<ServerJsonRpcMessage>) -> bool {
    if event.event != "message" {
        tracing::debug!(event = %event.event, "mcp.sse.event_ignored");
        return true;
    }
    match serde_json::from_str::<ServerJsonRpcMessage>(&event.data) {
        Ok(message) => sender.send(message).await.is_ok(),
        Err(error) => {
            // Not a JSON-RPC message: skipped, as rmcp's other transports do.
            tracing::warn!(error = %error, "mcp.sse.message_unreadable");
            true
        }
    }
}

/// The URL an `endpoint` event's `data` names, resolved against the stream's URL `base`;
/// refused unless it has the same origin (scheme, host and port).
pub fn endpoint_url(base: &Url, data: &str) -> Result<Url, SseError> {
    let data = data.trim();
    if data.is_empty() {
        return Err(SseError::Endpoint("no URL"));
    }
    let endpoint = base
        .join(data)
        .map_err(|_| SseError::Endpoint("an unreadable URL"))?;
    if endpoint.origin() != base.origin() {
        return Err(SseError::Endpoint("another origin than the stream's"));
    }
    Ok(endpoint)
}

/// One dispatched event: its type (`message` when the stream named none) and its data,
/// lines joined by `\n`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseEvent {
    pub event: String,
    pub data: String,
}

/// An event stream read incrementally: [`SseParser::feed`] takes the body's chunks as they
/// come and returns the events they complete.
#[derive(Debug, Default)]
pub struct SseParser {
    /// Bytes of a line not ended yet.
    line: Vec<u8>,
    /// A `\r` ended the last chunk: a `\n` opening the next one belongs to it.
    after_cr: bool,
    /// Whether the stream's first bytes (and a byte-order mark) were seen.
    started: bool,
    event: Option<String>,
    data: String,
    has_data: bool,
}

impl SseParser {
    /// Reads `chunk`, returning the events completed by it.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<Vec<SseEvent>, SseError> {
        let mut bytes = chunk;
        if !self.started && !bytes.is_empty() {
            self.started = true;
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        if self.after_cr && !bytes.is_empty() {
            self.after_cr = false;
            bytes = bytes.strip_prefix(b"\n").unwrap_or(bytes);
        }
        let mut events = Vec::new();
        while let Some(end) = bytes.iter().position(|b| *b == b'\n' || *b == b'\r') {
            self.line.extend_from_slice(&bytes[..end]);
            let line = String::from_utf8_lossy(&std::mem::take(&mut self.line)).into_owned();
            if let Some(event) = self.on_line(&line) {
                events.push(event);
            }
            let ending = if bytes[end] == b'\r' {
                match bytes.get(end + 1) {
                    Some(b'\n') => 2,
                    Some(_) => 1,
                    None => {
                        self.after_cr = true;
                        1
                    }
                }
            } else {
                1
            };
            bytes = &bytes[end + ending..];
        }
        self.line.extend_from_slice(bytes);
        if self.line.len() + self.data.len() > MAX_EVENT_BYTES {
            return Err(SseError::EventTooLarge);
        }
        Ok(events)
    }

    /// One complete line; an empty one dispatches the event gathered so far.
    fn on_line(&mut self, line: &str) -> Option<SseEvent> {
        if line.is_empty() {
            let event = self.event.take();
            if !std::mem::take(&mut self.has_data) {
                return None;
            }
            let mut data = std::mem::take(&mut self.data);
            if data.ends_with('\n') {
                data.pop();
            }
            return Some(SseEvent {
                event: event
                    .filter(|e| !e.is_empty())
                    .unwrap_or_else(|| "message".to_owned()),
                data,
            });
        }
        if line.starts_with(':') {
            return None;
        }
        let (field, value) = match line.split_once(':') {
            Some((field, value)) => (field, value.strip_prefix(' ').unwrap_or(value)),
            None => (line, ""),
        };
        match field {
            "event" => self.event = Some(value.to_owned()),
            "data" => {
                self.data.push_str(value);
                self.data.push('\n');
                self.has_data = true;
            }
            // `id` and `retry` matter to a browser reconnecting the same stream; an MCP
            // session does not survive its stream, so the client opens a new one instead.
            _ => {}
        }
        None
    }
}

#[cfg(test)]
#[path = "sse_tests.rs"]
mod tests;
