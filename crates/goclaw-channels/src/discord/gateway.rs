//! The gateway session: one WebSocket connection at a time to Discord's gateway, kept alive by
//! heartbeats, and a session that outlives connections. A dropped connection, Discord's op 7,
//! a heartbeat not acknowledged before the next one is due (a zombie connection) or an update
//! the gateway could not store all end the connection; the next one *resumes* the session
//! from the last sequence number whose update was stored, so Discord replays everything after
//! it. Only an invalid session (op 9, close 4007/4009) starts afresh with Identify.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::Message as Frame;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};
use tokio_util::sync::CancellationToken;

use super::api::{self, RestApi};
use crate::channel::{BotIdentity, ChannelError, InboundSink};

/// Guild events (needed for guild channels to be known), guild messages, direct messages, and
/// their content (a privileged intent the bot's settings must allow).
pub const INTENTS: u64 = (1 << 0) | (1 << 9) | (1 << 12) | (1 << 15);

const OP_DISPATCH: u8 = 0;
const OP_HEARTBEAT: u8 = 1;
const OP_IDENTIFY: u8 = 2;
const OP_RESUME: u8 = 6;
const OP_RECONNECT: u8 = 7;
const OP_INVALID_SESSION: u8 = 9;
const OP_HELLO: u8 = 10;
const OP_HEARTBEAT_ACK: u8 = 11;

/// Close code: the token was refused.
const CLOSE_AUTHENTICATION_FAILED: u16 = 4004;
/// Close codes after which the session cannot be resumed.
const CLOSE_SESSION_GONE: [u16; 2] = [4007, 4009];
/// The close code the gateway sends when it leaves a connection on purpose. Anything but
/// 1000/1001 keeps the session resumable on Discord's side.
const CLOSE_TO_RESUME: u16 = 4000;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
const HELLO_TIMEOUT: Duration = Duration::from_secs(15);
/// Waits between failed connections, growing up to the last.
const BACKOFF: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(5),
    Duration::from_secs(15),
];

type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// What outlives one connection.
#[derive(Debug, Default)]
struct Session {
    id: Option<String>,
    /// Where Discord asked to be resumed; the main gateway URL is tried instead once it could
    /// not be reached [`RESUME_URL_ATTEMPTS`] times in a row.
    resume_url: Option<String>,
    /// Connections to `resume_url` that failed in a row.
    resume_failures: usize,
    /// The sequence number of the last dispatch handled (stored, or not for the gateway).
    seq: Option<u64>,
}

/// Failed connections to a session's resume URL before resuming through the main URL.
const RESUME_URL_ATTEMPTS: usize = 2;

impl Session {
    /// Which session to resume from where, when one can be.
    fn resumable(&self) -> Option<(&str, u64)> {
        Some((self.id.as_deref()?, self.seq?))
    }

    /// A connection to resume the session failed.
    fn resume_failed(&mut self) {
        if self.resumable().is_none() || self.resume_url.is_none() {
            return;
        }
        self.resume_failures += 1;
        if self.resume_failures >= RESUME_URL_ATTEMPTS {
            tracing::warn!(
                channel = "discord",
                attempts = self.resume_failures,
                "the session's resume URL cannot be reached; resuming through the main gateway URL"
            );
            self.resume_url = None;
            self.resume_failures = 0;
        }
    }

    fn forget(&mut self) {
        *self = Session::default();
    }
}

/// How one connection ended.
#[derive(Debug)]
enum Ended {
    Stopped,
    Unauthorized(String),
    /// Connect again and resume the session.
    Resume(String),
    /// The session is gone: connect again and identify afresh.
    Reidentify(String),
    /// An update was not stored: resume from before it, after a pause.
    NotStored(String),
    /// The connection could not be made or failed early.
    Failed(String),
}

/// One gateway payload.
#[derive(Debug, Deserialize)]
struct Payload {
    op: u8,
    #[serde(default)]
    d: Value,
    #[serde(default)]
    s: Option<u64>,
    #[serde(default)]
    t: Option<String>,
}

