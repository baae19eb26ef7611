//! Session tools end to end: an agent forwards a message to another of its user's sessions with
//! `sessions_send`, and that session stores and answers it like any other message.

use std::time::{Duration, Instant};

use goclaw_testkit::{Reply, TestApp, app_test};
use serde_json::json;

app_test!(
    sessions_send_delivers_to_another_session,
    |app: TestApp| async move {
        let mut ws = app.ws_connect("olga").await;
        let first = "agent:default:ws:direct:first";
        let second = "agent:default:ws:direct:second";
        app.llm.push(Reply::text("first session answer"));
        ws.call_ok(
            "chat.send",
            json!({ "message": "hello", "sessionKey": first }),
        )
        .await;

        app.llm.push(Reply::tool_call(
            "call_s",
            "sessions_send",
            json!({ "session_key": first, "message": "note from the second session" }),
        ));
        // The note's turn starts at once (an interactive channel), so it and the rest of this
        // run ask the model concurrently: either may take either answer.
        app.llm.push(Reply::text("forwarded"));
        app.llm.push(Reply::text("forwarded"));
        let reply = ws
            .call_ok(
                "chat.send",
                json!({ "message": "forward a note", "sessionKey": second }),
            )
            .await;
        assert_eq!(reply["content"], "forwarded");
        let result = ws.wait_agent_event("tool.result").await;
        assert_eq!(result["payload"]["payload"]["is_error"], false, "{result}");

        // The first session stores the note and answers it.
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let history = ws
                .call_ok("chat.history", json!({ "sessionKey": first }))
                .await;
            let messages = history["messages"].as_array().cloned().unwrap_or_default();
            let note = messages.iter().position(|m| {
                m["role"] == "user" && m["content"] == "note from the second session"
            });
            if let Some(at) = note
                && messages[at + 1..].iter().any(|m| m["role"] == "assistant")
            {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "the note was not answered: {history}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
);
