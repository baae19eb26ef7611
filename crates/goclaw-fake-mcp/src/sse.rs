//! The HTTP+SSE transport of MCP's 2024-11-05 revision on the server side, which rmcp no
//! longer ships: `GET /sse` opens a session and its event stream, whose first `endpoint` event
//! names `/message?sessionId=ID`; a `POST` there carries one client message (answered
//! `202 Accepted`), and the server's messages go out as `message` events. Each session is its
//! own [`FakeMcp`] served by rmcp; the session ends with its stream.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::StreamExt;
use rmcp::ServiceExt;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::service::RoleServer;
use rmcp::transport::Transport;
use serde::Deserialize;
use tokio::sync::mpsc;

use crate::{FakeMcp, RequiredHeader, require_header};

/// Messages queued per direction of one session.
const QUEUE: usize = 32;

/// Binds `addr` and returns the bound address and the server, which serves the event stream
/// at `/sse` and takes messages at `/message` until the process ends.
pub async fn serve_sse(
    addr: SocketAddr,
    required: Option<RequiredHeader>,
) -> std::io::Result<(SocketAddr, impl Future<Output = std::io::Result<()>>)> {
    let router = axum::Router::new()
        .route("/sse", axum::routing::get(open))
        .route("/message", axum::routing::post(post))
        .with_state(Sessions::default());
    let router = require_header(router, required);
    let listener = tokio::net::TcpListener::bind(addr).await?;
    let bound = listener.local_addr()?;
    Ok((bound, async move { axum::serve(listener, router).await }))
}

/// The open sessions: where each one's client messages go.
#[derive(Clone, Default)]
struct Sessions {
    open: Arc<Mutex<HashMap<String, mpsc::Sender<ClientJsonRpcMessage>>>>,
    next: Arc<AtomicU64>,
}

impl Sessions {
    fn lock(
        &self,
    ) -> std::sync::MutexGuard<'_, HashMap<String, mpsc::Sender<ClientJsonRpcMessage>>> {
        self.open.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Removes its session when the stream that owns it is dropped (the client went away), which
/// ends the session's server.
struct SessionGuard {
    sessions: Sessions,
    id: String,
}

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.sessions.lock().remove(&self.id);
    }
}

async fn open(State(sessions): State<Sessions>) -> Response {
    let id = format!("s{}", sessions.next.fetch_add(1, Ordering::Relaxed) + 1);
    let (to_server, inbound) = mpsc::channel(QUEUE);
    let (outbound, mut to_client) = mpsc::channel(QUEUE);
    sessions.lock().insert(id.clone(), to_server);
    tokio::spawn(async move {
        let transport = SessionTransport { inbound, outbound };
        if let Ok(running) = FakeMcp::default().serve(transport).await {
            let _ = running.waiting().await;
        }
    });
    let endpoint = Event::default()
        .event("endpoint")
        .data(format!("/message?sessionId={id}"));
    let guard = SessionGuard { sessions, id };
    let messages = futures_util::stream::poll_fn(move |cx| {
        let _owned = &guard;
        to_client.poll_recv(cx).map(|message| message.map(event))
    });
    let stream = futures_util::stream::once(async move { endpoint })
        .chain(messages)
        .map(Ok::<_, Infallible>);
    Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(5)))
        .into_response()
}

/// A server message as a `message` event.
fn event(message: ServerJsonRpcMessage) -> Event {
    let data = serde_json::to_string(&message).unwrap_or_default();
    Event::default().event("message").data(data)
}

#[derive(Deserialize)]
struct SessionQuery {
    #[serde(rename = "sessionId")]
    session_id: String,
}

async fn post(
    State(sessions): State<Sessions>,
    Query(query): Query<SessionQuery>,
    body: Bytes,
) -> Response {
    let sender = sessions.lock().get(&query.session_id).cloned();
    let Some(sender) = sender else {
        return (StatusCode::NOT_FOUND, "no such session").into_response();
    };
    let Ok(message) = serde_json::from_slice::<ClientJsonRpcMessage>(&body) else {
        return (StatusCode::BAD_REQUEST, "not a JSON-RPC message").into_response();
    };
    if sender.send(message).await.is_err() {
        return (StatusCode::NOT_FOUND, "the session has ended").into_response();
    }
    (StatusCode::ACCEPTED, "Accepted").into_response()
}

/// One session's side of rmcp: client messages from the `POST`s in, server messages out to
/// the event stream.
struct SessionTransport {
    inbound: mpsc::Receiver<ClientJsonRpcMessage>,
    outbound: mpsc::Sender<ServerJsonRpcMessage>,
}

impl Transport<RoleServer> for SessionTransport {
    type Error = std::io::Error;

    fn send(
        &mut self,
        item: ServerJsonRpcMessage,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let outbound = self.outbound.clone();
        async move {
            outbound.send(item).await.map_err(|_| {
                std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the event stream is closed")
            })
        }
    }

    fn receive(&mut self) -> impl Future<Output = Option<ClientJsonRpcMessage>> + Send {
        self.inbound.recv()
    }

    async fn close(&mut self) -> Result<(), Self::Error> {
        self.inbound.close();
        Ok(())
    }
}
