//! LLM providers stored in the database, on both backends: the admin-only HTTP and WebSocket
//! API that stores keys encrypted and shows them masked, the agent runtime calling stored
//! providers (which win over configured ones), and the start-up check of the encryption key.

use goclaw_core::{MASTER_TENANT_ID, NewLlmProvider, ProviderName};
use goclaw_crypto::{EncryptionKey, SecretBox};
use goclaw_testkit::{
    StoreBackend, TestApp, TestDatabase, WsClient, app_test, spawn_app_with, test_config,
};
use serde_json::{Value, json};

const KEY: &str = "6a1f0c3e9b2d4a5f8e7c6b5a4d3c2b1a0f9e8d7c6b5a4938271605f4e3d2c1b0";
const OTHER_KEY: &str = "0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c";
const TOKEN: &str = "providers-test-token-8c1d";

async fn keyed_app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(
        backend,
        &[
            ("GOCLAW_ENCRYPTION_KEY", KEY),
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
        ],
    )
    .await
}

fn secret_box(raw: &str) -> SecretBox {
    SecretBox::new(&EncryptionKey::parse(raw).expect("valid key"))
}

async fn send(app: &TestApp, method: &str, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app
        .client
        .request(method.parse().expect("method"), app.url(path))
        .bearer_auth(TOKEN)
        .header("X-GoClaw-User-Id", "alice");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request");
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn stored_key(app: &TestApp, name: &str) -> String {
    app.db
        .store()
        .llm_providers()
        .get(MASTER_TENANT_ID, &ProviderName::parse(name).expect("name"))
        .await
        .expect("stored provider")
        .api_key_ciphertext
}

app_test!(
    http_crud_stores_keys_encrypted,
    keyed_app,
    |app: TestApp| async move {
        let body =
            json!({ "name": "groq-eu", "provider_type": "groq", "api_key": "gsk-0123456789-wxyz" });
        let (status, created) = send(&app, "POST", "/v1/providers", Some(body)).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(created["api_key"], "***");
        assert_eq!(created["has_api_key"], true);
        assert!(!created.to_string().contains("0123456789"), "{created}");
        let stored = stored_key(&app, "groq-eu").await;
        assert!(stored.starts_with("aes-gcm:"), "stored encrypted");
        assert_eq!(
            secret_box(KEY).decrypt(&stored).as_deref(),
            Ok("gsk-0123456789-wxyz")
        );

        let (status, again) = send(
            &app,
            "POST",
            "/v1/providers",
            Some(json!({ "name": "groq-eu" })),
        )
        .await;
        assert_eq!(
            (status, again["error"]["code"].clone()),
            (409, json!("ALREADY_EXISTS"))
        );

        let (status, list) = send(&app, "GET", "/v1/providers", None).await;
        assert_eq!(status, 200);
        assert_eq!(list["providers"][0]["name"], "groq-eu");
        assert!(!list.to_string().contains("0123456789"), "{list}");

        let update = json!({ "api_key": "gsk-rotated-key-abcd", "enabled": false });
        let (status, updated) = send(&app, "PUT", "/v1/providers/groq-eu", Some(update)).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!(
            (updated["api_key"].clone(), updated["enabled"].clone()),
            (json!("***"), json!(false))
        );
        assert_eq!(updated["provider_type"], "groq");
        let (status, fetched) = send(&app, "GET", "/v1/providers/groq-eu", None).await;
        assert_eq!((status, fetched["api_key"].clone()), (200, json!("***")));

        let (status, _) = send(&app, "DELETE", "/v1/providers/groq-eu", None).await;
        assert_eq!(status, 200);
        let (status, _) = send(&app, "GET", "/v1/providers/groq-eu", None).await;
        assert_eq!(status, 404);
    }
);

app_test!(
    websocket_methods_are_admin_only,
    keyed_app,
    |app: TestApp| async move {
        let mut admin = WsClient::open(&app.ws_url()).await;
        admin
            .call_ok("connect", json!({ "user_id": "alice", "token": TOKEN }))
            .await;
        let created = admin
        .call_ok(
            "providers.create",
            json!({ "name": "local", "providerType": "openai_compat", "apiBase": "http://127.0.0.1:9/v1", "apiKey": "sk-local-0000-9999" }),
        )
        .await;
        assert_eq!(created["provider"]["api_key"], "***");
        let listed = admin.call_ok("providers.list", json!({})).await;
        let by_source = |source: &str| -> Vec<String> {
            listed["providers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["source"] == source)
                .map(|p| p["name"].as_str().unwrap_or_default().to_owned())
                .collect()
        };
        assert_eq!(by_source("database"), ["local"], "{listed}");
        // The configuration's providers (the harness's environment keys), as over HTTP.
        assert!(
            by_source("config").contains(&"anthropic".to_owned()),
            "{listed}"
        );
        assert!(
            listed["providers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|p| p["source"] == "config")
                .all(|p| p["read_only"] == true && p["api_key"] == "***"),
            "{listed}"
        );
        assert!(!listed.to_string().contains("sk-local"), "{listed}");
        assert!(
            !listed.to_string().contains("test-anthropic-key"),
            "{listed}"
        );
        let updated = admin
            .call_ok(
                "providers.update",
                json!({ "name": "local", "enabled": false }),
            )
            .await;
        assert_eq!(updated["provider"]["enabled"], false);
        admin
            .call_ok("providers.delete", json!({ "name": "local" }))
            .await;
        let res = admin
            .call("providers.delete", json!({ "name": "local" }))
            .await;
        assert_eq!(res["error"]["code"], "NOT_FOUND", "{res}");
    }
);

// The configured `anthropic` provider and a stored one both point at the fake LLM; the
// stored one's key shows which answered.
app_test!(
    runs_use_stored_providers_first,
    keyed_app,
    |app: TestApp| async move {
        let chat = |app: &TestApp| {
            let request = app
            .client
            .post(app.url("/v1/chat/completions"))
            .bearer_auth(TOKEN)
            .json(&json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": "hi" }] }));
            async move { request.send().await.expect("POST").status().as_u16() }
        };
        let last_key = |app: &TestApp| {
            let requests = app.llm.requests();
            let last = requests.last().expect("the fake LLM was called");
            last.header("x-api-key")
                .or_else(|| last.header("authorization"))
                .unwrap_or_default()
                .to_owned()
        };
        assert_eq!(chat(&app).await, 200);
        assert_eq!(last_key(&app), "test-anthropic-key");

        let body = json!({ "name": "anthropic", "provider_type": "anthropic_native", "api_base": app.llm.base_url(), "api_key": "stored-anthropic-key" });
        let (status, created) = send(&app, "POST", "/v1/providers", Some(body)).await;
        assert_eq!(status, 201, "{created}");
        assert_eq!(chat(&app).await, 200);
        assert_eq!(last_key(&app), "stored-anthropic-key");

        // An OpenAI-compatible stored provider under a new name, used by an agent.
        let body = json!({ "name": "custom", "api_base": app.llm.base_url(), "api_key": "stored-custom-key" });
        assert_eq!(send(&app, "POST", "/v1/providers", Some(body)).await.0, 201);
        let agent = json!({ "name": "Custom", "provider": "custom", "model": "m-1" });
        assert_eq!(send(&app, "POST", "/v1/agents", Some(agent)).await.0, 201);
        let response = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .json(
            &json!({ "model": "goclaw:custom", "messages": [{ "role": "user", "content": "hi" }] }),
        )
        .send()
        .await
        .expect("POST");
        assert_eq!(response.status(), 200);
        assert_eq!(last_key(&app), "Bearer stored-custom-key");

        // Disabled or deleted, the stored provider gives way to the configured one again.
        let disable = json!({ "enabled": false });
        assert_eq!(
            send(&app, "PUT", "/v1/providers/anthropic", Some(disable))
                .await
                .0,
            200
        );
        assert_eq!(chat(&app).await, 200);
        assert_eq!(last_key(&app), "test-anthropic-key");
        assert_eq!(
            send(&app, "DELETE", "/v1/providers/custom", None).await.0,
            200
        );
        let response = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .json(
            &json!({ "model": "goclaw:custom", "messages": [{ "role": "user", "content": "hi" }] }),
        )
        .send()
        .await
        .expect("POST");
        assert_ne!(response.status(), 200, "the deleted provider is gone");
    }
);

/// Without `GOCLAW_ENCRYPTION_KEY` a provider key is refused, never stored in plaintext.
async fn keyless_refuses_keys(backend: StoreBackend) {
    let Some(app) = spawn_app_with(backend, &[]).await else {
        return;
    };
    let body = json!({ "name": "openai-2", "api_key": "sk-should-not-be-stored" });
    let response = app
        .client
        .post(app.url("/v1/providers"))
        .json(&body)
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 400);
    let text = response.text().await.unwrap_or_default();
    assert!(text.contains("GOCLAW_ENCRYPTION_KEY"), "{text}");
    assert!(!text.contains("sk-should-not-be-stored"), "{text}");
    let stored = app
        .db
        .store()
        .llm_providers()
        .list(MASTER_TENANT_ID)
        .await
        .expect("list");
    assert!(stored.is_empty(), "nothing stored in plaintext");

    // Without a token, WebSocket callers are operators: provider methods are not theirs.
    let mut operator = app.ws_connect("bob").await;
    let res = operator.call("providers.list", json!({})).await;
    assert_eq!(res["error"]["code"], "UNAUTHORIZED", "{res}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_provider_keys_are_refused_sqlite() {
    keyless_refuses_keys(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_key_provider_keys_are_refused_postgres() {
    keyless_refuses_keys(StoreBackend::Postgres).await;
}

/// Builds the application on `db` with `extra` variables; the error text when it refuses.
async fn build_error(db: &TestDatabase, extra: &[(&str, &str)]) -> Option<String> {
    let data_dir = tempfile::tempdir().expect("data dir");
    let loaded = test_config(db, &data_dir, extra);
    goclaw::Application::build(&loaded)
        .await
        .err()
        .map(|e| goclaw::one_line(&e))
}

async fn start_up_checks_the_key(backend: StoreBackend) {
    let Some(db) = TestDatabase::migrated(backend).await else {
        return;
    };
    assert_eq!(
        build_error(&db, &[]).await,
        None,
        "an empty database needs no key"
    );
    assert_eq!(
        build_error(&db, &[("GOCLAW_ENCRYPTION_KEY", KEY)]).await,
        None
    );
    let bad = build_error(&db, &[("GOCLAW_ENCRYPTION_KEY", "too-short")]).await;
    let bad = bad.expect("an invalid key is refused");
    assert!(
        bad.contains("64 hexadecimal") && !bad.contains("too-short"),
        "{bad}"
    );

    let store = db.store();
    let mut provider =
        NewLlmProvider::new(MASTER_TENANT_ID, ProviderName::parse("p").expect("name"));
    provider.api_key_ciphertext = secret_box(KEY).encrypt("sk-stored");
    store
        .llm_providers()
        .create(provider)
        .await
        .expect("provider");
    store
        .secrets()
        .set_config_secret(
            MASTER_TENANT_ID,
            "gateway.token",
            &secret_box(KEY).encrypt("tok"),
        )
        .await
        .expect("config secret");

    let missing = build_error(&db, &[]).await.expect("refused without a key");
    assert!(
        missing.contains(
            "the database holds 2 encrypted secrets but GOCLAW_ENCRYPTION_KEY is not set: \
             restore the key from your backup"
        ),
        "{missing}"
    );
    let wrong = build_error(&db, &[("GOCLAW_ENCRYPTION_KEY", OTHER_KEY)]).await;
    let wrong = wrong.expect("refused with the wrong key");
    assert!(
        wrong.contains(
            "GOCLAW_ENCRYPTION_KEY does not decrypt the stored secrets (wrong key?): restore \
             the correct key from your backup"
        ),
        "{wrong}"
    );
    assert_eq!(
        build_error(&db, &[("GOCLAW_ENCRYPTION_KEY", KEY)]).await,
        None
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_checks_the_key_sqlite() {
    start_up_checks_the_key(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn start_up_checks_the_key_postgres() {
    start_up_checks_the_key(StoreBackend::Postgres).await;
}
