//! Scoped API keys over real HTTP and WebSocket on both backends: what each scope may call,
//! revocation and expiry taking effect on the very next request, owner binding, and listings
//! that never show a key.

use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with};
use serde_json::{Value, json};

const TOKEN: &str = "keys-test-token-8f2a61c4";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

/// A request with `bearer` as its credential.
async fn send(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// Creates a key as the owner (gateway token, user `system`); returns the whole answer.
async fn create_key(app: &TestApp, body: Value) -> Value {
    let (status, created) = send(
        app,
        reqwest::Method::POST,
        "/v1/api-keys",
        TOKEN,
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created
}

async fn key_with(app: &TestApp, scopes: &[&str]) -> (String, String) {
    let created = create_key(app, json!({ "name": "test key", "scopes": scopes })).await;
    let id = created["id"].as_str().expect("id").to_owned();
    let key = created["key"].as_str().expect("key").to_owned();
    (id, key)
}

async fn ws_with(app: &TestApp, token: &str, user_id: &str) -> (WsClient, Value) {
    let mut ws = WsClient::open(&app.ws_url()).await;
    let connected = ws
        .call_ok("connect", json!({ "token": token, "user_id": user_id }))
        .await;
    (ws, connected)
}

fn chat_body() -> Value {
    json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": "hi" }] })
}

app_test!(
    read_only_key_reads_but_cannot_write,
    app,
    |app: TestApp| async move {
        let created = create_key(
            &app,
            json!({ "name": "monitoring-readonly", "scopes": ["operator.read"], "owner_id": "alice" }),
        )
        .await;
        let key = created["key"].as_str().expect("key").to_owned();
        let random = key.strip_prefix("goclaw_").expect("goclaw_ prefix");
        assert_eq!(random.len(), 32);
        assert!(random.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')));
        assert_eq!(created["prefix"], &random[..8]);
        assert_eq!(created["name"], "monitoring-readonly");
        assert_eq!(created["scopes"], json!(["operator.read"]));
        assert_eq!(created["expires_at"], Value::Null);
        assert!(created["created_at"].is_string() && created["id"].is_string());

        // A session of alice's, for the key to read.
        app.llm.push(Reply::text("hello alice"));
        let (mut alice, _) = ws_with(&app, TOKEN, "alice").await;
        let sent = alice.call_ok("chat.send", json!({ "message": "hi" })).await;
        let session = sent["sessionKey"].as_str().expect("session key").to_owned();

        let get = reqwest::Method::GET;
        assert_eq!(
            send(&app, get.clone(), "/v1/agents", &key, None).await.0,
            200
        );
        assert_eq!(
            send(&app, get.clone(), "/v1/agents/default", &key, None)
                .await
                .0,
            200
        );
        let (status, body) = send(
            &app,
            reqwest::Method::POST,
            "/v1/chat/completions",
            &key,
            Some(chat_body()),
        )
        .await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["code"], "UNAUTHORIZED", "{body}");
        assert_eq!(send(&app, get, "/v1/api-keys", &key, None).await.0, 403);

        let (mut ws, connected) = ws_with(&app, &key, "alice").await;
        assert_eq!(connected["role"], "viewer");
        assert_eq!(connected["user_id"], "alice");
        ws.call_ok("agents.list", json!({})).await;
        ws.call_ok("health", json!({})).await;
        let history = ws
            .call_ok("chat.history", json!({ "sessionKey": session }))
            .await;
        assert!(history.to_string().contains("hello alice"), "{history}");
        for (method, params) in [
            ("chat.send", json!({ "message": "hi" })),
            (
                "agents.files.set",
                json!({ "agentId": "default", "name": "USER.md", "content": "x" }),
            ),
            ("api_keys.list", json!({})),
        ] {
            let res = ws.call(method, params).await;
            assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{method}: {res}");
        }
        assert_eq!(app.llm.request_count(), 1, "the read key started no run");
    }
);

app_test!(
    write_key_chats_but_cannot_create_agents,
    app,
    |app: TestApp| async move {
        let (_, key) = key_with(&app, &["operator.write"]).await;
        app.llm.push(Reply::text("over http"));
        let (status, body) = send(
            &app,
            reqwest::Method::POST,
            "/v1/chat/completions",
            &key,
            Some(chat_body()),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let agent = json!({ "name": "Writer", "model": "claude-x" });
        let (status, _) = send(
            &app,
            reqwest::Method::POST,
            "/v1/agents",
            &key,
            Some(agent.clone()),
        )
        .await;
        assert_eq!(status, 403);

        let (mut ws, connected) = ws_with(&app, &key, "bob").await;
        assert_eq!(connected["role"], "operator");
        app.llm.push(Reply::text("over ws"));
        let sent = ws.call_ok("chat.send", json!({ "message": "hi" })).await;
        assert_eq!(sent["content"], "over ws");
        let res = ws.call("agents.create", agent).await;
        assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");
        let res = ws
            .call(
                "api_keys.create",
                json!({ "name": "x", "scopes": ["operator.read"] }),
            )
            .await;
        assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");
    }
);

app_test!(
    revocation_takes_effect_on_the_next_request,
    app,
    |app: TestApp| async move {
        let (id, key) = key_with(&app, &["operator.read"]).await;
        let (mut ws, _) = ws_with(&app, &key, "carol").await;
        ws.call_ok("agents.list", json!({})).await;
        let get = reqwest::Method::GET;
        assert_eq!(
            send(&app, get.clone(), "/v1/agents", &key, None).await.0,
            200
        );

        let (mut admin, _) = ws_with(&app, TOKEN, "system").await;
        let revoked = admin.call_ok("api_keys.revoke", json!({ "id": id })).await;
        assert_eq!(revoked["revoked"], true);

        let (status, body) = send(&app, get.clone(), "/v1/agents", &key, None).await;
        assert_eq!(status, 401, "{body}");
        // The connection opened with the key was closed by the revocation.
        assert_eq!(ws.next_frame().await, None);
        let mut again = WsClient::open(&app.ws_url()).await;
        let res = again.call("connect", json!({ "token": key })).await;
        assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");

        // Over HTTP too, with either revocation route; other keys keep working.
        let (first, first_key) = key_with(&app, &["operator.read"]).await;
        let (second, second_key) = key_with(&app, &["operator.read"]).await;
        let path = format!("/v1/api-keys/{first}");
        assert_eq!(
            send(&app, reqwest::Method::DELETE, &path, TOKEN, None)
                .await
                .0,
            200
        );
        assert_eq!(
            send(&app, get.clone(), "/v1/agents", &first_key, None)
                .await
                .0,
            401
        );
        assert_eq!(
            send(&app, get.clone(), "/v1/agents", &second_key, None)
                .await
                .0,
            200
        );
        let path = format!("/v1/api-keys/{second}/revoke");
        assert_eq!(
            send(&app, reqwest::Method::POST, &path, TOKEN, None)
                .await
                .0,
            200
        );
        assert_eq!(
            send(&app, get, "/v1/agents", &second_key, None).await.0,
            401
        );
    }
);

app_test!(
    expired_and_unknown_keys_are_refused,
    app,
    |app: TestApp| async move {
        let created = create_key(
            &app,
            json!({ "name": "short", "scopes": ["operator.read"], "expires_in": 1 }),
        )
        .await;
        assert!(created["expires_at"].is_string(), "{created}");
        let key = created["key"].as_str().expect("key").to_owned();
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let get = reqwest::Method::GET;
        assert_eq!(
            send(&app, get.clone(), "/v1/agents", &key, None).await.0,
            401
        );
        let mut ws = WsClient::open(&app.ws_url()).await;
        let res = ws.call("connect", json!({ "token": key })).await;
        assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");

        let unknown = format!("goclaw_{}", "0".repeat(32));
        assert_eq!(
            send(&app, get.clone(), "/v1/agents", &unknown, None)
                .await
                .0,
            401
        );
        let res = ws.call("connect", json!({ "token": unknown })).await;
        assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");
        assert_eq!(send(&app, get, "/v1/agents", "goclaw_", None).await.0, 401);
    }
);

app_test!(listings_never_show_a_key, app, |app: TestApp| async move {
    let (id, key) = key_with(&app, &["operator.read", "operator.write"]).await;
    let (status, listed) = send(&app, reqwest::Method::GET, "/v1/api-keys", TOKEN, None).await;
    assert_eq!(status, 200);
    let (mut admin, _) = ws_with(&app, TOKEN, "system").await;
    let over_ws = admin.call_ok("api_keys.list", json!({})).await;
    let random = key.trim_start_matches("goclaw_");
    // Both answer a bare array, as GoClaw does.
    for keys in [&listed, &over_ws] {
        let text = keys.to_string();
        assert!(!text.contains(random), "the key leaked: {text}");
        assert!(
            !text.contains("key_hash") && !text.contains("\"key\""),
            "{text}"
        );
        let keys = keys.as_array().expect("keys");
        assert_eq!(keys.len(), 1);
        assert_eq!(keys[0]["id"], id.as_str());
        assert_eq!(keys[0]["prefix"], &random[..8]);
        assert_eq!(
            keys[0]["scopes"],
            json!(["operator.read", "operator.write"])
        );
        assert_eq!(keys[0]["revoked"], false);
    }
});

app_test!(
    keys_bound_to_an_owner_act_as_it,
    app,
    |app: TestApp| async move {
        let created = create_key(
            &app,
            json!({ "name": "alice's", "scopes": ["operator.write"], "owner_id": "alice" }),
        )
        .await;
        let key = created["key"].as_str().expect("key").to_owned();
        let (_, connected) = ws_with(&app, &key, "mallory").await;
        assert_eq!(connected["user_id"], "alice");
        assert_eq!(connected["is_owner"], false);
        let (_, connected) = ws_with(&app, &key, "").await;
        assert_eq!(connected["user_id"], "alice");
    }
);

app_test!(creation_is_validated, app, |app: TestApp| async move {
    let post = |body: Value| {
        let app = &app;
        async move {
            send(
                app,
                reqwest::Method::POST,
                "/v1/api-keys",
                TOKEN,
                Some(body),
            )
            .await
        }
    };
    let long = "n".repeat(101);
    for body in [
        json!({ "name": long, "scopes": ["operator.read"] }),
        json!({ "name": "  ", "scopes": ["operator.read"] }),
        json!({ "name": "x", "scopes": [] }),
        json!({ "name": "x", "scopes": ["operator.root"] }),
        json!({ "name": "x", "scopes": ["operator.read"], "expires_in": -5 }),
        json!({ "scopes": ["operator.read"] }),
    ] {
        let (status, answer) = post(body.clone()).await;
        assert!(
            status == 400 || status == 422,
            "{body} -> {status} {answer}"
        );
    }
    assert_eq!(
        post(json!({ "name": "n".repeat(100), "scopes": ["operator.read"] }))
            .await
            .0,
        201
    );

    // An admin key hands out what it holds, not more.
    let (_, admin_key) = key_with(&app, &["operator.admin"]).await;
    let (mut ws, connected) = ws_with(&app, &admin_key, "ops").await;
    assert_eq!(connected["role"], "admin");
    let made = ws
        .call_ok(
            "api_keys.create",
            json!({ "name": "child", "scopes": ["operator.read"] }),
        )
        .await;
    assert!(
        made["key"]
            .as_str()
            .is_some_and(|k| k.starts_with("goclaw_"))
    );
    let res = ws
        .call(
            "api_keys.create",
            json!({ "name": "c", "scopes": ["operator.provision"] }),
        )
        .await;
    assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");
    // The admin key's keys belong to its tenant, and it sees only those, not the owner's.
    let listed = ws.call_ok("api_keys.list", json!({})).await;
    assert_eq!(listed.as_array().map(Vec::len), Some(1), "{listed}");
});
