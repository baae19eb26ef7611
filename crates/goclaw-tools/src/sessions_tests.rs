//! Tests of the session tools on a real (SQLite) store.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use goclaw_core::{
    AgentKey, MASTER_TENANT_ID, NewAgent, NewMessage, Role, SessionKey, Store, StoreBackend,
    ToolContext,
};
use goclaw_store::testing::TestDatabase;
use serde_json::{Value, json};

use super::{SessionMessenger, session_tools};

struct Fixture {
    _db: TestDatabase,
    store: Arc<dyn Store>,
    sent: Arc<Mutex<Vec<(String, String)>>>,
}

struct RecordingMessenger(Arc<Mutex<Vec<(String, String)>>>);

#[async_trait::async_trait]
impl SessionMessenger for RecordingMessenger {
    async fn send(
        &self,
        _: &ToolContext,
        target: &SessionKey,
        message: &str,
    ) -> Result<String, String> {
        self.0
            .lock()
            .map_err(|e| e.to_string())?
            .push((target.as_str().to_owned(), message.to_owned()));
        Ok("queued".to_owned())
    }
}

async fn fixture() -> Fixture {
    let db = TestDatabase::migrated(StoreBackend::Sqlite)
        .await
        .expect("sqlite");
    let store = db.store();
    let key = AgentKey::parse("helper").expect("key");
    let agent = store
        .agents()
        .create(NewAgent::new(MASTER_TENANT_ID, key, "Helper"))
        .await
        .expect("agent");
    for (session, user) in [
        ("agent:helper:ws:a", "u1"),
        ("agent:helper:ws:b", "u1"),
        ("agent:helper:ws:c", "u2"),
    ] {
        let key = SessionKey::parse(session).expect("session key");
        let s = store
            .sessions()
            .get_or_create(MASTER_TENANT_ID, &key, Some(&agent), user, "ws")
            .await
            .expect("session");
        for (role, text) in [
            (Role::User, "hello"),
            (Role::Tool, "tool output"),
            (Role::Assistant, "hi there"),
        ] {
            store
                .messages()
                .append(s.id, NewMessage::text(role, text))
                .await
                .expect("message");
        }
    }
    Fixture {
        _db: db,
        store,
        sent: Arc::default(),
    }
}

fn ctx(user: &str) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "helper".to_owned(),
        session_key: SessionKey::parse("agent:helper:ws:a").expect("key"),
        user_id: user.to_owned(),
        trust: goclaw_core::Trust::Admin,
        run_id: "run-1".to_owned(),
        channel: "ws".to_owned(),
        workspace: PathBuf::from("/nonexistent"),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

async fn call(f: &Fixture, user: &str, tool: &str, args: Value) -> (bool, Value) {
    let messenger = Arc::new(RecordingMessenger(f.sent.clone()));
    let tools = session_tools(f.store.clone(), Some(messenger));
    let tool = tools
        .iter()
        .find(|t| t.definition().name == tool)
        .expect("tool exists");
    let out = tool.call(&ctx(user), args).await;
    let value = serde_json::from_str(&out.content).unwrap_or(Value::String(out.content));
    (out.is_error, value)
}

#[tokio::test]
async fn lists_only_the_callers_sessions() {
    let f = fixture().await;
    let (err, v) = call(&f, "u1", "sessions_list", json!({})).await;
    assert!(!err, "{v}");
    assert_eq!(v["total"], 2, "{v}");
    let (_, v) = call(&f, "u2", "sessions_list", json!({"active_minutes": 5})).await;
    assert_eq!(v["sessions"][0]["session_key"], "agent:helper:ws:c", "{v}");
}

#[tokio::test]
async fn history_hides_tools_and_other_users() {
    let f = fixture().await;
    let (err, v) = call(
        &f,
        "u1",
        "sessions_history",
        json!({"session_key": "agent:helper:ws:b"}),
    )
    .await;
    assert!(!err, "{v}");
    let roles: Vec<&str> = v["messages"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|m| m["role"].as_str())
        .collect();
    assert_eq!(roles, ["user", "assistant"]);
    let (_, v) = call(
        &f,
        "u1",
        "sessions_history",
        json!({"session_key": "agent:helper:ws:b", "include_tools": true, "limit": 2}),
    )
    .await;
    assert_eq!(v["messages"].as_array().map(Vec::len), Some(2), "{v}");
    let (err, v) = call(
        &f,
        "u1",
        "sessions_history",
        json!({"session_key": "agent:helper:ws:c"}),
    )
    .await;
    assert!(err, "{v}");
    assert!(v.as_str().is_some_and(|s| s.contains("not found")), "{v}");
}

#[tokio::test]
async fn status_defaults_to_the_current_session() {
    let f = fixture().await;
    let (err, v) = call(&f, "u1", "session_status", json!({})).await;
    assert!(!err, "{v}");
    assert_eq!(v["session_key"], "agent:helper:ws:a");
    assert_eq!(v["messages"], 3);
}

#[tokio::test]
async fn send_goes_through_the_messenger() {
    let f = fixture().await;
    let (err, v) = call(
        &f,
        "u1",
        "sessions_send",
        json!({"session_key": "agent:helper:ws:b", "message": "ping"}),
    )
    .await;
    assert!(!err, "{v}");
    assert_eq!(v["status"], "queued");
    let (err, _) = call(
        &f,
        "u1",
        "sessions_send",
        json!({"session_key": "agent:helper:ws:c", "message": "x"}),
    )
    .await;
    assert!(err, "another user's session is not reachable");
    let (err, _) = call(
        &f,
        "u1",
        "sessions_send",
        json!({"session_key": "agent:helper:ws:a", "message": "x"}),
    )
    .await;
    assert!(err, "the current session is refused");
    let sent = f.sent.lock().expect("lock").clone();
    assert_eq!(sent, [("agent:helper:ws:b".to_owned(), "ping".to_owned())]);
}

#[tokio::test]
async fn wait_is_bounded() {
    let f = fixture().await;
    let (err, v) = call(&f, "u1", "wait", json!({"timeMs": 5})).await;
    assert!(!err);
    assert_eq!(v, "waited 5 ms");
    let (err, _) = call(&f, "u1", "wait", json!({})).await;
    assert!(err);
}
