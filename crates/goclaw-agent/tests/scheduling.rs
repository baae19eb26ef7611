//! Scheduling on both store engines: messages are stored before they run, one run per session
//! at a time, lanes bound concurrency across sessions, the debounce merges quick messages, a
//! full queue drops its oldest message, abort keeps what was said, shutdown drains.

mod common;

use std::sync::Arc;

use common::*;
use goclaw_agent::{
    AgentEventKind, Lane, QUEUE_FULL_REASON, RunOutcome, RuntimeError, SHUTTING_DOWN_REASON,
};
use goclaw_core::{MASTER_TENANT_ID, Role, Store};
use goclaw_store::store_test;
use serde_json::json;

fn gated() -> Setup {
    Setup {
        provider: ScriptedProvider::gated(),
        ..Setup::default()
    }
}

fn main_lane(setup: &mut Setup) -> &mut u32 {
    &mut setup.limits.lanes.main
}

store_test!(the_message_is_stored_before_the_run, |store: Arc<
    dyn Store,
>| async move {
    let h = Harness::start(store, gated()).await;
    let mut submission = h.submit("s1", "hello").await;
    // The provider is gated: the run cannot have finished, yet the message is stored.
    assert!(still_running(&mut submission).await, "no outcome yet");
    let stored = h.messages("s1").await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].seq, submission.user_message.seq);
    assert_eq!(stored[0].role, Role::User);
    assert_eq!(stored[0].content, "hello");
    assert_eq!(
        stored[0].metadata,
        json!({"channel": CHANNEL, "user_id": "alice"})
    );
    h.provider.release(1);
    assert_eq!(completed(&outcome(submission).await), "ok");
});

store_test!(one_session_runs_one_turn_at_a_time, |store: Arc<
    dyn Store,
>| async move {
    let h = Harness::start(store, gated()).await;
    let first = h.submit("s1", "first").await;
    let provider = h.provider.clone();
    eventually("the first run calls the model", || {
        let p = provider.clone();
        async move { p.calls() == 1 }
    })
    .await;
    let second = h.submit("s1", "second").await;
    assert_ne!(
        second.run_id, first.run_id,
        "a running run takes no new messages"
    );
    let status = h.runtime.session_status(MASTER_TENANT_ID, &key("s1"));
    assert!(status.is_running);
    assert_eq!(status.run_id, Some(first.run_id));
    assert_eq!(status.queued_messages, 1);
    assert_eq!(h.provider.calls(), 1, "the second run waits for the first");

    h.provider.release(2);
    let first_outcome = outcome(first).await;
    let second_outcome = outcome(second).await;
    assert_eq!(completed(&first_outcome), "ok");
    assert_eq!(completed(&second_outcome), "ok");
    assert_eq!(h.provider.max_in_flight(), 1);
    let requests = h.provider.requests();
    assert_eq!(requests.len(), 2);
    assert_eq!(last_text(&requests[0]), "first");
    // The second turn sees the first one's answer before its own message.
    let texts: Vec<String> = requests[1].messages.iter().map(|m| m.text()).collect();
    assert_eq!(texts, ["first", "ok", "second"]);
});

store_test!(
    a_main_lane_of_one_never_runs_two_sessions_at_once,
    |store: Arc<dyn Store>| async move {
        let mut setup = gated();
        *main_lane(&mut setup) = 1;
        let h = Harness::start(store, setup).await;
        let a = h.submit("s1", "a").await;
        let b = h.submit("s2", "b").await;
        let runtime = h.runtime.clone();
        eventually("one run holds the lane and the other waits", || {
            let stats = runtime.lane_stats();
            async move { stats[0].lane == Lane::Main && stats[0].running == 1 && stats[0].waiting == 1 }
        })
        .await;
        let provider = h.provider.clone();
        eventually("the admitted run calls the model", || {
            let p = provider.clone();
            async move { p.calls() == 1 }
        })
        .await;
        assert_eq!(h.provider.in_flight(), 1);
        h.provider.release(2);
        assert_eq!(completed(&outcome(a).await), "ok");
        assert_eq!(completed(&outcome(b).await), "ok");
        assert_eq!(h.provider.calls(), 2);
        assert_eq!(h.provider.max_in_flight(), 1);
    }
);

