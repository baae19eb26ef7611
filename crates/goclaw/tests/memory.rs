//! Memory across sessions, in real turns on both engines: what the model writes to MEMORY.md in
//! one session, `memory_search` finds in a new session of the same user — and never in
//! another user's.

use goclaw_testkit::{Reply, TestApp, app_test};
use serde_json::json;

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
