//! The memory and system-config routes on both engines, as two users with keys bound to them,
//! a viewer, an admin and a user of another tenant: each reads, writes and searches only the
//! memory it may; naming another user's memory needs an admin; another tenant's agents and
//! documents do not exist for a caller. Choosing the embedding provider through
//! `PUT /v1/system-configs/embedding.provider` takes effect at once: documents get vectors
//! from the (fake) provider and `/v1/embedding/status` says which.

mod support;

use goclaw_core::ApiKeyScope;
use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with_config};
use serde_json::{Value, json};

const TOKEN: &str = "memory-http-token-6b2f0c9e";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

/// Bearer tokens of the callers.
struct Callers {
    alice: String,
    bob: String,
    viewer: String,
    carol: String,
}

async fn key(app: &TestApp, scopes: &[&str], owner: &str) -> String {
    let body = json!({ "name": owner, "scopes": scopes, "owner_id": owner });
    app.create_api_key(TOKEN, body).await.1
}

/// Alice and Bob (read+write, bound), a viewer (read, bound), and Carol of tenant `acme`
/// with an agent `helper` there.
async fn callers(app: &TestApp) -> Callers {
    let acme = app
        .other_tenant(
            "acme",
            "helper",
            "carol",
            &[ApiKeyScope::Read, ApiKeyScope::Write],
        )
        .await;
    Callers {
        alice: key(app, &["operator.read", "operator.write"], "alice").await,
        bob: key(app, &["operator.read", "operator.write"], "bob").await,
        viewer: key(app, &["operator.read"], "vera").await,
        carol: acme.key,
    }
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    bearer: &str,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let user = (bearer == TOKEN).then_some("admin");
    support::http::call(app, bearer, user, method, path, body).await
}

async fn get(app: &TestApp, bearer: &str, path: &str) -> (u16, Value) {
    send(app, reqwest::Method::GET, bearer, path, None).await
}

async fn put(app: &TestApp, bearer: &str, path: &str, body: Value) -> (u16, Value) {
    send(app, reqwest::Method::PUT, bearer, path, Some(body)).await
}

async fn post(app: &TestApp, bearer: &str, path: &str, body: Value) -> (u16, Value) {
    send(app, reqwest::Method::POST, bearer, path, Some(body)).await
}

fn paths(listed: &Value) -> Vec<String> {
    listed
        .as_array()
        .unwrap_or_else(|| panic!("a bare array: {listed}"))
        .iter()
        .map(|d| {
            format!(
                "{}@{}",
                d["path"].as_str().unwrap_or(""),
                d["user_id"].as_str().unwrap_or("shared")
            )
        })
        .collect()
}

fn found(results: &Value) -> Vec<String> {
    results["results"]
        .as_array()
        .unwrap_or_else(|| panic!("results: {results}"))
        .iter()
        .map(|r| r["snippet"].as_str().unwrap_or("").to_owned())
        .collect()
}

const DOCS: &str = "/v1/agents/default/memory/documents";
const SEARCH: &str = "/v1/agents/default/memory/search";

