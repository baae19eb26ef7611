//! Open-loop load: turns start on a fixed schedule (`rate` per second), whether or not earlier
//! turns were answered, so a slow gateway shows up as latency instead of quietly lowering the
//! offered load as a closed loop does. Each turn's latency is counted from the moment the
//! schedule said it should start, so a late send (the bench itself being slow) is counted
//! against the turn rather than hidden.
//!
//! Turn `n` goes to session slot `n % sessions`; a slot moves to a fresh session every
//! [`SESSION_TURNS`] of its turns, as in the closed loop. Over HTTP a slot is a `user` of
//! `/v1/chat/completions`; over WebSocket it is one connection whose `chat.send` requests
//! carry an explicit session key and are not waited for before the next one is sent.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use futures_util::stream::{SplitSink, SplitStream};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;

use crate::load::WsSession;
use crate::load::{Client, MESSAGE, Outcome, SESSION_TURNS, Socket, TURN_DEADLINE, Transport};

/// Turns allowed to be outstanding at once; a tick that finds this many is not sent.
const MAX_IN_FLIGHT: u64 = 2048;

/// What to offer the gateway.
#[derive(Debug, Clone)]
pub struct OpenLoad {
    pub transport: Transport,
    /// Turns started per second.
    pub rate: u64,
    /// How long turns are started for; outstanding ones are then waited for.
    pub duration: Duration,
    /// Session slots the turns are spread over.
    pub sessions: usize,
    /// Keeps the users and sessions of different runs apart.
    pub tag: String,
}

/// What an open-loop run observed.
#[derive(Debug, Default)]
pub struct OpenOutcome {
    /// Latencies (from each turn's scheduled start) and errors.
    pub outcome: Outcome,
    /// Ticks that were not sent because [`MAX_IN_FLIGHT`] turns were outstanding.
    pub unsent: u64,
    /// Turns that were still unanswered when the run gave up waiting.
    pub unanswered: u64,
    /// How far behind its schedule the latest send was.
    pub max_lag: Duration,
}

/// Offers `load` to the gateway at `addr`. `sample` is called at the start, every
/// `sample_every`, and at the end, with the time since the start.
pub async fn run_open(
    addr: &str,
    http: &reqwest::Client,
    load: &OpenLoad,
    sample_every: Duration,
    mut sample: impl FnMut(Duration),
) -> Result<OpenOutcome> {
    let shared = Arc::new(Shared::default());
    let sessions = load.sessions.max(1);
    let mut sockets = Vec::new();
    if load.transport == Transport::Ws {
        for slot in 0..sessions {
            let user = format!("{}-{slot}", load.tag);
            let session = WsSession::open(addr, &user).await?;
            sockets.push(WsLane::start(session.into_socket(), shared.clone()));
        }
    }
    let url = format!("http://{addr}/v1/chat/completions");
    let period = Duration::from_secs_f64(1.0 / load.rate.max(1) as f64);
    let began = Instant::now();
    let mut next_sample = began;
    let (mut tick, mut sent, mut unsent) = (0u64, 0u64, 0u64);
    let mut max_lag = Duration::ZERO;
    loop {
        let due = began + period.mul_f64(tick as f64);
        if due.duration_since(began) >= load.duration {
            break;
        }
        if next_sample <= due {
            sample(began.elapsed());
            next_sample += sample_every;
        }
        tokio::time::sleep_until(due.into()).await;
        tick += 1;
        max_lag = max_lag.max(Instant::now().saturating_duration_since(due));
        if shared.in_flight.load(Ordering::Relaxed) >= MAX_IN_FLIGHT {
            unsent += 1;
            continue;
        }
        let slot = (sent % sessions as u64) as usize;
        let generation = sent / (sessions as u64 * SESSION_TURNS);
        sent += 1;
        shared.in_flight.fetch_add(1, Ordering::Relaxed);
        match load.transport {
            Transport::Http => {
                let user = format!("{}-{slot}", load.tag);
                let client = Client::Http {
                    http: http.clone(),
                    url: url.clone(),
                    user,
                };
                let shared = shared.clone();
                tokio::spawn(async move {
                    let mut client = client;
                    // `turn` maps its argument to the session generation.
                    let result = client
                        .turn(generation * SESSION_TURNS)
                        .await
                        .map(|_| due.elapsed());
                    shared.finish(result);
                });
            }
            Transport::Ws => {
                let key = format!("agent:default:ws:direct:{}-{slot}-{generation}", load.tag);
                sockets[slot].send(due, &key);
            }
        }
    }
    let give_up = began + load.duration + TURN_DEADLINE;
    while shared.in_flight.load(Ordering::Relaxed) > 0 && Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    sample(began.elapsed());
    let elapsed = began.elapsed();
    for lane in sockets {
        lane.stop();
    }
    let unanswered = shared.in_flight.load(Ordering::Relaxed);
    let mut outcome = std::mem::take(
        &mut *shared
            .outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner),
    );
    outcome.elapsed = elapsed;
    Ok(OpenOutcome {
        outcome,
        unsent,
        unanswered,
        max_lag,
    })
}

