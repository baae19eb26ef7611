//! One Socket Mode connection: greets, hands each envelope's message to the sink and only
//! then acknowledges the envelope (`{"envelope_id": …}`), pings, and ends when stopped, when
//! Slack asks for a new connection, or when the socket drops or falls silent.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde_json::json;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::Keepalive;
use super::events::{Delivery, Envelope, delivery};
use crate::channel::{BotIdentity, InboundSink};

/// How long opening the WebSocket may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);

/// How a connection ended.
#[derive(Debug)]
pub(super) enum SessionEnd {
    /// `stop` was cancelled.
    Stopped,
    /// Slack sent `disconnect` (with its reason): open a new connection now.
    Refresh(String),
    /// The connection failed; `greeted` when Slack had said `hello` on it (it worked for a
    /// while, so the backoff starts over).
    Lost {
        reason: String,
        greeted: bool,
        retry_after: Option<Duration>,
    },
}

fn lost(reason: impl Into<String>, greeted: bool) -> SessionEnd {
    SessionEnd::Lost {
        reason: reason.into(),
        greeted,
        retry_after: None,
    }
}

/// Runs the connection at `url` until it ends. The URL holds a ticket: it is never logged.
pub(super) async fn run(
    url: &str,
    keepalive: Keepalive,
    bot: &BotIdentity,
    sink: &dyn InboundSink,
    stop: &CancellationToken,
) -> SessionEnd {
    let connected = tokio::select! {
        _ = stop.cancelled() => return SessionEnd::Stopped,
        connected = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(url)) => connected,
    };
    let socket = match connected {
        Ok(Ok((socket, _))) => socket,
        Ok(Err(error)) => return lost(format!("websocket: {error}"), false),
        Err(_) => return lost("websocket: no answer in time", false),
    };
    let (mut outgoing, mut incoming) = socket.split();
    let mut greeted = false;
    let mut last_heard = Instant::now();
    let mut pings =
        tokio::time::interval_at(Instant::now() + keepalive.ping_every, keepalive.ping_every);
    loop {
        let frame = tokio::select! {
            _ = stop.cancelled() => {
                let _ = outgoing.send(Message::Close(None)).await;
                return SessionEnd::Stopped;
            }
            _ = pings.tick() => {
                if last_heard.elapsed() >= keepalive.silence_limit {
                    tracing::warn!(
                        channel = "slack",
                        silent_secs = last_heard.elapsed().as_secs(),
                        "slack.socket_silent: nothing heard on the connection; connecting again"
                    );
                    return lost("the connection fell silent", greeted);
                }
                if let Err(error) = outgoing.send(Message::Ping(Vec::new().into())).await {
                    return lost(format!("websocket: {error}"), greeted);
                }
                continue;
            }
            frame = incoming.next() => frame,
        };
        last_heard = Instant::now();
        let text = match frame {
            None => return lost("the connection closed", greeted),
            Some(Err(error)) => return lost(format!("websocket: {error}"), greeted),
            Some(Ok(Message::Close(_))) => return lost("slack closed the connection", greeted),
            Some(Ok(Message::Text(text))) => text,
            // Pings are answered by the WebSocket layer; pongs only prove the link is alive.
            Some(Ok(_)) => continue,
        };
        let envelope: Envelope = match serde_json::from_str(text.as_str()) {
            Ok(envelope) => envelope,
            Err(error) => {
                tracing::debug!(channel = "slack", error = %error, "a frame that is not an envelope");
                continue;
            }
        };
        match envelope.kind.as_str() {
            "hello" => {
                greeted = true;
                tracing::info!(channel = "slack", "slack connected");
                continue;
            }
            "disconnect" => {
                let _ = outgoing.send(Message::Close(None)).await;
                return SessionEnd::Refresh(envelope.reason.unwrap_or_default());
            }
            _ => {}
        }
        let Some(envelope_id) = envelope.envelope_id.clone() else {
            continue;
        };
        if let Delivery::Message(message) = delivery(&envelope, bot) {
            if let Err(error) = sink.accept(*message).await {
                // Not acknowledged: Slack sends the envelope again.
                tracing::error!(
                    channel = "slack",
                    error = %error,
                    retry_attempt = envelope.retry_attempt.unwrap_or_default(),
                    "slack event not stored"
                );
                continue;
            }
        }
        let ack = json!({ "envelope_id": envelope_id }).to_string();
        if let Err(error) = outgoing.send(Message::Text(ack.into())).await {
            return lost(format!("websocket: {error}"), greeted);
        }
    }
}
