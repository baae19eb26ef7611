//! The turn API on both store engines: interactive turns skip the debounce, a retried
//! idempotency key returns the first turn and runs nothing twice, each turn's stream carries
//! only its run, other users' sessions are refused, and turns a stopped process left behind
//! are failed visibly at the next start.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::*;
use goclaw_agent::{
    Detail, INTERRUPTED_REASON, RunOutcome, Runtime, RuntimeDeps, RuntimeError,
    SHUTTING_DOWN_REASON, ToolRegistry,
};
use goclaw_core::{MASTER_TENANT_ID, NewMessage, NewTurn, Role, Store, Trust, TurnStatus};
use goclaw_store::store_test;

fn gated() -> Setup {
    Setup {
        provider: ScriptedProvider::gated(),
        ..Setup::default()
    }
}

store_test!(
    an_interactive_turn_on_an_idle_session_skips_the_debounce,
    |store: Arc<dyn Store>| async move {
        let mut setup = Setup::default();
        // Far longer than the test's deadline: a turn that waited for it would time out.
        setup.limits.inbound_debounce_ms = 120_000;
        let h = Harness::start(store, setup).await;
        for channel in ["ws", "http"] {
            let mut input = h.input(&format!("idle-{channel}"), "hi");
            input.channel = channel.to_owned();
            let turn = h.start_turn(input).await;
            assert_eq!(completed(&outcome(turn).await), "ok", "{channel}");
        }
        // A messaging channel keeps the trailing window.
        let mut chat = h.submit("chat", "hello").await;
        assert!(
            still_running(&mut chat).await,
            "a channel message waits out the window"
        );
        assert_eq!(h.provider.calls(), 2);
    }
);

store_test!(
    interactive_messages_sent_during_a_run_merge_into_the_next,
    |store: Arc<dyn Store>| async move {
        let h = Harness::start(store, gated()).await;
        let ws = |message: &str| {
            let mut input = h.input("s1", message);
            input.channel = "ws".to_owned();
            input
        };
        let first = h.start_turn(ws("first")).await;
        let provider = h.provider.clone();
        eventually("the first run calls the model", || {
            let p = provider.clone();
            async move { p.calls() == 1 }
        })
        .await;
        let second = h.start_turn(ws("second")).await;
        let third = h.start_turn(ws("third")).await;
        assert_ne!(second.run_id, first.run_id);
        assert_eq!(second.run_id, third.run_id, "both wait in one next run");
        h.provider.release(2);
        assert_eq!(completed(&outcome(first).await), "ok");
        assert_eq!(completed(&outcome(second).await), "ok");
        assert_eq!(completed(&outcome(third).await), "ok");
        assert_eq!(h.provider.calls(), 2);
        assert_eq!(last_text(&h.provider.requests()[1]), "second\nthird");
    }
);

store_test!(a_turn_stream_carries_only_its_own_run, |store: Arc<
    dyn Store,
>| async move {
    let h = Harness::with_defaults(store).await;
    let mut a = h
        .runtime
        .start_turn(h.input("a", "to a"), Detail::All)
        .await
        .expect("turn a");
    let b = h.submit("b", "to b").await;
    let mut kinds = Vec::new();
    while let Some(event) = tokio::time::timeout(DEADLINE, a.events.recv())
        .await
        .expect("event before the deadline")
        .expect("no stream error")
    {
        assert_eq!(event.run_id, a.run_id, "only run a's events");
        kinds.push(event.kind.name());
    }
    assert_eq!(kinds.first(), Some(&"run.started"));
    assert_eq!(kinds.last(), Some(&"run.completed"));
    assert!(kinds.contains(&"chunk"));
    assert_eq!(completed(&outcome(b).await), "ok");
});

