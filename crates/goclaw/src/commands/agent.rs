//! `goclaw agent chat`: a WebSocket client of a running gateway that streams an agent's answer
//! to the terminal.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::{Context, anyhow, bail};
use futures_util::{SinkExt, StreamExt};
use goclaw_config::{Environment, LoadedConfig};
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use crate::cli::{ChatArgs, Cli};

type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// Where the gateway is: `--server`, `GOCLAW_SERVER`, `GOCLAW_GATEWAY_URL`, else the configured
/// host and port (a wildcard host becomes 127.0.0.1).
pub fn server_url(cli: &Cli, env: &Environment, loaded: &LoadedConfig) -> String {
    if let Some(server) = cli.server.clone().filter(|s| !s.is_empty()) {
        return server;
    }
    if let Some(server) = env
        .get("GOCLAW_SERVER")
        .or_else(|| env.get("GOCLAW_GATEWAY_URL"))
    {
        return server.to_owned();
    }
    let gateway = &loaded.config.gateway;
    let host = match gateway.host.as_str() {
        "" | "0.0.0.0" | "::" | "[::]" => "127.0.0.1",
        other => other,
    };
    format!("http://{host}:{}", gateway.port)
}

/// The credential client commands present: `--token`, `GOCLAW_GATEWAY_TOKEN`, else the
/// configured gateway token (empty when none).
pub fn token(cli: &Cli, env: &Environment, loaded: &LoadedConfig) -> String {
    cli.token
        .clone()
        .or_else(|| env.get("GOCLAW_GATEWAY_TOKEN").map(str::to_owned))
        .or_else(|| {
            loaded
                .config
                .gateway
                .token
                .as_ref()
                .map(|t| t.expose().to_owned())
        })
        .unwrap_or_default()
}

/// The WebSocket URL of a gateway base URL.
pub fn ws_url(server: &str) -> anyhow::Result<String> {
    let server = server.trim_end_matches('/');
    let rest = if let Some(rest) = server.strip_prefix("https://") {
        format!("wss://{rest}")
    } else if let Some(rest) = server.strip_prefix("http://") {
        format!("ws://{rest}")
    } else if server.starts_with("ws://") || server.starts_with("wss://") {
        server.to_owned()
    } else {
        bail!("server URL must start with http://, https://, ws:// or wss://: {server}");
    };
    Ok(if rest.ends_with("/ws") {
        rest
    } else {
        format!("{rest}/ws")
    })
}

pub async fn chat(
    cli: &Cli,
    env: &Environment,
    loaded: &LoadedConfig,
    args: &ChatArgs,
) -> anyhow::Result<ExitCode> {
    let url = ws_url(&server_url(cli, env, loaded))?;
    let token = token(cli, env, loaded);
    let user_id = env.get("GOCLAW_USER_ID").unwrap_or("system").to_owned();
    let (mut socket, _) = tokio_tungstenite::connect_async(url.as_str())
        .await
        .with_context(|| format!("cannot connect to {url}"))?;
    let mut client = Client {
        socket: &mut socket,
        next_id: 0,
    };
    client
        .call(
            "connect",
            json!({ "token": token, "user_id": user_id }),
            false,
        )
        .await
        .context("connect failed")?;

    let mut session = args.session.clone();
    if let Some(message) = &args.message {
        client
            .send_message(&args.agent, &mut session, message)
            .await?;
        return Ok(ExitCode::SUCCESS);
    }
    let stdin = std::io::stdin();
    let mut out = std::io::stdout();
    loop {
        write!(out, "you> ")?;
        out.flush()?;
        let mut line = String::new();
        if stdin.lock().read_line(&mut line)? == 0 {
            break;
        }
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        if matches!(line, "/quit" | "/exit") {
            break;
        }
        if let Err(error) = client.send_message(&args.agent, &mut session, line).await {
            eprintln!("error: {}", crate::one_line(&error));
        }
    }
    Ok(ExitCode::SUCCESS)
}

struct Client<'a> {
    socket: &'a mut Socket,
    next_id: u64,
}

impl Client<'_> {
    /// Sends a chat message and prints the answer as it streams.
    async fn send_message(
        &mut self,
        agent: &str,
        session: &mut Option<String>,
        message: &str,
    ) -> anyhow::Result<()> {
        let mut params = json!({ "agentId": agent, "message": message });
        if let Some(key) = session.as_deref() {
            params["sessionKey"] = Value::String(key.to_owned());
        }
        let payload = self.call("chat.send", params, true).await?;
        if let Some(key) = payload.get("sessionKey").and_then(Value::as_str) {
            *session = Some(key.to_owned());
        }
        Ok(())
    }

    /// Sends a request and waits for its response; with `print_stream`, prints `chunk` events
    /// of the run meanwhile (and the final content if nothing streamed).
    async fn call(
        &mut self,
        method: &str,
        params: Value,
        print_stream: bool,
    ) -> anyhow::Result<Value> {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let frame = json!({ "type": "req", "id": id, "method": method, "params": params });
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await?;
        let mut streamed = false;
        let mut out = std::io::stdout();
        while let Some(message) = self.socket.next().await {
            let Message::Text(text) = message? else {
                continue;
            };
            let frame: Value = serde_json::from_str(text.as_str())?;
            match frame.get("type").and_then(Value::as_str) {
                Some("event") if print_stream && frame["event"] == "agent" => {
                    let inner = &frame["payload"];
                    if inner["type"] == "chunk"
                        && let Some(content) = inner["payload"]["content"].as_str()
                    {
                        write!(out, "{content}")?;
                        out.flush()?;
                        streamed = true;
                    }
                }
                Some("res") if frame["id"] == id.as_str() => {
                    if frame["ok"] != true {
                        let message = frame["error"]["message"]
                            .as_str()
                            .unwrap_or("request failed");
                        return Err(anyhow!("{method}: {message}"));
                    }
                    let payload = frame.get("payload").cloned().unwrap_or(Value::Null);
                    if print_stream {
                        if !streamed {
                            write!(out, "{}", payload["content"].as_str().unwrap_or_default())?;
                        }
                        writeln!(out)?;
                    }
                    return Ok(payload);
                }
                _ => {}
            }
        }
        Err(anyhow!("the gateway closed the connection"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn websocket_urls() {
        let check = |server: &str, expected: &str| {
            assert_eq!(ws_url(server).ok().as_deref(), Some(expected), "{server}")
        };
        check("http://127.0.0.1:18790", "ws://127.0.0.1:18790/ws");
        check("https://gw.example.com/", "wss://gw.example.com/ws");
        check("ws://h:1/ws", "ws://h:1/ws");
        assert!(ws_url("ftp://x").is_err());
    }
}
