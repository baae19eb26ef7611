//! Many turns in flight at once, as a crash test sends them: the plan (which transport, user,
//! session, idempotency key and text each turn has) and the ledger of what each turn's client
//! saw before the gateway died — acknowledged or not, its run, its answer or error.

pub mod http;
pub mod stored;
pub mod ws;

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard};

/// What the model answers the first wave with.
pub const FAST_ANSWER: &str = "answered before the crash";

/// How a turn reaches the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// `POST /v1/chat/completions` with `stream: true`.
    Http,
    /// `chat.send` on one of the test's WebSocket connections.
    Ws,
}

/// One turn the test sends.
#[derive(Debug, Clone)]
pub struct PlannedTurn {
    pub transport: Transport,
    /// HTTP: the `user` field (which names the session); WebSocket: the connection's user.
    pub user_id: String,
    pub session_key: String,
    pub idempotency_key: String,
    /// Unique across the test, so a stored message is found (and counted) by its text.
    pub message: String,
    /// Sent in the first wave, whose model replies come at once.
    pub answered_fast: bool,
    /// The WebSocket connection that sends it (0 for HTTP).
    pub connection: usize,
}

/// How many turns of each kind a plan has.
#[derive(Debug, Clone, Copy)]
pub struct PlanShape {
    /// First-wave turns per transport, each in a session of its own.
    pub fast_per_transport: usize,
    /// Second-wave turns per transport alone in their session.
    pub single_per_transport: usize,
    /// Second-wave sessions per transport that get three turns at once.
    pub triple_sessions_per_transport: usize,
    pub ws_connections: usize,
}

/// The turns to send: per transport, the fast first wave, then sessions with one turn, then
/// sessions with three (which queue behind their session's running run and may merge).
pub fn plan(shape: PlanShape, nonce: &str) -> Vec<PlannedTurn> {
    let mut turns = Vec::new();
    for transport in [Transport::Http, Transport::Ws] {
        let mut sessions = Vec::new();
        sessions.extend((0..shape.fast_per_transport).map(|_| (1, true)));
        sessions.extend((0..shape.single_per_transport).map(|_| (1, false)));
        sessions.extend((0..shape.triple_sessions_per_transport).map(|_| (3, false)));
        for (session, (count, fast)) in sessions.into_iter().enumerate() {
            let connection = session % shape.ws_connections.max(1);
            let (user_id, session_key) = match transport {
                Transport::Http => {
                    let user = format!("crash-h{session:03}");
                    let key = format!("agent:default:http:{user}");
                    (user, key)
                }
                Transport::Ws => (
                    ws_user(connection),
                    format!("agent:default:ws:direct:crash-w{session:03}"),
                ),
            };
            for _ in 0..count {
                let n = turns.len();
                turns.push(PlannedTurn {
                    transport,
                    user_id: user_id.clone(),
                    session_key: session_key.clone(),
                    idempotency_key: format!("crash-{nonce}-{n:03}"),
                    message: format!("[turn-{n:03}] {nonce}: please answer this one"),
                    answered_fast: fast,
                    connection: if transport == Transport::Ws {
                        connection
                    } else {
                        0
                    },
                });
            }
        }
    }
    turns
}

/// The user WebSocket connection `connection` signs in as.
pub fn ws_user(connection: usize) -> String {
    format!("crash-ws-{connection}")
}

/// What a turn's client saw.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Seen {
    /// HTTP: the 200 response headers arrived; WebSocket: its run's `run.started` event or
    /// the `chat.send` reply arrived.
    pub acknowledged: bool,
    pub run_id: Option<String>,
    /// The complete answer.
    pub answer: Option<String>,
    /// An error the gateway answered with (a refusal, or a failed run).
    pub error: Option<String>,
}

/// The plan and what was seen of each turn, shared by the senders.
pub struct Ledger {
    pub turns: Vec<PlannedTurn>,
    seen: Mutex<Vec<Seen>>,
}

impl Ledger {
    pub fn new(turns: Vec<PlannedTurn>) -> Self {
        let seen = Mutex::new(vec![Seen::default(); turns.len()]);
        Self { turns, seen }
    }

    /// Planned turns by session key.
    pub fn sessions(&self) -> BTreeMap<&str, Vec<usize>> {
        let mut sessions: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (turn, planned) in self.turns.iter().enumerate() {
            sessions
                .entry(planned.session_key.as_str())
                .or_default()
                .push(turn);
        }
        sessions
    }

    /// What has been seen so far, by turn.
    pub fn snapshot(&self) -> Vec<Seen> {
        self.seen().clone()
    }

    /// Turns `select` picks that were acknowledged.
    pub fn acknowledged(&self, select: impl Fn(&PlannedTurn) -> bool) -> usize {
        self.count(select, |seen| seen.acknowledged)
    }

    /// Turns `select` picks whose whole answer arrived.
    pub fn answered(&self, select: impl Fn(&PlannedTurn) -> bool) -> usize {
        self.count(select, |seen| seen.answer.is_some())
    }

    /// Turns whose client got an error.
    pub fn errors(&self) -> Vec<(usize, String)> {
        self.seen()
            .iter()
            .enumerate()
            .filter_map(|(i, seen)| seen.error.clone().map(|e| (i, e)))
            .collect()
    }

    pub fn acknowledge(&self, turn: usize) {
        self.seen()[turn].acknowledged = true;
    }

    /// A run started in `session_key` answering `text` (its messages, joined): every turn of
    /// that session whose message is part of it is acknowledged, and gets the run.
    pub fn run_started(&self, session_key: &str, text: &str, run_id: &str) {
        let mut seen = self.seen();
        for (turn, planned) in self.turns.iter().enumerate() {
            if planned.session_key == session_key && text.contains(&planned.message) {
                seen[turn].acknowledged = true;
                seen[turn].run_id = Some(run_id.to_owned());
            }
        }
    }

    /// The whole answer of `turn`'s run arrived.
    pub fn answered_with(&self, turn: usize, content: String, run_id: Option<String>) {
        let mut seen = self.seen();
        let entry = &mut seen[turn];
        entry.acknowledged = true;
        entry.answer = Some(content);
        if run_id.is_some() {
            entry.run_id = run_id;
        }
    }

    /// The gateway answered `turn` with an error.
    pub fn failed(&self, turn: usize, error: String) {
        self.seen()[turn].error = Some(error);
    }

    fn count(&self, select: impl Fn(&PlannedTurn) -> bool, pick: impl Fn(&Seen) -> bool) -> usize {
        let seen = self.seen();
        self.turns
            .iter()
            .zip(seen.iter())
            .filter(|(planned, seen)| select(planned) && pick(seen))
            .count()
    }

    fn seen(&self) -> MutexGuard<'_, Vec<Seen>> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
