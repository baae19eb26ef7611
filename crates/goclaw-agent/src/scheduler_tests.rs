//! Cases for lanes and session queue transitions.

use goclaw_core::{AgentKey, MASTER_TENANT_ID};

use super::*;

#[test]
fn lane_names() {
    for (name, lane) in [
        ("main", Lane::Main),
        ("subagent", Lane::Subagent),
        ("delegate", Lane::Delegate),
        ("team", Lane::Delegate),
        ("CRON", Lane::Cron),
        ("unknown", Lane::Main),
        ("", Lane::Main),
    ] {
        assert_eq!(Lane::parse(name), lane, "{name:?}");
    }
    for lane in Lane::ALL {
        assert_eq!(Lane::parse(lane.as_str()), lane);
    }
}

fn limits(main: u32) -> LaneLimits {
    LaneLimits {
        main,
        ..LaneLimits::default()
    }
}

#[tokio::test]
async fn a_lane_admits_at_most_its_limit() {
    let lanes = Arc::new(LaneScheduler::new(&limits(1)));
    let first = lanes.acquire(Lane::Main).await.expect("permit");
    let waiter = tokio::spawn({
        let lanes = lanes.clone();
        async move { lanes.acquire(Lane::Main).await.is_some() }
    });
    // The second run waits for the lane: poll the stats until it is counted as waiting.
    let deadline = Instant::now() + Duration::from_secs(5);
    while stats_of(&lanes, Lane::Main).waiting == 0 {
        assert!(Instant::now() < deadline, "the second acquire never waited");
        tokio::task::yield_now().await;
    }
    let main = stats_of(&lanes, Lane::Main);
    assert_eq!((main.limit, main.running, main.waiting), (1, 1, 1));
    assert!(!waiter.is_finished());
    // Other lanes are independent.
    let cron = lanes.acquire(Lane::Cron).await.expect("cron permit");
    drop(first);
    assert!(waiter.await.expect("waiter task"));
    drop(cron);
    let main = stats_of(&lanes, Lane::Main);
    assert_eq!((main.running, main.waiting), (0, 0));
}

#[test]
fn default_lane_limits() {
    let lanes = LaneScheduler::new(&LaneLimits::default());
    let limits: Vec<(Lane, usize)> = lanes.stats().iter().map(|s| (s.lane, s.limit)).collect();
    assert_eq!(
        limits,
        [
            (Lane::Main, 30),
            (Lane::Subagent, 50),
            (Lane::Delegate, 100),
            (Lane::Cron, 30)
        ]
    );
    // A zero limit would deadlock every run; it is treated as one.
    assert_eq!(LaneScheduler::new(&limits_zero()).stats()[0].limit, 1);
}

fn limits_zero() -> LaneLimits {
    LaneLimits {
        main: 0,
        ..LaneLimits::default()
    }
}

fn stats_of(lanes: &LaneScheduler, lane: Lane) -> LaneStats {
    lanes.stats()[lane.index()]
}

fn queued(seq: i64) -> QueuedMessage {
    QueuedMessage {
        seq,
        content: format!("m{seq}"),
        agent_key: AgentKey::parse("a").expect("key"),
        user_id: "u".into(),
        trust: goclaw_core::Trust::User,
        channel: "ws".into(),
        overrides: Default::default(),
    }
}

fn admission(lane: Lane, debounce_ms: u64, merge: bool) -> Admission {
    Admission {
        lane,
        debounce: Duration::from_millis(debounce_ms),
        merge,
    }
}

/// Joins like the runtime does: the run to join is chosen first, then the message joins it.
fn join(state: &mut SessionState, seq: i64, admission: Admission, cap: usize) -> (RunId, Joined) {
    let (run_id, _) = state.run_to_join(admission);
    let joined = state.join(queued(seq), run_id, admission, cap, Instant::now());
    (run_id, joined)
}

#[test]
fn joining_collects_messages_into_one_pending_run() {
    let mut state = SessionState::default();
    let (first_run, first) = join(&mut state, 1, admission(Lane::Main, 0, false), 3);
    assert!(first.start_worker && first.dropped.is_none());
    let (second_run, second) = join(&mut state, 2, admission(Lane::Cron, 5, false), 3);
    assert_eq!(second_run, first_run);
    assert!(!second.start_worker, "one worker per session");
    let pending = state.pending.front().expect("pending run");
    assert_eq!(
        pending.lane,
        Lane::Main,
        "the lane of the run's first message"
    );
    assert_eq!(pending.debounce, Duration::from_millis(5));
}

