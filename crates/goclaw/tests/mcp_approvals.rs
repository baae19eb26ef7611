//! Operator approval of MCP tool calls, in real turns over WebSocket on both engines with the
//! test server `fake-mcp`: a configured server with `require_approval` asks before each call
//! (`exec.approval.requested` names the tool and its arguments), runs it once approved, gives
//! the model a tool error when denied, and after "allow always" runs the tool without asking;
//! a server without it never asks; a server registered through `/v1/mcp/servers` with
//! `settings.require_approval` asks the same way.

use std::time::Duration;

use goclaw_testkit::{
    Reply, StoreBackend, TestApp, WsClient, app_test, fake_mcp_binary, spawn_app_with_config,
};
use serde_json::{Value, json};

/// Two configured servers running `fake-mcp`: `gated` asks for approval, `open` does not;
/// `fake-mcp` may also be registered through the API.
async fn gated_app(backend: StoreBackend) -> Option<TestApp> {
    let command = fake_mcp_binary().display().to_string();
    let config = format!(
        "{{ gateway: {{ rate_limit_rpm: 0 }}, tools: {{ mcp_allowed_commands: ['fake-mcp'], \
         mcp_servers: {{ gated: {{ command: {command:?}, require_approval: true }}, \
         open: {{ command: {command:?} }} }} }} }}"
    );
    spawn_app_with_config(backend, &config, &[]).await
}

/// How a result of `gated`'s `echo` starts, as it appears in a request body.
const GATED_RESULT: &str = r#"source=\"mcp:gated/echo\""#;

/// Waits up to half a minute for the event `name` (or takes it from those already collected).
async fn wait_event(ws: &mut WsClient, name: &str) -> Value {
    let waited = tokio::time::timeout(Duration::from_secs(30), async {
        loop {
            if let Some(pos) = ws.events.iter().position(|e| e["event"] == name) {
                return ws.events.remove(pos)["payload"].clone();
            }
            ws.pump().await;
        }
    });
    waited
        .await
        .unwrap_or_else(|_| panic!("no {name} event within 30 s"))
}

/// How many `event`s `ws` has collected.
fn count(ws: &WsClient, event: &str) -> usize {
    ws.events.iter().filter(|e| e["event"] == event).count()
}

/// Starts a run as `alice` in which the model calls `tool` with `text`, then answers `answer`;
/// the chatting client and its `chat.send` request id.
async fn call_tool(app: &TestApp, tool: &str, text: &str, answer: &str) -> (WsClient, String) {
    app.llm
        .push(Reply::tool_call("c1", tool, json!({ "text": text })));
    app.llm.push(Reply::text(answer));
    let mut user = app.ws_connect("alice").await;
    let id = user
        .request("chat.send", json!({ "message": "use the tool" }))
        .await;
    (user, id)
}

/// The last request's body sent to the model, as text.
fn last_request(app: &TestApp) -> String {
    app.llm
        .requests()
        .pop()
        .map(|r| r.body.to_string())
        .unwrap_or_default()
}

app_test!(
    a_server_requiring_approval_asks_before_every_call,
    gated_app,
    |app: TestApp| async move {
        let mut operator = app.ws_connect("alice").await;

        // Approved once: it runs.
        let (mut user, id) = call_tool(&app, "mcp_gated__echo", "first words", "ran").await;
        let request = wait_event(&mut operator, "exec.approval.requested").await;
        let shown = request["command"].as_str().unwrap_or_default();
        assert!(shown.starts_with("mcp_gated__echo {"), "{request}");
        assert!(shown.contains("first words"), "{request}");
        assert_eq!(request["agentId"], "default");
        operator
            .call_ok("exec.approval.approve", json!({ "id": request["id"] }))
            .await;
        let reply = user.response(&id).await;
        assert_eq!(reply["payload"]["content"], "ran", "{reply}");
        let sent = last_request(&app);
        assert!(sent.contains("first words"), "{sent}");
        assert_eq!(sent.matches(GATED_RESULT).count(), 1, "{sent}");

        // Denied: the model hears so and the server is never called.
        let (mut user, id) = call_tool(&app, "mcp_gated__echo", "second words", "denied").await;
        let request = wait_event(&mut operator, "exec.approval.requested").await;
        operator
            .call_ok("exec.approval.deny", json!({ "id": request["id"] }))
            .await;
        user.response(&id).await;
        let sent = last_request(&app);
        assert!(sent.contains("needs an operator's approval"), "{sent}");
        assert_eq!(
            sent.matches(GATED_RESULT).count(),
            0,
            "the call did not run: {sent}"
        );

        // Allowed always: this call and the next run without asking again.
        let (mut user, id) = call_tool(&app, "mcp_gated__echo", "third words", "ok").await;
        let request = wait_event(&mut operator, "exec.approval.requested").await;
        operator
            .call_ok(
                "exec.approval.approve",
                json!({ "id": request["id"], "always": true }),
            )
            .await;
        user.response(&id).await;
        let (mut user, id) = call_tool(&app, "mcp_gated__echo", "fourth words", "ok").await;
        user.response(&id).await;
        assert!(last_request(&app).contains("fourth words"));
        assert_eq!(count(&operator, "exec.approval.requested"), 0);

        // The server without `require_approval` never asks.
        let (mut user, id) = call_tool(&app, "mcp_open__echo", "open words", "ok").await;
        user.response(&id).await;
        assert!(last_request(&app).contains("open words"));
        assert_eq!(count(&operator, "exec.approval.requested"), 0);
    }
);

app_test!(
    a_registered_server_with_settings_require_approval_asks,
    gated_app,
    |app: TestApp| async move {
        let registered = app
            .client
            .post(app.url("/v1/mcp/servers"))
            .json(&json!({
                "name": "managed",
                "transport": "stdio",
                "command": fake_mcp_binary().display().to_string(),
                "settings": { "require_approval": true },
            }))
            .send()
            .await
            .expect("POST /v1/mcp/servers");
        assert_eq!(registered.status(), 201);
        let server: Value = registered.json().await.expect("the server");
        let grant = app
            .client
            .post(app.url(&format!(
                "/v1/mcp/servers/{}/grants/agent",
                server["id"].as_str().unwrap_or_default()
            )))
            .json(&json!({ "agent_id": "default" }))
            .send()
            .await
            .expect("POST grants/agent");
        assert_eq!(grant.status(), 201);

        let mut operator = app.ws_connect("alice").await;
        let (mut user, id) = call_tool(&app, "mcp_managed__echo", "managed words", "denied").await;
        let request = wait_event(&mut operator, "exec.approval.requested").await;
        assert!(
            request["command"]
                .as_str()
                .is_some_and(|c| c.starts_with("mcp_managed__echo {")),
            "{request}"
        );
        operator
            .call_ok("exec.approval.deny", json!({ "id": request["id"] }))
            .await;
        user.response(&id).await;
        let sent = last_request(&app);
        assert!(sent.contains("needs an operator's approval"), "{sent}");
    }
);
