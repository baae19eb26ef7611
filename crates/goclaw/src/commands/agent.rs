//! `goclaw agent chat`: a WebSocket client of a running gateway that streams an agent's answer
//! to the terminal.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use anyhow::bail;
use goclaw_config::{Environment, LoadedConfig};
use serde_json::{Value, json};

use super::rpc::GatewayRpc;
use crate::cli::{ChatArgs, Cli};

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
    let mut rpc = GatewayRpc::connect(cli, env, loaded).await?;
    let mut session = args.session.clone();
    if let Some(message) = &args.message {
        send_message(&mut rpc, &args.agent, &mut session, message).await?;
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
        if let Err(error) = send_message(&mut rpc, &args.agent, &mut session, line).await {
            eprintln!("error: {}", crate::one_line(&error));
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Sends a chat message and prints the answer as it streams (`chunk` events of the run, or
/// the final content if nothing streamed).
async fn send_message(
    rpc: &mut GatewayRpc,
    agent: &str,
    session: &mut Option<String>,
    message: &str,
) -> anyhow::Result<()> {
    let mut params = json!({ "agentId": agent, "message": message });
    if let Some(key) = session.as_deref() {
        params["sessionKey"] = Value::String(key.to_owned());
    }
    let mut out = std::io::stdout();
    let mut streamed = false;
    let payload = rpc
        .call_watching("chat.send", params, |frame| {
            let inner = &frame["payload"];
            if frame["event"] == "agent"
                && inner["type"] == "chunk"
                && let Some(content) = inner["payload"]["content"].as_str()
            {
                write!(out, "{content}")?;
                out.flush()?;
                streamed = true;
            }
            Ok(())
        })
        .await?;
    if !streamed {
        write!(out, "{}", payload["content"].as_str().unwrap_or_default())?;
    }
    writeln!(out)?;
    if let Some(key) = payload.get("sessionKey").and_then(Value::as_str) {
        *session = Some(key.to_owned());
    }
    Ok(())
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
