//! The agent loop on both store engines: answers are sanitized, stored and streamed; tool
//! calls round-trip through the registry; limits stop runaway models; provider errors fail
//! runs clearly; a context overflow compacts once and retries.

mod common;

use std::sync::Arc;

use common::*;
use goclaw_agent::{AgentEventKind, RunOutcome};
use goclaw_core::{
    AgentPatch, ChatRole, ContentPart, MASTER_TENANT_ID, ProviderError, Role, Store,
};
use goclaw_store::store_test;
use serde_json::json;

store_test!(an_answer_is_sanitized_stored_and_streamed, |store: Arc<
    dyn Store,
>| async move {
    let mut h = Harness::with_defaults(store).await;
    h.provider.push(text("<think>plan</think>Hello there"));
    let submission = h.submit("s1", "hi").await;
    let run = submission.run_id;
    let result = outcome(submission).await;
    assert_eq!(completed(&result), "Hello there");
    let events = h.events_of(run).await;
    assert_eq!(
        events.first(),
        Some(&AgentEventKind::RunStarted {
            message: "hi".into()
        })
    );
    assert!(events.contains(&AgentEventKind::Chunk {
        content: "<think>plan</think>Hello there".into()
    }));
    let Some(AgentEventKind::RunCompleted { content, usage, .. }) = events.last() else {
        panic!("last event {:?}", events.last());
    };
    assert_eq!(content, "Hello there");
    assert_eq!((usage.input_tokens, usage.output_tokens), (10, 5));

    let stored = h.messages("s1").await;
    assert_eq!(stored.len(), 2);
    assert_eq!(stored[1].role, Role::Assistant);
    assert_eq!(stored[1].content, "Hello there");
    assert_eq!(stored[1].metadata["run_id"], json!(run.to_string()));
    assert_eq!(stored[1].metadata["reply_to"], json!([1]));
    let session = h.session("s1").await;
    assert_eq!((session.input_tokens, session.output_tokens), (10, 5));

    let request = &h.provider.requests()[0];
    assert_eq!(request.model, MODEL);
    assert_eq!(request.max_tokens, 8192);
    assert_eq!(request.temperature, Some(0.7));
    let tools: Vec<&str> = request.tools.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(tools, ["datetime"]);
});

store_test!(
    no_reply_completes_silently_and_empty_becomes_dots,
    |store: Arc<dyn Store>| async move {
        let h = Harness::with_defaults(store).await;
        h.provider.push(text(" NO_REPLY \n"));
        let silent = h.chat("s1", "psst").await;
        assert!(
            matches!(&silent, RunOutcome::Completed { silent: true, content, .. } if content.is_empty()),
            "{silent:?}"
        );
        let stored = h.messages("s1").await;
        assert_eq!(stored[1].content, "NO_REPLY");
        assert_eq!(stored[1].metadata["silent"], json!(true));

        h.provider.push(text("<think>nothing to say</think>"));
        assert_eq!(completed(&h.chat("s1", "and?").await), "...");
    }
);

store_test!(a_tool_call_round_trips_through_datetime, |store: Arc<
    dyn Store,
>| async move {
    let mut h = Harness::with_defaults(store).await;
    h.provider
        .push(tool("call-1", "datetime", json!({"timezone": "UTC"})));
    h.provider.push(text("It is now."));
    let submission = h.submit("s1", "what time is it?").await;
    let run = submission.run_id;
    assert_eq!(completed(&outcome(submission).await), "It is now.");

    let events = h.events_of(run).await;
    assert!(events.contains(&AgentEventKind::ToolCall {
        id: "call-1".into(),
        name: "datetime".into(),
        arguments: json!({"timezone": "UTC"}),
    }));
    let result = events
        .iter()
        .find_map(|e| match e {
            AgentEventKind::ToolResult {
                id,
                result,
                is_error,
                ..
            } if id == "call-1" => Some((result.clone(), *is_error)),
            _ => None,
        })
        .expect("a tool result event");
    assert!(!result.1 && result.0.contains("\"utc\""), "{result:?}");

    let stored = h.messages("s1").await;
    let roles: Vec<Role> = stored.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [Role::User, Role::Assistant, Role::Tool, Role::Assistant]
    );
    assert_eq!(stored[1].tool_calls[0]["id"], json!("call-1"));
    assert_eq!(stored[2].tool_call_id.as_deref(), Some("call-1"));
    assert_eq!(stored[2].metadata["is_error"], json!(false));
    assert!(stored[2].content.contains("\"utc\""));

    let second = &h.provider.requests()[1];
    let last = second.messages.last().expect("tool results");
    assert_eq!(last.role, ChatRole::Tool);
    assert!(matches!(
        &last.parts[..],
        [ContentPart::ToolResult { call_id, content, is_error: false }]
            if call_id == "call-1" && content.contains("\"utc\"")
    ));

    // A later turn rebuilds the same exchange from the store.
    h.chat("s1", "thanks").await;
    let third = &h.provider.requests()[2];
    let roles: Vec<ChatRole> = third.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            ChatRole::User,
            ChatRole::Assistant,
            ChatRole::Tool,
            ChatRole::Assistant,
            ChatRole::User
        ]
    );
});

store_test!(an_unknown_tool_is_an_error_result, |store: Arc<
    dyn Store,
>| async move {
    let mut h = Harness::with_defaults(store).await;
    h.provider.push(tool("c1", "teleport", json!({})));
    h.provider.push(text("sorry"));
    let submission = h.submit("s1", "beam me up").await;
    let run = submission.run_id;
    assert_eq!(completed(&outcome(submission).await), "sorry");
    let events = h.events_of(run).await;
    assert!(events.iter().any(|e| matches!(e,
            AgentEventKind::ToolResult { is_error: true, result, .. } if result.contains("Unknown tool"))));
});

