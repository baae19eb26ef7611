//! The fake's Socket Mode side: the `/link` WebSocket that sends `hello` and envelopes,
//! records acknowledgements and sends again what is not acknowledged in time.

use super::*;

pub(super) async fn link(
    State(state): State<Arc<Shared>>,
    Query(query): Query<std::collections::HashMap<String, String>>,
    upgrade: WebSocketUpgrade,
) -> Response {
    let ticket = query.get("ticket").and_then(|t| t.parse::<u64>().ok());
    // A ticket serves one connection, as on Slack.
    let valid = ticket.is_some_and(|t| state.inner().tickets.remove(&t));
    if !valid {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    upgrade.on_upgrade(move |socket| session(socket, state))
}

async fn session(mut socket: WebSocket, state: Arc<Shared>) {
    let connection = state.connections_opened.fetch_add(1, Ordering::SeqCst) + 1;
    let mut control = state.control.subscribe();
    let mut closed = state.closed.subscribe();
    state.inner().alive.insert(connection);
    let hello = json!({
        "type": "hello", "num_connections": 1,
        "debug_info": {"host": "fake-slack", "approximate_connection_time": 18060},
        "connection_info": {"app_id": "AGOCLAW01"},
    });
    if socket
        .send(Message::Text(hello.to_string().into()))
        .await
        .is_ok()
    {
        serve(&mut socket, &state, connection, &mut control, &mut closed).await;
    }
    state.inner().alive.remove(&connection);
}

async fn serve(
    socket: &mut WebSocket,
    state: &Shared,
    connection: u64,
    control: &mut broadcast::Receiver<Control>,
    closed: &mut watch::Receiver<bool>,
) {
    loop {
        let frames = state.inner().due(connection, state.ack_timeout);
        for frame in frames {
            if socket.send(Message::Text(frame.into())).await.is_err() {
                return;
            }
        }
        tokio::select! {
            command = control.recv() => match command {
                Ok(Control::Disconnect) => {
                    let frame = json!({"type": "disconnect", "reason": "refresh_requested", "debug_info": {"host": "fake-slack"}});
                    if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                        return;
                    }
                }
                Ok(Control::Drop) | Err(broadcast::error::RecvError::Closed) => return,
                Ok(Control::Silence) => {
                    // Neither read nor write until the fake stops; the socket stays open.
                    let _ = closed.wait_for(|closed| *closed).await;
                    return;
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
            },
            frame = socket.recv() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let ack: Value = serde_json::from_str(text.as_str()).unwrap_or(Value::Null);
                    if let Some(id) = ack["envelope_id"].as_str() {
                        let mut inner = state.inner();
                        inner.acks.push(id.to_owned());
                        if let Some(pending) = inner.envelopes.iter_mut().find(|p| p.envelope_id == id) {
                            pending.acked = true;
                        }
                    }
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            _ = closed.changed() => return,
            _ = tokio::time::sleep(Duration::from_millis(25)) => {}
        }
    }
}