app_test!(
    each_user_reads_writes_and_searches_only_their_own_memory,
    app,
    |app: TestApp| async move {
        let c = callers(&app).await;
        let (status, body) = put(
            &app,
            &c.alice,
            &format!("{DOCS}/MEMORY.md"),
            json!({ "content": "# Alice\n\nAlice drinks jasmine tea every morning.\n" }),
        )
        .await;
        assert_eq!(
            (status, &body),
            (200, &json!({"status": "ok", "path": "MEMORY.md"}))
        );
        let (status, _) = put(
            &app,
            &c.bob,
            &format!("{DOCS}/MEMORY.md"),
            json!({ "content": "Bob drinks black coffee.\n" }),
        )
        .await;
        assert_eq!(status, 200);

        // Lists: each user their own; the admin every user's.
        assert_eq!(
            paths(&get(&app, &c.alice, DOCS).await.1),
            ["MEMORY.md@alice"]
        );
        assert_eq!(paths(&get(&app, &c.bob, DOCS).await.1), ["MEMORY.md@bob"]);
        assert!(paths(&get(&app, &c.viewer, DOCS).await.1).is_empty());
        let (status, all) = get(&app, TOKEN, DOCS).await;
        assert_eq!(status, 200);
        assert_eq!(paths(&all), ["MEMORY.md@alice", "MEMORY.md@bob"]);
        assert_eq!(
            paths(&get(&app, TOKEN, "/v1/memory/documents").await.1).len(),
            2
        );
        assert_eq!(
            paths(&get(&app, &c.alice, "/v1/memory/documents").await.1),
            ["MEMORY.md@alice"]
        );

        // One document, GoClaw's DocumentDetail.
        let (status, detail) = get(&app, &c.alice, &format!("{DOCS}/MEMORY.md")).await;
        assert_eq!(status, 200, "{detail}");
        assert_eq!(detail["user_id"], "alice");
        assert!(
            detail["content"]
                .as_str()
                .is_some_and(|c| c.contains("jasmine"))
        );
        assert!(
            detail["chunk_count"].as_u64().is_some_and(|n| n >= 1),
            "{detail}"
        );
        assert_eq!(detail["embedded_count"], 0, "no embedding provider yet");
        let (status, chunks) = get(
            &app,
            &c.alice,
            "/v1/agents/default/memory/chunks?path=MEMORY.md",
        )
        .await;
        assert_eq!(status, 200);
        assert_eq!(chunks[0]["has_embedding"], false, "{chunks}");
        assert!(
            chunks[0]["text_preview"]
                .as_str()
                .is_some_and(|t| t.contains("jasmine"))
        );

        // Searches see only the caller's memory.
        let (status, mine) = post(&app, &c.alice, SEARCH, json!({ "query": "jasmine" })).await;
        assert_eq!(status, 200, "{mine}");
        assert_eq!(mine["count"], 1);
        assert_eq!(mine["results"][0]["scope"], "personal");
        assert!(found(&mine)[0].contains("jasmine tea"));
        assert!(
            found(
                &post(&app, &c.bob, SEARCH, json!({ "query": "jasmine" }))
                    .await
                    .1
            )
            .is_empty()
        );
        assert!(
            found(
                &post(&app, &c.viewer, SEARCH, json!({ "query": "jasmine" }))
                    .await
                    .1
            )
            .is_empty()
        );

        // Naming another user needs an admin, on every route that takes a user.
        let forbidden = [
            get(&app, &c.bob, &format!("{DOCS}?user_id=alice")).await,
            get(&app, &c.bob, &format!("{DOCS}/MEMORY.md?user_id=alice")).await,
            get(
                &app,
                &c.viewer,
                "/v1/agents/default/memory/chunks?path=MEMORY.md&user_id=alice",
            )
            .await,
            post(
                &app,
                &c.bob,
                SEARCH,
                json!({ "query": "jasmine", "user_id": "alice" }),
            )
            .await,
            put(
                &app,
                &c.bob,
                &format!("{DOCS}/MEMORY.md"),
                json!({ "content": "x", "user_id": "alice" }),
            )
            .await,
            post(
                &app,
                &c.bob,
                "/v1/agents/default/memory/index",
                json!({ "path": "MEMORY.md", "user_id": "alice" }),
            )
            .await,
            post(
                &app,
                &c.bob,
                "/v1/agents/default/memory/index-all",
                json!({ "user_id": "alice" }),
            )
            .await,
            send(
                &app,
                reqwest::Method::DELETE,
                &c.bob,
                &format!("{DOCS}/MEMORY.md?user_id=alice"),
                None,
            )
            .await,
        ];
        for (status, body) in &forbidden {
            assert_eq!(*status, 403, "{body}");
        }
        let (status, theirs) = post(
            &app,
            TOKEN,
            SEARCH,
            json!({ "query": "jasmine", "user_id": "alice" }),
        )
        .await;
        assert_eq!(
            (status, found(&theirs).len()),
            (200, 1),
            "an admin may: {theirs}"
        );

        // The viewer only reads.
        let (status, _) = put(
            &app,
            &c.viewer,
            &format!("{DOCS}/MEMORY.md"),
            json!({ "content": "v" }),
        )
        .await;
        assert_eq!(status, 403);
        let (status, _) = post(
            &app,
            &c.viewer,
            "/v1/agents/default/memory/index-all",
            json!({}),
        )
        .await;
        assert_eq!(status, 403);

        // Bob's delete touches his document only.
        let (status, body) = send(
            &app,
            reqwest::Method::DELETE,
            &c.bob,
            &format!("{DOCS}/MEMORY.md"),
            None,
        )
        .await;
        assert_eq!((status, &body), (200, &json!({"status": "deleted"})));
        assert_eq!(paths(&get(&app, TOKEN, DOCS).await.1), ["MEMORY.md@alice"]);
        let (status, _) = send(
            &app,
            reqwest::Method::DELETE,
            &c.bob,
            &format!("{DOCS}/MEMORY.md"),
            None,
        )
        .await;
        assert_eq!(status, 404);

        // Another tenant: master's agent and Alice's memory do not exist for Carol.
        assert_eq!(get(&app, &c.carol, DOCS).await.0, 404);
        assert_eq!(
            post(&app, &c.carol, SEARCH, json!({ "query": "jasmine" }))
                .await
                .0,
            404
        );
        assert!(paths(&get(&app, &c.carol, "/v1/memory/documents").await.1).is_empty());
        let helper = "/v1/agents/helper/memory";
        let (status, _) = put(
            &app,
            &c.carol,
            &format!("{helper}/documents/MEMORY.md"),
            json!({ "content": "Carol drinks jasmine tea too.\n" }),
        )
        .await;
        assert_eq!(status, 200);
        let carols = found(
            &post(
                &app,
                &c.carol,
                &format!("{helper}/search"),
                json!({ "query": "jasmine" }),
            )
            .await
            .1,
        );
        assert_eq!(carols, ["Carol drinks jasmine tea too."]);
        // Acme's agent does not exist for Alice; the admin of master does not see acme's document.
        assert_eq!(
            post(
                &app,
                &c.alice,
                &format!("{helper}/search"),
                json!({ "query": "jasmine" })
            )
            .await
            .0,
            404
        );
        assert_eq!(
            paths(&get(&app, TOKEN, "/v1/memory/documents").await.1),
            ["MEMORY.md@alice"]
        );
    }
);