store_test!(
    sessions_run_side_by_side_when_the_lane_allows,
    |store: Arc<dyn Store>| async move {
        let mut setup = gated();
        *main_lane(&mut setup) = 2;
        let h = Harness::start(store, setup).await;
        let a = h.submit("s1", "a").await;
        let b = h.submit("s2", "b").await;
        let provider = h.provider.clone();
        eventually("both sessions call the model at once", || {
            let p = provider.clone();
            async move { p.in_flight() == 2 }
        })
        .await;
        h.provider.release(2);
        outcome(a).await;
        outcome(b).await;
        assert_eq!(h.provider.max_in_flight(), 2);
    }
);

store_test!(
    the_debounce_merges_quick_messages_into_one_run,
    |store: Arc<dyn Store>| async move {
        let mut setup = Setup::default();
        // Long enough that three submits always land inside it; the test never waits on it
        // other than through the outcome.
        setup.limits.inbound_debounce_ms = 1500;
        let h = Harness::start(store, setup).await;
        let one = h.submit("s1", "one").await;
        let two = h.submit("s1", "two").await;
        let three = h.submit("s1", "three").await;
        assert_eq!(one.run_id, two.run_id);
        assert_eq!(two.run_id, three.run_id);
        for submission in [one, two, three] {
            let run = submission.run_id;
            let result = outcome(submission).await;
            assert_eq!(result.run_id(), Some(run));
            assert_eq!(completed(&result), "ok");
        }
        assert_eq!(h.provider.calls(), 1, "one run answers all three");
        assert_eq!(last_text(&h.provider.requests()[0]), "one\ntwo\nthree");
        // The answer records every message it replies to.
        let stored = h.messages("s1").await;
        let answer = stored.last().expect("answer");
        assert_eq!(answer.role, Role::Assistant);
        assert_eq!(answer.metadata["reply_to"], json!([1, 2, 3]));
    }
);

store_test!(a_full_queue_drops_its_oldest_message, |store: Arc<
    dyn Store,
>| async move {
    let mut setup = gated();
    setup.limits.session_queue_cap = 2;
    // A debounce window makes messages that arrive while a run is busy join one next run.
    setup.limits.inbound_debounce_ms = 1;
    let h = Harness::start(store, setup).await;
    let running = h.submit("s1", "m0").await;
    let provider = h.provider.clone();
    eventually("the first run calls the model", || {
        let p = provider.clone();
        async move { p.calls() == 1 }
    })
    .await;
    let m1 = h.submit("s1", "m1").await;
    let m2 = h.submit("s1", "m2").await;
    let m3 = h.submit("s1", "m3").await;
    let dropped_seq = m1.user_message.seq;
    assert_eq!(
        outcome(m1).await,
        RunOutcome::Dropped {
            reason: QUEUE_FULL_REASON.to_owned()
        }
    );
    let markers: Vec<_> = h
        .messages("s1")
        .await
        .into_iter()
        .filter(|m| m.role == Role::System)
        .collect();
    assert_eq!(markers.len(), 1);
    assert_eq!(markers[0].metadata["dropped_seq"], json!(dropped_seq));

    h.provider.release(2);
    outcome(running).await;
    let (r2, r3) = (outcome(m2).await, outcome(m3).await);
    assert_eq!(r2.run_id(), r3.run_id());
    let request = &h.provider.requests()[1];
    assert_eq!(last_text(request), "m2\nm3");
    assert!(!all_text(request).contains("m1"), "{}", all_text(request));
});

