//! Memory across sessions, in real turns on both engines: what the model writes to MEMORY.md in
//! one session, `memory_search` finds in a new session of the same user — and never in
//! another user's. A predefined agent's company knowledge (`memory/projects/…`) is the one
//! exception: it is shared by every user of the agent.

use goclaw_testkit::{Reply, StoreBackend, TestApp, WsClient, app_test, spawn_app_with};
use serde_json::json;

const TOKEN: &str = "memory-sharing-token-81c2";

/// An application with a gateway token, so that agents can be created.
async fn app_with_token(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with(backend, &[("GOCLAW_GATEWAY_TOKEN", TOKEN)]).await
}

/// A connection with the gateway token as `user_id`.
async fn connect(app: &TestApp, user_id: &str) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    ws.call_ok("connect", json!({ "token": TOKEN, "user_id": user_id }))
        .await;
    ws
}

app_test!(
    a_fact_written_in_one_session_is_found_in_the_next,
    |app: TestApp| async move {
        app.llm.push(Reply::tool_call(
            "call_w",
            "write_file",
            json!({"path": "MEMORY.md", "content": "# Alice\n\nAlice's favourite tea is jasmine.\n"}),
        ));
        app.llm.push(Reply::text("Noted."));
        let mut alice = app.ws_connect("alice").await;
        alice
            .call_ok(
                "chat.send",
                json!({ "message": "I love jasmine tea", "sessionKey": "agent:default:ws:direct:first" }),
            )
            .await;

        // A new session: the model looks it up.
        app.llm.push(Reply::tool_call(
            "call_s",
            "memory_search",
            json!({"query": "favourite tea"}),
        ));
        app.llm.push(Reply::text("Jasmine."));
        let answer = alice
            .call_ok(
                "chat.send",
                json!({ "message": "what tea do I like?", "sessionKey": "agent:default:ws:direct:second" }),
            )
            .await;
        assert_eq!(answer["content"], "Jasmine.");
        let requests = app.llm.requests();
        let first = requests[0].body.to_string();
        assert!(
            first.contains("\"memory_search\"") && first.contains("\"memory_get\""),
            "memory tools offered: {first}"
        );
        let searched = requests[3].body.to_string();
        assert!(
            searched.contains("favourite tea is jasmine") && searched.contains("MEMORY.md"),
            "the search result reached the model: {searched}"
        );

        // Bob searches the same agent's memory and finds nothing of Alice's.
        app.llm.push(Reply::tool_call(
            "call_b",
            "memory_search",
            json!({"query": "favourite tea jasmine"}),
        ));
        app.llm.push(Reply::text("I don't know."));
        let mut bob = app.ws_connect("bob").await;
        bob.call_ok(
            "chat.send",
            json!({ "message": "what tea does alice like?", "sessionKey": "agent:default:ws:direct:bobs" }),
        )
        .await;
        let requests = app.llm.requests();
        let bobs = requests[5].body.to_string();
        assert!(bobs.contains("\\\"results\\\": []"), "{bobs}");
        assert!(!bobs.contains("favourite tea is jasmine"), "{bobs}");
    }
);

app_test!(
    a_predefined_agent_shares_its_company_knowledge_and_nothing_else,
    app_with_token,
    |app: TestApp| async move {
        let mut alice = connect(&app, "alice").await;
        alice
            .call_ok(
                "agents.create",
                json!({ "name": "Concierge", "agentType": "predefined" }),
            )
            .await;
        app.llm.push(Reply::tool_call(
            "call_p",
            "write_file",
            json!({"path": "memory/projects/falcon.md", "content": "Project Falcon ships the harbour crane telemetry.\n"}),
        ));
        app.llm.push(Reply::tool_call(
            "call_n",
            "write_file",
            json!({"path": "memory/notes.md", "content": "Alice keeps her harbour pass in the blue drawer.\n"}),
        ));
        app.llm.push(Reply::text("Noted."));
        alice
            .call_ok(
                "chat.send",
                json!({ "agentId": "concierge", "message": "remember these" }),
            )
            .await;

        // Bob, in his own session of the same agent: the project, not Alice's note.
        app.llm.push(Reply::tool_call(
            "call_s",
            "memory_search",
            json!({"query": "harbour"}),
        ));
        app.llm.push(Reply::text("Falcon."));
        let mut bob = connect(&app, "bob").await;
        bob.call_ok(
            "chat.send",
            json!({ "agentId": "concierge", "message": "what is about the harbour?" }),
        )
        .await;
        let requests = app.llm.requests();
        let searched = requests
            .last()
            .expect("the model was called")
            .body
            .to_string();
        assert!(
            searched.contains("harbour crane telemetry")
                && searched.contains("memory/projects/falcon.md"),
            "the shared project reached bob: {searched}"
        );
        assert!(
            !searched.contains("blue drawer"),
            "alice's note stays hers: {searched}"
        );

        // The same path of an open agent stays the writer's own.
        app.llm.push(Reply::tool_call(
            "call_k",
            "write_file",
            json!({"path": "memory/projects/kestrel.md", "content": "Project Kestrel maps the harbour moorings.\n"}),
        ));
        app.llm.push(Reply::text("Noted."));
        alice
            .call_ok("chat.send", json!({ "message": "remember kestrel" }))
            .await;
        app.llm.push(Reply::tool_call(
            "call_t",
            "memory_search",
            json!({"query": "harbour moorings"}),
        ));
        app.llm.push(Reply::text("Nothing."));
        bob.call_ok("chat.send", json!({ "message": "what maps the moorings?" }))
            .await;
        let requests = app.llm.requests();
        let searched = requests
            .last()
            .expect("the model was called")
            .body
            .to_string();
        assert!(searched.contains("\\\"results\\\": []"), "{searched}");
        assert!(!searched.contains("Kestrel"), "{searched}");
    }
);
