//! The fake's gateway WebSocket: Hello, heartbeats and their ACKs, Identify and READY,
//! Resume replaying a session's log, and the faults the tests turn on.

use super::*;

pub(super) async fn gateway(
    State(state): State<Arc<Shared>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    upgrade.on_upgrade(move |socket| async move {
        let _ = serve_connection(&state, socket).await;
    })
}

/// Where a connection stands in the session it serves.
struct Position {
    session_id: String,
    /// Log entries already sent.
    sent: usize,
}

/// One gateway connection, until the client leaves or a fault ends it; `Err` when writing
/// failed.
async fn serve_connection(state: &Shared, mut socket: WebSocket) -> Result<(), axum::Error> {
    let generation = state.generation.load(Ordering::SeqCst);
    let interval = state.heartbeat_ms.load(Ordering::SeqCst);
    send(
        &mut socket,
        json!({"op": 10, "d": {"heartbeat_interval": interval}}),
    )
    .await?;
    let mut position: Option<Position> = None;
    let mut owe_ack = false;
    let mut owe_resumed = false;
    loop {
        let changed = state.changed.notified();
        if state.generation.load(Ordering::SeqCst) != generation {
            // Dropped without a close frame: the client sees the connection die.
            return Ok(());
        }
        let control = std::mem::take(&mut state.inner().control);
        for payload in control {
            send(&mut socket, payload).await?;
        }
        if !state.acks_stopped.load(Ordering::SeqCst) {
            if std::mem::take(&mut owe_ack) {
                send(&mut socket, json!({"op": 11})).await?;
            }
            if let Some(position) = position.as_mut() {
                for payload in pending(state, position) {
                    send(&mut socket, payload).await?;
                }
            }
            if std::mem::take(&mut owe_resumed) {
                send(
                    &mut socket,
                    json!({"op": 0, "t": "RESUMED", "s": null, "d": {}}),
                )
                .await?;
            }
        }
        let frame = tokio::select! {
            _ = changed => continue,
            frame = socket.recv() => frame,
        };
        let text = match frame {
            Some(Ok(Message::Text(text))) => text,
            Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Ok(()),
            Some(Ok(_)) => continue,
        };
        let Ok(payload) = serde_json::from_str::<Value>(text.as_str()) else {
            return close(&mut socket, 4002, "Error while decoding payload.").await;
        };
        match payload["op"].as_u64() {
            Some(1) => {
                state.heartbeats.fetch_add(1, Ordering::SeqCst);
                owe_ack = true;
            }
            Some(2) | Some(6) if !token_accepted(state, &payload) => {
                return close(&mut socket, 4004, "Authentication failed.").await;
            }
            Some(2) => {
                state.identifies.fetch_add(1, Ordering::SeqCst);
                position = Some(Position {
                    session_id: new_session(state),
                    sent: 0,
                });
            }
            Some(6) => {
                state.resumes.fetch_add(1, Ordering::SeqCst);
                let session_id = payload["d"]["session_id"].as_str().unwrap_or_default();
                let seq = payload["d"]["seq"].as_u64().unwrap_or_default();
                if resumable(state, session_id, seq) {
                    position = Some(Position {
                        session_id: session_id.to_owned(),
                        sent: usize::try_from(seq).unwrap_or(usize::MAX),
                    });
                    owe_resumed = true;
                } else {
                    send(&mut socket, json!({"op": 9, "d": false})).await?;
                }
            }
            _ => {}
        }
    }
}

fn token_accepted(state: &Shared, payload: &Value) -> bool {
    !state.refuse_identify.load(Ordering::SeqCst)
        && payload["d"]["token"].as_str() == Some(state.token.as_str())
}

/// Starts a session: READY, then every event never written to a connection.
fn new_session(state: &Shared) -> String {
    let mut inner = state.inner();
    let id = format!("session-{}", inner.snowflake());
    let ready = json!({
        "v": 10,
        "user": bot_user(),
        "guilds": [{"id": GUILD_ID, "unavailable": true}],
        "session_id": id,
        "resume_gateway_url": inner.resume_url.clone().unwrap_or_else(|| state.gateway_url()),
        "application": {"id": BOT_ID, "flags": 0},
    });
    let mut log = vec![(None, "READY", ready)];
    log.extend(
        inner
            .events
            .iter()
            .enumerate()
            .filter(|(_, event)| !event.dispatched)
            .map(|(index, event)| (Some(index), event.kind, event.data.clone())),
    );
    inner.session = Some(Session {
        id: id.clone(),
        log,
    });
    id
}

/// Whether `session_id` is the current session and `seq` within its log.
fn resumable(state: &Shared, session_id: &str, seq: u64) -> bool {
    let inner = state.inner();
    inner.session.as_ref().is_some_and(|session| {
        session.id == session_id && usize::try_from(seq).is_ok_and(|seq| seq <= session.log.len())
    })
}

/// The dispatches of the session not yet sent on this connection (marked as written);
/// nothing when a newer session replaced it.
fn pending(state: &Shared, position: &mut Position) -> Vec<Value> {
    let mut inner = state.inner();
    let Inner {
        session, events, ..
    } = &mut *inner;
    let Some(session) = session.as_ref().filter(|s| s.id == position.session_id) else {
        return Vec::new();
    };
    let mut payloads = Vec::new();
    for (at, (event, kind, data)) in session.log.iter().enumerate().skip(position.sent) {
        if let Some(event) = event.and_then(|index| events.get_mut(index)) {
            event.dispatched = true;
        }
        payloads.push(json!({"op": 0, "t": kind, "s": at + 1, "d": data}));
    }
    position.sent = session.log.len();
    payloads
}

async fn send(socket: &mut WebSocket, payload: Value) -> Result<(), axum::Error> {
    socket.send(Message::Text(payload.to_string().into())).await
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) -> Result<(), axum::Error> {
    let frame = CloseFrame {
        code,
        reason: reason.to_owned().into(),
    };
    socket.send(Message::Close(Some(frame))).await
}
