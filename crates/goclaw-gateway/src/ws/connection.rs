//! One WebSocket connection: a reader loop that dispatches requests in order, a writer task fed
//! by a bounded queue, pings, deadlines, and forwarding of the agent events this client may see
//! (through a watcher scoped by the access table, so other users' events never reach it).
//!
//! A client that cannot keep up (its outbound queue is full) is disconnected with a close reason
//! rather than silently losing frames. A socket must authenticate with `connect` within the
//! connect deadline, which no other frame extends; after that, any frame (or pong) within the
//! read deadline keeps it open. A connection opened with an API key is closed, with a close
//! frame saying why, the moment the key is revoked or expires.

use std::net::SocketAddr;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{ConnectInfo, State};
use axum::response::Response;
use chrono::{DateTime, Utc};
use futures_util::{SinkExt, StreamExt};
use goclaw_memory::vault::EnrichProgress;
use goclaw_tools::exec::ApprovalEvent;
use serde_json::Value;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

use super::clients::ClientInfo;
use super::frames::{self, ErrorShape, MAX_FRAME_BYTES, READ_BUFFER_BYTES};
use super::methods::{self, Connection, Reply};
use super::wire;
use crate::routes::AppState;
use crate::scopes::Event;
use crate::tenant_events::TenantEvent;

/// Frames waiting to be written to one client.
const OUTBOUND_QUEUE: usize = 256;
/// How often the gateway pings.
const PING_EVERY: Duration = Duration::from_secs(30);
/// How long the gateway waits for any frame (or pong) before closing.
const READ_DEADLINE: Duration = Duration::from_secs(60);
/// How long one write may take.
const WRITE_DEADLINE: Duration = Duration::from_secs(10);

/// Close code for "policy violation": used for a client too slow to keep up.
const CLOSE_POLICY: u16 = 1008;
/// Close code for "going away": used on shutdown.
const CLOSE_GOING_AWAY: u16 = 1001;

