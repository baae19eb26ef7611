//! Vault enrichment in the running gateway, on both engines: a file dropped into the
//! workspace is summarized by the model of the tenant's default agent, the `/vault` routes
//! serve the summary, and the enrichment status route counts it done; a stop drops what is
//! queued and halts the batch in the model's hands. The progress is pushed as
//! `vault.enrich.progress` to everyone of the tenant (a viewer too) and to nobody of another
//! tenant, whose status route stays idle.

mod support;

use std::time::Duration;

use goclaw_core::ApiKeyScope;
use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};
use support::wire::assert_goclaw_shape;

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

async fn status(app: &TestApp) -> Value {
    status_as(app, TOKEN).await
}

async fn stop(app: &TestApp) -> (u16, Value) {
    let response = app
        .client
        .post(app.url("/v1/vault/enrichment/stop"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("stop");
    let status = response.status().as_u16();
    (status, response.json().await.expect("JSON"))
}

app_test!(
    a_stop_drops_the_queue_and_halts_the_batch_in_hand,
    app,
    |app: TestApp| async move {
        // The model holds its first answer for a minute: that batch stays in the worker's hands.
        app.llm
            .push(Reply::text("[]").first_byte_delay(Duration::from_secs(60)));
        let workspace = app.data_dir.path().join("workspace");
        std::fs::create_dir_all(&workspace).expect("workspace");
        let files = 12;
        for i in 0..files {
            std::fs::write(
                workspace.join(format!("wader-{i}.md")),
                format!("Wader count {i} at the estuary.\n"),
            )
            .expect("file written");
        }
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        loop {
            let now = status(&app).await;
            if now["total"].as_u64() >= Some(files) && app.llm.request_count() >= 1 {
                assert_eq!(now["running"], true, "{now}");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "not queued and in hand within 10 s: {now}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }

        let (code, stopped) = stop(&app).await;
        assert_eq!((code, &stopped), (200, &json!({"stopped": true})));

        // Without a real stop the batch would hold the worker for a minute and the rest
        // would follow it to the model.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
        loop {
            let now = status(&app).await;
            if now["running"] == false {
                assert_eq!(now["done"], now["total"], "{now}");
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "still running 3 s after the stop: {now}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        tokio::time::sleep(Duration::from_millis(700)).await;
        assert_eq!(
            app.llm.request_count(),
            1,
            "the model was asked after the stop"
        );
        let list = documents(&app).await;
        let summarized: Vec<&Value> = list["documents"]
            .as_array()
            .map(|d| d.iter().filter(|d| d["summary"] != "").collect())
            .unwrap_or_default();
        assert!(summarized.is_empty(), "{summarized:?}");

        let (code, again) = stop(&app).await;
        assert_eq!(
            (code, &again),
            (
                200,
                &json!({"stopped": false, "message": "no enrichment running"})
            )
        );
    }
);

/// A WebSocket signed in with `token` (as `user` for the gateway token).
async fn signed_in(app: &TestApp, token: &str, user: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": token, "user_id": user }))
        .await;
    ws
}

/// The `vault.enrich.progress` payloads `ws` has received so far.
fn progress_events(ws: &WsClient) -> Vec<Value> {
    ws.events
        .iter()
        .filter(|e| e["event"] == "vault.enrich.progress")
        .map(|e| e["payload"].clone())
        .collect()
}

/// Reads `ws` until its run's `complete` progress arrives; returns every progress payload.
async fn until_complete(ws: &mut WsClient, who: &str) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        let events = progress_events(ws);
        if let Some(last) = events.last()
            && last["phase"] == "complete"
        {
            let frame = ws
                .events
                .iter()
                .rfind(|e| e["event"] == "vault.enrich.progress")
                .cloned()
                .unwrap_or_default();
            assert_goclaw_shape("ws_event_vault.enrich.progress", &frame);
            return events;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{who}: no complete progress within 10 s: {events:?}"
        );
        // Bounded, so the deadline above is checked even while nothing is pushed.
        tokio::time::timeout(Duration::from_millis(200), ws.pump())
            .await
            .ok();
    }
}

async fn status_as(app: &TestApp, bearer: &str) -> Value {
    let path = "/v1/vault/enrichment/status";
    let (code, status) = support::http::call(app, bearer, None, Method::GET, path, None).await;
    assert_eq!(code, 200, "{status}");
    status
}

app_test!(
    progress_is_pushed_to_its_tenant_and_nobody_else,
    app,
    |app: TestApp| async move {
        let who = Callers::create(&app, TOKEN, Admin::GatewayToken).await;
        let (alice, vera) = (who.bearer("alice"), who.bearer("vera"));
        let acme = app
            .other_tenant(
                "acme",
                "helper",
                "carol",
                &[ApiKeyScope::Read, ApiKeyScope::Write],
            )
            .await;
        let mut owner_ws = signed_in(&app, TOKEN, "system").await;
        let mut alice_ws = signed_in(&app, &alice, "").await;
        let mut vera_ws = signed_in(&app, &vera, "").await;
        let mut carol_ws = signed_in(&app, &acme.key, "").await;

        app.llm.push(Reply::text(
            "[{\"idx\": 1, \"summary\": \"Where the kingfisher perches.\"}, \
              {\"idx\": 2, \"summary\": \"When the otters cross.\"}]",
        ));
        let workspace = app.data_dir.path().join("workspace");
        std::fs::create_dir_all(&workspace).expect("workspace");
        for (name, text) in [
            (
                "kingfisher.md",
                "The kingfisher perches on the alder by the pool.\n",
            ),
            ("otters.md", "Otters cross the ford at dusk in winter.\n"),
        ] {
            std::fs::write(workspace.join(name), text).expect("file written");
        }

        for (who, ws) in [
            ("owner", &mut owner_ws),
            ("alice", &mut alice_ws),
            ("vera", &mut vera_ws),
        ] {
            let events = until_complete(ws, who).await;
            let first = &events[0];
            assert_eq!(
                (&first["phase"], &first["running"]),
                (&json!("enriching"), &json!(true)),
                "{who}: {events:?}"
            );
            let last = events.last().expect("complete");
            assert_eq!(last["running"], false, "{who}: {last}");
            assert!(last["total"].as_u64() >= Some(1), "{who}: {last}");
            assert_eq!(last["done"], last["total"], "{who}: {last}");
            for pair in events.windows(2) {
                assert!(
                    pair[0]["done"].as_u64() <= pair[1]["done"].as_u64(),
                    "{who}: {events:?}"
                );
            }
        }

        // Every progress event was broadcast before the others saw `complete`; after a moment
        // for carol's connection to forward whatever it was going to, a call's answer comes
        // after it: nothing of the master tenant's enrichment. (Which connection is sent what is
        // pinned deterministically by `ws::wire::tests::tenant_events_reach_exactly_their_callers`.)
        tokio::time::sleep(Duration::from_millis(300)).await;
        carol_ws.call_ok("health", json!({})).await;
        assert_eq!(progress_events(&carol_ws), Vec::<Value>::new(), "carol");

        let mine = status_as(&app, &vera).await;
        assert_eq!(
            (&mine["phase"], &mine["running"]),
            (&json!("idle"), &json!(false)),
            "{mine}"
        );
        assert!(mine["total"].as_u64() >= Some(1), "{mine}");
        assert_eq!(mine["done"], mine["total"], "{mine}");
        let theirs = status_as(&app, &acme.key).await;
        assert_eq!(
            theirs,
            json!({"phase": "idle", "done": 0, "total": 0, "running": false}),
            "another tenant's status"
        );
    }
);
