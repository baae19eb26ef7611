//! Admission of runs: the lanes (one semaphore per kind of work, bounding how many runs of
//! that kind execute at once) and the per-session queues (at most one run per session at a
//! time, plus one pending run that collects the messages arriving meanwhile).
//!
//! This module holds the state and its transitions; the task that drives a session's queue
//! lives in `worker.rs`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use goclaw_config::LaneLimits;
use goclaw_core::{SessionKey, TenantId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::events::RunId;
use crate::types::{RunOutcome, RunPhase};

/// The kind of work a run is, each with its own concurrency limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Lane {
    /// Conversations with people (WebSocket, HTTP, channels).
    #[default]
    Main,
    /// Runs spawned by other agents.
    Subagent,
    /// Delegated and team work.
    Delegate,
    /// Scheduled jobs.
    Cron,
}

impl Lane {
    pub const ALL: [Lane; 4] = [Lane::Main, Lane::Subagent, Lane::Delegate, Lane::Cron];

    pub fn as_str(self) -> &'static str {
        match self {
            Lane::Main => "main",
            Lane::Subagent => "subagent",
            Lane::Delegate => "delegate",
            Lane::Cron => "cron",
        }
    }

    /// The lane called `name`; `team` is the delegate lane and anything unknown is `main`.
    pub fn parse(name: &str) -> Lane {
        match name.trim().to_ascii_lowercase().as_str() {
            "subagent" => Lane::Subagent,
            "delegate" | "team" => Lane::Delegate,
            "cron" => Lane::Cron,
            _ => Lane::Main,
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// A lane's load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LaneStats {
    pub lane: Lane,
    pub limit: usize,
    /// Runs holding a permit.
    pub running: usize,
    /// Runs waiting for one.
    pub waiting: usize,
}

struct LaneSlot {
    limit: usize,
    semaphore: Arc<Semaphore>,
    waiting: AtomicUsize,
}

/// One semaphore per lane.
pub(crate) struct LaneScheduler {
    slots: [LaneSlot; 4],
}

impl LaneScheduler {
    pub(crate) fn new(limits: &LaneLimits) -> Self {
        let slot = |limit: u32| {
            let limit = (limit as usize).max(1);
            LaneSlot {
                limit,
                semaphore: Arc::new(Semaphore::new(limit)),
                waiting: AtomicUsize::new(0),
            }
        };
        Self {
            slots: [
                slot(limits.main),
                slot(limits.subagent),
                slot(limits.delegate),
                slot(limits.cron),
            ],
        }
    }

    /// Waits for a permit of `lane`, held until the returned value is dropped.
    pub(crate) async fn acquire(&self, lane: Lane) -> Option<OwnedSemaphorePermit> {
        let slot = &self.slots[lane.index()];
        slot.waiting.fetch_add(1, Ordering::SeqCst);
        let _waiting = DecrementOnDrop(&slot.waiting);
        slot.semaphore.clone().acquire_owned().await.ok()
    }

    pub(crate) fn stats(&self) -> Vec<LaneStats> {
        Lane::ALL
            .iter()
            .map(|lane| {
                let slot = &self.slots[lane.index()];
                LaneStats {
                    lane: *lane,
                    limit: slot.limit,
                    running: slot.limit - slot.semaphore.available_permits(),
                    waiting: slot.waiting.load(Ordering::SeqCst),
                }
            })
            .collect()
    }
}

struct DecrementOnDrop<'a>(&'a AtomicUsize);

impl Drop for DecrementOnDrop<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Identifies a session across tenants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SessionRef {
    pub tenant: TenantId,
    pub key: SessionKey,
}

/// A stored user message waiting for its run, with the way to tell its submitter the result.
#[derive(Debug)]
pub(crate) struct QueuedMessage {
    pub seq: i64,
    pub content: String,
    pub agent_key: goclaw_core::AgentKey,
    pub user_id: String,
    pub trust: goclaw_core::Trust,
    pub channel: String,
    pub reply: oneshot::Sender<RunOutcome>,
}

/// The run a session will execute next, still collecting messages.
#[derive(Debug)]
pub(crate) struct PendingRun {
    pub run_id: RunId,
    pub lane: Lane,
    pub debounce: Duration,
    pub last_joined: Instant,
    pub cancel: CancellationToken,
    /// In arrival order, at most the queue cap.
    pub messages: Vec<QueuedMessage>,
}

impl PendingRun {
    /// When the pending run may start, as far as the debounce is concerned.
    pub(crate) fn ready_at(&self) -> Instant {
        self.last_joined + self.debounce
    }
}

/// Progress of a run, shared between the run and status queries.
#[derive(Debug, Clone)]
pub(crate) struct ProgressHandle(Arc<Mutex<(RunPhase, Option<String>, u32)>>);

impl ProgressHandle {
    pub(crate) fn new() -> Self {
        Self(Arc::new(Mutex::new((RunPhase::Preparing, None, 0))))
    }

    pub(crate) fn set(&self, phase: RunPhase, tool: Option<&str>, iteration: u32) {
        *lock(&self.0) = (phase, tool.map(str::to_owned), iteration);
    }

