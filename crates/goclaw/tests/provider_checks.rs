//! The providers of the configuration next to the stored ones, and asking a provider's API, over
//! real HTTP on both engines as an admin, two users with their own keys and a viewer: every
//! caller reads the list (keys only as `"***"`), where the test configuration's `anthropic` and
//! `openai` appear read-only with GoClaw's provider types and stable ids; changing or deleting
//! one is refused and it stays; `/models` asks the provider's own API (both wire formats,
//! through the fake LLM, with the key) for readers; `/verify` tries a model with a one-word chat
//! for admins only, and a provider's failure is `valid: false`; a stored provider without a key
//! is refused with GoClaw's message. No answer carries a configured key.

mod support;

use goclaw_testkit::{FAKE_MODELS, Reply, StoreBackend, TestApp, app_test};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};

const TOKEN: &str = "provider-checks-token-51ad";
const ENCRYPTION_KEY: &str = "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988";
/// The keys the test harness configures for its two providers.
const CONFIGURED_KEYS: [&str; 2] = ["test-anthropic-key", "test-openai-key"];

async fn app(backend: StoreBackend) -> Option<TestApp> {
    goclaw_testkit::spawn_app_with(
        backend,
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ],
    )
    .await
}

/// The listed providers as (name, source, read_only, provider_type).
fn listed(body: &Value) -> Vec<(String, String, bool, String)> {
    body["providers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            let text = |key: &str| p[key].as_str().unwrap_or_default().to_owned();
            let read_only = p["read_only"].as_bool().unwrap_or(false);
            (
                text("name"),
                text("source"),
                read_only,
                text("provider_type"),
            )
        })
        .collect()
}

/// No configured key in `body`.
fn assert_no_key(body: &Value) {
    let text = body.to_string();
    for key in CONFIGURED_KEYS {
        assert!(!text.contains(key), "{key} leaked: {text}");
    }
}

app_test!(
    every_reader_sees_the_configured_providers_read_only,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let expected = vec![
            (
                "anthropic".to_owned(),
                "config".to_owned(),
                true,
                "anthropic_native".to_owned(),
            ),
            (
                "openai".to_owned(),
                "config".to_owned(),
                true,
                "openai_compat".to_owned(),
            ),
        ];
        let mut ids = Vec::new();
        for who in ["admin", "alice", "bob", "vera"] {
            let (status, body) = callers
                .call(&app, who, Method::GET, "/v1/providers", None)
                .await;
            assert_eq!(status, 200, "{who}: {body}");
            assert_eq!(listed(&body), expected, "{who}");
            assert_eq!(body["providers"][0]["api_key"], "***");
            assert_no_key(&body);
            ids.push(body["providers"][0]["id"].clone());
        }
        assert!(
            ids.windows(2).all(|w| w[0] == w[1]),
            "one stable id: {ids:?}"
        );

        // By id or by name.
        let id = ids[0].as_str().unwrap_or_default().to_owned();
        for path in [
            format!("/v1/providers/{id}"),
            "/v1/providers/anthropic".to_owned(),
        ] {
            let (status, one) = callers.call(&app, "vera", Method::GET, &path, None).await;
            assert_eq!(
                (status, one["name"].clone()),
                (200, json!("anthropic")),
                "{one}"
            );
        }

        // Read-only: refused for everyone, still listed.
        for who in ["admin", "alice"] {
            let (status, refused) = callers
                .call(
                    &app,
                    who,
                    Method::PUT,
                    "/v1/providers/anthropic",
                    Some(json!({ "enabled": false })),
                )
                .await;
            assert_eq!(status, 403, "{who}: {refused}");
            let (status, refused) = callers
                .call(
                    &app,
                    who,
                    Method::DELETE,
                    &format!("/v1/providers/{id}"),
                    None,
                )
                .await;
            assert_eq!(status, 403, "{who}: {refused}");
        }
        let (_, refused) = callers
            .call(&app, "admin", Method::DELETE, "/v1/providers/openai", None)
            .await;
        let message = refused["error"]["message"].as_str().unwrap_or_default();
        assert!(message.contains("read-only"), "{refused}");
        let (_, body) = callers
            .call(&app, "admin", Method::GET, "/v1/providers", None)
            .await;
        assert_eq!(listed(&body), expected);
    }
);