store_test!(
    a_retried_idempotency_key_returns_the_first_turn,
    |store: Arc<dyn Store>| async move {
        let h = Harness::start(store, gated()).await;
        let keyed = |message: &str| {
            let mut input = h.input("s1", message);
            input.idempotency_key = Some("req-1".to_owned());
            input
        };
        let first = h.start_turn(keyed("hello")).await;
        assert!(!first.replayed);
        // A streaming retry of a live run gets only its ending, never a stream joined mid-answer.
        let mut streaming = h
            .runtime
            .start_turn(keyed("hello"), Detail::All)
            .await
            .expect("retry");
        assert!(streaming.replayed);
        // Retried while the run is going: the same run, nothing new stored.
        let retry = h.start_turn(keyed("hello")).await;
        assert!(retry.replayed);
        assert_eq!(retry.run_id, first.run_id);
        assert_eq!(retry.user_message.seq, first.user_message.seq);
        let run = retry.run_id;
        h.provider.release(1);
        assert_eq!(completed(&outcome(first).await), "ok");
        assert_eq!(completed(&outcome(retry).await), "ok");
        let only = tokio::time::timeout(DEADLINE, streaming.events.recv())
            .await
            .expect("an event")
            .expect("no stream error")
            .expect("the ending");
        assert_eq!(only.kind.name(), "run.completed");
        assert!(streaming.events.recv().await.expect("ended").is_none());
        // Retried after the end: how it ended, from the store.
        let late = h
            .start_turn(keyed("a different text changes nothing"))
            .await;
        assert!(late.replayed);
        assert_eq!(late.run_id, run);
        assert_eq!(completed(&outcome(late).await), "ok");
        assert_eq!(h.provider.calls(), 1, "one run for three requests");
        let messages = h.messages("s1").await;
        let users = messages.iter().filter(|m| m.role == Role::User).count();
        assert_eq!((users, messages.len()), (1, 2), "one question, one answer");
        // Another user's key space is their own.
        let mut bob = h.input("bob-session", "hello");
        bob.user_id = "bob".to_owned();
        bob.idempotency_key = Some("req-1".to_owned());
        let bobs = h.start_turn(bob).await;
        assert!(!bobs.replayed);
        assert_ne!(bobs.run_id, run);
        h.provider.release(1);
        assert_eq!(completed(&outcome(bobs).await), "ok");
    }
);

store_test!(
    concurrent_retries_start_one_run,
    |store: Arc<dyn Store>| async move {
        let h = Arc::new(Harness::start(store, gated()).await);
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let h = h.clone();
            tasks.push(tokio::spawn(async move {
                let mut input = h.input("s1", "once");
                input.idempotency_key = Some("same".to_owned());
                h.start_turn(input).await
            }));
        }
        let mut runs = Vec::new();
        for task in tasks {
            runs.push(task.await.expect("task"));
        }
        let first = runs[0].run_id;
        assert!(
            runs.iter().all(|t| t.run_id == first),
            "every request got the same run"
        );
        assert_eq!(runs.iter().filter(|t| !t.replayed).count(), 1);
        h.provider.release(1);
        for turn in runs {
            assert_eq!(completed(&outcome(turn).await), "ok");
        }
        assert_eq!(h.provider.calls(), 1);
    }
);

store_test!(
    a_bad_idempotency_key_is_refused,
    |store: Arc<dyn Store>| async move {
        let h = Harness::with_defaults(store).await;
        for key in [String::new(), "x".repeat(256), "a\nb".to_owned()] {
            let mut input = h.input("s1", "hi");
            input.idempotency_key = Some(key.clone());
            let refused = h.runtime.start_turn(input, Detail::Outcome).await;
            assert!(
                matches!(refused, Err(RuntimeError::InvalidIdempotencyKey)),
                "{key:?}: {refused:?}"
            );
        }
        assert!(
            h.store
                .sessions()
                .get(MASTER_TENANT_ID, &key("s1"))
                .await
                .is_err(),
            "nothing stored"
        );
    }
);

store_test!(the_turn_api_refuses_another_users_session, |store: Arc<
    dyn Store,
>| async move {
    let h = Harness::with_defaults(store).await;
    let mut alice = h.input("agent:default:http:alice", "mine");
    alice.channel = "http".to_owned();
    assert_eq!(
        completed(&outcome(h.start_turn(alice.clone()).await).await),
        "ok"
    );
    // Bob, with alice's key: refused before anything is stored.
    let mut bob = alice.clone();
    bob.user_id = "bob".to_owned();
    bob.message = "let me in".to_owned();
    let refused = h.runtime.start_turn(bob.clone(), Detail::Outcome).await;
    assert!(
        matches!(refused, Err(RuntimeError::SessionNotOwned(_))),
        "{refused:?}"
    );
    // Even a session bob names first in alice's namespace.
    let mut squat = bob.clone();
    squat.session_key = key("agent:default:http:carol");
    let refused = h.runtime.start_turn(squat, Detail::Outcome).await;
    assert!(
        matches!(refused, Err(RuntimeError::SessionNotOwned(_))),
        "{refused:?}"
    );
    // An admin may.
    let mut admin = bob;
    admin.trust = Trust::Admin;
    assert_eq!(completed(&outcome(h.start_turn(admin).await).await), "ok");
    let users: Vec<_> = h
        .messages("agent:default:http:alice")
        .await
        .into_iter()
        .filter(|m| m.role == Role::User)
        .map(|m| m.content)
        .collect();
    assert_eq!(users, ["mine", "let me in"]);
});

