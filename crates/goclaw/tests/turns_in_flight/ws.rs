//! Turns over WebSocket `chat.send`, on connections that outlive nothing: each connection is a
//! task that sends the turns it is handed and reads every frame until the socket dies. A turn
//! is acknowledged by its run's `run.started` event (the connections sign in with the gateway
//! token, so each sees every run of the tenant) or by its reply; the reply carries the answer
//! or the error.

use std::collections::HashMap;
use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use super::Ledger;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A signed-in connection that sends turns on request.
pub struct TurnConnection {
    turns: mpsc::UnboundedSender<usize>,
    pub task: JoinHandle<()>,
}

impl TurnConnection {
    /// Opens `url`, signs in with `token` as `user_id` and starts reading.
    ///
    /// # Panics
    /// When the connection or the sign-in fails: the gateway is up at this point.
    pub async fn open(url: &str, token: &str, user_id: &str, ledger: Arc<Ledger>) -> Self {
        let (mut socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .unwrap_or_else(|e| panic!("websocket connect to {url}: {e}"));
        let connect = json!({
            "type": "req", "id": "connect", "method": "connect",
            "params": { "token": token, "user_id": user_id },
        });
        socket
            .send(Message::Text(connect.to_string().into()))
            .await
            .expect("sending connect");
        loop {
            let frame = next_json(&mut socket).await.expect("the reply to connect");
            if frame["type"] == "res" && frame["id"] == "connect" {
                assert_eq!(frame["ok"], true, "connect failed: {frame}");
                break;
            }
        }
        let (turns, requests) = mpsc::unbounded_channel();
        let task = tokio::spawn(serve(socket, requests, ledger));
        Self { turns, task }
    }

    /// Sends turn `turn` of the ledger.
    pub fn send(&self, turn: usize) {
        // A connection whose task ended (the gateway died) sends nothing more.
        let _ = self.turns.send(turn);
    }
}

/// Sends requested turns and reads frames until the socket closes.
async fn serve(
    mut socket: Socket,
    mut requests: mpsc::UnboundedReceiver<usize>,
    ledger: Arc<Ledger>,
) {
    let mut pending: HashMap<String, usize> = HashMap::new();
    let mut open = true;
    loop {
        tokio::select! {
            request = requests.recv(), if open => {
                let Some(turn) = request else {
                    open = false;
                    continue;
                };
                let planned = &ledger.turns[turn];
                let id = format!("turn-{turn}");
                let frame = json!({
                    "type": "req", "id": id, "method": "chat.send",
                    "params": {
                        "agentId": "default",
                        "sessionKey": planned.session_key,
                        "message": planned.message,
                        "idempotencyKey": planned.idempotency_key,
                    },
                });
                pending.insert(id, turn);
                if socket.send(Message::Text(frame.to_string().into())).await.is_err() {
                    return;
                }
            }
            frame = next_json(&mut socket) => {
                let Some(frame) = frame else { return };
                record(&ledger, &mut pending, &frame);
            }
        }
    }
}

/// Notes in the ledger what `frame` says about a turn.
fn record(ledger: &Ledger, pending: &mut HashMap<String, usize>, frame: &Value) {
    match frame["type"].as_str() {
        Some("res") => {
            let Some(turn) = frame["id"].as_str().and_then(|id| pending.remove(id)) else {
                return;
            };
            if frame["ok"] == true {
                let payload = &frame["payload"];
                let content = payload["content"].as_str().unwrap_or_default().to_owned();
                let run_id = payload["runId"].as_str().map(str::to_owned);
                ledger.answered_with(turn, content, run_id);
            } else {
                ledger.failed(turn, frame["error"].to_string());
            }
        }
        Some("event") if frame["event"] == "agent" => {
            let event = &frame["payload"];
            if event["type"] != "run.started" {
                return;
            }
            let (Some(session), Some(text), Some(run_id)) = (
                event["sessionKey"].as_str(),
                event.pointer("/payload/message").and_then(Value::as_str),
                event["runId"].as_str(),
            ) else {
                return;
            };
            ledger.run_started(session, text, run_id);
        }
        _ => {}
    }
}

/// The next JSON text frame, or `None` once the socket is closed or broken.
async fn next_json(socket: &mut Socket) -> Option<Value> {
    loop {
        match socket.next().await? {
            Ok(Message::Text(text)) => {
                if let Ok(frame) = serde_json::from_str(text.as_str()) {
                    return Some(frame);
                }
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => continue,
        }
    }
}
