//! Chatting with an agent over WebSocket protocol v3, against the real application and a fake
//! LLM on loopback, on both storage backends.

use goclaw_testkit::{Reply, TestApp, app_test};
use serde_json::json;

app_test!(
    chat_send_streams_chunks_and_completes,
    |app: TestApp| async move {
        app.llm
            .push(Reply::text_in_chunks("Hello there, how can I help?", 4).usage(12, 7));
        let mut ws = app.ws_connect("alice").await;
        let payload = ws.call_ok("chat.send", json!({ "message": "hi" })).await;
        assert_eq!(payload["content"], "Hello there, how can I help?");
        assert_eq!(payload["usage"]["prompt_tokens"], 12);
        assert_eq!(payload["usage"]["completion_tokens"], 7);
        let session_key = payload["sessionKey"]
            .as_str()
            .expect("session key")
            .to_owned();
        assert!(
            session_key.starts_with("agent:default:ws:direct:"),
            "{session_key}"
        );

        let completed = ws.wait_agent_event("run.completed").await;
        assert_eq!(completed["payload"]["runId"], payload["runId"]);
        let kinds = ws.agent_event_types();
        assert_eq!(
            kinds.first().map(String::as_str),
            Some("run.started"),
            "{kinds:?}"
        );
        let chunks: String = ws
            .events
            .iter()
            .filter(|e| e["payload"]["type"] == "chunk")
            .filter_map(|e| e["payload"]["payload"]["content"].as_str())
            .collect();
        assert_eq!(chunks, "Hello there, how can I help?");
        assert!(
            kinds.iter().filter(|k| *k == "chunk").count() >= 2,
            "streamed in pieces: {kinds:?}"
        );

        let history = ws
            .call_ok("chat.history", json!({ "sessionKey": session_key }))
            .await;
        let messages = history["messages"].as_array().expect("messages");
        let roles: Vec<&str> = messages.iter().filter_map(|m| m["role"].as_str()).collect();
        assert_eq!(roles, ["user", "assistant"]);
        assert_eq!(messages[0]["content"], "hi");
        assert_eq!(messages[1]["content"], "Hello there, how can I help?");
    }
);

app_test!(
    tool_call_round_trips_through_datetime,
    |app: TestApp| async move {
        app.llm
            .push(Reply::tool_call("call_1", "datetime", json!({})));
        app.llm.push(Reply::text("It is now."));
        let mut ws = app.ws_connect("bob").await;
        let payload = ws
            .call_ok("chat.send", json!({ "message": "what time is it?" }))
            .await;
        assert_eq!(payload["content"], "It is now.");

        let call = ws.wait_agent_event("tool.call").await;
        assert_eq!(call["payload"]["payload"]["name"], "datetime");
        let result = ws.wait_agent_event("tool.result").await;
        assert_eq!(result["payload"]["payload"]["is_error"], false);
        let year = chrono::Utc::now().format("%Y").to_string();
        assert!(
            result["payload"]["payload"]["result"]
                .as_str()
                .unwrap_or_default()
                .contains(&year),
            "{result}"
        );

        // The second LLM call carried the tool result back to the model.
        let requests = app.llm.requests();
        assert_eq!(requests.len(), 2);
        let second = requests[1].body.to_string();
        assert!(
            second.contains("tool_result") && second.contains("call_1"),
            "{second}"
        );

        let history = ws
            .call_ok(
                "chat.history",
                json!({ "sessionKey": payload["sessionKey"] }),
            )
            .await;
        let roles: Vec<&str> = history["messages"]
            .as_array()
            .expect("messages")
            .iter()
            .filter_map(|m| m["role"].as_str())
            .collect();
        assert_eq!(roles, ["user", "assistant", "tool", "assistant"]);
    }
);

app_test!(
    chat_abort_keeps_user_message_and_partial_answer,
    |app: TestApp| async move {
        let words: Vec<String> = (0..200).map(|i| format!("w{i}")).collect();
        app.llm.push(
            Reply::text_in_chunks(words.join(" "), 200)
                .chunk_delay(std::time::Duration::from_millis(20)),
        );
        let mut ws = app.ws_connect("carol").await;
        let send_id = ws.request("chat.send", json!({ "message": "tell me a long story", "sessionKey": "agent:default:ws:direct:abort-test" })).await;
        ws.wait_agent_event("chunk").await;
        let aborted = ws
            .call_ok(
                "chat.abort",
                json!({ "sessionKey": "agent:default:ws:direct:abort-test" }),
            )
            .await;
        assert_eq!(aborted["aborted"], true);
        let reply = ws.response(&send_id).await;
        assert_eq!(reply["ok"], true, "{reply}");
        assert_eq!(reply["payload"]["cancelled"], true, "{reply}");
        ws.wait_agent_event("run.cancelled").await;

        let history = ws
            .call_ok(
                "chat.history",
                json!({ "sessionKey": "agent:default:ws:direct:abort-test" }),
            )
            .await;
        let messages = history["messages"].as_array().expect("messages");
        assert_eq!(messages[0]["role"], "user");
        assert_eq!(messages[0]["content"], "tell me a long story");
        let partial = messages.get(1).expect("partial answer kept");
        assert_eq!(partial["role"], "assistant");
        assert!(
            partial["content"]
                .as_str()
                .unwrap_or_default()
                .starts_with("w0"),
            "{partial}"
        );
        assert_eq!(partial["cancelled"], true);
    }
);

