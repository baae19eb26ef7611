//! GoClaw's wire shapes of the memory, system-config and embedding-status routes, each called on
//! the real application and compared with the fixture written from GoClaw's JSON tags
//! (`tests/fixtures/goclaw_wire/http_*memory*`, `http_get_v1_system-configs*`,
//! `http_get_v1_embedding_status`), including the bare arrays GoClaw returns.

mod support;

use goclaw_testkit::{StoreBackend, TestApp, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};
use support::wire::assert_goclaw_shape;

const TOKEN: &str = "wire-http-memory-token-81c3";
const DOCS: &str = "/v1/agents/default/memory/documents";

async fn app() -> TestApp {
    spawn_app_with_config(
        StoreBackend::Sqlite,
        "{}",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
    .expect("SQLite is always available")
}

/// `method path` with the gateway token as user `alice`.
async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    support::http::call(app, TOKEN, Some("alice"), method, path, body).await
}

async fn written(app: &TestApp) {
    let (status, body) = call(
        app,
        Method::PUT,
        &format!("{DOCS}/MEMORY.md"),
        Some(json!({ "content": "# Alice\n\nAlice drinks jasmine tea.\n" })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_goclaw_shape("http_put_v1_agents_id_memory_documents_path", &body);
    assert_eq!(body, json!({"status": "ok", "path": "MEMORY.md"}));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn memory_documents_chunks_and_search() {
    let app = app().await;
    written(&app).await;

    let (status, listed) = call(&app, Method::GET, DOCS, None).await;
    assert_eq!(status, 200);
    assert!(listed.is_array(), "a bare array: {listed}");
    assert_goclaw_shape("http_get_v1_agents_id_memory_documents", &listed);

    let (status, detail) = call(&app, Method::GET, &format!("{DOCS}/MEMORY.md"), None).await;
    assert_eq!(status, 200, "{detail}");
    assert_goclaw_shape("http_get_v1_agents_id_memory_documents_path", &detail);

    let (status, chunks) = call(
        &app,
        Method::GET,
        "/v1/agents/default/memory/chunks?path=MEMORY.md",
        None,
    )
    .await;
    assert_eq!(status, 200, "{chunks}");
    assert_goclaw_shape("http_get_v1_agents_id_memory_chunks", &chunks);

    let (status, found) = call(
        &app,
        Method::POST,
        "/v1/agents/default/memory/search",
        Some(json!({ "query": "jasmine" })),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    assert_goclaw_shape("http_post_v1_agents_id_memory_search", &found);

    let (status, all) = call(&app, Method::GET, "/v1/memory/documents", None).await;
    assert_eq!(status, 200);
    assert_goclaw_shape("http_get_v1_agents_id_memory_documents", &all);

    let (status, indexed) = call(
        &app,
        Method::POST,
        "/v1/agents/default/memory/index",
        Some(json!({ "path": "MEMORY.md" })),
    )
    .await;
    assert_eq!(
        (status, indexed),
        (200, json!({"status": "indexed", "path": "MEMORY.md"}))
    );
    let (status, all) = call(
        &app,
        Method::POST,
        "/v1/agents/default/memory/index-all",
        Some(json!({})),
    )
    .await;
    assert_eq!((status, all), (200, json!({"status": "indexed_all"})));
    let (status, deleted) = call(&app, Method::DELETE, &format!("{DOCS}/MEMORY.md"), None).await;
    assert_eq!((status, deleted), (200, json!({"status": "deleted"})));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_configs_and_embedding_status() {
    let app = app().await;
    let (status, none) = call(&app, Method::GET, "/v1/embedding/status", None).await;
    assert_eq!((status, none), (200, json!({"configured": false})));

    let (status, set) = call(
        &app,
        Method::PUT,
        "/v1/system-configs/embedding.provider",
        Some(json!({ "value": "openai" })),
    )
    .await;
    assert_eq!(status, 200, "{set}");
    assert_goclaw_shape("http_get_v1_system-configs_key", &set);

    let (_, listed) = call(&app, Method::GET, "/v1/system-configs", None).await;
    assert_goclaw_shape("http_get_v1_system-configs", &listed);
    let (_, one) = call(
        &app,
        Method::GET,
        "/v1/system-configs/embedding.provider",
        None,
    )
    .await;
    assert_goclaw_shape("http_get_v1_system-configs_key", &one);
    let (_, status_now) = call(&app, Method::GET, "/v1/embedding/status", None).await;
    assert_goclaw_shape("http_get_v1_embedding_status", &status_now);
    assert_eq!(status_now["configured"], true);

    let (status, missing) = call(&app, Method::GET, "/v1/system-configs/nope", None).await;
    assert_eq!(status, 404, "{missing}");
}