store_test!(
    abort_keeps_the_user_message_and_the_partial_answer,
    |store: Arc<dyn Store>| async move {
        let mut h = Harness::with_defaults(store).await;
        h.provider.push(Step::Hang("Partial ans".to_owned()));
        let running = h.submit("s1", "tell me").await;
        let run = running.run_id;
        // Wait until the partial text has streamed.
        loop {
            let event = tokio::time::timeout(DEADLINE, h.events.recv())
                .await
                .expect("event")
                .expect("stream");
            if matches!(event.kind, AgentEventKind::Chunk { .. }) {
                break;
            }
        }
        let queued = h.submit("s1", "and another").await;
        let aborted = h.runtime.abort(MASTER_TENANT_ID, &key("s1")).await;
        assert!(aborted.aborted);
        assert_eq!(aborted.run_ids, [run, queued.run_id]);
        assert_eq!(
            outcome(running).await,
            RunOutcome::Cancelled {
                run_id: run,
                partial: "Partial ans".to_owned()
            }
        );
        assert!(matches!(
            outcome(queued).await,
            RunOutcome::Cancelled { .. }
        ));
        let events = h.events_of(run).await;
        assert!(matches!(
            events.last(),
            Some(AgentEventKind::RunCancelled { .. })
        ));

        let stored = h.messages("s1").await;
        let roles: Vec<(Role, &str)> = stored
            .iter()
            .map(|m| (m.role, m.content.as_str()))
            .collect();
        assert_eq!(
            roles,
            [
                (Role::User, "tell me"),
                (Role::User, "and another"),
                (Role::Assistant, "Partial ans")
            ]
        );
        assert_eq!(stored[2].metadata["cancelled"], json!(true));
        // The session is usable again, and remembers what was said.
        let next = h.chat("s1", "again").await;
        assert_eq!(completed(&next), "ok");
        let request = h.provider.requests().pop().expect("request");
        assert!(all_text(&request).contains("Partial ans"));
        assert_eq!(last_text(&request), "and another\nagain");
        let nothing = h.runtime.abort(MASTER_TENANT_ID, &key("s1")).await;
        assert!(!nothing.aborted && nothing.run_ids.is_empty());
    }
);

store_test!(
    an_unknown_agent_is_an_error,
    |store: Arc<dyn Store>| async move {
        let h = Harness::with_defaults(store.clone()).await;
        let mut input = h.input("s1", "hi");
        input.agent_key = agent_key("nobody");
        let error = h
            .runtime
            .start_turn(input, goclaw_agent::Detail::Outcome)
            .await
            .expect_err("unknown agent");
        assert!(
            matches!(error, RuntimeError::AgentNotFound(ref k) if k == "nobody"),
            "{error}"
        );
        assert!(
            store
                .sessions()
                .get(MASTER_TENANT_ID, &key("s1"))
                .await
                .is_err()
        );
    }
);

store_test!(
    shutdown_drops_queued_runs_and_refuses_new_messages,
    |store: Arc<dyn Store>| async move {
        let h = Harness::start(store, gated()).await;
        let running = h.submit("s1", "first").await;
        let provider = h.provider.clone();
        eventually("the first run calls the model", || {
            let p = provider.clone();
            async move { p.calls() == 1 }
        })
        .await;
        let queued = h.submit("s1", "second").await;
        let runtime = h.runtime.clone();
        let shutdown = tokio::spawn(async move { runtime.shutdown().await });
        assert_eq!(
            outcome(queued).await,
            RunOutcome::Dropped {
                reason: SHUTTING_DOWN_REASON.to_owned()
            }
        );
        let refused = h
            .runtime
            .start_turn(h.input("s1", "third"), goclaw_agent::Detail::Outcome)
            .await;
        assert!(matches!(refused, Err(RuntimeError::ShuttingDown)));
        h.provider.release(1);
        assert_eq!(completed(&outcome(running).await), "ok");
        shutdown.await.expect("shutdown task");
    }
);
