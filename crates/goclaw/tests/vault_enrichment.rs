//! Vault enrichment in the running gateway, on both engines: a file dropped into the
//! workspace is summarized by the model of the tenant's default agent, the `/vault` routes
//! serve the summary, and the enrichment status route counts it done.

use std::time::Duration;

use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with};
use serde_json::Value;

const TOKEN: &str = "vault-enrichment-token-3f9a";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(
        backend,
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_VAULT_ENRICHMENT", "true"),
        ],
    )
    .await
}

async fn documents(app: &TestApp) -> Value {
    let response = app
        .client
        .get(app.url("/v1/agents/default/vault/documents"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("listing");
    assert_eq!(response.status().as_u16(), 200);
    response.json().await.expect("JSON")
}

app_test!(
    a_dropped_file_is_summarized_by_the_model,
    app,
    |app: TestApp| async move {
        let summary = "Where herons nest by the weir, and when to count them.";
        app.llm.push(Reply::text(format!(
            "[{{\"idx\": 1, \"summary\": \"{summary}\"}}]"
        )));
        let workspace = app.data_dir.path().join("workspace");
        std::fs::create_dir_all(&workspace).expect("workspace");
        std::fs::write(
            workspace.join("heron.md"),
            "Herons nest near the weir in March.\n",
        )
        .expect("file written");

        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let list = documents(&app).await;
            let found = list["documents"]
                .as_array()
                .and_then(|d| d.iter().find(|d| d["path"] == "heron.md"))
                .and_then(|d| d["summary"].as_str())
                .unwrap_or_default()
                .to_owned();
            if found == summary {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not summarized within 5 s: {list}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let request = app.llm.requests().pop().expect("the model was asked");
        let body = request.body.to_string();
        assert!(body.contains("knowledge vault"), "{body}");
        assert!(body.contains("[1] File: heron.md"), "{body}");
        assert!(body.contains("Herons nest near the weir"), "{body}");

        // The status route reports the enricher's queue: everything queued is done.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        loop {
            let status: Value = app
                .client
                .get(app.url("/v1/vault/enrichment/status"))
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("status")
                .json()
                .await
                .expect("JSON");
            let total = status["total"].as_u64().unwrap_or_default();
            if total >= 1 && status["done"] == status["total"] {
                assert_eq!(
                    (&status["running"], &status["phase"]),
                    (&Value::Bool(false), &Value::from("idle")),
                    "{status}"
                );
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the queue is not done within 5 s: {status}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
);
