//! A subagent in flight when the real executable is killed with SIGKILL, on SQLite and on
//! PostgreSQL: after a restart on the same database its task is ended `failed` ("interrupted
//! by a restart") and its parent session gets a turn saying so, which the parent answers —
//! never silently dropped, and not run again.

mod support;

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::time::{Duration, Instant};

use goclaw_agent::INTERRUPTED_BY_RESTART;
use goclaw_core::{MASTER_TENANT_ID, Role, SessionKey, Store, SubagentStatus};
use goclaw_testkit::{FakeLlm, Reply, StoreBackend, TestDatabase, WsClient};
use serde_json::json;
use support::Server;

const DEADLINE: Duration = Duration::from_secs(60);
const NEVER: Duration = Duration::from_secs(600);
const PARENT: &str = "agent:default:ws:direct:crash-parent";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subagent_cut_by_sigkill_is_reported_after_restart_on_sqlite() {
    let db = TestDatabase::migrated(StoreBackend::Sqlite)
        .await
        .expect("SQLite is always available");
    crash_and_report(db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subagent_cut_by_sigkill_is_reported_after_restart_on_postgres() {
    let Some(db) = TestDatabase::migrated(StoreBackend::Postgres).await else {
        return;
    };
    crash_and_report(db).await;
}

async fn crash_and_report(db: TestDatabase) {
    let home = support::home();
    let llm = FakeLlm::start().await;
    llm.route(
        "labelled stuck,",
        Reply::text("never delivered").first_byte_delay(NEVER),
    );
    llm.push(Reply::tool_call(
        "call_s",
        "spawn",
        json!({"task": "Crunch the numbers", "label": "stuck"}),
    ));
    llm.push(Reply::text("a helper is crunching"));
    let server = start(home.path(), &db, &llm).await;
    let mut ws = WsClient::open(&format!("ws://{}/ws", server.addr)).await;
    ws.call_ok("connect", json!({ "user_id": "olga" })).await;
    let reply = ws
        .call_ok(
            "chat.send",
            json!({ "message": "crunch them", "sessionKey": PARENT }),
        )
        .await;
    assert_eq!(reply["content"], "a helper is crunching");
    let store = db.store();
    wait_until("the subagent to ask the model", || async {
        llm.requests()
            .iter()
            .any(|r| r.body.to_string().contains("labelled stuck,"))
    })
    .await;
    let before = store
        .subagent_tasks()
        .list_by_parent(MASTER_TENANT_ID, PARENT)
        .await
        .expect("tasks");
    assert_eq!(before.len(), 1);
    assert_eq!(before[0].status, SubagentStatus::Running);

    drop(ws);
    let status = server.kill().await;
    assert_eq!(status.signal(), Some(libc::SIGKILL), "{status:?}");

    llm.set_default(Reply::text("sorry, the helper was interrupted"));
    let server = start(home.path(), &db, &llm).await;
    wait_until("the parent to answer the report", || async {
        let history = history(store.as_ref()).await;
        let Some(at) = history
            .iter()
            .position(|(role, channel, _)| *role == Role::User && channel == "subagent")
        else {
            return false;
        };
        history[at + 1..].iter().any(|(role, _, content)| {
            *role == Role::Assistant && content == "sorry, the helper was interrupted"
        })
    })
    .await;
    let history = history(store.as_ref()).await;
    let reports: Vec<&String> = history
        .iter()
        .filter(|(role, channel, _)| *role == Role::User && channel == "subagent")
        .map(|(_, _, content)| content)
        .collect();
    assert_eq!(reports.len(), 1, "{history:#?}");
    assert!(
        reports[0].contains("\"stuck\" just failed"),
        "{}",
        reports[0]
    );
    assert!(
        reports[0].contains(INTERRUPTED_BY_RESTART),
        "{}",
        reports[0]
    );

    let after = store
        .subagent_tasks()
        .get(MASTER_TENANT_ID, before[0].id)
        .await
        .expect("task");
    assert_eq!(after.status, SubagentStatus::Failed);
    assert_eq!(after.result.as_deref(), Some(INTERRUPTED_BY_RESTART));
    assert!(after.completed_at.is_some());
    assert!(
        store
            .subagent_tasks()
            .unfinished()
            .await
            .expect("unfinished")
            .is_empty()
    );
    // Reported, not run again: the subagent asked the model once, before the kill.
    let asked = llm
        .requests()
        .iter()
        .filter(|r| r.body.to_string().contains("labelled stuck,"))
        .count();
    assert_eq!(asked, 1);
    let (code, _, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
}

async fn start(home: &Path, db: &TestDatabase, llm: &FakeLlm) -> Server {
    support::serve_on(home, db, &llm.base_url())
        .env("GOCLAW_VAULT_ENRICHMENT", "false")
        .start()
        .await
        .unwrap_or_else(|exited| panic!("the gateway did not start: {exited:?}"))
}

/// The parent session's messages: role, channel, content.
async fn history(store: &dyn Store) -> Vec<(Role, String, String)> {
    let key = SessionKey::parse(PARENT).expect("key");
    let Ok(session) = store.sessions().get(MASTER_TENANT_ID, &key).await else {
        return Vec::new();
    };
    store
        .messages()
        .list(session.id, 0, 500)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| {
            let channel = m.metadata["channel"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            (m.role, channel, m.content)
        })
        .collect()
}

async fn wait_until<F, Fut>(what: &str, mut done: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = Instant::now() + DEADLINE;
    while !done().await {
        assert!(
            Instant::now() < deadline,
            "{what} did not happen within {DEADLINE:?}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}
