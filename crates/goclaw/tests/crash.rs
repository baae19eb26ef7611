//! Crash safety of turns, with the real executable on SQLite and on PostgreSQL: 200 turns are
//! in flight over HTTP and WebSocket when the gateway is killed with SIGKILL. After a restart
//! on the same database and data directory, every acknowledged message is in its session,
//! answered once or visibly failed, and no message is stored or answered twice; retries with
//! the same idempotency keys get the first request's outcome and run nothing again.
//!
//! The fake model answers the first wave of turns at once and never answers the second, so the
//! kill always finds runs in flight, whatever the machine's speed.

mod support;
mod turns_in_flight;

use std::collections::BTreeMap;
use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use goclaw_agent::INTERRUPTED_REASON;
use goclaw_testkit::{FakeLlm, Reply, StoreBackend, TestDatabase, WsClient};
use serde_json::{Value, json};
use support::Server;
use tokio::task::JoinHandle;
use turns_in_flight::stored::{StoredTurn, check_store};
use turns_in_flight::ws::TurnConnection;
use turns_in_flight::{FAST_ANSWER, Ledger, PlanShape, Seen, Transport};

const TOKEN: &str = "crash-test-token-5b2e8c41d9";
/// 100 turns per transport: 10 answered at once, then 60 alone in their session and 30 in
/// sessions of three.
const SHAPE: PlanShape = PlanShape {
    fast_per_transport: 10,
    single_per_transport: 60,
    triple_sessions_per_transport: 10,
    ws_connections: 4,
};
/// Second-wave turns per transport acknowledged before the kill.
const ACKNOWLEDGED_BEFORE_KILL: usize = 20;
/// Turns of each kind (transport × completed or interrupted) retried after the restart.
const SAMPLE: usize = 5;
/// Longest wait for the traffic to make progress; generous for a loaded machine.
const PROGRESS_DEADLINE: Duration = Duration::from_secs(45);
/// Long enough that a reply delayed by it never arrives during the test.
const NEVER: Duration = Duration::from_secs(600);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_200_turns_in_flight_on_sqlite() {
    let db = TestDatabase::migrated(StoreBackend::Sqlite)
        .await
        .expect("SQLite is always available");
    crash_and_recover(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigkill_with_200_turns_in_flight_on_postgres() {
    let Some(db) = TestDatabase::migrated(StoreBackend::Postgres).await else {
        return;
    };
    crash_and_recover(db).await;
}

async fn crash_and_recover(db: TestDatabase) {
    let home = support::home();
    std::fs::write(
        home.path().join("config.json"),
        "{ gateway: { rate_limit_rpm: 0 } }",
    )
    .expect("writing config.json");
    let nonce = uuid::Uuid::new_v4().simple().to_string()[..8].to_owned();
    let ledger = Arc::new(Ledger::new(turns_in_flight::plan(SHAPE, &nonce)));
    let (fast, slow): (Vec<usize>, Vec<usize>) =
        (0..ledger.turns.len()).partition(|&t| ledger.turns[t].answered_fast);
    let llm = FakeLlm::start().await;
    llm.push_all(
        fast.iter()
            .map(|_| Reply::text(FAST_ANSWER).chunk_delay(Duration::from_millis(20))),
    );
    llm.set_default(Reply::text("this reply never arrives").first_byte_delay(NEVER));

    let server = start(home.path(), &db, &llm).await;
    let senders = Senders::open(&server, &ledger).await;
    // The first wave goes alone, so exactly its turns take the scripted replies.
    let mut http_tasks = senders.send(&fast);
    wait_for(
        "the first wave to reach the model",
        || llm.request_count() >= fast.len(),
        || format!("{} model calls", llm.request_count()),
    )
    .await;
    // Everything else at once; the model never answers these.
    http_tasks.extend(senders.send(&slow));
    let acknowledged_slow =
        |transport| ledger.acknowledged(|t| t.transport == transport && !t.answered_fast);
    wait_for(
        "the first wave's answers and the second wave's acknowledgements",
        || {
            ledger.answered(|_| true) == fast.len()
                && acknowledged_slow(Transport::Http) >= ACKNOWLEDGED_BEFORE_KILL
                && acknowledged_slow(Transport::Ws) >= ACKNOWLEDGED_BEFORE_KILL
        },
        || format!("{:?}", ledger.snapshot()),
    )
    .await;

    let status = server.kill().await;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");
    senders.close(http_tasks).await;
    let seen = ledger.snapshot();
    assert!(
        ledger.errors().is_empty(),
        "turns refused or failed before the kill: {:?}",
        ledger.errors()
    );
    let model_calls = llm.request_count();
    assert!(
        model_calls < ledger.turns.len(),
        "{model_calls} model calls"
    );

    let server = start(home.path(), &db, &llm).await;
    let stored = check_store(&db, &ledger, &seen).await;
    check_history(&server, &ledger, &stored).await;
    let acknowledged = seen.iter().filter(|s| s.acknowledged).count();
    let completed = stored.values().filter(|s| s.completed).count();
    eprintln!(
        "{:?}: {acknowledged} turns acknowledged before the kill, {} stored, {completed} answered, \
         {} interrupted, {model_calls} model calls",
        db.backend(),
        stored.len(),
        stored.len() - completed,
    );
    retry_sample(&server, &ledger, &seen, &stored).await;
    assert_eq!(
        llm.request_count(),
        model_calls,
        "the restart or a retry called the model"
    );
    assert_eq!(
        check_store(&db, &ledger, &seen).await,
        stored,
        "the retries changed what is stored"
    );
    let (code, _, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
}

/// Starts the gateway on `db` with its provider pointed at `llm`.
async fn start(home: &Path, db: &TestDatabase, llm: &FakeLlm) -> Server {
    support::serve_on(home, db, &llm.base_url())
        .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
        .start()
        .await
        .unwrap_or_else(|exited| panic!("the gateway did not start: {exited:?}"))
}

fn ws_url(server: &Server) -> String {
    format!("ws://{}/ws", server.addr)
}

/// Polls `done` until it holds; fails with `report` after [`PROGRESS_DEADLINE`].
async fn wait_for(what: &str, done: impl Fn() -> bool, report: impl Fn() -> String) {
    let deadline = tokio::time::Instant::now() + PROGRESS_DEADLINE;
    while !done() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{what} did not happen within {PROGRESS_DEADLINE:?}: {}",
            report()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The clients of the traffic: one HTTP client, and the WebSocket connections.
struct Senders {
    client: reqwest::Client,
    url: String,
    connections: Vec<TurnConnection>,
    ledger: Arc<Ledger>,
}

impl Senders {
    async fn open(server: &Server, ledger: &Arc<Ledger>) -> Self {
        let mut connections = Vec::new();
        for connection in 0..SHAPE.ws_connections {
            let user = turns_in_flight::ws_user(connection);
            connections
                .push(TurnConnection::open(&ws_url(server), TOKEN, &user, ledger.clone()).await);
        }
        Self {
            client: reqwest::Client::new(),
            url: server.url("/v1/chat/completions"),
            connections,
            ledger: ledger.clone(),
        }
    }

    /// Sends `turns`; returns the tasks of the HTTP ones.
    fn send(&self, turns: &[usize]) -> Vec<JoinHandle<()>> {
        let mut tasks = Vec::new();
        for &turn in turns {
            let planned = &self.ledger.turns[turn];
            match planned.transport {
                Transport::Http => tasks.push(turns_in_flight::http::spawn_turn(
                    self.client.clone(),
                    self.url.clone(),
                    TOKEN,
                    self.ledger.clone(),
                    turn,
                )),
                Transport::Ws => self.connections[planned.connection].send(turn),
            }
        }
        tasks
    }

    /// Waits until every client noticed that the gateway is gone.
    async fn close(self, http_tasks: Vec<JoinHandle<()>>) {
        let tasks = http_tasks
            .into_iter()
            .chain(self.connections.into_iter().map(|c| c.task));
        for task in tasks {
            tokio::time::timeout(PROGRESS_DEADLINE, task)
                .await
                .expect("every client sees the connection end after the kill")
                .expect("a client task panicked");
        }
    }
}

/// Through the client API (an owner's `chat.history`): each stored turn's message is shown
/// once, followed by its run's answer or the interruption notice.
async fn check_history(server: &Server, ledger: &Ledger, stored: &BTreeMap<usize, StoredTurn>) {
    let mut ws = WsClient::open(&ws_url(server)).await;
    ws.call_ok(
        "connect",
        json!({ "token": TOKEN, "user_id": "crash-auditor" }),
    )
    .await;
    for (session_key, turns) in ledger.sessions() {
        let in_session: Vec<(usize, &StoredTurn)> = turns
            .iter()
            .filter_map(|t| stored.get(t).map(|s| (*t, s)))
            .collect();
        if in_session.is_empty() {
            continue;
        }
        let history = ws
            .call_ok("chat.history", json!({ "sessionKey": session_key }))
            .await;
        let messages = history["messages"].as_array().expect("messages");
        for (turn, found) in in_session {
            let planned = &ledger.turns[turn];
            let shown = messages
                .iter()
                .filter(|m| m["role"] == "user" && m["content"] == planned.message.as_str())
                .count();
            assert_eq!(shown, 1, "turn {turn} in {session_key}: {messages:#?}");
            let expected = if found.completed {
                FAST_ANSWER
            } else {
                INTERRUPTED_REASON
            };
            let ended = messages.iter().any(|m| {
                m["role"] == "assistant"
                    && m["run_id"] == found.run_id.as_str()
                    && m["content"] == expected
                    && m["seq"].as_i64() > Some(found.seq)
            });
            assert!(
                ended,
                "turn {turn} shows no ending in {session_key}: {messages:#?}"
            );
        }
    }
}

/// Retries [`SAMPLE`] acknowledged turns of each transport that completed, and as many that
/// were interrupted, with their original idempotency keys.
async fn retry_sample(
    server: &Server,
    ledger: &Ledger,
    seen: &[Seen],
    stored: &BTreeMap<usize, StoredTurn>,
) {
    for transport in [Transport::Http, Transport::Ws] {
        for completed in [true, false] {
            let candidates: Vec<usize> = stored
                .iter()
                .filter(|(t, s)| {
                    ledger.turns[**t].transport == transport
                        && s.completed == completed
                        && seen[**t].acknowledged
                })
                .map(|(t, _)| *t)
                .collect();
            let stride = (candidates.len() / SAMPLE).max(1);
            let sample: Vec<usize> = candidates
                .into_iter()
                .step_by(stride)
                .take(SAMPLE)
                .collect();
            assert_eq!(
                sample.len(),
                SAMPLE,
                "too few {transport:?} turns with completed={completed} to retry"
            );
            for (n, turn) in sample.into_iter().enumerate() {
                match transport {
                    Transport::Http => {
                        retry_http(server, ledger, turn, &stored[&turn], n % 2 == 1).await
                    }
                    Transport::Ws => retry_ws(server, ledger, turn, &stored[&turn]).await,
                }
            }
        }
    }
}

/// The same request again: the stored answer (streamed or whole), or the interruption as a
/// 502 (whole) or an error object (streamed).
async fn retry_http(
    server: &Server,
    ledger: &Ledger,
    turn: usize,
    found: &StoredTurn,
    stream: bool,
) {
    let planned = &ledger.turns[turn];
    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .header("Idempotency-Key", &planned.idempotency_key)
        .json(&json!({
            "model": "goclaw:default",
            "stream": stream,
            "user": planned.user_id,
            "messages": [{ "role": "user", "content": planned.message }],
        }))
        .send()
        .await
        .expect("retrying over HTTP");
    let status = response.status().as_u16();
    let body = response.text().await.expect("the retry's body");
    if stream {
        assert_eq!(status, 200, "turn {turn}: {body}");
        let expected = if found.completed {
            Ok(FAST_ANSWER.to_owned())
        } else {
            Err(INTERRUPTED_REASON.to_owned())
        };
        assert_eq!(
            turns_in_flight::http::streamed_answer(&body),
            Some(expected),
            "turn {turn}: {body}"
        );
        return;
    }
    let body: Value = serde_json::from_str(&body).expect("a JSON body");
    if found.completed {
        assert_eq!(status, 200, "turn {turn}: {body}");
        assert_eq!(body["choices"][0]["message"]["content"], FAST_ANSWER);
    } else {
        assert_eq!(status, 502, "turn {turn}: {body}");
        assert_eq!(body["error"]["message"], INTERRUPTED_REASON, "turn {turn}");
    }
}

/// The same `chat.send` again, as the same user: the first run's id and answer, or the
/// interruption as an error; no run starts.
async fn retry_ws(server: &Server, ledger: &Ledger, turn: usize, found: &StoredTurn) {
    let planned = &ledger.turns[turn];
    let mut ws = WsClient::open(&ws_url(server)).await;
    ws.call_ok(
        "connect",
        json!({ "token": TOKEN, "user_id": planned.user_id }),
    )
    .await;
    let reply = ws
        .call(
            "chat.send",
            json!({
                "agentId": "default",
                "sessionKey": planned.session_key,
                "message": planned.message,
                "idempotencyKey": planned.idempotency_key,
            }),
        )
        .await;
    if found.completed {
        assert_eq!(reply["ok"], true, "turn {turn}: {reply}");
        assert_eq!(
            reply["payload"]["runId"],
            found.run_id.as_str(),
            "turn {turn}"
        );
        assert_eq!(reply["payload"]["content"], FAST_ANSWER, "turn {turn}");
    } else {
        assert_eq!(reply["ok"], false, "turn {turn}: {reply}");
        assert_eq!(reply["error"]["message"], INTERRUPTED_REASON, "turn {turn}");
    }
    assert!(
        ws.agent_event_types().is_empty(),
        "a retry started a run: {:?}",
        ws.events
    );
}
