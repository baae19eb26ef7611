//! The `exec` tool in real turns over WebSocket: a plain run after file tools, and the approval
//! flow with `ask: "always"` — the request event reaches the run's user (an operator on the
//! loopback no-auth gateway), approve once, approve always (no second prompt), deny, and the
//! timeout.

use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, spawn_app_with_config};
use serde_json::{Value, json};

const ASK_ALWAYS: &str = r#"{ tools: { execApproval: { security: "full", ask: "always" } } }"#;

async fn app(config: &str) -> TestApp {
    spawn_app_with_config(StoreBackend::Sqlite, config, &[])
        .await
        .expect("SQLite is always available")
}

/// Waits for the event `name` (or takes it from those already collected).
/// Scripts the model to run `echo hi` and then answer `answer`, connects `alice` twice (one
/// connection approves, the other chats), and sends the message that starts the run; returns
/// both clients and the `chat.send` request id.
async fn ask_to_echo(app: &TestApp, answer: &str) -> (WsClient, WsClient, String) {
    app.llm.push(Reply::tool_call(
        "c1",
        "exec",
        json!({"command": "echo hi"}),
    ));
    app.llm.push(Reply::text(answer));
    let operator = app.ws_connect("alice").await;
    let mut user = app.ws_connect("alice").await;
    let id = user
        .request("chat.send", json!({"message": "say hi"}))
        .await;
    (operator, user, id)
}