    pub(crate) fn get(&self) -> (RunPhase, Option<String>, u32) {
        lock(&self.0).clone()
    }
}

/// The run a session is executing.
#[derive(Debug)]
pub(crate) struct ActiveRun {
    pub run_id: RunId,
    pub tenant: TenantId,
    /// The agent answering (the last queued message's).
    pub agent_key: String,
    pub cancel: CancellationToken,
    pub progress: ProgressHandle,
}

/// A session's queue state.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    pub active: Option<ActiveRun>,
    /// Runs waiting to execute, in order. With a debounce window a new message joins the last
    /// one; without, each message waits as a run of its own.
    pub pending: VecDeque<PendingRun>,
    /// Whether a worker task drives this session.
    pub worker: bool,
}

/// The result of adding a message to a session's queue.
#[derive(Debug)]
pub(crate) struct Joined {
    pub run_id: RunId,
    /// The oldest message, pushed out because the pending run was full.
    pub dropped: Option<QueuedMessage>,
    /// Whether the caller must start a worker for the session.
    pub start_worker: bool,
}

impl SessionState {
    /// Adds a message to the pending run (creating it if needed), dropping the oldest message
    /// beyond `cap`.
    pub(crate) fn join(
        &mut self,
        message: QueuedMessage,
        lane: Lane,
        debounce: Duration,
        cap: usize,
        now: Instant,
    ) -> Joined {
        let joinable = !debounce.is_zero() && !self.pending.is_empty();
        if !joinable {
            self.pending.push_back(PendingRun {
                run_id: RunId::generate(),
                lane,
                debounce,
                last_joined: now,
                cancel: CancellationToken::new(),
                messages: Vec::new(),
            });
        }
        let Some(pending) = self.pending.back_mut() else {
            unreachable!("a pending run was just ensured");
        };
        pending.messages.push(message);
        pending.last_joined = now;
        pending.debounce = debounce;
        let run_id = pending.run_id;
        let dropped = (self.queued_messages() > cap.max(1))
            .then(|| self.drop_oldest())
            .flatten();
        let start_worker = !self.worker;
        self.worker = true;
        Joined {
            run_id,
            dropped,
            start_worker,
        }
    }

    /// User messages waiting in all queued runs.
    pub(crate) fn queued_messages(&self) -> usize {
        self.pending.iter().map(|p| p.messages.len()).sum()
    }

    /// Removes the oldest queued message; a run left without messages is removed too.
    fn drop_oldest(&mut self) -> Option<QueuedMessage> {
        let front = self.pending.front_mut()?;
        let message = (!front.messages.is_empty()).then(|| front.messages.remove(0));
        if front.messages.is_empty()
            && let Some(run) = self.pending.pop_front()
        {
            run.cancel.cancel();
        }
        message
    }
}

/// Per-session state of one runtime. An entry exists while something uses it (a worker, a
/// submit in progress, a compaction) and is removed when the last user releases it.
#[derive(Default)]
pub(crate) struct SessionQueues {
    map: Mutex<HashMap<SessionRef, Arc<SessionEntry>>>,
}

/// One session's locks and queue state.
#[derive(Default)]
pub(crate) struct SessionEntry {
    /// Held while a message is stored and queued, and while a run takes its messages, so a
    /// stored message is always either in the pending run or in an earlier one.
    pub intake: tokio::sync::Mutex<()>,
    /// Held while the session runs or is compacted.
    pub turn: tokio::sync::Mutex<()>,
    state: Mutex<SessionState>,
}

impl SessionEntry {
    pub(crate) fn state(&self) -> MutexGuard<'_, SessionState> {
        lock(&self.state)
    }
}

impl SessionQueues {
    /// The session's entry, created if needed; hand it back with [`SessionQueues::release`].
    pub(crate) fn checkout(&self, session: &SessionRef) -> Arc<SessionEntry> {
        lock(&self.map).entry(session.clone()).or_default().clone()
    }

    /// Calls `f` with the session's entry, if it has one, under the map lock (so no holder is
    /// added that `release` would not see); `f` must not block.
    pub(crate) fn with<R>(
        &self,
        session: &SessionRef,
        f: impl FnOnce(&SessionEntry) -> R,
    ) -> Option<R> {
        lock(&self.map).get(session).map(|entry| f(entry))
    }

    /// Calls `f` with every entry, under the map lock; `f` must not block.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&SessionEntry)) {
        for entry in lock(&self.map).values() {
            f(entry);
        }
    }

    /// Gives back a checked-out entry, removing it once nobody else holds it. New holders are
    /// only made under the map lock (or from a holder), so the count cannot rise meanwhile.
    pub(crate) fn release(&self, session: &SessionRef, entry: Arc<SessionEntry>) {
        let mut map = lock(&self.map);
        drop(entry);
        let unused = map
            .get(session)
            .is_some_and(|e| Arc::strong_count(e) == 1 && e.state().pending.is_empty());
        if unused {
            map.remove(session);
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        lock(&self.map).len()
    }
}

/// Locks a mutex, carrying on with the data if a panicking thread poisoned it.
pub(crate) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
#[path = "scheduler_tests.rs"]
mod tests;
