//! Quotas on the write paths, on both backends: size caps on context files, injected messages,
//! session labels and metadata and agent configuration, and the per-user write budget that
//! `chat.inject`, `agents.files.set` and `sessions.patch` share — refused with
//! `RESOURCE_EXHAUSTED` over WebSocket and 413 over HTTP.

use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with_config};
use serde_json::{Value, json};

const TOKEN: &str = "write-quotas-token-77d0e1";
/// One write a minute after a burst of five, so the budget cannot refill during a test.
const CONFIG: &str =
    "{ gateway: { rate_limit_rpm: 1, max_message_chars: 1000, inbound_debounce_ms: 0 } }";
const BURST: usize = 5;
const MAX_CONTEXT_FILE_BYTES: usize = 256 * 1024;

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(backend, CONFIG, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

/// Connects with an `operator.write` key bound to `user`.
async fn operator(app: &TestApp, user: &str) -> WsClient {
    let (_, key) = app
        .create_api_key(
            TOKEN,
            json!({ "name": user, "scopes": ["operator.write"], "owner_id": user }),
        )
        .await;
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": key })).await;
    ws
}

/// Asserts `res` is a quota refusal: a size one (no `retryAfterMs`) or a rate one.
fn assert_exhausted(res: &Value, rate: bool) {
    assert_eq!(res["error"]["code"], "RESOURCE_EXHAUSTED", "{res}");
    let retry = res["error"]["retryAfterMs"].as_u64();
    if rate {
        assert!(retry.is_some_and(|ms| ms > 0), "{res}");
    } else {
        assert_eq!(retry, None, "{res}");
        let message = res["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("too large"), "{message}");
    }
}

/// A session of `ws`'s caller.
async fn session(app: &TestApp, ws: &mut WsClient) -> Value {
    app.llm.push(Reply::text("hello"));
    let sent = ws.call_ok("chat.send", json!({ "message": "hi" })).await;
    sent["sessionKey"].clone()
}

app_test!(context_files_are_capped, app, |app: TestApp| async move {
    let mut alice = operator(&app, "alice").await;
    let set =
        |content: String| json!({ "agentId": "default", "name": "SOUL.md", "content": content });
    let res = alice
        .call(
            "agents.files.set",
            set("a".repeat(MAX_CONTEXT_FILE_BYTES + 1)),
        )
        .await;
    assert_exhausted(&res, false);
    // Counted in bytes: 2-byte characters reach the cap at half the count.
    let res = alice
        .call(
            "agents.files.set",
            set("é".repeat(MAX_CONTEXT_FILE_BYTES / 2 + 1)),
        )
        .await;
    assert_exhausted(&res, false);
    let fits = alice
        .call_ok("agents.files.set", set("a".repeat(MAX_CONTEXT_FILE_BYTES)))
        .await;
    assert_eq!(fits["file"]["size"], MAX_CONTEXT_FILE_BYTES);
});

app_test!(
    writes_spend_a_per_user_budget,
    app,
    |app: TestApp| async move {
        let mut alice = operator(&app, "alice").await;
        let key = session(&app, &mut alice).await;
        let file = json!({ "agentId": "default", "name": "USER.md", "content": "me" });
        let inject = json!({ "sessionKey": key, "message": "note" });
        let patch = json!({ "key": key, "label": "work" });
        // The write methods share one budget: a burst, then refusals with a wait.
        let writes = [
            ("agents.files.set", &file),
            ("chat.inject", &inject),
            ("sessions.patch", &patch),
            ("agents.files.set", &file),
            ("chat.inject", &inject),
        ];
        assert_eq!(writes.len(), BURST);
        for (method, params) in writes {
            alice.call_ok(method, params.clone()).await;
        }
        for (method, params) in [
            ("agents.files.set", &file),
            ("chat.inject", &inject),
            ("sessions.patch", &patch),
        ] {
            let res = alice.call(method, params.clone()).await;
            assert_exhausted(&res, true);
        }

        // Another user's budget, and alice's chat budget, are untouched.
        let mut bob = operator(&app, "bob").await;
        bob.call_ok("agents.files.set", file.clone()).await;
        session(&app, &mut alice).await;
    }
);

app_test!(
    injected_messages_and_session_fields_are_capped,
    app,
    |app: TestApp| async move {
        let mut alice = operator(&app, "alice").await;
        let key = session(&app, &mut alice).await;
        let cases = [
            (
                "chat.inject",
                json!({ "sessionKey": key, "message": "x".repeat(1001) }),
            ),
            (
                "chat.inject",
                json!({ "sessionKey": key, "message": "€".repeat(334) }),
            ),
            (
                "sessions.patch",
                json!({ "key": key, "label": "l".repeat(256) }),
            ),
            (
                "sessions.patch",
                json!({ "key": key, "metadata": { "pad": "m".repeat(64 * 1024) } }),
            ),
        ];
        for (method, params) in cases {
            let res = alice.call(method, params).await;
            assert_exhausted(&res, false);
        }
        alice
            .call_ok(
                "chat.inject",
                json!({ "sessionKey": key, "message": "x".repeat(1000) }),
            )
            .await;
        alice
            .call_ok(
                "sessions.patch",
                json!({ "key": key, "label": "é".repeat(255), "metadata": { "pad": "m" } }),
            )
            .await;
        let history = alice
            .call_ok("chat.history", json!({ "sessionKey": key }))
            .await;
        let longest = history["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter_map(|m| m["content"].as_str())
            .map(str::len)
            .max();
        assert_eq!(longest, Some(1000), "nothing over the cap was stored");
    }
);

app_test!(
    agent_configuration_is_capped,
    app,
    |app: TestApp| async move {
        let big = json!({ "name": "Big", "other_config": { "pad": "c".repeat(64 * 1024) } });
        let response = app
            .client
            .post(app.url("/v1/agents"))
            .bearer_auth(TOKEN)
            .json(&big)
            .send()
            .await
            .expect("POST /v1/agents");
        assert_eq!(response.status(), 413);
        let body: Value = response.json().await.expect("JSON");
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| m.contains("other_config is too large")),
            "{body}"
        );
        let response = app
            .client
            .put(app.url("/v1/agents/default"))
            .bearer_auth(TOKEN)
            .json(&big)
            .send()
            .await
            .expect("PUT /v1/agents/default");
        assert_eq!(response.status(), 413);

        let mut owner = WsClient::open(&app.ws_url()).await;
        owner
            .call_ok("connect", json!({ "token": TOKEN, "user_id": "system" }))
            .await;
        let res = owner.call("agents.create", big.clone()).await;
        assert_exhausted(&res, false);
        let mut update = big;
        update["agentId"] = json!("default");
        let res = owner.call("agents.update", update).await;
        assert_exhausted(&res, false);
        let small = json!({ "name": "Small", "other_config": { "pad": "c" } });
        owner.call_ok("agents.create", small).await;
    }
);