async fn wait_event(ws: &mut WsClient, name: &str) -> Value {
    loop {
        if let Some(pos) = ws.events.iter().position(|e| e["event"] == name) {
            return ws.events.remove(pos)["payload"].clone();
        }
        ws.pump().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn write_read_then_exec_in_one_turn() {
    let app = app("{}").await;
    app.llm.push(Reply::tool_call(
        "c1",
        "write_file",
        json!({"path": "hello.txt", "content": "from the file"}),
    ));
    app.llm.push(Reply::tool_call(
        "c2",
        "read_file",
        json!({"path": "hello.txt"}),
    ));
    app.llm.push(Reply::tool_call(
        "c3",
        "exec",
        json!({"command": "cat hello.txt | tr a-z A-Z"}),
    ));
    app.llm.push(Reply::text("done"));
    let mut ws = app.ws_connect("alice").await;
    let payload = ws.call_ok("chat.send", json!({"message": "go"})).await;
    assert_eq!(payload["content"], "done");
    let last = app.llm.requests()[3].body.to_string();
    assert!(last.contains("FROM THE FILE"), "{last}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_once_runs_the_command() {
    let app = app(ASK_ALWAYS).await;
    let (mut operator, mut user, id) = ask_to_echo(&app, "ran it").await;

    let request = wait_event(&mut operator, "exec.approval.requested").await;
    assert_eq!(request["command"], "echo hi");
    assert_eq!(request["agentId"], "default");
    assert!(
        request["sessionKey"]
            .as_str()
            .is_some_and(|k| !k.is_empty())
    );
    assert!(request["createdAt"].as_i64().is_some());
    let listed = operator.call_ok("exec.approval.list", json!({})).await;
    assert_eq!(listed["pending"][0]["id"], request["id"]);

    let approved = operator
        .call_ok("exec.approval.approve", json!({"id": request["id"]}))
        .await;
    assert_eq!(
        approved,
        json!({"resolved": true, "decision": "allow-once"})
    );
    let resolved = wait_event(&mut operator, "exec.approval.resolved").await;
    assert_eq!(resolved["decision"], "allow-once");

    let reply = user.response(&id).await;
    assert_eq!(reply["payload"]["content"], "ran it", "{reply}");
    let second = app.llm.requests()[1].body.to_string();
    assert!(second.contains("hi"), "{second}");
    let unknown = operator
        .call("exec.approval.approve", json!({"id": request["id"]}))
        .await;
    assert_eq!(unknown["error"]["code"], "NOT_FOUND", "{unknown}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn approve_always_skips_the_next_prompt() {
    let app = app(ASK_ALWAYS).await;
    app.llm.push(Reply::tool_call(
        "c1",
        "exec",
        json!({"command": "echo first"}),
    ));
    app.llm.push(Reply::tool_call(
        "c2",
        "exec",
        json!({"command": "echo second"}),
    ));
    app.llm.push(Reply::text("both ran"));
    let mut operator = app.ws_connect("alice").await;
    let mut user = app.ws_connect("alice").await;
    let id = user.request("chat.send", json!({"message": "twice"})).await;
    let request = wait_event(&mut operator, "exec.approval.requested").await;
    let approved = operator
        .call_ok(
            "exec.approval.approve",
            json!({"id": request["id"], "always": true}),
        )
        .await;
    assert_eq!(approved["decision"], "allow-always");
    let reply = user.response(&id).await;
    assert_eq!(reply["payload"]["content"], "both ran", "{reply}");
    let third = app.llm.requests()[2].body.to_string();
    assert!(third.contains("second"), "{third}");
    let requested = operator
        .events
        .iter()
        .filter(|e| e["event"] == "exec.approval.requested")
        .count();
    assert_eq!(requested, 0, "no second prompt");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_reaches_the_model() {
    let app = app(ASK_ALWAYS).await;
    let (mut operator, mut user, id) = ask_to_echo(&app, "ok, not running it").await;
    let request = wait_event(&mut operator, "exec.approval.requested").await;
    let denied = operator
        .call_ok("exec.approval.deny", json!({"id": request["id"]}))
        .await;
    assert_eq!(denied, json!({"resolved": true, "decision": "deny"}));
    let reply = user.response(&id).await;
    assert_eq!(reply["payload"]["content"], "ok, not running it");
    let second = app.llm.requests()[1].body.to_string();
    assert!(second.contains("denied by the operator"), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unanswered_requests_are_denied() {
    let config = r#"{ tools: { execApproval: { ask: "always", timeout_ms: 300 } } }"#;
    let app = app(config).await;
    let (mut operator, mut user, id) = ask_to_echo(&app, "timed out").await;
    let resolved = wait_event(&mut operator, "exec.approval.resolved").await;
    assert_eq!(resolved["decision"], "deny");
    let reply = user.response(&id).await;
    assert_eq!(reply["payload"]["content"], "timed out");
    let second = app.llm.requests()[1].body.to_string();
    assert!(second.contains("not approved in time"), "{second}");
    let listed = operator.call_ok("exec.approval.list", json!({})).await;
    assert_eq!(listed["pending"], json!([]));
}

/// A request left pending when the process stops is reloaded from the database: it is listed
/// again and can be resolved; "allow always" then lets the program run without a prompt.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_requests_survive_a_restart() {
    let mut app = app(ASK_ALWAYS).await;
    app.llm.push(Reply::tool_call(
        "c1",
        "exec",
        json!({"command": "echo hi"}),
    ));
    // The run is cancelled by the shutdown while its tool call waits; no answer is needed.
    let mut operator = app.ws_connect("alice").await;
    let mut user = app.ws_connect("alice").await;
    let _ = user
        .request("chat.send", json!({"message": "say hi"}))
        .await;
    let request = wait_event(&mut operator, "exec.approval.requested").await;
    drop(user);
    drop(operator);

    app.restart().await;
    let mut operator = app.ws_connect("alice").await;
    let listed = operator.call_ok("exec.approval.list", json!({})).await;
    assert_eq!(listed["pending"][0]["id"], request["id"], "{listed}");
    assert_eq!(listed["pending"][0]["command"], "echo hi");
    let approved = operator
        .call_ok(
            "exec.approval.approve",
            json!({"id": request["id"], "always": true}),
        )
        .await;
    assert_eq!(approved["decision"], "allow-always");
    let listed = operator.call_ok("exec.approval.list", json!({})).await;
    assert_eq!(listed["pending"], json!([]));

    // The remembered program runs without a prompt in the new process.
    app.llm.push(Reply::tool_call(
        "c2",
        "exec",
        json!({"command": "echo again"}),
    ));
    app.llm.push(Reply::text("ran"));
    let mut user = app.ws_connect("alice").await;
    let payload = user.call_ok("chat.send", json!({"message": "retry"})).await;
    assert_eq!(payload["content"], "ran");
    let last = app
        .llm
        .requests()
        .last()
        .map(|r| r.body.to_string())
        .unwrap_or_default();
    assert!(last.contains("again"), "{last}");
}
