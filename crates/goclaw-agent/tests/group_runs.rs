//! Group sessions on both store engines: up to three runs of one group chat execute at once,
//! each seeing only its own messages among those still being answered; `stop_oldest` stops
//! one of them; a group history filling more than 60% of the context window makes its runs go
//! one at a time again.

mod common;

use std::sync::Arc;

use common::*;
use goclaw_agent::{RunOutcome, TurnHandle};
use goclaw_core::{AgentPatch, MASTER_TENANT_ID, Store};
use goclaw_store::store_test;

const GROUP: &str = "agent:default:telegram:group:-1001";

fn gated() -> Setup {
    Setup {
        provider: ScriptedProvider::gated(),
        ..Setup::default()
    }
}

/// A message a channel hands over for the session it routed it to.
async fn submit(h: &Harness, session: &str, text: &str) -> TurnHandle {
    let mut input = h.input(session, text);
    input.from_channel = true;
    h.start_turn(input).await
}

/// Submits `text` to `session` and waits until its run calls the model (the `calls`-th call).
async fn started(h: &Harness, session: &str, text: &str, calls: usize) -> TurnHandle {
    let turn = submit(h, session, text).await;
    let provider = h.provider.clone();
    eventually("the run calls the model", || {
        let p = provider.clone();
        async move { p.calls() == calls }
    })
    .await;
    turn
}

fn texts(request: &goclaw_core::ChatRequest) -> Vec<String> {
    request.messages.iter().map(|m| m.text()).collect()
}

store_test!(a_group_runs_up_to_three_turns_at_once, |store: Arc<
    dyn Store,
>| async move {
    let h = Harness::start(store, gated()).await;
    let first = started(&h, GROUP, "first", 1).await;
    let second = started(&h, GROUP, "second", 2).await;
    let third = started(&h, GROUP, "third", 3).await;
    assert_eq!(h.provider.in_flight(), 3);
    let status = h.runtime.session_status(MASTER_TENANT_ID, &key(GROUP));
    assert!(status.is_running);
    assert_eq!(
        status.run_id,
        Some(first.run_id),
        "the oldest run is reported"
    );

    // A fourth waits for a slot: it joins the queue and starts when one run ends.
    let fourth = submit(&h, GROUP, "fourth").await;
    let runtime = h.runtime.clone();
    eventually("the fourth message waits in the queue", || {
        let status = runtime.session_status(MASTER_TENANT_ID, &key(GROUP));
        async move { status.queued_messages == 1 }
    })
    .await;
    h.provider.release(1);
    let provider = h.provider.clone();
    eventually("the fourth run starts once a slot is free", || {
        let p = provider.clone();
        async move { p.calls() == 4 }
    })
    .await;
    h.provider.release(3);
    for turn in [first, second, third, fourth] {
        assert_eq!(completed(&outcome(turn).await), "ok");
    }
    assert_eq!(h.provider.max_in_flight(), 3);

    // Each overlapping run saw only its own message, not those of the runs beside it.
    let requests = h.provider.requests();
    assert_eq!(texts(&requests[0]), ["first"]);
    assert_eq!(texts(&requests[1]), ["second"]);
    assert_eq!(texts(&requests[2]), ["third"]);
    let fourth_saw = texts(&requests[3]);
    assert_eq!(fourth_saw.last().map(String::as_str), Some("fourth"));
    assert!(
        !fourth_saw.iter().any(|t| t == "second" || t == "third"),
        "runs still executing stay out of the fourth's history: {fourth_saw:?}"
    );
    // Every message was stored and answered once.
    let stored = h.messages(GROUP).await;
    let answers = stored.iter().filter(|m| m.content == "ok").count();
    assert_eq!(answers, 4);
});

store_test!(
    a_direct_conversation_still_runs_one_turn_at_a_time,
    |store: Arc<dyn Store>| async move {
        let h = Harness::start(store, gated()).await;
        let direct = "agent:default:telegram:direct:42";
        let first = started(&h, direct, "first", 1).await;
        let second = submit(&h, direct, "second").await;
        let runtime = h.runtime.clone();
        eventually("the second message waits", || {
            let status = runtime.session_status(MASTER_TENANT_ID, &key(direct));
            async move { status.queued_messages == 1 }
        })
        .await;
        h.provider.release(2);
        assert_eq!(completed(&outcome(first).await), "ok");
        assert_eq!(completed(&outcome(second).await), "ok");
        assert_eq!(h.provider.max_in_flight(), 1);
        // The second run started after the first ended, so it saw the first answer.
        let requests = h.provider.requests();
        assert_eq!(texts(&requests[1]), ["first", "ok", "second"]);
    }
);

store_test!(
    stop_oldest_stops_one_run_and_the_others_go_on,
    |store: Arc<dyn Store>| async move {
        let h = Harness::start(store, gated()).await;
        let first = started(&h, GROUP, "first", 1).await;
        let second = started(&h, GROUP, "second", 2).await;
        let stopped = h.runtime.stop_oldest(MASTER_TENANT_ID, &key(GROUP));
        assert_eq!(stopped, Some(first.run_id));
        assert!(matches!(outcome(first).await, RunOutcome::Cancelled { .. }));
        h.provider.release(1);
        assert_eq!(completed(&outcome(second).await), "ok");
        assert_eq!(
            h.runtime.stop_oldest(MASTER_TENANT_ID, &key(GROUP)),
            None,
            "nothing left to stop"
        );
    }
);

store_test!(
    a_group_history_past_sixty_percent_of_the_window_runs_one_at_a_time,
    |store: Arc<dyn Store>| async move {
        let mut h = Harness::start(store, gated()).await;
        h.patch_agent(AgentPatch {
            context_window: Some(4000),
            ..AgentPatch::default()
        })
        .await;
        // About 2,700 tokens: over 60% of the window, under the compaction threshold (85%).
        let long = "alpha ".repeat(2700);
        let first = started(&h, GROUP, &long, 1).await;
        h.provider.release(1);
        assert_eq!(completed(&outcome(first).await), "ok");

        let second = started(&h, GROUP, "second", 2).await;
        let third = submit(&h, GROUP, "third").await;
        h.provider.release(2);
        assert_eq!(completed(&outcome(second).await), "ok");
        assert_eq!(completed(&outcome(third).await), "ok");
        // Throttled: the third run started only after the second ended, and saw its answer.
        let requests = h.provider.requests();
        let third_saw = texts(&requests[2]);
        assert!(
            third_saw.ends_with(&["second".to_owned(), "ok".to_owned(), "third".to_owned()]),
            "{:?}",
            third_saw
                .iter()
                .map(|t| t.chars().take(12).collect::<String>())
                .collect::<Vec<_>>()
        );
        assert_eq!(h.provider.max_in_flight(), 1);
        assert!(
            h.provider.summary_requests().is_empty(),
            "no compaction needed"
        );
    }
);