store_test!(the_iteration_limit_stops_a_looping_model, |store: Arc<
    dyn Store,
>| async move {
    let mut h = Harness::with_defaults(store).await;
    h.patch_agent(AgentPatch {
        max_tool_iterations: Some(3),
        ..AgentPatch::default()
    })
    .await;
    *h.provider.otherwise.lock().expect("otherwise") = tool("again", "datetime", json!({}));
    let result = h.chat("s1", "loop forever").await;
    assert!(
        completed(&result).contains("3 tool iterations"),
        "{result:?}"
    );
    assert_eq!(h.provider.calls(), 3);
});

store_test!(
    the_tool_call_limit_ends_the_loop_after_the_next_answer,
    |store: Arc<dyn Store>| async move {
        let mut h = Harness::with_defaults(store).await;
        h.patch_agent(AgentPatch {
            other_config: Some(json!({"max_tool_calls": 2})),
            ..AgentPatch::default()
        })
        .await;
        for _ in 0..3 {
            h.provider.push(two_datetime_calls());
        }
        let result = h.chat("s1", "go").await;
        assert_eq!(
            h.provider.calls(),
            3,
            "the answer after the limit ends the run"
        );
        assert_eq!(completed(&result), "...");
        let stored = h.messages("s1").await;
        let limited = stored
            .iter()
            .filter(|m| m.role == Role::Tool && m.content.contains("Tool call limit reached"))
            .count();
        assert_eq!(limited, 2);
    }
);

fn two_datetime_calls() -> Step {
    Step::Tools(vec![
        ("a".into(), "datetime".into(), json!({})),
        ("b".into(), "datetime".into(), json!({})),
    ])
}

store_test!(
    an_unconfigured_provider_fails_the_run_clearly,
    |store: Arc<dyn Store>| async move {
        let mut h = Harness::with_defaults(store).await;
        h.patch_agent(AgentPatch {
            provider: Some("groq".into()),
            ..AgentPatch::default()
        })
        .await;
        let submission = h.submit("s1", "hi").await;
        let run = submission.run_id;
        let RunOutcome::Failed { error, .. } = outcome(submission).await else {
            panic!("expected a failed run");
        };
        assert!(error.contains("provider groq is not configured"), "{error}");
        assert!(error.contains("GOCLAW_GROQ_API_KEY"), "{error}");
        let events = h.events_of(run).await;
        assert!(matches!(
            events.last(),
            Some(AgentEventKind::RunFailed { .. })
        ));
        let messages = h.messages("s1").await;
        assert_eq!(
            messages.len(),
            2,
            "the user message stays, and the failure is recorded"
        );
        assert_eq!(messages[1].role, goclaw_core::Role::Assistant);
        assert_eq!(messages[1].metadata["failed"], true);
        assert_eq!(messages[1].content, error);
        // The next turn's model sees the unanswered message, never the failure record.
        h.patch_agent(AgentPatch {
            provider: Some(PROVIDER.into()),
            ..AgentPatch::default()
        })
        .await;
        assert_eq!(completed(&h.chat("s1", "again").await), "ok");
        let request = h.provider.requests().pop().expect("a model call");
        let seen = all_text(&request);
        assert!(seen.contains("hi") && seen.contains("again"), "{seen}");
        assert!(!seen.contains("not configured"), "{seen}");
    }
);

store_test!(context_files_reach_the_system_prompt, |store: Arc<
    dyn Store,
>| async move {
    let h = Harness::with_defaults(store.clone()).await;
    let files = store.context_files();
    files
        .set(
            MASTER_TENANT_ID,
            h.agent.id,
            "AGENTS.md",
            "Always answer in haiku.",
        )
        .await
        .expect("AGENTS.md");
    files
        .set(MASTER_TENANT_ID, h.agent.id, "USER.md", "The user is Ada.")
        .await
        .expect("USER.md");
    h.chat("s1", "hi").await;
    let request = &h.provider.requests()[0];
    assert_eq!(request.system.len(), 2);
    assert!(request.system[0].cacheable);
    assert!(request.system[0].text.contains("Always answer in haiku."));
    assert!(!request.system[1].cacheable);
    assert!(request.system[1].text.contains("The user is Ada."));
});

store_test!(
    a_context_overflow_compacts_once_and_retries,
    |store: Arc<dyn Store>| async move {
        let h = Harness::with_defaults(store).await;
        for turn in 0..4 {
            h.chat("s1", &format!("turn {turn}")).await;
        }
        let overflow = || Step::Fail(ProviderError::ContextOverflow("too long".into()));
        h.provider.push(overflow());
        h.provider.push(text("fits now"));
        assert_eq!(completed(&h.chat("s1", "big one").await), "fits now");
        let session = h.session("s1").await;
        assert_eq!(session.summary.as_deref(), Some("SUMMARY"));
        assert_eq!(session.compaction_count, 1);
        let retried = h.provider.requests().pop().expect("retry");
        assert!(all_text(&retried).starts_with("[Previous conversation summary]\nSUMMARY"));
        assert_eq!(last_text(&retried), "big one");

        h.provider.push(overflow());
        h.provider.push(overflow());
        let RunOutcome::Failed { error, .. } = h.chat("s1", "bigger").await else {
            panic!("a second overflow fails the run");
        };
        assert!(error.contains("context window exceeded"), "{error}");
    }
);
