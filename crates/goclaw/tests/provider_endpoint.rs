//! A stored provider's key cannot be stolen by moving its endpoint, on both backends: an admin
//! (not the owner) who points `api_base` at a server of their own receives no key there, over
//! HTTP and WebSocket alike, unless the same request supplies a new key.

use goclaw_testkit::{FakeLlm, Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with};
use serde_json::{Value, json};

const KEY: &str = "6a1f0c3e9b2d4a5f8e7c6b5a4d3c2b1a0f9e8d7c6b5a4938271605f4e3d2c1b0";
const TOKEN: &str = "provider-endpoint-token-3a9c";
const STORED_KEY: &str = "sk-stored-custom-0123456789";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(
        backend,
        &[
            ("GOCLAW_ENCRYPTION_KEY", KEY),
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
        ],
    )
    .await
}

/// A request with the gateway token as `user` (`system` is the owner, anyone else an admin).
async fn send(app: &TestApp, user: &str, method: &str, path: &str, body: Value) -> (u16, Value) {
    let response = app
        .client
        .request(method.parse().expect("method"), app.url(path))
        .bearer_auth(TOKEN)
        .header("X-GoClaw-User-Id", user)
        .json(&body)
        .send()
        .await
        .expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The owner stores provider `custom` at the app's fake LLM with [`STORED_KEY`], and an agent
/// `custom` using it.
async fn store_provider(app: &TestApp) {
    let provider =
        json!({ "name": "custom", "api_base": app.llm.base_url(), "api_key": STORED_KEY });
    let (status, created) = send(app, "system", "POST", "/v1/providers", provider).await;
    assert_eq!(status, 201, "{created}");
    let agent = json!({ "name": "Custom", "provider": "custom", "model": "m-1" });
    assert_eq!(
        send(app, "system", "POST", "/v1/agents", agent).await.0,
        201
    );
}

/// Chats with agent `custom` and returns the `Authorization` header `server` received.
async fn authorization_at(app: &TestApp, server: &FakeLlm) -> Option<String> {
    server.push(Reply::text("ok"));
    let before = server.request_count();
    let body =
        json!({ "model": "goclaw:custom", "messages": [{ "role": "user", "content": "hi" }] });
    let (status, answer) = send(app, "system", "POST", "/v1/chat/completions", body).await;
    assert_eq!(status, 200, "{answer}");
    let requests = server.requests();
    assert_eq!(requests.len(), before + 1, "the chat reached this server");
    requests
        .last()
        .and_then(|r| r.header("authorization"))
        .map(str::to_owned)
}

app_test!(
    moving_api_base_over_http_drops_the_key,
    app,
    |app: TestApp| async move {
        store_provider(&app).await;
        let expected = format!("Bearer {STORED_KEY}");
        assert_eq!(
            authorization_at(&app, &app.llm).await.as_deref(),
            Some(expected.as_str())
        );

        let thief = FakeLlm::start().await;
        let moved = json!({ "api_base": thief.base_url() });
        let (status, updated) = send(&app, "ann", "PUT", "/v1/providers/custom", moved).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(
            (updated["api_key"].clone(), updated["has_api_key"].clone()),
            (json!(""), json!(false)),
            "{updated}"
        );
        let sent = authorization_at(&app, &thief).await;
        assert!(
            !sent.unwrap_or_default().contains(STORED_KEY),
            "the stored key reached the new endpoint"
        );

        // A key given with the move is kept: it was meant for the new endpoint.
        let moved = json!({ "api_base": app.llm.base_url(), "api_key": "sk-fresh-key-9876" });
        let (status, updated) = send(&app, "ann", "PUT", "/v1/providers/custom", moved).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(updated["has_api_key"], true, "{updated}");
        assert_eq!(
            authorization_at(&app, &app.llm).await.as_deref(),
            Some("Bearer sk-fresh-key-9876")
        );
    }
);

app_test!(
    moving_api_base_over_websocket_drops_the_key,
    app,
    |app: TestApp| async move {
        store_provider(&app).await;
        let mut admin = WsClient::open(&app.ws_url()).await;
        let connected = admin
            .call_ok("connect", json!({ "token": TOKEN, "user_id": "ann" }))
            .await;
        assert_eq!(connected["role"], "admin");

        // Changes that keep the endpoint keep the key.
        for unchanged in [
            json!({ "name": "custom", "enabled": true }),
            json!({ "name": "custom", "apiBase": format!("{}/", app.llm.base_url()) }),
        ] {
            let kept = admin.call_ok("providers.update", unchanged).await;
            assert_eq!(kept["apiKeyCleared"], false, "{kept}");
            assert_eq!(kept["provider"]["has_api_key"], true, "{kept}");
        }

        let thief = FakeLlm::start().await;
        let moved = admin
            .call_ok(
                "providers.update",
                json!({ "name": "custom", "apiBase": thief.base_url() }),
            )
            .await;
        assert_eq!(moved["apiKeyCleared"], true, "{moved}");
        assert_eq!(moved["provider"]["api_key"], "", "{moved}");
        assert_eq!(moved["provider"]["has_api_key"], false, "{moved}");
        let sent = authorization_at(&app, &thief).await;
        assert!(
            !sent.unwrap_or_default().contains(STORED_KEY),
            "the stored key reached the new endpoint"
        );
    }
);
