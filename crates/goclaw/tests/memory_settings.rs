//! Memory settings that take effect, in the running gateway on both engines:
//! `agents.defaults.memory.max_chunk_len`/`chunk_overlap` cut what is written, the system
//! configs `embedding.max_chunk_len`/`embedding.chunk_overlap` override them at once and
//! dropping them restores the file's; `agents.defaults.memory.max_results`/`min_score` bound
//! searches, and an agent's own `memory_config` (GoClaw's per-agent settings, set through
//! `PUT /v1/agents/{id}`) overrides them for that agent.

mod support;

use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app_with_config};
use reqwest::Method;
use serde_json::{Value, json};

const TOKEN: &str = "memory-settings-token-5a07e3";
const DOC: &str = "/v1/agents/default/memory/documents/MEMORY.md";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ agents: { defaults: { memory: { max_chunk_len: 200, chunk_overlap: 20, \
         max_results: 2, min_score: 0.5 } } } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

async fn call(app: &TestApp, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    support::http::call(app, TOKEN, Some("alice"), method, path, body).await
}

/// Ten paragraphs of about 70 characters, `tag` (five letters) in each.
fn notes(tag: &str) -> String {
    (1..=10)
        .map(|n| format!("Note {n} about {tag}: the heron colony grew by {n} nests this spring.\n"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Writes MEMORY.md for alice; how many chunks it was cut into.
async fn chunks_of(app: &TestApp, content: &str) -> u64 {
    let (status, written) = call(app, Method::PUT, DOC, Some(json!({"content": content}))).await;
    assert_eq!(status, 200, "{written}");
    let (status, detail) = call(app, Method::GET, DOC, None).await;
    assert_eq!(status, 200, "{detail}");
    detail["chunk_count"]
        .as_u64()
        .unwrap_or_else(|| panic!("no chunk_count: {detail}"))
}

async fn set_config(app: &TestApp, key: &str, value: Option<&str>) {
    let path = format!("/v1/system-configs/{key}");
    let (status, answer) = match value {
        Some(value) => call(app, Method::PUT, &path, Some(json!({"value": value}))).await,
        None => call(app, Method::DELETE, &path, None).await,
    };
    assert!(matches!(status, 200 | 204), "{key}: {status} {answer}");
}

app_test!(
    chunking_follows_the_file_then_the_system_configs,
    app,
    |app: TestApp| async move {
        let text = notes("alpha");
        assert!(text.chars().count() < 1000, "one chunk at GoClaw's default");
        let by_file = chunks_of(&app, &text).await;
        assert!(by_file >= 4, "200-character chunks: {by_file}");

        set_config(&app, "embedding.max_chunk_len", Some("1000")).await;
        assert_eq!(chunks_of(&app, &notes("bravo")).await, 1);
        set_config(&app, "embedding.max_chunk_len", Some("400")).await;
        let by_system = chunks_of(&app, &notes("delta")).await;
        assert!(
            (2..by_file).contains(&by_system),
            "400-character chunks: {by_system} (200: {by_file})"
        );

        set_config(&app, "embedding.max_chunk_len", None).await;
        assert_eq!(chunks_of(&app, &notes("gamma")).await, by_file);
    }
);

/// The paths alice's search for `query` finds.
async fn found(app: &TestApp, body: Value) -> Vec<String> {
    let (status, found) = call(
        app,
        Method::POST,
        "/v1/agents/default/memory/search",
        Some(body),
    )
    .await;
    assert_eq!(status, 200, "{found}");
    found["results"]
        .as_array()
        .unwrap_or_else(|| panic!("no results: {found}"))
        .iter()
        .filter_map(|r| r["path"].as_str().map(str::to_owned))
        .collect()
}

app_test!(
    searches_follow_the_file_then_the_agents_own_settings,
    app,
    |app: TestApp| async move {
        for n in 1..=4 {
            let path = format!("/v1/agents/default/memory/documents/memory/heron-{n}.md");
            let text = "heron ".repeat(n) + "colony notes";
            let (status, answer) =
                call(&app, Method::PUT, &path, Some(json!({"content": text}))).await;
            assert_eq!(status, 200, "{answer}");
        }
        // The file's max_results (2) and min_score (0.5) bound the search.
        assert_eq!(found(&app, json!({"query": "heron"})).await.len(), 2);
        assert_eq!(
            found(
                &app,
                json!({"query": "heron", "max_results": 4, "min_score": 0.01})
            )
            .await
            .len(),
            4
        );

        let (status, agent) = call(
            &app,
            Method::PUT,
            "/v1/agents/default",
            Some(json!({"memory_config": {"max_results": 3, "min_score": 0.01}})),
        )
        .await;
        assert_eq!(status, 200, "{agent}");
        let (_, agent) = call(&app, Method::GET, "/v1/agents/default", None).await;
        assert_eq!(
            agent["memory_config"],
            json!({"max_results": 3, "min_score": 0.01}),
            "{agent}"
        );
        assert_eq!(found(&app, json!({"query": "heron"})).await.len(), 3);
        assert_eq!(
            found(&app, json!({"query": "heron", "max_results": 1}))
                .await
                .len(),
            1,
            "the request wins"
        );
    }
);
