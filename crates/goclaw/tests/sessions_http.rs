//! `GET /v1/sessions` on both engines: the page `sessions.list` answers over WebSocket, in its
//! GoClaw shape, narrowed below admin to the caller's own sessions — alice and bob (read+write
//! keys bound to them) see theirs, vera (a read key) none, the administrator both.

mod support;

use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with};
use reqwest::Method;
use serde_json::{Value, json};
use support::callers::{Admin, Callers};

const TOKEN: &str = "sessions-http-token-41c9aa";

async fn app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(
        backend,
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_RATE_LIMIT_RPM", "0"),
        ],
    )
    .await
}

fn owners(page: &Value) -> Vec<String> {
    let mut users: Vec<String> = page["sessions"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|s| s["userID"].as_str().unwrap_or_default().to_owned())
        .collect();
    users.sort();
    users
}

app_test!(
    each_caller_lists_their_own_sessions,
    app,
    |app: TestApp| async move {
        let callers = Callers::create(&app, TOKEN, Admin::AdminKey).await;
        for who in ["alice", "bob"] {
            app.llm.push(Reply::text(format!("hello {who}")));
            let body = json!({
                "model": "goclaw:default",
                "messages": [{ "role": "user", "content": "hi" }],
            });
            let (status, answer) = callers
                .call(&app, who, Method::POST, "/v1/chat/completions", Some(body))
                .await;
            assert_eq!(status, 200, "{who}: {answer}");
        }
        let expected: [(&str, &[&str]); 4] = [
            ("admin", &["alice", "bob"]),
            ("alice", &["alice"]),
            ("bob", &["bob"]),
            ("vera", &[]),
        ];
        for (who, users) in expected {
            let (status, page) = callers
                .call(&app, who, Method::GET, "/v1/sessions", None)
                .await;
            assert_eq!(status, 200, "{who}: {page}");
            assert_eq!(owners(&page), users, "{who}: {page}");
            assert_eq!(page["total"], users.len(), "{who}: {page}");
            for session in page["sessions"].as_array().into_iter().flatten() {
                // GoClaw's `sessions.list` item (`label` only once one is set).
                let key = session["key"].as_str().unwrap_or_default();
                assert!(key.starts_with("agent:default:"), "{session}");
                let count = session["messageCount"].as_u64().unwrap_or_default();
                assert!(count >= 2, "{session}");
                assert!(session["created"].is_string(), "{session}");
                assert!(session["updated"].is_string(), "{session}");
                assert!(session["agentName"].is_string(), "{session}");
            }
        }
        let (_, filtered) = callers
            .call(
                &app,
                "admin",
                Method::GET,
                "/v1/sessions?channel=ws&limit=5",
                None,
            )
            .await;
        assert_eq!(filtered["sessions"], json!([]), "{filtered}");
        assert_eq!(filtered["limit"], 5);
        let (_, none) = callers
            .call(
                &app,
                "admin",
                Method::GET,
                "/v1/sessions?agent_id=nobody",
                None,
            )
            .await;
        assert_eq!(none["total"], 0, "{none}");
        for bad in [
            "/v1/sessions?limit=many",
            "/v1/sessions?limit=0",
            "/v1/sessions?limit=201",
            "/v1/sessions?offset=-1",
            "/v1/sessions?offset=2147483648",
        ] {
            let (status, body) = callers.call(&app, "alice", Method::GET, bad, None).await;
            assert_eq!(status, 400, "{bad}: {body}");
        }
        assert_eq!(app.get("/v1/sessions").await.status(), 401);
    }
);