/// Receives until `stop`; `Err` only when Discord refuses the token.
pub async fn run(
    api: &RestApi,
    token: &str,
    bot: &BotIdentity,
    sink: &dyn InboundSink,
    stop: &CancellationToken,
) -> Result<(), ChannelError> {
    let mut session = Session::default();
    let mut failures = 0usize;
    loop {
        let resume_url = session.resumable().and(session.resume_url.clone());
        let url = match resume_url {
            Some(url) => Ok(url),
            None => tokio::select! {
                _ = stop.cancelled() => return Ok(()),
                url = api.gateway_url() => url,
            },
        };
        let ended = match url {
            Ok(url) => {
                let link = Link {
                    api,
                    token,
                    bot,
                    sink,
                    stop,
                };
                connection(&url, &link, &mut session, &mut failures).await
            }
            Err(error) if error.is_unauthorized() => Ended::Unauthorized(error.to_string()),
            Err(error) => Ended::Failed(format!("GET /gateway/bot: {error}")),
        };
        let wait = match ended {
            Ended::Stopped => return Ok(()),
            Ended::Unauthorized(reason) => return Err(ChannelError::Unauthorized(reason)),
            Ended::Resume(reason) => {
                tracing::info!(channel = "discord", reason = %reason, "gateway connection ended; resuming");
                backoff(failures)
            }
            Ended::Reidentify(reason) => {
                tracing::info!(channel = "discord", reason = %reason, "gateway session invalid; identifying again");
                session.forget();
                // Discord asks for a pause of one to five seconds before a fresh Identify.
                BACKOFF[0]
            }
            Ended::NotStored(reason) => {
                tracing::error!(channel = "discord", error = %reason, "update not stored; resuming before it");
                BACKOFF[0]
            }
            Ended::Failed(reason) => {
                tracing::warn!(channel = "discord", error = %reason, "gateway connection failed");
                session.resume_failed();
                backoff(failures + 1)
            }
        };
        failures += 1;
        tokio::select! {
            _ = stop.cancelled() => return Ok(()),
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// No wait for the first reconnection after a working one (Discord drops connections
/// routinely), then the back-off steps.
fn backoff(failures: usize) -> Duration {
    match failures {
        0 => Duration::ZERO,
        n => BACKOFF[(n - 1).min(BACKOFF.len() - 1)],
    }
}

/// What every connection of a bot uses.
struct Link<'a> {
    api: &'a RestApi,
    token: &'a str,
    bot: &'a BotIdentity,
    sink: &'a dyn InboundSink,
    stop: &'a CancellationToken,
}

/// One connection: Hello, Identify or Resume, then dispatches and heartbeats until it ends.
async fn connection(
    url: &str,
    link: &Link<'_>,
    session: &mut Session,
    failures: &mut usize,
) -> Ended {
    let Link { token, stop, .. } = *link;
    let target = format!("{}/?v=10&encoding=json", url.trim_end_matches('/'));
    let connected = tokio::select! {
        _ = stop.cancelled() => return Ended::Stopped,
        connected = tokio::time::timeout(CONNECT_TIMEOUT, tokio_tungstenite::connect_async(&target)) => connected,
    };
    let mut socket = match connected {
        Ok(Ok((socket, _))) => socket,
        Ok(Err(error)) => return Ended::Failed(format!("connecting to the gateway: {error}")),
        Err(_) => return Ended::Failed("connecting to the gateway timed out".to_owned()),
    };
    let hello = tokio::select! {
        _ = stop.cancelled() => return Ended::Stopped,
        hello = tokio::time::timeout(HELLO_TIMEOUT, read(&mut socket)) => hello,
    };
    let interval = match hello {
        Ok(Ok(payload)) if payload.op == OP_HELLO => payload.d["heartbeat_interval"]
            .as_u64()
            .map(|ms| Duration::from_millis(ms.max(100))),
        Ok(Ok(_)) => None,
        Ok(Err(ended)) => return ended,
        Err(_) => return Ended::Failed("no Hello from the gateway".to_owned()),
    };
    let Some(interval) = interval else {
        return Ended::Failed("the gateway's first payload was not Hello".to_owned());
    };
    let greeting = match session.resumable() {
        Some((id, seq)) => json!({"op": OP_RESUME, "d": {
            "token": token, "session_id": id, "seq": seq,
        }}),
        None => {
            session.forget();
            json!({"op": OP_IDENTIFY, "d": {
                "token": token,
                "intents": INTENTS,
                "properties": {"os": std::env::consts::OS, "browser": "goclaw", "device": "goclaw"},
            }})
        }
    };
    if let Err(ended) = send(&mut socket, &greeting).await {
        return ended;
    }
    // The first heartbeat comes at a random point of the interval, so bots restarted together
    // do not beat in step.
    let jitter = (uuid::Uuid::new_v4().as_u128() % 1000) as f64 / 1000.0;
    let mut next_beat = Instant::now() + interval.mul_f64(jitter);
    let mut awaiting_ack = false;
    loop {
        let payload = tokio::select! {
            _ = stop.cancelled() => {
                close(&mut socket, 1000).await;
                return Ended::Stopped;
            }
            _ = tokio::time::sleep_until(next_beat) => {
                if awaiting_ack {
                    tracing::warn!(
                        channel = "discord",
                        interval_ms = interval.as_millis() as u64,
                        "discord.zombie_connection: heartbeat not acknowledged; reconnecting"
                    );
                    return Ended::Resume("heartbeat not acknowledged".to_owned());
                }
                if let Err(ended) = send(&mut socket, &heartbeat(session.seq)).await {
                    return ended;
                }
                awaiting_ack = true;
                next_beat = Instant::now() + interval;
                continue;
            }
            payload = read(&mut socket) => payload,
        };
        let payload = match payload {
            Ok(payload) => payload,
            Err(ended) => return ended,
        };
        match payload.op {
            OP_DISPATCH => {
                if let Err(ended) = dispatch(payload, session, failures, link).await {
                    close(&mut socket, CLOSE_TO_RESUME).await;
                    return ended;
                }
            }
            OP_HEARTBEAT => {
                if let Err(ended) = send(&mut socket, &heartbeat(session.seq)).await {
                    return ended;
                }
            }
            OP_HEARTBEAT_ACK => awaiting_ack = false,
            OP_RECONNECT => {
                close(&mut socket, CLOSE_TO_RESUME).await;
                return Ended::Resume("discord asked to reconnect".to_owned());
            }
            OP_INVALID_SESSION => {
                close(&mut socket, CLOSE_TO_RESUME).await;
                if payload.d.as_bool() == Some(true) {
                    return Ended::Resume("session invalid but resumable".to_owned());
                }
                return Ended::Reidentify("invalid session".to_owned());
            }
            _ => {}
        }
    }
}

/// Handles one dispatch; the sequence moves past it only once it is handled, so a resume
/// replays it otherwise.
async fn dispatch(
    payload: Payload,
    session: &mut Session,
    failures: &mut usize,
    link: &Link<'_>,
) -> Result<(), Ended> {
    let (bot, sink) = (link.bot, link.sink);
    let message = match payload.t.as_deref().unwrap_or_default() {
        "READY" => {
            session.id = payload.d["session_id"].as_str().map(str::to_owned);
            session.resume_url = payload.d["resume_gateway_url"].as_str().map(str::to_owned);
            session.resume_failures = 0;
            *failures = 0;
            tracing::info!(channel = "discord", "gateway session ready");
            None
        }
        "RESUMED" => {
            session.resume_failures = 0;
            *failures = 0;
            tracing::info!(channel = "discord", "gateway session resumed");
            None
        }
        "MESSAGE_CREATE" => match serde_json::from_value::<api::Message>(payload.d) {
            Ok(message) => super::normalize_message(message, bot),
            Err(error) => {
                tracing::debug!(channel = "discord", error = %error, "unreadable MESSAGE_CREATE skipped");
                None
            }
        },
        "INTERACTION_CREATE" => match serde_json::from_value::<api::Interaction>(payload.d) {
            Ok(interaction) => super::normalize_interaction(interaction),
            Err(error) => {
                tracing::debug!(channel = "discord", error = %error, "unreadable INTERACTION_CREATE skipped");
                None
            }
        },
        _ => None,
    };
    if let Some(message) = message {
        let press = message.press.clone();
        sink.accept(message)
            .await
            .map_err(|error| Ended::NotStored(error.to_string()))?;
        // Stored: the press is acknowledged now, answered when it is handled.
        if let Some(press) = press {
            super::defer_press(link.api, &press).await;
        }
    }
    if let Some(seq) = payload.s {
        session.seq = Some(seq);
    }
    Ok(())
}

fn heartbeat(seq: Option<u64>) -> Value {
    json!({"op": OP_HEARTBEAT, "d": seq})
}

/// The next payload; a closed or failed connection as how it ended.
async fn read(socket: &mut Socket) -> Result<Payload, Ended> {
    loop {
        let frame = match socket.next().await {
            Some(Ok(frame)) => frame,
            Some(Err(error)) => return Err(Ended::Resume(format!("connection lost: {error}"))),
            None => return Err(Ended::Resume("connection closed".to_owned())),
        };
        match frame {
            Frame::Text(text) => match serde_json::from_str::<Payload>(text.as_str()) {
                Ok(payload) => return Ok(payload),
                Err(error) => {
                    tracing::debug!(channel = "discord", error = %error, "unreadable gateway payload skipped");
                }
            },
            Frame::Close(frame) => return Err(closed(frame)),
            _ => {}
        }
    }
}

/// How a close frame from Discord ends the connection.
fn closed(frame: Option<CloseFrame>) -> Ended {
    let Some(frame) = frame else {
        return Ended::Resume("closed by the gateway".to_owned());
    };
    let code = u16::from(frame.code);
    let reason = format!("closed by the gateway ({code} {})", frame.reason.as_str());
    if code == CLOSE_AUTHENTICATION_FAILED {
        return Ended::Unauthorized(format!("discord refused the token: {reason}"));
    }
    if CLOSE_SESSION_GONE.contains(&code) {
        return Ended::Reidentify(reason);
    }
    Ended::Resume(reason)
}

async fn send(socket: &mut Socket, payload: &Value) -> Result<(), Ended> {
    socket
        .send(Frame::text(payload.to_string()))
        .await
        .map_err(|error| Ended::Resume(format!("sending to the gateway: {error}")))
}

/// Closes with `code` (best effort: the connection is left either way).
async fn close(socket: &mut Socket, code: u16) {
    let frame = CloseFrame {
        code: CloseCode::from(code),
        reason: "".into(),
    };
    let _ = tokio::time::timeout(Duration::from_secs(2), socket.close(Some(frame))).await;
}