app_test!(
    models_are_asked_of_the_providers_api,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let want: Vec<Value> = FAKE_MODELS
            .iter()
            .map(|(id, name)| json!({ "id": id, "name": name }))
            .collect();
        for (who, provider) in [("vera", "anthropic"), ("alice", "openai")] {
            let path = format!("/v1/providers/{provider}/models");
            let (status, body) = callers.call(&app, who, Method::GET, &path, None).await;
            assert_eq!(status, 200, "{who} {provider}: {body}");
            assert_eq!(body, json!({ "models": want }), "{provider}");
        }

        // A stored provider without a key: GoClaw's refusal; one whose API does not answer
        // lists nothing.
        let base = app.llm.base_url();
        let keyless = json!({ "name": "keyless", "provider_type": "groq", "api_base": base });
        let (status, _) = callers
            .call(&app, "admin", Method::POST, "/v1/providers", Some(keyless))
            .await;
        assert_eq!(status, 201);
        let (status, refused) = callers
            .call(
                &app,
                "vera",
                Method::GET,
                "/v1/providers/keyless/models",
                None,
            )
            .await;
        assert_eq!(status, 400, "{refused}");
        assert_eq!(refused["error"]["message"], "API key is required");
        let unreachable = json!({
            "name": "unreachable", "provider_type": "openai_compat",
            "api_base": "http://127.0.0.1:9/v1", "api_key": "sk-unreachable-5566",
        });
        let (status, _) = callers
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/providers",
                Some(unreachable),
            )
            .await;
        assert_eq!(status, 201);
        let (status, body) = callers
            .call(
                &app,
                "bob",
                Method::GET,
                "/v1/providers/unreachable/models",
                None,
            )
            .await;
        assert_eq!((status, body), (200, json!({ "models": [] })));
    }
);

app_test!(
    verify_tries_the_model_for_admins_only,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        let ask = Some(json!({ "model": "fake-large" }));
        for who in ["alice", "vera"] {
            let (status, _) = callers
                .call(
                    &app,
                    who,
                    Method::POST,
                    "/v1/providers/anthropic/verify",
                    ask.clone(),
                )
                .await;
            assert_eq!(status, 403, "{who}");
        }
        assert_eq!(
            app.llm.request_count(),
            0,
            "nothing asked for a refused caller"
        );

        app.llm.push(Reply::text("hello"));
        let (status, body) = callers
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/providers/anthropic/verify",
                ask.clone(),
            )
            .await;
        assert_eq!((status, body), (200, json!({ "valid": true })));
        let sent = app.llm.requests().pop().expect("the verifying chat");
        assert_eq!(sent.path, "/v1/messages");
        assert_eq!(sent.body["model"], "fake-large");
        assert_eq!(sent.body["max_tokens"], 50);
        assert_eq!(sent.header("x-api-key"), Some(CONFIGURED_KEYS[0]));

        app.llm.push(Reply::http_error(
            404,
            r#"{"error":{"message":"no such model"}}"#,
        ));
        let (status, body) = callers
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/providers/openai/verify",
                ask,
            )
            .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["valid"], false, "{body}");
        assert!(
            body["error"]
                .as_str()
                .is_some_and(|e| e.contains("no such model")),
            "{body}"
        );
        assert_no_key(&body);

        let (status, _) = callers
            .call(
                &app,
                "admin",
                Method::POST,
                "/v1/providers/openai/verify",
                Some(json!({ "model": " " })),
            )
            .await;
        assert_eq!(status, 400);
    }
);
