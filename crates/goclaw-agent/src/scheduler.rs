//! Admission of runs: the lanes (one semaphore per kind of work, bounding how many runs of
//! that kind execute at once) and the per-session queues (one run at a time in a direct
//! conversation, up to three at once in a group, plus a pending run that collects the
//! messages arriving meanwhile).
//!
//! This module holds the state and its transitions; the task that drives a session's queue
//! lives in `worker.rs`.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use goclaw_config::LaneLimits;
use goclaw_core::{SessionKey, TenantId};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::events::RunId;
use crate::types::RunPhase;

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

    /// The lane of a turn that came from `channel`: subagent runs, delegated and team work,
    /// and scheduled jobs have lanes of their own; people's conversations use `main`.
    pub fn for_channel(channel: &str) -> Lane {
        match channel {
            "subagent" => Lane::Subagent,
            "delegate" | "team" => Lane::Delegate,
            "cron" | "heartbeat" => Lane::Cron,
            _ => Lane::Main,
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

/// Slots of a session: a run takes one where runs of the session may overlap, and all of them
/// where it must run alone (as a compaction does).
pub(crate) const SESSION_SLOTS: u32 = 3;

/// Share of the context window from which a group session's runs go one at a time again, so
/// overlapping runs do not push a nearly full history over its budget.
pub(crate) const THROTTLE_SHARE: f64 = 0.6;

/// How many runs of the session may execute at once: three in a group chat (people there talk
/// over each other), one in a direct conversation.
pub(crate) fn concurrent_runs(key: &SessionKey) -> u32 {
    // `agent:{agent}:{channel}:group:{chat}[:topic:{n}]`
    let parts: Vec<&str> = key.as_str().splitn(6, ':').collect();
    let group = parts.len() >= 5 && parts[0] == "agent" && parts[3] == "group";
    if group { SESSION_SLOTS } else { 1 }
}

/// Identifies a session across tenants.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct SessionRef {
    pub tenant: TenantId,
    pub key: SessionKey,
}

/// A stored user message waiting for its run.
#[derive(Debug)]
pub(crate) struct QueuedMessage {
    pub seq: i64,
    pub content: String,
    pub agent_key: goclaw_core::AgentKey,
    pub user_id: String,
    pub trust: goclaw_core::Trust,
    pub channel: String,
    pub overrides: crate::types::TurnOverrides,
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

/// A run a session is executing.
#[derive(Debug)]
pub(crate) struct ActiveRun {
    pub run_id: RunId,
    /// Seqs of the user messages it answers.
    pub seqs: Vec<i64>,
    pub tenant: TenantId,
    /// The agent answering (the last queued message's).
    pub agent_key: String,
    pub cancel: CancellationToken,
    pub progress: ProgressHandle,
}

/// A session's queue state.
#[derive(Debug, Default)]
pub(crate) struct SessionState {
    /// Executing runs, oldest first.
    pub active: Vec<ActiveRun>,
    /// The history fills more than [`THROTTLE_SHARE`] of the context window: runs go one at
    /// a time even where they could overlap.
    pub throttled: bool,
    /// Runs waiting to execute, in order. With a debounce window a new message joins the last
    /// one; without, each message waits as a run of its own.
    pub pending: VecDeque<PendingRun>,
    /// Whether a worker task drives this session.
    pub worker: bool,
}

/// How a message joins its session's queue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Admission {
    pub lane: Lane,
    /// Silence the run waits for after its last message.
    pub debounce: Duration,
    /// Whether the message merges into a run already waiting even without a debounce
    /// window (interactive turns: they start at once on an idle session and merge while a
    /// run is going).
    pub merge: bool,
}

/// The result of adding a message to a session's queue.
#[derive(Debug)]
pub(crate) struct Joined {
    /// The oldest message and the run it was in, pushed out because the queue was full.
    pub dropped: Option<(RunId, QueuedMessage)>,
    /// Whether the caller must start a worker for the session.
    pub start_worker: bool,
}

impl SessionState {
    /// The run a message admitted this way would join: the last waiting run when it may
    /// merge, else a new one. Stable until the state changes.
    pub(crate) fn run_to_join(&self, admission: Admission) -> (RunId, bool) {
        let joinable = admission.merge || !admission.debounce.is_zero();
        match self.pending.back() {
            Some(pending) if joinable => (pending.run_id, false),
            _ => (RunId::generate(), true),
        }
    }

    /// Adds a message to the waiting run `run_id` (created if it is not the last waiting
    /// run), dropping the oldest message beyond `cap`.
    pub(crate) fn join(
        &mut self,
        message: QueuedMessage,
        run_id: RunId,
        admission: Admission,
        cap: usize,
        now: Instant,
    ) -> Joined {
        if self.pending.back().is_none_or(|p| p.run_id != run_id) {
            self.pending.push_back(PendingRun {
                run_id,
                lane: admission.lane,
                debounce: admission.debounce,
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
        pending.debounce = admission.debounce;
        let dropped = (self.queued_messages() > cap.max(1))
            .then(|| self.drop_oldest())
            .flatten();
        let start_worker = !self.worker;
        self.worker = true;
        Joined {
            dropped,
            start_worker,
        }
    }

    /// User messages waiting in all queued runs.
    pub(crate) fn queued_messages(&self) -> usize {
        self.pending.iter().map(|p| p.messages.len()).sum()
    }

    /// Removes the oldest queued message; a run left without messages is removed too.
    fn drop_oldest(&mut self) -> Option<(RunId, QueuedMessage)> {
        let front = self.pending.front_mut()?;
        let run_id = front.run_id;
        let message = (!front.messages.is_empty()).then(|| front.messages.remove(0));
        if front.messages.is_empty()
            && let Some(run) = self.pending.pop_front()
        {
            run.cancel.cancel();
        }
        message.map(|m| (run_id, m))
    }
}

/// Per-session state of one runtime. An entry exists while something uses it (a worker, a
/// submit in progress, a compaction) and is removed when the last user releases it.
#[derive(Default)]
pub(crate) struct SessionQueues {
    map: Mutex<HashMap<SessionRef, Arc<SessionEntry>>>,
}

/// One session's locks and queue state.
pub(crate) struct SessionEntry {
    /// Held while a message is stored and queued, and while a run takes its messages, so a
    /// stored message is always either in the pending run or in an earlier one.
    pub intake: tokio::sync::Mutex<()>,
    /// [`SESSION_SLOTS`] permits, taken by running runs (see [`SessionEntry::run_weight`])
    /// and, all of them, by a compaction. Fair: a run or compaction waiting for all of them
    /// is not overtaken by runs that need fewer.
    pub slots: Arc<Semaphore>,
    state: Mutex<SessionState>,
}

impl Default for SessionEntry {
    fn default() -> Self {
        Self {
            intake: tokio::sync::Mutex::default(),
            slots: Arc::new(Semaphore::new(SESSION_SLOTS as usize)),
            state: Mutex::default(),
        }
    }
}

impl SessionEntry {
    /// Slots the next run of `session` takes: one where runs may overlap and the history is
    /// not filling up, else all of them.
    pub(crate) fn run_weight(&self, session: &SessionKey) -> u32 {
        if concurrent_runs(session) > 1 && !self.state().throttled {
            1
        } else {
            SESSION_SLOTS
        }
    }

    /// Waits for every slot: no run of the session executes until the permit is dropped.
    pub(crate) async fn exclusive(&self) -> Option<OwnedSemaphorePermit> {
        self.slots
            .clone()
            .acquire_many_owned(SESSION_SLOTS)
            .await
            .ok()
    }

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

    /// Calls `f` with every session and its entry, under the map lock; `f` must not block.
    pub(crate) fn for_each_keyed(&self, mut f: impl FnMut(&SessionRef, &SessionEntry)) {
        for (session, entry) in lock(&self.map).iter() {
            f(session, entry);
        }
    }

    /// Gives back a checked-out entry, removing it once nobody else holds it (a throttled
    /// session's entry stays: it remembers the throttle until a run lifts it). New holders are
    /// only made under the map lock (or from a holder), so the count cannot rise meanwhile.
    pub(crate) fn release(&self, session: &SessionRef, entry: Arc<SessionEntry>) {
        let mut map = lock(&self.map);
        drop(entry);
        let unused = map.get(session).is_some_and(|e| {
            let state = e.state();
            Arc::strong_count(e) == 1 && state.pending.is_empty() && !state.throttled
        });
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