store_test!(
    unfinished_turns_are_failed_visibly_at_start,
    |store: Arc<dyn Store>| async move {
        // What a killed process leaves: two stored messages of one run, still queued.
        let session = store
            .sessions()
            .get_or_create(MASTER_TENANT_ID, &key("s1"), None, "alice", CHANNEL)
            .await
            .expect("session");
        let run = uuid::Uuid::now_v7();
        for text in ["one", "two"] {
            let turn = NewTurn {
                tenant_id: MASTER_TENANT_ID,
                run_id: run,
                user_id: "alice".to_owned(),
                idempotency_key: Some(format!("k-{text}")),
            };
            store
                .turns()
                .accept(session.id, NewMessage::text(Role::User, text), turn)
                .await
                .expect("accept");
        }
        let h = Harness::with_defaults(store.clone()).await;
        assert_eq!(
            h.runtime.recover_unfinished_turns().await.expect("recover"),
            2
        );
        assert_eq!(
            h.runtime.recover_unfinished_turns().await.expect("again"),
            0
        );
        let messages = h.messages("s1").await;
        assert_eq!(messages.len(), 3);
        let failure = &messages[2];
        assert_eq!(failure.role, Role::Assistant);
        assert_eq!(failure.content, INTERRUPTED_REASON);
        assert_eq!(failure.metadata["reply_to"], serde_json::json!([1, 2]));
        let turns = store.turns().of_run(run).await.expect("turns");
        assert!(turns.iter().all(|t| t.status == TurnStatus::Failed));
        assert_eq!(h.provider.calls(), 0, "nothing runs again");
        // A retry of an interrupted request says how it ended; it does not run it.
        let mut retry = h.input("s1", "one");
        retry.idempotency_key = Some("k-one".to_owned());
        let turn = h.start_turn(retry).await;
        assert!(turn.replayed);
        let RunOutcome::Failed { error, .. } = outcome(turn).await else {
            panic!("expected the recorded failure");
        };
        assert_eq!(error, INTERRUPTED_REASON);
        assert_eq!(h.provider.calls(), 0);
    }
);

store_test!(shutdown_marks_queued_turns_dropped, |store: Arc<
    dyn Store,
>| async move {
    let mut setup = gated();
    setup.limits.shutdown_grace = Duration::from_millis(50);
    let h = Harness::start(store.clone(), setup).await;
    let running = h.submit("s1", "first").await;
    let provider = h.provider.clone();
    eventually("the first run calls the model", || {
        let p = provider.clone();
        async move { p.calls() == 1 }
    })
    .await;
    let queued = h.submit("s1", "second").await;
    let queued_run = queued.run_id;
    h.runtime.shutdown().await;
    assert_eq!(
        outcome(queued).await,
        RunOutcome::Dropped {
            reason: SHUTTING_DOWN_REASON.to_owned()
        }
    );
    assert!(matches!(
        outcome(running).await,
        RunOutcome::Cancelled { .. }
    ));
    let turns = store
        .turns()
        .of_run(queued_run.as_uuid())
        .await
        .expect("turns");
    assert_eq!(turns.len(), 1);
    assert_eq!(turns[0].status, TurnStatus::Dropped);
    assert_eq!(
        store
            .turns()
            .unfinished(10)
            .await
            .expect("unfinished")
            .len(),
        0
    );
    // A new runtime on the same store finds nothing to recover.
    let runtime = Runtime::new(RuntimeDeps::new(
        store,
        Arc::new(std::collections::HashMap::<
            String,
            Arc<dyn goclaw_core::Provider>,
        >::new()),
        ToolRegistry::with_builtins(),
        Default::default(),
        Default::default(),
    ));
    assert_eq!(
        runtime.recover_unfinished_turns().await.expect("recover"),
        0
    );
});
