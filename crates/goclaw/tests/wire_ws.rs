//! Every WebSocket method and every pushed event kind against GoClaw's wire shape: each test
//! calls one method (or provokes one event) on the real application and matches the payload
//! with its fixture in `tests/fixtures/goclaw_wire/` (`ws_<method>.json`, `ws_event_<name>.json`),
//! then pins the values that matter — empty results, idle statuses, bare arrays, masked secrets.
//! (`vault.enrich.progress` is matched in `vault_enrichment.rs`, where enrichment runs.)
//! Shapes do not depend on the store, so these run on SQLite only.

mod support;

use std::time::Duration;

use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, spawn_app_with_config};
use serde_json::{Value, json};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "wire-ws-token-3f9a7c21";
const ENCRYPTION_KEY: &str = "5c0e3b7a9d1f2e4c6b8a0d2f4e6c8b0a1d3f5e7c9b1a3d5f7e9c1b3a5d7f9e1c";
/// Exec asks before every command, so approvals can be provoked.
const ASK_ALWAYS: &str = r#"{ tools: { execApproval: { security: "full", ask: "always" } } }"#;

async fn app() -> TestApp {
    let env = [
        ("GOCLAW_GATEWAY_TOKEN", TOKEN),
        ("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY),
    ];
    spawn_app_with_config(StoreBackend::Sqlite, ASK_ALWAYS, &env)
        .await
        .expect("SQLite is always available")
}

/// A connection with the gateway token as `system`: the owner.
async fn owner(app: &TestApp) -> WsClient {
    connect(app, TOKEN, "system").await.0
}

async fn connect(app: &TestApp, token: &str, user_id: &str) -> (WsClient, Value) {
    let mut ws = WsClient::open(&app.ws_url()).await;
    let hello = ws
        .call_ok("connect", json!({ "token": token, "user_id": user_id }))
        .await;
    (ws, hello)
}

/// A connection with a new API key holding `scopes`, bound to `user`.
async fn user(app: &TestApp, user: &str, scopes: &[&str]) -> WsClient {
    let body = json!({ "name": user, "scopes": scopes, "owner_id": user });
    let (_, key) = app.create_api_key(TOKEN, body).await;
    connect(app, &key, user).await.0
}

/// Calls `method`, asserts success and GoClaw's shape `ws_<method>`, returns the payload.
async fn shaped(ws: &mut WsClient, method: &str, params: Value) -> Value {
    let payload = ws.call_ok(method, params).await;
    assert_goclaw_shape(&format!("ws_{method}"), &payload);
    payload
}

/// One finished turn answered `answer`; returns the `chat.send` payload.
async fn chat(app: &TestApp, ws: &mut WsClient, answer: &str) -> Value {
    app.llm.push(Reply::text(answer));
    ws.call_ok("chat.send", json!({ "message": "hi" })).await
}

fn session_of(sent: &Value) -> String {
    sent["sessionKey"]
        .as_str()
        .expect("a session key")
        .to_owned()
}

/// A session key nobody has used yet.
fn fresh_key() -> String {
    format!("agent:default:ws:direct:{}", uuid::Uuid::new_v4())
}

/// Waits for the `agent` event of inner type `kind` and asserts its frame's shape.
async fn agent_event(ws: &mut WsClient, kind: &str) -> Value {
    let frame = ws.wait_agent_event(kind).await;
    assert_goclaw_shape(&format!("ws_event_agent_{kind}"), &frame);
    frame
}

/// Waits for the event `name` and asserts its frame's shape.
async fn event(ws: &mut WsClient, name: &str) -> Value {
    loop {
        if let Some(frame) = ws.events.iter().find(|e| e["event"] == name) {
            let frame = frame.clone();
            assert_goclaw_shape(&format!("ws_event_{name}"), &frame);
            return frame;
        }
        ws.pump().await;
    }
}

/// Starts a turn whose model wants to `exec` `echo hi`; returns the pending request's id.
async fn ask_approval(app: &TestApp, ws: &mut WsClient) -> String {
    app.llm.push(Reply::tool_call(
        "c1",
        "exec",
        json!({ "command": "echo hi" }),
    ));
    app.llm.push(Reply::text("ran it"));
    ws.request("chat.send", json!({ "message": "say hi" }))
        .await;
    let requested = event(ws, "exec.approval.requested").await;
    let id = requested["payload"]["id"].as_str().expect("an id");
    id.to_owned()
}

fn is_rfc3339(value: &Value) -> bool {
    value
        .as_str()
        .is_some_and(|t| chrono::DateTime::parse_from_rfc3339(t).is_ok())
}

// ---- system ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_answers_the_caller() {
    let app = app().await;
    let (_, hello) = connect(&app, TOKEN, "system").await;
    assert_goclaw_shape("ws_connect", &hello);
    assert_eq!(hello["role"], "owner");
    assert_eq!(hello["is_master_scope"], true);
    assert_eq!(hello["tenant_slug"], "master");
    assert_eq!(hello["server"]["name"], "goclaw");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn health_lists_clients() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let health = shaped(&mut ws, "health", json!({})).await;
    assert_eq!(health["database"], "ok");
    assert_eq!(health["clients"][0]["id"], health["currentId"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_lists_agents_as_objects() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let status = shaped(&mut ws, "status", json!({})).await;
    assert_eq!(status["agents"][0]["id"], "default");
    assert_eq!(status["agents"][0]["isRunning"], false);
    assert_eq!(status["agentTotal"], 1);
}

// ---- chat ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_send_answers_with_the_run() {
    let app = app().await;
    let mut ws = owner(&app).await;
    app.llm.push(Reply::text("hello").usage(10, 2));
    let sent = shaped(&mut ws, "chat.send", json!({ "message": "hi" })).await;
    assert_eq!(sent["content"], "hello");
    assert_eq!(sent["usage"]["total_tokens"], 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_history_of_a_new_session_is_empty() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    let history = shaped(&mut ws, "chat.history", json!({ "sessionKey": key })).await;
    assert_eq!(history["messages"][0]["role"], "user");
    assert!(
        is_rfc3339(&history["messages"][0]["created_at"]),
        "{history}"
    );

    let empty = ws
        .call_ok("chat.history", json!({ "sessionKey": fresh_key() }))
        .await;
    assert_eq!(empty["messages"], json!([]), "{empty}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_abort_of_an_idle_session() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    let aborted = shaped(&mut ws, "chat.abort", json!({ "sessionKey": key })).await;
    assert_eq!(aborted["aborted"], false);
    assert_eq!(aborted["runIds"], json!([]));
    let nothing = ws
        .call_ok("chat.abort", json!({ "sessionKey": fresh_key() }))
        .await;
    assert_eq!(nothing["notFound"], true, "{nothing}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_inject_appends_a_message() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    let params = json!({ "sessionKey": key, "message": "note", "label": "ops" });
    let injected = shaped(&mut ws, "chat.inject", params).await;
    assert_eq!(injected["ok"], true);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_session_status_of_a_new_session_is_idle() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    shaped(&mut ws, "chat.session.status", json!({ "sessionKey": key })).await;
    let idle = shaped(
        &mut ws,
        "chat.session.status",
        json!({ "sessionKey": fresh_key() }),
    )
    .await;
    assert_eq!(
        idle,
        json!({ "isRunning": false, "runId": "", "activity": null })
    );
}

// Reads of a session with no message yet are empty for whoever could start it; a session the
// caller may not see is refused the same way whether it exists or not.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_sessions_read_empty_and_leak_nothing() {
    let app = app().await;
    let rw = ["operator.read", "operator.write"];
    let mut alice = user(&app, "alice", &rw).await;
    let mut bob = user(&app, "bob", &rw).await;
    let mut vera = user(&app, "vera", &["operator.read"]).await;
    let alices = session_of(&chat(&app, &mut alice, "secret answer").await);
    let fresh = fresh_key();
    for ws in [&mut alice, &mut bob, &mut vera] {
        let history = ws
            .call_ok("chat.history", json!({ "sessionKey": fresh }))
            .await;
        assert_eq!(history["messages"], json!([]));
        let status = ws
            .call_ok("chat.session.status", json!({ "sessionKey": fresh }))
            .await;
        assert_eq!(status["isRunning"], false);
        let preview = ws
            .call_ok("sessions.preview", json!({ "key": fresh }))
            .await;
        assert_eq!(preview["messages"], json!([]));
    }

    // Frank's HTTP session does not exist; bob (and vera, who reads) may not start it, so
    // they are told what they are told about alice's existing session.
    let franks = "agent:default:http:frank";
    let reads = [
        ("chat.history", json!({ "sessionKey": alices })),
        ("chat.history", json!({ "sessionKey": franks })),
        ("chat.session.status", json!({ "sessionKey": alices })),
        ("chat.session.status", json!({ "sessionKey": franks })),
        ("sessions.preview", json!({ "key": alices })),
        ("sessions.preview", json!({ "key": franks })),
    ];
    let writes = [
        ("sessions.delete", json!({ "key": alices })),
        ("sessions.delete", json!({ "key": franks })),
        ("chat.abort", json!({ "sessionKey": franks })),
    ];
    let cases = reads
        .iter()
        .map(|(m, p)| (m, p, true))
        .chain(writes.iter().map(|(m, p)| (m, p, false)));
    for (method, params, vera_too) in cases {
        let callers = if vera_too {
            vec![&mut bob, &mut vera]
        } else {
            vec![&mut bob]
        };
        for ws in callers {
            let refused = ws.call(method, params.clone()).await;
            assert_eq!(
                refused["error"],
                json!({ "code": "UNAUTHORIZED", "message": "permission denied: not your session" }),
                "{method} {params}: {refused}"
            );
        }
    }
    let own = alice
        .call_ok("chat.history", json!({ "sessionKey": alices }))
        .await;
    assert!(own.to_string().contains("secret answer"), "{own}");
}

// ---- sessions ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_list_items_carry_times_and_the_agent() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    ws.call_ok("sessions.patch", json!({ "key": key, "label": "greeting" }))
        .await;
    let params = json!({ "agentId": "default", "channel": "ws" });
    let listed = shaped(&mut ws, "sessions.list", params).await;
    let item = &listed["sessions"][0];
    assert_eq!(item["key"], key.as_str());
    assert_eq!(item["agentId"], "default");
    assert_eq!(item["messageCount"], 2);
    assert!(
        is_rfc3339(&item["created"]) && is_rfc3339(&item["updated"]),
        "{item}"
    );
    let everything = ws.call_ok("sessions.list", json!({ "agentId": "" })).await;
    assert_eq!(everything["total"], 1);
    let none = ws
        .call_ok("sessions.list", json!({ "agentId": "nobody" }))
        .await;
    assert_eq!(none["sessions"], json!([]));
    assert_eq!(none["total"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_preview_shows_the_transcript() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    let preview = shaped(&mut ws, "sessions.preview", json!({ "key": key })).await;
    assert_eq!(preview["messages"].as_array().map(Vec::len), Some(2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_patch_answers_the_key() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    let patched = shaped(
        &mut ws,
        "sessions.patch",
        json!({ "key": key, "label": "x" }),
    )
    .await;
    assert_eq!(patched["key"], key.as_str());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_delete_answers_ok() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    let deleted = shaped(&mut ws, "sessions.delete", json!({ "key": key })).await;
    assert_eq!(deleted, json!({ "ok": true }));
    let history = ws
        .call_ok("chat.history", json!({ "sessionKey": key }))
        .await;
    assert_eq!(history["messages"], json!([]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_reset_answers_ok() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    let reset = shaped(&mut ws, "sessions.reset", json!({ "key": key })).await;
    assert_eq!(reset, json!({ "ok": true }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_compact_of_a_short_session() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let key = session_of(&chat(&app, &mut ws, "hello").await);
    let compacted = shaped(&mut ws, "sessions.compact", json!({ "key": key })).await;
    assert_eq!(compacted["message"], "session too short to compact");
}

// ---- agents ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_list_shows_active_agents() {
    let app = app().await;
    let mut ws = owner(&app).await;
    ws.call_ok("agents.create", json!({ "name": "Sleeper" }))
        .await;
    ws.call_ok(
        "agents.update",
        json!({ "agentId": "sleeper", "status": "inactive" }),
    )
    .await;
    let listed = shaped(&mut ws, "agents.list", json!({})).await;
    let ids: Vec<&str> = listed["agents"]
        .as_array()
        .map(|a| a.iter().filter_map(|x| x["id"].as_str()).collect())
        .unwrap_or_default();
    assert_eq!(ids, ["default"], "{listed}");
    assert_eq!(listed["agents"][0]["isRunning"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_create_answers_the_key() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let created = shaped(&mut ws, "agents.create", json!({ "name": "Writer" })).await;
    assert_eq!(created["agentId"], "writer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_update_answers_the_key() {
    let app = app().await;
    let mut ws = owner(&app).await;
    ws.call_ok("agents.create", json!({ "name": "Writer" }))
        .await;
    let params = json!({ "agentId": "writer", "model": "claude-x", "context_window": 1000 });
    let updated = shaped(&mut ws, "agents.update", params).await;
    assert_eq!(updated["agentId"], "writer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_delete_answers_the_key() {
    let app = app().await;
    let mut ws = owner(&app).await;
    ws.call_ok("agents.create", json!({ "name": "Writer" }))
        .await;
    let deleted = shaped(&mut ws, "agents.delete", json!({ "agentId": "writer" })).await;
    assert_eq!(deleted["removedBindings"], 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_files_list_defaults_to_the_default_agent() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let listed = shaped(&mut ws, "agents.files.list", json!({})).await;
    assert_eq!(listed["agentId"], "default");
    assert!(
        listed["files"]
            .as_array()
            .is_some_and(|f| f.iter().any(|x| x["name"] == "SOUL.md")),
        "{listed}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_files_get_returns_the_content() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let file = json!({ "agentId": "default", "name": "SOUL.md", "content": "Be helpful." });
    ws.call_ok("agents.files.set", file).await;
    let params = json!({ "agentId": "default", "name": "SOUL.md" });
    let got = shaped(&mut ws, "agents.files.get", params).await;
    assert_eq!(got["file"]["content"], "Be helpful.");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn agents_files_set_returns_the_file() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let file = json!({ "agentId": "default", "name": "SOUL.md", "content": "Be helpful." });
    let set = shaped(&mut ws, "agents.files.set", file).await;
    assert_eq!(set["file"]["size"], 11);
    assert_eq!(set["propagated"], 0);
}

// ---- providers (a WebSocket API of our own, with GoClaw's provider record) ----

const PLAINTEXT: &str = "sk-local-0000-9999";

async fn stored_provider(ws: &mut WsClient) -> Value {
    let params = json!({
        "name": "local",
        "provider_type": "openai_compat",
        "api_base": "http://127.0.0.1:9/v1",
        "api_key": PLAINTEXT,
    });
    shaped(ws, "providers.create", params).await
}

/// No part of the key is shown: every provider in the answer carries GoClaw's mask.
fn assert_masked(payload: &Value) {
    let text = payload.to_string();
    assert!(
        !text.contains("sk-local") && !text.contains("0000-9999"),
        "{payload}"
    );
    let providers = match payload.get("providers") {
        Some(list) => list.as_array().cloned().unwrap_or_default(),
        None => vec![payload["provider"].clone()],
    };
    assert!(!providers.is_empty(), "{payload}");
    for provider in providers {
        assert_eq!(provider["api_key"], "***", "{payload}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_create_masks_the_key() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let created = stored_provider(&mut ws).await;
    assert_masked(&created);
    assert_eq!(created["provider"]["name"], "local");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_list_masks_the_key() {
    let app = app().await;
    let mut ws = owner(&app).await;
    stored_provider(&mut ws).await;
    let listed = shaped(&mut ws, "providers.list", json!({})).await;
    assert_masked(&listed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_update_masks_the_key() {
    let app = app().await;
    let mut ws = owner(&app).await;
    stored_provider(&mut ws).await;
    let params = json!({ "name": "local", "enabled": false });
    let updated = shaped(&mut ws, "providers.update", params).await;
    assert_masked(&updated);
    assert_eq!(updated["provider"]["enabled"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn providers_delete_answers_the_name() {
    let app = app().await;
    let mut ws = owner(&app).await;
    stored_provider(&mut ws).await;
    let deleted = shaped(&mut ws, "providers.delete", json!({ "name": "local" })).await;
    assert_eq!(deleted["name"], "local");
}

// ---- api keys ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_list_is_a_bare_array() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let created = ws
        .call_ok(
            "api_keys.create",
            json!({ "name": "ci", "scopes": ["operator.read"] }),
        )
        .await;
    let listed = shaped(&mut ws, "api_keys.list", json!({})).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
    let key = created["key"].as_str().expect("the key");
    assert!(!listed.to_string().contains(key), "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_create_shows_the_key_once() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let params = json!({ "name": "ci", "scopes": ["operator.read"], "expires_in": 3600 });
    let created = shaped(&mut ws, "api_keys.create", params).await;
    assert!(
        created["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("goclaw_"))
    );
    assert!(is_rfc3339(&created["expires_at"]), "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_keys_revoke_answers_revoked() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let created = ws
        .call_ok(
            "api_keys.create",
            json!({ "name": "ci", "scopes": ["operator.read"] }),
        )
        .await;
    let revoked = shaped(&mut ws, "api_keys.revoke", json!({ "id": created["id"] })).await;
    assert_eq!(revoked["status"], "revoked");
}

// ---- exec approvals ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_approval_list_shows_pending_requests() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let id = ask_approval(&app, &mut ws).await;
    let listed = shaped(&mut ws, "exec.approval.list", json!({})).await;
    assert_eq!(listed["pending"][0]["id"], id.as_str());
    assert_eq!(listed["pending"][0]["command"], "echo hi");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_approval_approve_answers_the_decision() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let id = ask_approval(&app, &mut ws).await;
    let approved = shaped(&mut ws, "exec.approval.approve", json!({ "id": id })).await;
    assert_eq!(
        approved,
        json!({ "resolved": true, "decision": "allow-once" })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_approval_deny_answers_the_decision() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let id = ask_approval(&app, &mut ws).await;
    let denied = shaped(&mut ws, "exec.approval.deny", json!({ "id": id })).await;
    assert_eq!(denied, json!({ "resolved": true, "decision": "deny" }));
}

// ---- pushed events ----

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_run_started() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let sent = chat(&app, &mut ws, "hello").await;
    let started = agent_event(&mut ws, "run.started").await;
    assert_eq!(started["payload"]["runId"], sent["runId"]);
    assert_eq!(started["payload"]["channel"], "ws");
    assert_eq!(started["payload"]["userId"], "system");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_chunk() {
    let app = app().await;
    let mut ws = owner(&app).await;
    chat(&app, &mut ws, "hello there").await;
    let chunk = agent_event(&mut ws, "chunk").await;
    assert!(chunk["payload"]["payload"]["content"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_thinking() {
    let app = app().await;
    let mut ws = owner(&app).await;
    app.llm
        .push(Reply::text_with_thinking("let me see", "hello"));
    ws.call_ok("chat.send", json!({ "message": "hi" })).await;
    let thinking = agent_event(&mut ws, "thinking").await;
    assert!(thinking["payload"]["payload"]["content"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_tool_call() {
    let app = app().await;
    let mut ws = owner(&app).await;
    app.llm.push(Reply::tool_call("c1", "datetime", json!({})));
    app.llm.push(Reply::text("done"));
    ws.call_ok("chat.send", json!({ "message": "time?" })).await;
    let call = agent_event(&mut ws, "tool.call").await;
    assert_eq!(call["payload"]["payload"]["name"], "datetime");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_tool_result() {
    let app = app().await;
    let mut ws = owner(&app).await;
    app.llm.push(Reply::tool_call("c1", "datetime", json!({})));
    app.llm.push(Reply::text("done"));
    ws.call_ok("chat.send", json!({ "message": "time?" })).await;
    let result = agent_event(&mut ws, "tool.result").await;
    assert_eq!(result["payload"]["payload"]["is_error"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_run_completed() {
    let app = app().await;
    let mut ws = owner(&app).await;
    app.llm.push(Reply::text("hello").usage(10, 2));
    ws.call_ok("chat.send", json!({ "message": "hi" })).await;
    let completed = agent_event(&mut ws, "run.completed").await;
    let usage = &completed["payload"]["payload"]["usage"];
    assert_eq!(usage["prompt_tokens"], 10);
    assert_eq!(usage["total_tokens"], 12);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_run_failed() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let refused =
        r#"{"type":"error","error":{"type":"authentication_error","message":"invalid x-api-key"}}"#;
    app.llm.set_default(Reply::http_error(401, refused));
    let res = ws.call("chat.send", json!({ "message": "hi" })).await;
    assert_eq!(res["ok"], false, "{res}");
    let failed = agent_event(&mut ws, "run.failed").await;
    assert!(failed["payload"]["payload"]["error"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_run_cancelled() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let words: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
    let slow = Reply::text_in_chunks(words.join(" "), 200).chunk_delay(Duration::from_millis(20));
    app.llm.push(slow);
    let key = fresh_key();
    let send = ws
        .request("chat.send", json!({ "message": "long", "sessionKey": key }))
        .await;
    ws.wait_agent_event("chunk").await;
    let aborted = ws.call_ok("chat.abort", json!({ "sessionKey": key })).await;
    assert_eq!(aborted["aborted"], true);
    assert_eq!(aborted["stopped"], true);
    let cancelled = agent_event(&mut ws, "run.cancelled").await;
    assert_eq!(cancelled["payload"]["sessionKey"], key.as_str());
    let reply = ws.response(&send).await;
    assert_eq!(reply["payload"]["cancelled"], true, "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_exec_approval_requested() {
    let app = app().await;
    let mut ws = owner(&app).await;
    ask_approval(&app, &mut ws).await;
    let requested = event(&mut ws, "exec.approval.requested").await;
    assert_eq!(requested["payload"]["command"], "echo hi");
    assert!(requested["payload"]["createdAt"].is_i64());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_exec_approval_resolved() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let id = ask_approval(&app, &mut ws).await;
    ws.call_ok("exec.approval.deny", json!({ "id": id })).await;
    let resolved = event(&mut ws, "exec.approval.resolved").await;
    assert_eq!(resolved["payload"]["id"], id.as_str());
    assert_eq!(resolved["payload"]["decision"], "deny");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn event_shutdown() {
    let app = app().await;
    let mut ws = owner(&app).await;
    app.stop().await.expect("the gateway stops cleanly");
    let shutdown = event(&mut ws, "shutdown").await;
    assert_eq!(shutdown["type"], "event");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_methods() {
    let app = app().await;
    let mut ws = owner(&app).await;
    let got = shaped(&mut ws, "config.get", json!({})).await;
    assert_eq!(got["config"]["gateway"]["token"], "***");
    let raw = got["config"].to_string();
    let applied = shaped(
        &mut ws,
        "config.apply",
        json!({ "raw": raw, "baseHash": got["hash"] }),
    )
    .await;
    assert_eq!(applied["ok"], true);
    assert_eq!(applied["restart"], false, "nothing changed: {applied}");
    let patch =
        json!({ "raw": "{ gateway: { owner_ids: ['system'] } }", "baseHash": applied["hash"] });
    let patched = shaped(&mut ws, "config.patch", patch).await;
    assert_eq!(patched["restart"], false);
    shaped(&mut ws, "config.schema", json!({})).await;
    let defaults = shaped(&mut ws, "config.defaults", json!({})).await;
    assert_eq!(defaults["agents"]["subagents"]["maxSpawnDepth"], 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unprovided_features_answer_empty_or_not_implemented() {
    let app = app().await;
    let mut ws = owner(&app).await;
    for method in [
        "workstations.list",
        "bitrix.portals.list",
        "config.permissions.list",
    ] {
        shaped(&mut ws, method, json!({})).await;
    }
    let res = ws.call("workstations.create", json!({})).await;
    assert_eq!(res["error"]["code"], "NOT_IMPLEMENTED", "{res}");
}
