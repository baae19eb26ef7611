//! Turn traffic: concurrent sessions that each send chat turns over WebSocket (`chat.send`,
//! answered when the run ends) or `POST /v1/chat/completions`, until a turn budget or a deadline
//! runs out (a closed loop; the open loop is `open_loop.rs`). Sessions rotate every
//! [`SESSION_TURNS`] turns so a prompt's history stays the same size however long a run lasts.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// Turns per session before a client moves on to a fresh one.
pub const SESSION_TURNS: u64 = 20;
/// How long one turn may take before it counts as an error.
pub(crate) const TURN_DEADLINE: Duration = Duration::from_secs(60);
/// The user message of every turn.
pub(crate) const MESSAGE: &str = "What is the capital of France? Answer in one word.";

pub(crate) type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// How a turn reaches the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Ws,
    Http,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Ws => "ws",
            Self::Http => "http",
        })
    }
}

/// What a run of turns observed.
#[derive(Debug, Default)]
pub struct Outcome {
    /// Client-observed latency of each successful turn.
    pub latencies: Vec<Duration>,
    pub errors: u64,
    pub first_error: Option<String>,
    /// From the first turn sent to the last answered.
    pub elapsed: Duration,
}

impl Outcome {
    pub fn turns(&self) -> u64 {
        self.latencies.len() as u64
    }

    pub fn turns_per_sec(&self) -> f64 {
        self.turns() as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    fn merge(&mut self, other: Outcome) {
        self.latencies.extend(other.latencies);
        self.errors += other.errors;
        if self.first_error.is_none() {
            self.first_error = other.first_error;
        }
    }

    pub(crate) fn record(&mut self, result: Result<Duration>) {
        match result {
            Ok(latency) => self.latencies.push(latency),
            Err(error) => {
                self.errors += 1;
                self.first_error.get_or_insert_with(|| format!("{error:#}"));
            }
        }
    }
}

/// `concurrency` sessions sending turns until `total` turns were sent or `deadline` passed.
/// `tag` keeps users and sessions of different runs apart.
pub async fn run_turns(
    addr: &str,
    http: &reqwest::Client,
    transport: Transport,
    concurrency: usize,
    total: u64,
    deadline: Duration,
    tag: &str,
) -> Result<Outcome> {
    let mut clients = Vec::with_capacity(concurrency);
    for i in 0..concurrency {
        let user = format!("{tag}-{i}");
        clients.push(match transport {
            Transport::Ws => Client::Ws(Box::new(WsSession::open(addr, &user).await?)),
            Transport::Http => Client::Http {
                http: http.clone(),
                url: format!("http://{addr}/v1/chat/completions"),
                user,
            },
        });
    }
    let claimed = Arc::new(AtomicU64::new(0));
    let began = Instant::now();
    let tasks: Vec<_> = clients
        .into_iter()
        .map(|mut client| {
            let claimed = claimed.clone();
            tokio::spawn(async move {
                let mut outcome = Outcome::default();
                let mut sent = 0u64;
                while began.elapsed() < deadline && claimed.fetch_add(1, Ordering::Relaxed) < total
                {
                    outcome.record(client.turn(sent).await);
                    sent += 1;
                }
                outcome
            })
        })
        .collect();
    let mut outcome = Outcome::default();
    for task in tasks {
        outcome.merge(task.await.context("a session task panicked")?);
    }
    outcome.elapsed = began.elapsed();
    Ok(outcome)
}

/// One client of a run.
pub(crate) enum Client {
    Ws(Box<WsSession>),
    Http {
        http: reqwest::Client,
        url: String,
        user: String,
    },
}

impl Client {
    /// Sends turn number `sent` of this client and waits for its answer.
    pub(crate) async fn turn(&mut self, sent: u64) -> Result<Duration> {
        let started = Instant::now();
        match self {
            Self::Ws(session) => {
                if sent % SESSION_TURNS == 0 {
                    session.session_key = None;
                }
                tokio::time::timeout(TURN_DEADLINE, session.chat())
                    .await
                    .context("turn timed out")??;
            }
            Self::Http { http, url, user } => {
                let body = json!({
                    "model": "goclaw:default",
                    "messages": [{"role": "user", "content": MESSAGE}],
                    "user": format!("{user}-{}", sent / SESSION_TURNS),
                });
                let response = http
                    .post(url.as_str())
                    .json(&body)
                    .timeout(TURN_DEADLINE)
                    .send()
                    .await
                    .context("sending the request")?;
                let status = response.status();
                let text = response.text().await.context("reading the answer")?;
                if !status.is_success() {
                    bail!(
                        "HTTP {status}: {}",
                        text.chars().take(200).collect::<String>()
                    );
                }
            }
        }
        Ok(started.elapsed())
    }
}

/// An authenticated WebSocket client of one user.
pub struct WsSession {
    socket: Socket,
    next_id: u64,
    session_key: Option<String>,
}

impl WsSession {
    /// Opens `/ws` (Nagle off on the client side) and sends `connect` as `user` (no token:
    /// loopback callers are operators).
    pub async fn open(addr: &str, user: &str) -> Result<Self> {
        let (socket, _) =
            tokio_tungstenite::connect_async_with_config(format!("ws://{addr}/ws"), None, true)
                .await
                .context("opening the WebSocket")?;
        let mut session = Self {
            socket,
            next_id: 0,
            session_key: None,
        };
        session.call("connect", json!({ "user_id": user })).await?;
        Ok(session)
    }

    /// The authenticated connection, for a caller that drives it itself.
    pub(crate) fn into_socket(self) -> Socket {
        self.socket
    }

    /// One `chat.send` on the current session (a new one when there is none yet).
    async fn chat(&mut self) -> Result<()> {
        let mut params = json!({ "message": MESSAGE });
        if let Some(key) = &self.session_key {
            params["sessionKey"] = Value::String(key.clone());
        }
        let payload = self.call("chat.send", params).await?;
        self.session_key = payload["sessionKey"].as_str().map(str::to_owned);
        Ok(())
    }

    /// Sends a request and reads frames (dropping events) until its response; the payload.
    async fn call(&mut self, method: &str, params: Value) -> Result<Value> {
        self.next_id += 1;
        let id = self.next_id.to_string();
        let frame = json!({ "type": "req", "id": id, "method": method, "params": params });
        self.socket
            .send(Message::Text(frame.to_string().into()))
            .await
            .context("sending a frame")?;
        loop {
            let message = self
                .socket
                .next()
                .await
                .context("connection closed")?
                .context("reading a frame")?;
            let Message::Text(text) = message else {
                continue;
            };
            // Events are skipped unparsed: only a response can carry our id.
            if !text.as_str().contains(r#""type":"res""#) {
                continue;
            }
            let frame: Value = serde_json::from_str(text.as_str()).context("a frame is JSON")?;
            if frame["type"] != "res" || frame["id"] != id.as_str() {
                continue;
            }
            if frame["ok"] != true {
                bail!("{method} failed: {}", frame["error"]);
            }
            return Ok(frame["payload"].clone());
        }
    }
}
