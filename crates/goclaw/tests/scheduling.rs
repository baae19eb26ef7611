//! Admission of runs: lanes bound concurrency across sessions, and inbound debouncing merges
//! quick consecutive messages into one run — on both storage backends.

use std::time::Duration;

use goclaw_testkit::{Reply, StoreBackend, TestApp, spawn_app_with_config};
use serde_json::json;

macro_rules! both_backends {
    ($name:ident, $config:expr, $env:expr, $body:expr) => {
        mod $name {
            use super::*;

            async fn run(backend: StoreBackend) {
                let Some(app) = spawn_app_with_config(backend, $config, $env).await else {
                    return;
                };
                ($body)(app).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                run(StoreBackend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                run(StoreBackend::Postgres).await;
            }
        }
    };
}

/// Runs start as soon as their lane and session allow.
const NO_DEBOUNCE: &str = "{ gateway: { inbound_debounce_ms: 0 } }";

/// Sends one message to each of two sessions at once and returns the `agent` event types in
/// the order the gateway emitted them, tagged with their session.
async fn two_sessions(app: &TestApp) -> Vec<(String, String)> {
    app.llm.push(
        Reply::text_in_chunks("slow answer for a", 10).chunk_delay(Duration::from_millis(30)),
    );
    app.llm.push(Reply::text("answer for b"));
    let mut ws = app.ws_connect("lane-user").await;
    let a = ws
        .request(
            "chat.send",
            json!({ "message": "a", "sessionKey": "agent:default:ws:direct:a" }),
        )
        .await;
    ws.wait_agent_event("chunk").await;
    let b = ws
        .request(
            "chat.send",
            json!({ "message": "b", "sessionKey": "agent:default:ws:direct:b" }),
        )
        .await;
    assert_eq!(ws.response(&a).await["ok"], true);
    assert_eq!(ws.response(&b).await["ok"], true);
    loop {
        let done = ws
            .events
            .iter()
            .filter(|e| e["payload"]["type"] == "run.completed")
            .count();
        if done == 2 {
            break;
        }
        ws.pump().await;
    }
    ws.events
        .iter()
        .filter(|e| e["event"] == "agent")
        .map(|e| {
            let session = e["payload"]["sessionKey"].as_str().unwrap_or_default();
            let tag = session.rsplit(':').next().unwrap_or_default().to_owned();
            (
                tag,
                e["payload"]["type"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

fn position(events: &[(String, String)], session: &str, kind: &str) -> usize {
    events
        .iter()
        .position(|(s, k)| s == session && k == kind)
        .unwrap_or_else(|| panic!("no {kind} for {session} in {events:?}"))
}

both_backends!(
    main_lane_of_one_serializes_sessions,
    NO_DEBOUNCE,
    &[("GOCLAW_LANE_MAIN", "1")],
    |app: TestApp| async move {
        let events = two_sessions(&app).await;
        assert!(
            position(&events, "b", "run.started") > position(&events, "a", "run.completed"),
            "b started only after a completed: {events:?}"
        );
    }
);

both_backends!(
    default_lanes_let_sessions_overlap,
    NO_DEBOUNCE,
    &[],
    |app: TestApp| async move {
        let events = two_sessions(&app).await;
        assert!(
            position(&events, "b", "run.completed") < position(&events, "a", "run.completed"),
            "b ran while a was still streaming: {events:?}"
        );
    }
);

both_backends!(
    messages_sent_during_a_run_merge_into_the_next,
    "{ gateway: { inbound_debounce_ms: 400 } }",
    &[],
    |app: TestApp| async move {
        app.llm
            .push(Reply::text("first answer").first_byte_delay(Duration::from_millis(500)));
        app.llm.push(Reply::text("one answer for both"));
        let mut ws = app.ws_connect("debounce-user").await;
        let key = "agent:default:ws:direct:debounce";
        // An interactive turn on an idle session starts at once, debounce or not.
        let first = ws
            .request(
                "chat.send",
                json!({ "message": "first", "sessionKey": key }),
            )
            .await;
        ws.wait_agent_event("run.started").await;
        let mut ids = Vec::new();
        for message in ["second", "third"] {
            ids.push(
                ws.request(
                    "chat.send",
                    json!({ "message": message, "sessionKey": key }),
                )
                .await,
            );
        }
        let res = ws.response(&first).await;
        assert_eq!(res["payload"]["content"], "first answer", "{res}");
        let mut run_ids = Vec::new();
        for id in &ids {
            let res = ws.response(id).await;
            assert_eq!(res["payload"]["content"], "one answer for both", "{res}");
            run_ids.push(res["payload"]["runId"].clone());
        }
        assert_eq!(run_ids[0], run_ids[1], "one run answers both");
        assert_eq!(app.llm.request_count(), 2);
        let body = app.llm.requests()[1].body.to_string();
        for message in ["second", "third"] {
            assert!(body.contains(message), "the run saw {message}: {body}");
        }
    }
);

both_backends!(
    long_messages_are_truncated_with_a_note,
    "{ gateway: { max_message_chars: 50 } }",
    &[],
    |app: TestApp| async move {
        app.llm.push(Reply::text("ok"));
        let mut ws = app.ws_connect("long-user").await;
        let sent = ws
            .call_ok("chat.send", json!({ "message": "x".repeat(500) }))
            .await;
        let history = ws
            .call_ok("chat.history", json!({ "sessionKey": sent["sessionKey"] }))
            .await;
        let stored = history["messages"][0]["content"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        assert!(stored.starts_with(&"x".repeat(50)), "{stored}");
        assert!(!stored.contains(&"x".repeat(51)), "{stored}");
        assert!(stored.contains("truncated"), "{stored}");
    }
);

both_backends!(
    two_messages_to_one_session_run_one_after_the_other,
    "{ gateway: { inbound_debounce_ms: 0 } }",
    &[],
    |app: TestApp| async move {
        app.llm
            .push(Reply::text("first answer").chunk_delay(std::time::Duration::from_millis(20)));
        app.llm.push(Reply::text("second answer"));
        let mut ws = app.ws_connect("dave").await;
        let key = "agent:default:ws:direct:serial";
        let a = ws
            .request("chat.send", json!({ "message": "one", "sessionKey": key }))
            .await;
        let b = ws
            .request("chat.send", json!({ "message": "two", "sessionKey": key }))
            .await;
        let first = ws.response(&a).await;
        let second = ws.response(&b).await;
        assert_eq!(first["payload"]["content"], "first answer", "{first}");
        assert_eq!(second["payload"]["content"], "second answer", "{second}");
        // The second call saw the first answer: it started after the first run had finished.
        let requests = app.llm.requests();
        assert_eq!(requests.len(), 2);
        assert!(requests[1].body.to_string().contains("first answer"));
        assert!(
            !requests[0].body.to_string().contains("two"),
            "first run did not answer the second message"
        );
    }
);
