//! Cases for the event hub: per-run streams, scoped watchers, lag as an error.

use goclaw_core::{MASTER_TENANT_ID, SessionKey, TenantId, Usage};

use super::*;

fn event(run: RunId, tenant: TenantId, user: &str, kind: AgentEventKind) -> AgentEvent {
    AgentEvent {
        tenant_id: tenant,
        agent_key: "a".into(),
        session_key: SessionKey::parse("s").expect("key"),
        run_id: run,
        user_id: user.into(),
        channel: "ws".into(),
        kind,
    }
}

fn chunk(text: &str) -> AgentEventKind {
    AgentEventKind::Chunk {
        content: text.into(),
    }
}

fn completed() -> AgentEventKind {
    AgentEventKind::RunCompleted {
        content: "done".into(),
        thinking: None,
        usage: Usage::default(),
        silent: false,
    }
}

#[tokio::test]
async fn a_turn_stream_carries_its_run_in_order_and_ends_after_the_terminal_event() {
    let hub = EventHub::new(16);
    let run = RunId::generate();
    let other = RunId::generate();
    hub.open_run(run);
    hub.open_run(other);
    let mut events = hub.subscribe_run(run, 1, Detail::All).expect("open run");
    hub.publish(event(run, MASTER_TENANT_ID, "u", chunk("a")));
    hub.publish(event(other, MASTER_TENANT_ID, "u", chunk("x")));
    hub.publish(event(run, MASTER_TENANT_ID, "u", chunk("b")));
    hub.publish(event(run, MASTER_TENANT_ID, "u", completed()));
    let mut seen = Vec::new();
    while let Some(event) = events.recv().await.expect("no error") {
        seen.push(event.kind.name());
    }
    assert_eq!(seen, ["chunk", "chunk", "run.completed"]);
    assert_eq!(
        hub.counts().0,
        1,
        "the finished run is closed; the other is open"
    );
    assert!(hub.subscribe_run(run, 1, Detail::All).is_none());
}

#[tokio::test]
async fn a_stream_that_falls_behind_fails_instead_of_skipping() {
    let hub = EventHub::new(4);
    let run = RunId::generate();
    hub.open_run(run);
    let mut events = hub.subscribe_run(run, 1, Detail::All).expect("open run");
    for i in 0..10 {
        hub.publish(event(run, MASTER_TENANT_ID, "u", chunk(&i.to_string())));
    }
    hub.publish(event(run, MASTER_TENANT_ID, "u", completed()));
    let mut read = Vec::new();
    let error = loop {
        match events.recv().await {
            Ok(Some(event)) => read.push(event.kind.name()),
            Ok(None) => panic!("the stream ended cleanly after losing events"),
            Err(error) => break error,
        }
    };
    assert_eq!(read.len(), 4, "what fitted is delivered, in order");
    assert!(read.iter().all(|k| *k == "chunk"));
    assert_eq!(error, StreamError::Lagged);
}

#[tokio::test]
async fn an_outcome_stream_never_lags() {
    let hub = EventHub::new(2);
    let run = RunId::generate();
    hub.open_run(run);
    let events = hub
        .subscribe_run(run, 1, Detail::Outcome)
        .expect("open run");
    for i in 0..100 {
        hub.publish(event(run, MASTER_TENANT_ID, "u", chunk(&i.to_string())));
    }
    hub.publish(event(run, MASTER_TENANT_ID, "u", completed()));
    match events.outcome().await {
        RunOutcome::Completed { content, .. } => assert_eq!(content, "done"),
        other => panic!("unexpected outcome {other:?}"),
    }
}

#[tokio::test]
async fn a_dropped_turn_ends_with_its_reason() {
    let hub = EventHub::new(8);
    let run = RunId::generate();
    hub.open_run(run);
    let first = hub.subscribe_run(run, 1, Detail::All).expect("open run");
    let mut second = hub.subscribe_run(run, 2, Detail::All).expect("open run");
    hub.end_turn(run, 1, StreamError::Dropped("queue full".into()));
    assert_eq!(
        first.outcome().await,
        RunOutcome::Dropped {
            reason: "queue full".into()
        }
    );
    hub.publish(event(run, MASTER_TENANT_ID, "u", completed()));
    assert!(second.recv().await.expect("event").is_some());
}

#[tokio::test]
async fn watchers_see_only_their_scope() {
    let hub = EventHub::new(16);
    let tenant_b = TenantId::from_uuid(uuid::Uuid::now_v7());
    let mut admin = hub.watch(WatchScope::tenant(MASTER_TENANT_ID));
    let mut alice = hub.watch(WatchScope::user(MASTER_TENANT_ID, "alice"));
    let mut bob = hub.watch(WatchScope::user(MASTER_TENANT_ID, "bob"));
    let mut other_tenant = hub.watch(WatchScope::tenant(tenant_b));
    let mut session_only = hub.watch(WatchScope {
        session: Some(SessionKey::parse("elsewhere").expect("key")),
        ..WatchScope::tenant(MASTER_TENANT_ID)
    });
    let mut everything = hub.watch(WatchScope::everything());
    let run = RunId::generate();
    hub.publish(event(run, MASTER_TENANT_ID, "alice", chunk("hi")));
    hub.publish(event(run, tenant_b, "carol", chunk("b")));
    let got = |w: &mut EventWatch| {
        let mut users = Vec::new();
        while let Ok(event) = w.receiver.try_recv() {
            users.push(event.user_id.clone());
        }
        users
    };
    assert_eq!(got(&mut admin), ["alice"]);
    assert_eq!(got(&mut alice), ["alice"]);
    assert!(got(&mut bob).is_empty());
    assert_eq!(got(&mut other_tenant), ["carol"]);
    assert!(got(&mut session_only).is_empty());
    assert_eq!(got(&mut everything), ["alice", "carol"]);
    drop((admin, alice, bob, other_tenant, session_only));
    assert_eq!(hub.counts().1, 1, "dropped watchers leave the index");
}

#[tokio::test]
async fn a_lagging_watcher_is_cut_off_with_an_error() {
    let hub = EventHub::new(2);
    let mut watch = hub.watch(WatchScope::tenant(MASTER_TENANT_ID));
    let run = RunId::generate();
    for i in 0..5 {
        hub.publish(event(run, MASTER_TENANT_ID, "u", chunk(&i.to_string())));
    }
    assert!(watch.recv().await.is_ok());
    assert!(watch.recv().await.is_ok());
    assert_eq!(watch.recv().await.err(), Some(StreamError::Lagged));
    assert_eq!(hub.counts().1, 0);
}