/// What the driver and the answer readers share.
#[derive(Default)]
struct Shared {
    outcome: Mutex<Outcome>,
    in_flight: AtomicU64,
}

impl Shared {
    fn finish(&self, result: Result<Duration>) {
        self.outcome
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .record(result);
        self.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Turns sent on one connection and not answered yet: request id → scheduled start.
type Pending = Arc<Mutex<HashMap<String, Instant>>>;

/// One WebSocket connection of the open loop: a writer task that sends `chat.send` requests
/// as the driver hands them over, and a reader task that matches answers to them.
struct WsLane {
    requests: mpsc::UnboundedSender<(Instant, String)>,
    writer: JoinHandle<()>,
    reader: JoinHandle<()>,
}

impl WsLane {
    fn start(socket: Socket, shared: Arc<Shared>) -> Self {
        let (sink, stream) = socket.split();
        let pending: Pending = Arc::default();
        let (requests, queue) = mpsc::unbounded_channel();
        let writer = tokio::spawn(write_requests(sink, queue, pending.clone(), shared.clone()));
        let reader = tokio::spawn(read_answers(stream, pending, shared));
        Self {
            requests,
            writer,
            reader,
        }
    }

    /// Queues a `chat.send` on `session_key`, scheduled to start at `due`.
    fn send(&self, due: Instant, session_key: &str) {
        // The writer only stops with the lane; a send after that has nobody to count it.
        let _ = self.requests.send((due, session_key.to_owned()));
    }

    fn stop(self) {
        self.writer.abort();
        self.reader.abort();
    }
}

async fn write_requests(
    mut sink: SplitSink<Socket, Message>,
    mut queue: mpsc::UnboundedReceiver<(Instant, String)>,
    pending: Pending,
    shared: Arc<Shared>,
) {
    let mut next_id = 0u64;
    while let Some((due, session_key)) = queue.recv().await {
        next_id += 1;
        let id = format!("o{next_id}");
        let frame = json!({
            "type": "req",
            "id": id,
            "method": "chat.send",
            "params": { "message": MESSAGE, "sessionKey": session_key },
        });
        pending
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(id.clone(), due);
        if let Err(error) = sink.send(Message::Text(frame.to_string().into())).await {
            pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(&id);
            shared.finish(Err(error).context("sending a frame"));
        }
    }
}

async fn read_answers(mut stream: SplitStream<Socket>, pending: Pending, shared: Arc<Shared>) {
    while let Some(message) = stream.next().await {
        let Ok(Message::Text(text)) = message else {
            if message.is_err() {
                break;
            }
            continue;
        };
        // Events are skipped unparsed: only a response answers a turn.
        if !text.as_str().contains(r#""type":"res""#) {
            continue;
        }
        let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        let Some(due) = frame["id"].as_str().and_then(|id| {
            pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .remove(id)
        }) else {
            continue;
        };
        let result = if frame["ok"] == true {
            Ok(due.elapsed())
        } else {
            Err(anyhow::anyhow!("chat.send failed: {}", frame["error"]))
        };
        shared.finish(result);
    }
    // The connection ended: whatever it still owed is an error.
    let owed: Vec<_> = pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .drain()
        .collect();
    for _ in owed {
        shared.finish(Err(anyhow::anyhow!("connection closed before the answer")));
    }
}