app_test!(
    methods_need_connect_and_known_names,
    |app: TestApp| async move {
        let mut ws = goclaw_testkit::WsClient::open(&app.ws_url()).await;
        let res = ws.call("health", json!({})).await;
        assert_eq!(res["ok"], false);
        assert_eq!(res["error"]["code"], "UNAUTHORIZED");
        assert_eq!(res["error"]["message"], "first request must be 'connect'");

        let connected = ws.call_ok("connect", json!({ "user_id": "erin" })).await;
        assert_eq!(connected["protocol"], 3);
        assert_eq!(connected["role"], "operator");

        let res = ws.call("no.such.method", json!({})).await;
        assert_eq!(res["error"]["code"], "INVALID_REQUEST");
        assert_eq!(res["error"]["message"], "unknown method: no.such.method");

        // Operators may not manage agents.
        let res = ws.call("agents.create", json!({ "name": "x" })).await;
        assert_eq!(res["error"]["code"], "UNAUTHORIZED");

        ws.send_raw(r#"{"type":"req","id":7,"method":"health"}"#)
            .await;
        let frame = ws.next_frame().await.expect("error frame");
        assert!(
            frame["error"]["message"]
                .as_str()
                .unwrap_or_default()
                .starts_with("malformed request"),
            "{frame}"
        );

        let health = ws.call_ok("health", json!({})).await;
        assert_eq!(health["database"], "ok");
    }
);

app_test!(
    default_agent_exists_and_files_round_trip,
    |app: TestApp| async move {
        let mut ws = app.ws_connect("frank").await;
        let agents = ws.call_ok("agents.list", json!({})).await;
        let ids: Vec<&str> = agents["agents"]
            .as_array()
            .expect("agents")
            .iter()
            .filter_map(|a| a["id"].as_str())
            .collect();
        assert_eq!(ids, ["default"]);

        ws.call_ok(
            "agents.files.set",
            json!({ "agentId": "default", "name": "SOUL.md", "content": "You are terse." }),
        )
        .await;
        let file = ws
            .call_ok(
                "agents.files.get",
                json!({ "agentId": "default", "name": "SOUL.md" }),
            )
            .await;
        assert_eq!(file["file"]["content"], "You are terse.");
        let listed = ws
            .call_ok("agents.files.list", json!({ "agentId": "default" }))
            .await;
        let soul = listed["files"]
            .as_array()
            .expect("files")
            .iter()
            .find(|f| f["name"] == "SOUL.md")
            .cloned()
            .expect("SOUL.md listed");
        assert_eq!(soul["missing"], false);

        // The context file reaches the model's system prompt.
        app.llm.push(Reply::text("ok"));
        ws.call_ok("chat.send", json!({ "message": "hello" })).await;
        let request = app.llm.requests().pop().expect("one LLM call");
        assert!(
            request.body["system"]
                .to_string()
                .contains("You are terse."),
            "{}",
            request.body["system"]
        );
    }
);

app_test!(sessions_are_listed_and_reset, |app: TestApp| async move {
    let mut ws = app.ws_connect("gina").await;
    app.llm.push(Reply::text("one"));
    let sent = ws.call_ok("chat.send", json!({ "message": "hello" })).await;
    let key = sent["sessionKey"].clone();
    let listed = ws.call_ok("sessions.list", json!({})).await;
    assert_eq!(listed["total"], 1);
    assert_eq!(listed["sessions"][0]["key"], key);

    ws.call_ok("sessions.patch", json!({ "key": key, "label": "greeting" }))
        .await;
    let listed = ws.call_ok("sessions.list", json!({})).await;
    assert_eq!(listed["sessions"][0]["label"], "greeting");

    ws.call_ok("sessions.reset", json!({ "key": key })).await;
    let history = ws
        .call_ok("chat.history", json!({ "sessionKey": key }))
        .await;
    assert_eq!(history["messages"].as_array().map(Vec::len), Some(0));

    // Another user does not see it.
    let mut other = app.ws_connect("henry").await;
    let listed = other.call_ok("sessions.list", json!({})).await;
    assert_eq!(listed["total"], 0);
    let res = other
        .call("chat.history", json!({ "sessionKey": key }))
        .await;
    assert_eq!(res["error"]["code"], "UNAUTHORIZED");
});
