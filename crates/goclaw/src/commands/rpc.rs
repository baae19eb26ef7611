//! The WebSocket API of a running gateway, as the client commands that speak it reach it
//! (`agent chat`, `pairing`): connect with the client's token as its user, then one request
//! at a time, each answered by its own response (events meanwhile are handed to the caller).

use anyhow::{Context, anyhow};
use futures_util::{SinkExt, StreamExt};
use goclaw_config::{Environment, LoadedConfig};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::agent::{server_url, token, ws_url};
use crate::cli::Cli;

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A connected, signed-in WebSocket client of the gateway.
pub(super) struct GatewayRpc {
    socket: Socket,
    next_id: u64,
}

impl GatewayRpc {
    /// Connects to the gateway the command line, environment or configuration names and signs
    /// in as `GOCLAW_USER_ID` (default `system`).
    pub(super) async fn connect(
        cli: &Cli,
        env: &Environment,
        loaded: &LoadedConfig,
    ) -> anyhow::Result<Self> {
        let url = ws_url(&server_url(cli, env, loaded))?;
        let token = token(cli, env, loaded);
        let user_id = env.get("GOCLAW_USER_ID").unwrap_or("system").to_owned();
        let (socket, _) = tokio_tungstenite::connect_async(url.as_str())
            .await
            .with_context(|| format!("cannot connect to {url}"))?;
        let mut rpc = Self { socket, next_id: 0 };
        rpc.call("connect", json!({ "token": token, "user_id": user_id }))
            .await
            .context("connect failed")?;
        Ok(rpc)
    }

    /// Sends a request and returns its payload; a refusal is an error carrying the gateway's
    /// message.
    pub(super) async fn call(&mut self, method: &str, params: Value) -> anyhow::Result<Value> {
        self.call_watching(method, params, |_| Ok(())).await
    }

    /// Like [`GatewayRpc::call`], handing every event that arrives meanwhile to `on_event`.
    pub(super) async fn call_watching(
        &mut self,
        method: &str,
        params: Value,
        mut on_event: impl FnMut(&Value) -> anyhow::Result<()>,
    ) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let frame = json!({ "type": "req", "id": id, "method": method, "params": params });
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await?;
        while let Some(message) = self.socket.next().await {
            let Message::Text(text) = message? else {
                continue;
            };
            let frame: Value = serde_json::from_str(text.as_str())?;
            match frame.get("type").and_then(Value::as_str) {
                Some("event") => on_event(&frame)?,
                Some("res") if frame["id"] == id.as_str() => {
                    if frame["ok"] != true {
                        let message = frame["error"]["message"]
                            .as_str()
                            .unwrap_or("request failed");
                        return Err(anyhow!("{method}: {message}"));
                    }
                    return Ok(frame.get("payload").cloned().unwrap_or(Value::Null));
                }
                _ => {}
            }
        }
        Err(anyhow!("the gateway closed the connection"))
    }
}