app_test!(
    the_embedding_provider_chosen_by_system_config_takes_effect_at_once,
    app,
    |app: TestApp| async move {
        let c = callers(&app).await;
        let status = "/v1/embedding/status";
        assert_eq!(
            get(&app, &c.viewer, status).await,
            (200, json!({"configured": false}))
        );
        assert_eq!(
            get(&app, &c.viewer, "/v1/system-configs").await,
            (200, json!({}))
        );

        // Only admins write settings; nobody stores a secret's name here.
        let setting = "/v1/system-configs/embedding.provider";
        assert_eq!(
            put(&app, &c.alice, setting, json!({"value": "openai"}))
                .await
                .0,
            403
        );
        assert_eq!(
            put(&app, &c.viewer, setting, json!({"value": "openai"}))
                .await
                .0,
            403
        );
        assert_eq!(
            put(
                &app,
                TOKEN,
                "/v1/system-configs/gateway.token",
                json!({"value": "x"})
            )
            .await
            .0,
            400
        );
        assert_eq!(
            put(
                &app,
                TOKEN,
                "/v1/system-configs/bad key!",
                json!({"value": "x"})
            )
            .await
            .0,
            400
        );

        assert_eq!(
            put(&app, TOKEN, setting, json!({"value": "openai"})).await,
            (200, json!({"key": "embedding.provider", "value": "openai"}))
        );
        assert_eq!(
            get(&app, &c.viewer, setting).await,
            (200, json!({"key": "embedding.provider", "value": "openai"}))
        );
        assert_eq!(
            get(&app, &c.viewer, status).await.1,
            json!({"configured": true, "provider": "openai", "provider_name": "openai",
                   "model": "text-embedding-3-small"})
        );
        assert_eq!(
            get(&app, &c.bob, "/v1/system-configs").await.1,
            json!({"embedding.provider": "openai"})
        );

        // Writes are embedded through the provider now, and so are queries.
        let before = app.llm.embedding_request_count();
        let (code, _) = put(
            &app,
            &c.alice,
            &format!("{DOCS}/memory/tea.md"),
            json!({ "content": "Alice drinks jasmine tea every morning.\n" }),
        )
        .await;
        assert_eq!(code, 200);
        assert!(
            app.llm.embedding_request_count() > before,
            "the chunk was embedded"
        );
        let (_, detail) = get(&app, &c.alice, &format!("{DOCS}/memory/tea.md")).await;
        assert_eq!(detail["embedded_count"], detail["chunk_count"], "{detail}");
        let requests = app.llm.embedding_requests();
        let last = requests.last().expect("an embeddings request");
        assert_eq!(last.body["model"], "text-embedding-3-small");
        assert_eq!(last.body["dimensions"], 1536);
        let (code, results) = post(&app, &c.alice, SEARCH, json!({ "query": "jasmine tea" })).await;
        assert_eq!(code, 200);
        assert_eq!(found(&results).len(), 1, "{results}");

        // Deleting the setting goes back to full text only.
        let (code, _) = send(&app, reqwest::Method::DELETE, TOKEN, setting, None).await;
        assert_eq!(code, 204);
        assert_eq!(
            get(&app, &c.viewer, status).await.1,
            json!({"configured": false})
        );
        assert_eq!(get(&app, &c.viewer, setting).await.0, 404);
        let before = app.llm.embedding_request_count();
        put(
            &app,
            &c.alice,
            &format!("{DOCS}/memory/more.md"),
            json!({ "content": "More tea.\n" }),
        )
        .await;
        assert_eq!(
            app.llm.embedding_request_count(),
            before,
            "nothing embedded without a provider"
        );
    }
);
