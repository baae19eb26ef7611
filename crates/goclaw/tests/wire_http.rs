//! GoClaw's wire shapes on every HTTP route: each route of `/v1`, `/health` and `/ready` is
//! called on the real application and its body compared with the fixture written from GoClaw's
//! JSON tags (`tests/fixtures/goclaw_wire/http_*.json`), with exact values where they matter
//! (the `"***"` mask, bare arrays, GoClaw's `ok`/`status` answers). Also the matcher's own
//! checks, so a mismatch is known to fail.

mod support;

use std::time::Duration;

use goclaw_testkit::{Reply, StoreBackend, TestApp, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::wire::{assert_goclaw_shape, fixture, shape_mismatches};

const TOKEN: &str = "wire-http-test-token-3c9a1f";
const ENCRYPTION_KEY: &str = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";

/// The app under test: SQLite (the store tests cover both engines), a gateway token and an
/// encryption key, so providers may carry keys.
async fn app() -> TestApp {
    spawn_app_with_config(
        StoreBackend::Sqlite,
        "{}",
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ],
    )
    .await
    .expect("SQLite is always available")
}

/// `method path` with the gateway token as user `alice`; the status and the JSON body.
async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .bearer_auth(TOKEN)
        .header("X-GoClaw-User-Id", "alice");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.expect("a body");
    let json = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("{method} {path} answered {status} with no JSON ({e}): {text}"));
    (status, json)
}

async fn get(app: &TestApp, path: &str) -> (u16, Value) {
    call(app, Method::GET, path, None).await
}

fn text<'a>(body: &'a Value, field: &str) -> &'a str {
    body[field]
        .as_str()
        .unwrap_or_else(|| panic!("{field} is not a string in {body}"))
}

