//! WebSocket protocol details: token authentication and roles, the frame size limit, inject and
//! run status — on both storage backends.

use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with};
use serde_json::json;

const TOKEN: &str = "ws-test-token-5d1e0c9b";

async fn with_token(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

async fn token_roles(backend: StoreBackend) {
    let Some(app) = with_token(backend).await else {
        return;
    };
    let mut anonymous = WsClient::open(&app.ws_url()).await;
    // No token: a browser pairing code, and still signed out.
    let res = anonymous
        .call_ok("connect", json!({ "user_id": "mallory" }))
        .await;
    assert_eq!(res["status"], "pending_pairing", "{res}");
    let res = anonymous.call("health", json!({})).await;
    assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");
    let res = anonymous
        .call("connect", json!({ "user_id": "mallory", "token": "wrong" }))
        .await;
    assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");

    let mut owner = WsClient::open(&app.ws_url()).await;
    let connected = owner
        .call_ok("connect", json!({ "user_id": "system", "token": TOKEN }))
        .await;
    assert_eq!(connected["role"], "owner");
    assert_eq!(connected["is_owner"], true);

    let mut admin = WsClient::open(&app.ws_url()).await;
    let connected = admin
        .call_ok("connect", json!({ "user_id": "alice", "token": TOKEN }))
        .await;
    assert_eq!(connected["role"], "admin");
    let created = admin
        .call_ok(
            "agents.create",
            json!({ "name": "Writer", "model": "claude-x" }),
        )
        .await;
    assert_eq!(created["agentId"], "writer");
    admin
        .call_ok(
            "agents.update",
            json!({ "agentId": "writer", "status": "inactive" }),
        )
        .await;
    let res = admin
        .call(
            "agents.update",
            json!({ "agentId": "writer", "status": "sleeping" }),
        )
        .await;
    assert_eq!(res["error"]["code"], "INVALID_REQUEST", "{res}");
    let res = admin
        .call("agents.create", json!({ "name": "Writer" }))
        .await;
    assert_eq!(res["error"]["code"], "ALREADY_EXISTS", "{res}");
    admin
        .call_ok("agents.delete", json!({ "agentId": "writer" }))
        .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_roles_sqlite() {
    token_roles(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn token_roles_postgres() {
    token_roles(StoreBackend::Postgres).await;
}

app_test!(
    oversized_frames_close_the_connection,
    |app: TestApp| async move {
        let mut ws = app.ws_connect("big").await;
        let huge = json!({ "type": "req", "id": "x", "method": "health", "params": { "pad": "a".repeat(600 * 1024) } });
        ws.send_raw(&huge.to_string()).await;
        let mut closed = false;
        for _ in 0..10 {
            if ws.next_frame().await.is_none() {
                closed = true;
                break;
            }
        }
        assert!(closed, "a frame over 512 KiB closes the connection");
        // The gateway itself is fine.
        assert_eq!(app.get("/health").await.status(), 200);
    }
);

app_test!(inject_and_session_status, |app: TestApp| async move {
    app.llm.push(Reply::text("first"));
    let mut ws = app.ws_connect("ivan").await;
    let sent = ws.call_ok("chat.send", json!({ "message": "hi" })).await;
    let key = sent["sessionKey"].clone();
    let injected = ws
        .call_ok(
            "chat.inject",
            json!({ "sessionKey": key, "message": "note from ops", "label": "ops" }),
        )
        .await;
    assert!(injected["messageId"].is_string());
    let history = ws
        .call_ok("chat.history", json!({ "sessionKey": key }))
        .await;
    let last = history["messages"]
        .as_array()
        .and_then(|m| m.last().cloned())
        .expect("messages");
    assert_eq!(last["role"], "assistant");
    assert_eq!(last["content"], "[ops]\n\nnote from ops");

    let status = ws
        .call_ok("chat.session.status", json!({ "sessionKey": key }))
        .await;
    assert_eq!(status["isRunning"], false);
    assert!(status["activity"].is_null());

    let preview = ws.call_ok("sessions.preview", json!({ "key": key })).await;
    assert_eq!(preview["messages"].as_array().map(Vec::len), Some(3));
    ws.call_ok("sessions.delete", json!({ "key": key })).await;
    // A deleted session reads like one not started yet: empty and idle.
    let history = ws
        .call_ok("chat.history", json!({ "sessionKey": key }))
        .await;
    assert_eq!(history["messages"], json!([]), "{history}");
    let res = ws
        .call("sessions.patch", json!({ "key": key, "label": "x" }))
        .await;
    assert_eq!(res["error"]["code"], "NOT_FOUND", "{res}");
});