#[test]
fn interactive_messages_merge_without_a_debounce_window() {
    let mut state = SessionState::default();
    let interactive = admission(Lane::Main, 0, true);
    let (first, _) = join(&mut state, 1, interactive, 10);
    let (second, _) = join(&mut state, 2, interactive, 10);
    assert_eq!(first, second, "a waiting run takes the next message");
    let pending = state.pending.front().expect("pending run");
    assert_eq!(
        pending.ready_at(),
        pending.last_joined,
        "it may start at once"
    );
    // Without merging and without a window, a new message waits as a run of its own.
    let (third, _) = join(&mut state, 3, admission(Lane::Main, 0, false), 10);
    assert_ne!(third, first);
}

#[test]
fn a_full_pending_run_drops_its_oldest_message() {
    let mut state = SessionState::default();
    let mut dropped = Vec::new();
    let mut runs = Vec::new();
    for seq in 1..=5 {
        let (run, joined) = join(&mut state, seq, admission(Lane::Main, 5, false), 3);
        runs.push(run);
        if let Some((run, d)) = joined.dropped {
            assert_eq!(run, runs[0], "dropped from the run it was in");
            dropped.push(d.seq);
        }
    }
    assert_eq!(dropped, [1, 2]);
    let seqs: Vec<i64> = state
        .pending
        .front()
        .expect("pending")
        .messages
        .iter()
        .map(|m| m.seq)
        .collect();
    assert_eq!(seqs, [3, 4, 5]);
}

#[test]
fn without_debounce_each_message_waits_as_its_own_run() {
    let mut state = SessionState::default();
    let mut run_ids = Vec::new();
    let mut dropped = Vec::new();
    for seq in 1..=4 {
        let (run, joined) = join(&mut state, seq, admission(Lane::Main, 0, false), 3);
        run_ids.push(run);
        dropped.extend(joined.dropped.map(|(_, d)| d.seq));
    }
    run_ids.dedup();
    assert_eq!(run_ids.len(), 4, "one run per message");
    assert_eq!(dropped, [1], "the cap counts messages across queued runs");
    let queued: Vec<Vec<i64>> = state
        .pending
        .iter()
        .map(|p| p.messages.iter().map(|m| m.seq).collect())
        .collect();
    assert_eq!(queued, [vec![2], vec![3], vec![4]]);
}

#[test]
fn lanes_follow_the_channel() {
    for (channel, lane) in [
        ("ws", Lane::Main),
        ("http", Lane::Main),
        ("telegram", Lane::Main),
        ("subagent", Lane::Subagent),
        ("delegate", Lane::Delegate),
        ("team", Lane::Delegate),
        ("cron", Lane::Cron),
        ("heartbeat", Lane::Cron),
    ] {
        assert_eq!(Lane::for_channel(channel), lane, "{channel}");
    }
}

#[test]
fn entries_live_while_checked_out_or_pending() {
    let queues = SessionQueues::default();
    let session = SessionRef {
        tenant: MASTER_TENANT_ID,
        key: goclaw_core::SessionKey::parse("s").expect("key"),
    };
    let a = queues.checkout(&session);
    let b = queues.checkout(&session);
    assert!(Arc::ptr_eq(&a, &b));
    queues.release(&session, a);
    assert_eq!(queues.len(), 1, "still held by b");
    join(&mut b.state(), 1, admission(Lane::Main, 0, false), 10);
    queues.release(&session, b);
    assert_eq!(queues.len(), 1, "a pending run keeps the entry");
    let c = queues.checkout(&session);
    c.state().pending.clear();
    queues.release(&session, c);
    assert_eq!(queues.len(), 0);
}

#[test]
fn only_group_chats_run_turns_side_by_side() {
    let runs = |raw: &str| concurrent_runs(&SessionKey::parse(raw).expect("session key"));
    assert_eq!(runs("agent:a:telegram:group:-100123"), 3);
    assert_eq!(runs("agent:a:discord:group:42:topic:7"), 3);
    assert_eq!(runs("agent:a:telegram:direct:42"), 1);
    assert_eq!(runs("agent:a:telegram:direct:group"), 1);
    assert_eq!(runs("agent:a:ws:direct:conv-1"), 1);
    assert_eq!(runs("agent:a:subagent:group"), 1);
    assert_eq!(runs("agent:a:team:t1:group"), 1);
    assert_eq!(runs("my-session"), 1);
}