/// Creates agent `reviewer` with GoClaw's field names.
async fn create_reviewer(app: &TestApp) -> Value {
    let body = json!({
        "agent_key": "reviewer",
        "display_name": "Code Reviewer",
        "agent_type": "predefined",
        "context_window": 64000,
        "model": "gpt-4o",
        "provider": "openai",
    });
    let (status, created) = call(app, Method::POST, "/v1/agents", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// Creates provider `groq-eu` with an API key and a base URL.
async fn create_provider(app: &TestApp) -> Value {
    let body = json!({
        "name": "groq-eu",
        "display_name": "Groq (EU)",
        "provider_type": "groq",
        "api_base": "https://api.groq.com/openai/v1",
        "api_key": "gsk-secret-0123456789-wxyz",
        "enabled": true,
    });
    let (status, created) = call(app, Method::POST, "/v1/providers", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    created
}

/// Creates an `operator.read` API key; its id.
async fn create_key(app: &TestApp) -> String {
    let body = json!({ "name": "ci-deploy", "scopes": ["operator.read"] });
    let (status, created) = call(app, Method::POST, "/v1/api-keys", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    text(&created, "id").to_owned()
}

/// Runs one chat completion as `alice` and waits until its trace is finished; the trace as
/// the list shows it.
async fn finished_trace(app: &TestApp) -> Value {
    app.llm.push(Reply::text("traced answer"));
    let body = json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": "hi" }], "user": "alice" });
    let (status, answer) = call(app, Method::POST, "/v1/chat/completions", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    for _ in 0..100 {
        let (_, listed) = get(app, "/v1/traces").await;
        let done = listed["traces"]
            .as_array()
            .and_then(|traces| traces.iter().find(|t| t["status"] != "running"));
        if let Some(trace) = done {
            return trace.clone();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no finished trace within 10 s");
}

#[test]
fn the_matcher_reports_a_missing_key() {
    let found = shape_mismatches(
        &json!({ "agents": [{ "agent_key": "", "is_default": false }] }),
        &json!({ "agents": [{ "agent_key": "a", "isDefault": true }] }),
    );
    assert_eq!(found, ["$.agents[0].is_default: missing"]);
}

#[test]
fn the_matcher_reports_a_wrong_kind() {
    let mut found = shape_mismatches(
        &json!({ "ok": "true", "context_window": 0 }),
        &json!({ "ok": true, "context_window": 1.5 }),
    );
    found.sort();
    assert_eq!(
        found,
        [
            "$.context_window: expected an integer, got 1.5",
            "$.ok: expected a string, got a boolean",
        ]
    );
}

#[test]
fn the_matcher_reports_an_object_for_an_array() {
    let bare = fixture("http_get_v1_api-keys");
    let found = shape_mismatches(&bare, &json!({ "keys": [] }));
    assert_eq!(found, ["$: expected an array, got an object"]);
    let wrapped = fixture("http_get_v1_agents");
    let found = shape_mismatches(&wrapped, &json!([]));
    assert_eq!(found, ["$: expected an object, got an array"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_health() {
    let app = app().await;
    let (status, body) = get(&app, "/health").await;
    assert_eq!(status, 200);
    assert_goclaw_shape("http_get_health", &body);
    assert_eq!(body, json!({ "status": "ok", "protocol": 3 }));
}

/// `/ready` is ours (GoClaw has none), so there is no fixture: its body is pinned here.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_ready() {
    let app = app().await;
    let (status, body) = get(&app, "/ready").await;
    assert_eq!(status, 200);
    assert_eq!(body, json!({ "status": "ready", "database": "sqlite" }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_v1_agents() {
    let app = app().await;
    let (status, body) = get(&app, "/v1/agents").await;
    assert_eq!(status, 200);
    assert_goclaw_shape("http_get_v1_agents", &body);
    let agents = body["agents"].as_array().expect("agents");
    assert_eq!(agents.len(), 1, "{body}");
    let default = &agents[0];
    assert_eq!(default["agent_key"], "default");
    assert_eq!(default["is_default"], true);
    assert_eq!(default["status"], "active");
    assert!(
        uuid::Uuid::parse_str(text(default, "id")).is_ok(),
        "id is the agent's UUID: {default}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_v1_agents() {
    let app = app().await;
    let created = create_reviewer(&app).await;
    assert_goclaw_shape("http_post_v1_agents", &created);
    assert_eq!(created["agent_key"], "reviewer");
    assert_eq!(created["display_name"], "Code Reviewer");
    assert_eq!(created["agent_type"], "predefined");
    assert_eq!(created["context_window"], 64000);
    assert_eq!(created["is_default"], false);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_v1_agents_id() {
    let app = app().await;
    let created = create_reviewer(&app).await;
    let id = text(&created, "id");
    let (status, by_uuid) = get(&app, &format!("/v1/agents/{id}")).await;
    assert_eq!(status, 200, "{by_uuid}");
    assert_goclaw_shape("http_get_v1_agents_id", &by_uuid);
    let (status, by_key) = get(&app, "/v1/agents/reviewer").await;
    assert_eq!(status, 200, "{by_key}");
    assert_eq!(by_key, by_uuid, "the UUID and the key name the same agent");
    let (status, missing) = get(&app, "/v1/agents/0190f5c2-0000-7000-8000-000000000000").await;
    assert_eq!(status, 404, "{missing}");
    assert_goclaw_shape("http_error", &missing);
    assert_eq!(missing["error"]["code"], "NOT_FOUND");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_v1_agents_id() {
    let app = app().await;
    let created = create_reviewer(&app).await;
    let path = format!("/v1/agents/{}", text(&created, "id"));
    let change = json!({ "display_name": "Senior Reviewer", "max_tool_iterations": 12 });
    let (status, updated) = call(&app, Method::PUT, &path, Some(change)).await;
    assert_eq!(status, 200, "{updated}");
    assert_goclaw_shape("http_put_v1_agents_id", &updated);
    assert_eq!(updated["ok"], "true");
    assert_eq!(updated["display_name"], "Senior Reviewer");
    let (_, read) = get(&app, "/v1/agents/reviewer").await;
    assert_eq!(read["max_tool_iterations"], 12, "{read}");
    let by_key = json!({ "status": "inactive" });
    let (status, updated) = call(&app, Method::PUT, "/v1/agents/reviewer", Some(by_key)).await;
    assert_eq!((status, &updated["status"]), (200, &json!("inactive")));
    // A client sending back the whole agent it read, as GoClaw's dashboard may.
    let mut whole = read.clone();
    whole["display_name"] = json!("Reviewer");
    let (status, updated) = call(&app, Method::PUT, &path, Some(whole)).await;
    assert_eq!(status, 200, "{updated}");
    assert_eq!(updated["display_name"], "Reviewer");
    assert_eq!(updated["agent_key"], "reviewer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_v1_agents_id() {
    let app = app().await;
    let created = create_reviewer(&app).await;
    let path = format!("/v1/agents/{}", text(&created, "id"));
    let (status, deleted) = call(&app, Method::DELETE, &path, None).await;
    assert_eq!(status, 200, "{deleted}");
    assert_goclaw_shape("http_delete_v1_agents_id", &deleted);
    assert_eq!(deleted, json!({ "ok": "true" }));
    let (status, gone) = get(&app, "/v1/agents/reviewer").await;
    assert_eq!(status, 404, "{gone}");
    assert_goclaw_shape("http_error", &gone);
}

/// GoClaw's edition record, without credentials (its dashboard reads it before signing in).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_v1_edition() {
    let app = app().await;
    let response = app.get("/v1/edition").await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(
        body,
        json!({
            "name": "standard", "max_agents": 0, "max_teams": 0, "max_team_members": 0,
            "max_channels": null, "max_subagent_concurrent": 0, "max_subagent_depth": 0,
            "kg_enabled": true, "rbac_enabled": true, "team_full_mode": true,
            "vector_search": true, "supports_pip_npm": false, "supports_apk": false,
        })
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_v1_providers() {
    let app = app().await;
    create_provider(&app).await;
    let (status, body) = get(&app, "/v1/providers").await;
    assert_eq!(status, 200);
    assert_goclaw_shape("http_get_v1_providers", &body);
    // The stored provider, then the two of the test configuration, read-only.
    let listed: Vec<(Value, Value, Value)> = body["providers"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| {
            (
                p["name"].clone(),
                p["source"].clone(),
                p["read_only"].clone(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (json!("groq-eu"), json!("database"), json!(false)),
            (json!("anthropic"), json!("config"), json!(true)),
            (json!("openai"), json!("config"), json!(true)),
        ]
    );
    for provider in body["providers"].as_array().into_iter().flatten() {
        assert_eq!(provider["api_key"], "***", "{provider}");
        assert_eq!(provider["enabled"], true, "{provider}");
    }
    assert_eq!(body["providers"][1]["provider_type"], "anthropic_native");
    assert_eq!(body["providers"][2]["provider_type"], "openai_compat");
    assert!(!body.to_string().contains("0123456789"), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_v1_providers() {
    let app = app().await;
    let created = create_provider(&app).await;
    assert_goclaw_shape("http_post_v1_providers", &created);
    assert_eq!(created["api_key"], "***");
    assert_eq!(created["enabled"], true);
    assert_eq!(created["provider_type"], "groq");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_v1_providers_id() {
    let app = app().await;
    let created = create_provider(&app).await;
    let id = text(&created, "id");
    let (status, by_uuid) = get(&app, &format!("/v1/providers/{id}")).await;
    assert_eq!(status, 200, "{by_uuid}");
    assert_goclaw_shape("http_get_v1_providers_id", &by_uuid);
    assert_eq!(by_uuid["api_key"], "***");
    let (status, by_name) = get(&app, "/v1/providers/groq-eu").await;
    assert_eq!(status, 200, "{by_name}");
    assert_eq!(
        by_name, by_uuid,
        "the UUID and the name name the same provider"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn put_v1_providers_id() {
    let app = app().await;
    let created = create_provider(&app).await;
    let path = format!("/v1/providers/{}", text(&created, "id"));
    // A form sends back the mask it was shown: the stored key stays.
    let change = json!({
        "name": created["name"], "provider_type": created["provider_type"],
        "api_base": created["api_base"], "api_key": created["api_key"],
        "enabled": false, "display_name": "Groq",
    });
    let (status, updated) = call(&app, Method::PUT, &path, Some(change)).await;
    assert_eq!(status, 200, "{updated}");
    assert_goclaw_shape("http_put_v1_providers_id", &updated);
    assert_eq!(updated["status"], "updated");
    assert_eq!(updated["enabled"], false);
    assert_eq!(
        (&updated["api_key"], &updated["has_api_key"]),
        (&json!("***"), &json!(true)),
        "{updated}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_v1_providers_id() {
    let app = app().await;
    let created = create_provider(&app).await;
    let path = format!("/v1/providers/{}", text(&created, "id"));
    let (status, deleted) = call(&app, Method::DELETE, &path, None).await;
    assert_eq!(status, 200, "{deleted}");
    assert_goclaw_shape("http_delete_v1_providers_id", &deleted);
    assert_eq!(deleted, json!({ "status": "deleted" }));
    let (status, gone) = get(&app, &path).await;
    assert_eq!(status, 404, "{gone}");
    assert_goclaw_shape("http_error", &gone);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_v1_api_keys() {
    let app = app().await;
    let id = create_key(&app).await;
    let (status, body) = get(&app, "/v1/api-keys").await;
    assert_eq!(status, 200);
    assert_goclaw_shape("http_get_v1_api-keys", &body);
    let keys = body.as_array().expect("a bare array, as GoClaw answers");
    assert_eq!(keys.len(), 1, "{body}");
    assert_eq!(keys[0]["id"], id.as_str());
    assert_eq!(keys[0]["revoked"], false);
    assert!(keys[0].get("key").is_none(), "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_v1_api_keys() {
    let app = app().await;
    let body = json!({ "name": "ci-deploy", "scopes": ["operator.read"], "expires_in": 3600 });
    let (status, created) = call(&app, Method::POST, "/v1/api-keys", Some(body)).await;
    assert_eq!(status, 201, "{created}");
    assert_goclaw_shape("http_post_v1_api-keys", &created);
    assert!(text(&created, "key").starts_with("goclaw_"));
    assert!(created["expires_at"].is_string(), "{created}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_v1_api_keys_id_revoke() {
    let app = app().await;
    let id = create_key(&app).await;
    let path = format!("/v1/api-keys/{id}/revoke");
    let (status, revoked) = call(&app, Method::POST, &path, None).await;
    assert_eq!(status, 200, "{revoked}");
    assert_goclaw_shape("http_post_v1_api-keys_id_revoke", &revoked);
    assert_eq!(revoked["status"], "revoked");
    let (_, listed) = get(&app, "/v1/api-keys").await;
    assert_eq!(listed[0]["revoked"], true, "{listed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delete_v1_api_keys_id() {
    let app = app().await;
    let id = create_key(&app).await;
    let path = format!("/v1/api-keys/{id}");
    let (status, revoked) = call(&app, Method::DELETE, &path, None).await;
    assert_eq!(status, 200, "{revoked}");
    assert_goclaw_shape("http_delete_v1_api-keys_id", &revoked);
    assert_eq!(revoked["status"], "revoked");
    let (status, missing) = call(
        &app,
        Method::DELETE,
        "/v1/api-keys/0190f5c2-0000-7000-8000-000000000000",
        None,
    )
    .await;
    assert_eq!(status, 404, "{missing}");
    assert_goclaw_shape("http_error", &missing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_v1_traces() {
    let app = app().await;
    let trace = finished_trace(&app).await;
    let (status, body) = get(&app, "/v1/traces?status=completed").await;
    assert_eq!(status, 200);
    assert_goclaw_shape("http_get_v1_traces", &body);
    assert_eq!(body["traces"][0]["id"], trace["id"], "{body}");
    assert_eq!(body["traces"][0]["status"], "completed");
    assert_eq!(
        (&body["total"], &body["limit"], &body["offset"]),
        (&json!(1), &json!(50), &json!(0))
    );
    assert!(
        body["traces"][0]["metadata"]["total_cache_read_tokens"].is_i64(),
        "{body}"
    );
    // Pages count every match; the channel filter is the run's channel.
    let (_, past_the_end) = get(&app, "/v1/traces?offset=1").await;
    assert_eq!(past_the_end["traces"], json!([]), "{past_the_end}");
    assert_eq!(past_the_end["total"], 1, "{past_the_end}");
    let (_, over_http) = get(&app, "/v1/traces?channel=http").await;
    assert_eq!(over_http["traces"][0]["id"], trace["id"], "{over_http}");
    let (_, over_ws) = get(&app, "/v1/traces?channel=ws").await;
    assert_eq!(
        (&over_ws["traces"], &over_ws["total"]),
        (&json!([]), &json!(0)),
        "{over_ws}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_v1_traces_id() {
    let app = app().await;
    let trace = finished_trace(&app).await;
    let (status, body) = get(&app, &format!("/v1/traces/{}", text(&trace, "id"))).await;
    assert_eq!(status, 200, "{body}");
    assert_goclaw_shape("http_get_v1_traces_id", &body);
    assert_eq!(body["trace"], trace, "the list and the detail agree");
    let spans = body["spans"].as_array().expect("spans");
    assert_eq!(spans.len(), 1, "{body}");
    assert_eq!(spans[0]["span_type"], "llm_call");
    assert_eq!(spans[0]["status"], "completed");
    let (status, missing) = get(&app, "/v1/traces/0190f5c2-0000-7000-8000-000000000000").await;
    assert_eq!(status, 404, "{missing}");
    assert_goclaw_shape("http_error", &missing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn post_v1_chat_completions() {
    let app = app().await;
    app.llm.push(Reply::text("whole answer"));
    let body =
        json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": "hi" }] });
    let (status, answer) = call(&app, Method::POST, "/v1/chat/completions", Some(body)).await;
    assert_eq!(status, 200, "{answer}");
    assert_goclaw_shape("http_post_v1_chat_completions", &answer);
    assert_eq!(answer["choices"][0]["message"]["content"], "whole answer");

    app.llm.push(Reply::text_in_chunks("streamed answer", 3));
    let streamed = app
        .client
        .post(app.url("/v1/chat/completions"))
        .bearer_auth(TOKEN)
        .json(&json!({ "model": "goclaw:default", "stream": true, "messages": [{ "role": "user", "content": "hi" }] }))
        .send()
        .await
        .expect("POST")
        .text()
        .await
        .expect("the stream");
    let chunks: Vec<Value> = streamed
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).expect("a JSON chunk"))
        .collect();
    assert!(chunks.len() >= 2, "{streamed}");
    for chunk in &chunks {
        assert_goclaw_shape("http_post_v1_chat_completions_chunk", chunk);
    }
    assert!(streamed.trim_end().ends_with("data: [DONE]"), "{streamed}");

    let (status, refused) = call(
        &app,
        Method::POST,
        "/v1/chat/completions",
        Some(json!({ "model": "goclaw:default", "messages": [] })),
    )
    .await;
    assert_eq!(status, 400, "{refused}");
    assert_goclaw_shape("http_error_v1_chat_completions", &refused);
    assert_goclaw_shape("http_error", &refused);
    let unknown =
        json!({ "model": "goclaw:nobody", "messages": [{ "role": "user", "content": "hi" }] });
    let (status, missing) = call(&app, Method::POST, "/v1/chat/completions", Some(unknown)).await;
    assert_eq!(status, 404, "{missing}");
    assert_goclaw_shape("http_error_v1_chat_completions", &missing);
}

/// Every route's refusals carry the error body the dashboard reads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn errors_have_the_envelope_the_dashboard_reads() {
    let app = app().await;
    let routes = [
        (Method::GET, "/v1/agents"),
        (Method::POST, "/v1/agents"),
        (Method::GET, "/v1/agents/default"),
        (Method::PUT, "/v1/agents/default"),
        (Method::DELETE, "/v1/agents/default"),
        (Method::GET, "/v1/providers"),
        (Method::POST, "/v1/providers"),
        (Method::GET, "/v1/providers/groq-eu"),
        (Method::PUT, "/v1/providers/groq-eu"),
        (Method::DELETE, "/v1/providers/groq-eu"),
        (Method::GET, "/v1/api-keys"),
        (Method::POST, "/v1/api-keys"),
        (
            Method::POST,
            "/v1/api-keys/0190f5c2-0000-7000-8000-000000000000/revoke",
        ),
        (
            Method::DELETE,
            "/v1/api-keys/0190f5c2-0000-7000-8000-000000000000",
        ),
        (Method::GET, "/v1/traces"),
        (
            Method::GET,
            "/v1/traces/0190f5c2-0000-7000-8000-000000000000",
        ),
        (Method::POST, "/v1/chat/completions"),
        (Method::GET, "/v1/vault/documents"),
        (
            Method::GET,
            "/v1/vault/documents/0190f5c2-0000-7000-8000-000000000000/links",
        ),
        (Method::POST, "/v1/vault/search"),
        (Method::POST, "/v1/vault/rescan"),
        (Method::GET, "/v1/agents/default/vault/documents"),
    ];
    for (method, path) in routes {
        let response = app
            .client
            .request(method.clone(), app.url(path))
            .bearer_auth("not-the-token")
            .send()
            .await
            .expect("request");
        assert_eq!(response.status(), 401, "{method} {path}");
        let body: Value = response.json().await.expect("JSON");
        assert_goclaw_shape("http_error", &body);
        assert_eq!(body["error"]["code"], "UNAUTHORIZED", "{method} {path}");
    }
    let (status, invalid) = get(&app, "/v1/agents/Not%20A%20Key").await;
    assert_eq!(status, 400, "{invalid}");
    assert_goclaw_shape("http_error", &invalid);
    assert_eq!(invalid["error"]["code"], "INVALID_REQUEST");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn get_v1_skills_runtimes() {
    let app = app().await;
    let (status, body) = get(&app, "/v1/skills/runtimes").await;
    assert_eq!(status, 200, "{body}");
    assert_goclaw_shape("http_get_v1_skills_runtimes", &body);
    let names: Vec<&str> = body["runtimes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|r| r["name"].as_str())
        .collect();
    assert_eq!(names, ["python3", "pip3", "node", "npm"]);
}