/// `GET /ws`.
#[utoipa::path(
    get,
    path = "/ws",
    tag = "system",
    summary = "WebSocket protocol v3",
    description = "Upgrades to a WebSocket speaking GoClaw's protocol v3: the first frame must be \
        `connect`, which carries the credentials. Not a JSON endpoint.",
    params(
        ("Connection" = String, Header, description = "Must include `upgrade`"),
        ("Upgrade" = String, Header, description = "`websocket`"),
        ("Sec-WebSocket-Version" = String, Header, description = "`13`"),
        ("Sec-WebSocket-Key" = String, Header, description = "The client's handshake key"),
        ("Origin" = Option<String>, Header, description = "A browser's origin, checked against `gateway.allowed_origins`"),
    ),
    security(()),
    responses(
        (status = 101, description = "Switched to the WebSocket protocol"),
        (status = 400, description = "Not a WebSocket upgrade request", body = String, content_type = "text/plain"),
        (status = 403, description = "The `Origin` is not in `gateway.allowed_origins`"),
        (status = 426, description = "The connection cannot be upgraded", body = String, content_type = "text/plain"),
    )
)]
pub async fn ws_handler(
    State(state): State<AppState>,
    ConnectInfo(remote): ConnectInfo<SocketAddr>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade
        .max_message_size(MAX_FRAME_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .read_buffer_size(READ_BUFFER_BYTES)
        .on_upgrade(move |socket| run(socket, state, remote))
}

/// The sending half handed to handlers: pushes frames without ever blocking the reader.
#[derive(Clone)]
pub struct Outbound {
    frames: mpsc::Sender<Message>,
    overflow: mpsc::Sender<()>,
}

impl Outbound {
    /// Queues a frame; when the queue is full the connection is closed as too slow.
    pub fn send(&self, frame: &Value) {
        let text = Message::Text(Utf8Bytes::from(frame.to_string()));
        if self.frames.try_send(text).is_err() {
            let _ = self.overflow.try_send(());
        }
    }
}

async fn run(socket: WebSocket, state: AppState, remote: SocketAddr) {
    let id = Uuid::now_v7();
    let (mut sink, mut stream) = socket.split();
    let (frames_tx, mut frames_rx) = mpsc::channel::<Message>(OUTBOUND_QUEUE);
    let (overflow_tx, mut overflow_rx) = mpsc::channel::<()>(1);
    let (close_tx, mut close_rx) = oneshot::channel::<(u16, &'static str)>();
    let outbound = Outbound {
        frames: frames_tx,
        overflow: overflow_tx,
    };

    let writer = tokio::spawn(async move {
        loop {
            tokio::select! {
                biased;
                close = &mut close_rx => {
                    if let Ok((code, reason)) = close {
                        // On shutdown the frames already queued (the `shutdown` event last) go
                        // out before the close; a slow consumer's backlog does not.
                        while code == CLOSE_GOING_AWAY && let Ok(message) = frames_rx.try_recv() {
                            let sent = tokio::time::timeout(WRITE_DEADLINE, sink.send(message)).await;
                            if !matches!(sent, Ok(Ok(()))) {
                                break;
                            }
                        }
                        let frame = CloseFrame { code, reason: Utf8Bytes::from_static(reason) };
                        let _ = tokio::time::timeout(WRITE_DEADLINE, sink.send(Message::Close(Some(frame)))).await;
                    }
                    break;
                }
                message = frames_rx.recv() => {
                    let Some(message) = message else { break };
                    match tokio::time::timeout(WRITE_DEADLINE, sink.send(message)).await {
                        Ok(Ok(())) => {}
                        _ => break,
                    }
                }
            }
        }
    });

    let mut conn = Connection::new(id, remote, state.clone(), outbound.clone());
    let mut events: Option<goclaw_agent::EventWatch> = None;
    let mut approvals: Option<broadcast::Receiver<ApprovalEvent>> = None;
    let mut enrichment: Option<broadcast::Receiver<EnrichProgress>> = None;
    let mut tenant_events: Option<broadcast::Receiver<TenantEvent>> = None;
    let mut ping = tokio::time::interval(PING_EVERY);
    ping.tick().await;
    let mut deadline = tokio::time::Instant::now() + READ_DEADLINE;
    let connect_deadline = tokio::time::Instant::now() + state.deadlines.ws_connect;
    let shutdown = state.shutdown.clone();
    let mut key: Option<KeyWatch> = None;
    // Once authenticated, the connect deadline is over for good (even if a later request finds
    // the key revoked and the connection has to `connect` again).
    let mut authenticated = false;

    let close: Option<(u16, &'static str)> = loop {
        // Checked before anything else is forwarded: no event reaches a revoked key.
        if let Some(watch) = key.as_ref().filter(|k| k.revoked.is_cancelled()) {
            tracing::info!(client = %id, credential = watch.what, "closing a websocket whose credential was revoked");
            break Some((CLOSE_POLICY, revoked_reason(watch.what)));
        }
        tokio::select! {
            () = key_revoked(&key) => {
                let what = key.as_ref().map_or("api key", |k| k.what);
                tracing::info!(client = %id, credential = what, "closing a websocket whose credential was revoked");
                break Some((CLOSE_POLICY, revoked_reason(what)));
            }
            () = key_expired(&key) => {
                tracing::info!(client = %id, "closing a websocket whose api key expired");
                break Some((CLOSE_POLICY, "api key expired"));
            }
            () = shutdown.cancelled() => {
                if crate::scopes::may_receive(Event::Shutdown, conn.principal(), None) {
                    outbound.send(&frames::event(Event::Shutdown, serde_json::json!({})));
                }
                break Some((CLOSE_GOING_AWAY, "gateway shutting down"));
            }
            _ = overflow_rx.recv() => {
                tracing::warn!(client = %id, "websocket client too slow; disconnecting");
                break Some((CLOSE_POLICY, "slow consumer: outbound queue full"));
            }
            () = tokio::time::sleep_until(deadline) => {
                break Some((CLOSE_POLICY, "read deadline exceeded"));
            }
            () = tokio::time::sleep_until(connect_deadline), if !authenticated => {
                tracing::debug!(client = %id, remote = %remote, "websocket did not connect in time");
                break Some((CLOSE_POLICY, "connect deadline exceeded"));
            }
            _ = ping.tick() => {
                let _ = outbound.frames.try_send(Message::Ping(Default::default()));
            }
            event = recv_agent_event(&mut events) => {
                match event {
                    Ok(event) => {
                        if let Some(frame) = wire::agent_event_frame(&event, conn.principal()) {
                            outbound.send(&frame);
                        }
                    }
                    Err(goclaw_agent::StreamError::Lagged) => {
                        tracing::warn!(client = %id, "websocket client fell behind the event stream; disconnecting");
                        break Some((CLOSE_POLICY, "slow consumer: events dropped"));
                    }
                    Err(_) => events = None,
                }
            }
            event = recv_event(&mut approvals) => {
                match event {
                    Ok(event) => {
                        if let Some(frame) = methods::approvals::event_frame(&event, conn.principal()) {
                            outbound.send(&frame);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(client = %id, missed, "websocket client fell behind the approval events");
                    }
                    Err(broadcast::error::RecvError::Closed) => approvals = None,
                }
            }
            progress = recv_event(&mut enrichment) => {
                match progress {
                    Ok(progress) => {
                        if let Some(frame) = wire::enrich_progress_frame(&progress, conn.principal()) {
                            outbound.send(&frame);
                        }
                    }
                    // A later event carries the counts again.
                    Err(broadcast::error::RecvError::Lagged(_)) => {}
                    Err(broadcast::error::RecvError::Closed) => enrichment = None,
                }
            }
            event = recv_event(&mut tenant_events) => {
                match event {
                    Ok(event) => {
                        if let Some(frame) = wire::tenant_event_frame(&event, conn.principal()) {
                            outbound.send(&frame);
                        }
                    }
                    Err(broadcast::error::RecvError::Lagged(missed)) => {
                        tracing::warn!(client = %id, missed, "websocket client fell behind the tenant events");
                    }
                    Err(broadcast::error::RecvError::Closed) => tenant_events = None,
                }
            }
            incoming = stream.next() => {
                let Some(Ok(message)) = incoming else { break None };
                deadline = tokio::time::Instant::now() + READ_DEADLINE;
                match message {
                    Message::Text(text) => {
                        let was_authenticated = conn.principal().is_some();
                        // Boxed: the dispatch of any method is a large future, and an idle
                        // connection should not carry room for it.
                        Box::pin(handle_text(&mut conn, text.as_str())).await;
                        if !was_authenticated && conn.principal().is_some() {
                            authenticated = true;
                            events = conn
                                .principal()
                                .and_then(crate::scopes::agent_watch_scope)
                                .map(|scope| state.runtime.watch(scope));
                            approvals = state.approvals.as_ref().map(|b| b.subscribe());
                            enrichment = state.vault.as_ref().and_then(|v| v.watch_enrichment());
                            tenant_events = Some(state.tenant_events.watch());
                            key = conn.api_key().map(|bound| KeyWatch {
                                revoked: state.clients.bind_key(id, bound.id),
                                expires_at: bound.expires_at,
                                what: "api key",
                            });
                            if let Some(sender) = conn.paired_sender() {
                                // Browser pairings live in the master tenant, whichever tenant
                                // the browser then selected by its membership.
                                let credential = crate::ws::clients::Credential::BrowserPairing(
                                    goclaw_core::MASTER_TENANT_ID,
                                    sender.to_owned(),
                                );
                                key = Some(KeyWatch {
                                    revoked: state.clients.bind(id, credential),
                                    expires_at: None,
                                    what: "pairing",
                                });
                            }
                        }
                    }
                    Message::Binary(_) => {
                        outbound.send(&frames::response("", Err(ErrorShape::invalid("binary frames are not supported"))));
                    }
                    Message::Close(_) => break None,
                    Message::Ping(_) | Message::Pong(_) => {}
                }
            }
        }
    };

    if let Some(reason) = close {
        let _ = close_tx.send(reason);
    } else {
        drop(close_tx);
    }
    drop(outbound);
    drop(conn);
    state.clients.remove(id);
    let _ = tokio::time::timeout(WRITE_DEADLINE, writer).await;
}

/// What ends a connection opened with an API key: its revocation, or its expiry.
struct KeyWatch {
    revoked: CancellationToken,
    expires_at: Option<DateTime<Utc>>,
    /// `api key` or `pairing`, for the close reason.
    what: &'static str,
}

/// The close reason of a connection whose credential was taken back.
fn revoked_reason(what: &str) -> &'static str {
    match what {
        "pairing" => "pairing revoked",
        _ => "api key revoked",
    }
}

/// Longest single wait for an expiry; a later one is waited for in several steps.
const EXPIRY_STEP: Duration = Duration::from_secs(24 * 3600);

async fn key_revoked(key: &Option<KeyWatch>) {
    match key {
        Some(key) => key.revoked.cancelled().await,
        None => std::future::pending().await,
    }
}

/// Resolves when the connection's key expires (never without a key or an expiry).
async fn key_expired(key: &Option<KeyWatch>) {
    let Some(expires_at) = key.as_ref().and_then(|k| k.expires_at) else {
        return std::future::pending().await;
    };
    loop {
        let Ok(left) = (expires_at - Utc::now()).to_std() else {
            return;
        };
        if left.is_zero() {
            return;
        }
        tokio::time::sleep(left.min(EXPIRY_STEP)).await;
    }
}

async fn recv_agent_event(
    events: &mut Option<goclaw_agent::EventWatch>,
) -> Result<goclaw_agent::SharedEvent, goclaw_agent::StreamError> {
    match events {
        Some(watch) => watch.recv().await,
        None => std::future::pending().await,
    }
}

async fn recv_event<T: Clone>(
    events: &mut Option<broadcast::Receiver<T>>,
) -> Result<T, broadcast::error::RecvError> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

async fn handle_text(conn: &mut Connection, text: &str) {
    let request = match frames::parse_request(text) {
        Ok(request) => request,
        Err(error) => {
            conn.outbound.send(&frames::response("", Err(error)));
            return;
        }
    };
    let id = request.id.clone();
    match methods::dispatch(conn, request).await {
        Reply::Now(result) => conn.outbound.send(&frames::response(&id, result)),
        Reply::Later(pending) => {
            let outbound = conn.outbound.clone();
            tokio::spawn(async move {
                let result = pending.await;
                outbound.send(&frames::response(&id, result));
            });
        }
    }
    if let Some(principal) = conn.principal() {
        conn.state.clients.upsert(
            conn.id,
            ClientInfo {
                id: conn.id.to_string(),
                remote_addr: conn.remote.to_string(),
                user_id: principal.user_id.clone(),
                role: principal.role.as_str().to_owned(),
                connected_at: conn.connected_at,
                tenant_id: principal.tenant_id,
            },
        );
    }
}
