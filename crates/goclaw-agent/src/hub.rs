//! Where a run's events go: to the streams of the turns it answers, and to the watchers whose
//! scope covers it — and nowhere else.
//!
//! Every run is *open* in the hub from the moment its first message is queued until its
//! terminal event. Each turn gets its own stream of the run, registered before the run can
//! emit anything and closed after its terminal event. Watchers (dashboards, operators) are
//! indexed by tenant and by user, so an event costs work only for the watchers that see it.
//!
//! Nobody is silently skipped: a stream or watcher that falls [`EventHub::capacity`] events
//! behind is cut off, and its consumer gets [`StreamError::Lagged`] once it has read what was
//! delivered before the gap.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};

use goclaw_core::{SessionKey, TenantId};
use tokio::sync::mpsc;

use crate::events::{AgentEvent, AgentEventKind, RunId};
use crate::scheduler::lock;
use crate::types::RunOutcome;

/// An event shared by every consumer it is delivered to.
pub type SharedEvent = Arc<AgentEvent>;

/// Why a stream ended without its run's terminal event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StreamError {
    /// The consumer fell too far behind and events were lost; what it read before the gap is
    /// complete and in order.
    #[error("the event stream fell behind and lost events")]
    Lagged,
    /// The message never reached a run (a full session queue, shutdown).
    #[error("{0}")]
    Dropped(String),
    /// The runtime went away.
    #[error("the gateway stopped")]
    Closed,
}

/// Which events a stream of one run carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Detail {
    /// Every event of the run.
    All,
    /// Only its terminal event (for callers that wait for the outcome): never lags.
    Outcome,
}

/// What a watcher sees: the events of one tenant, narrowed where asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WatchScope {
    /// `None`: every tenant (the gateway's own observers).
    pub tenant: Option<TenantId>,
    /// Only runs answering this user.
    pub user: Option<String>,
    /// Only this session.
    pub session: Option<SessionKey>,
    /// Only this agent.
    pub agent: Option<String>,
}

impl WatchScope {
    /// Every event of `tenant`.
    pub fn tenant(tenant: TenantId) -> Self {
        Self {
            tenant: Some(tenant),
            user: None,
            session: None,
            agent: None,
        }
    }

    /// The events of `user`'s runs in `tenant`.
    pub fn user(tenant: TenantId, user: impl Into<String>) -> Self {
        Self {
            user: Some(user.into()),
            ..Self::tenant(tenant)
        }
    }

    /// Every event of every tenant.
    pub fn everything() -> Self {
        Self {
            tenant: None,
            user: None,
            session: None,
            agent: None,
        }
    }

    fn narrows_to(&self, event: &AgentEvent) -> bool {
        self.session
            .as_ref()
            .is_none_or(|s| *s == event.session_key)
            && self.agent.as_deref().is_none_or(|a| a == event.agent_key)
    }
}

/// How a stream's channel ended, set by the hub before it drops the sender.
#[derive(Default)]
struct EndSlot(Mutex<Option<StreamError>>);

impl EndSlot {
    fn set(&self, error: StreamError) {
        lock(&self.0).get_or_insert(error);
    }

    fn get(&self) -> Option<StreamError> {
        lock(&self.0).clone()
    }
}

struct Sink {
    seq: i64,
    detail: Detail,
    sender: mpsc::Sender<SharedEvent>,
    end: Arc<EndSlot>,
}

struct Watcher {
    id: u64,
    scope: WatchScope,
    sender: mpsc::Sender<SharedEvent>,
    end: Arc<EndSlot>,
}

#[derive(Default)]
struct TenantWatchers {
    all: Vec<Watcher>,
    by_user: HashMap<String, Vec<Watcher>>,
}

#[derive(Default)]
struct HubState {
    /// Open runs and the streams of the turns they answer.
    runs: HashMap<RunId, Vec<Sink>>,
    tenants: HashMap<TenantId, TenantWatchers>,
    everything: Vec<Watcher>,
}

/// The runtime's event router. Cheap to clone.
#[derive(Clone)]
pub(crate) struct EventHub {
    state: Arc<Mutex<HubState>>,
    capacity: usize,
    next_watcher: Arc<AtomicU64>,
}

/// Delivers `event` to `sender`; false when the consumer is gone or too far behind (then
/// `end` says which).
fn deliver(sender: &mpsc::Sender<SharedEvent>, end: &EndSlot, event: &SharedEvent) -> bool {
    match sender.try_send(event.clone()) {
        Ok(()) => true,
        Err(mpsc::error::TrySendError::Full(_)) => {
            end.set(StreamError::Lagged);
            false
        }
        Err(mpsc::error::TrySendError::Closed(_)) => false,
    }
}

fn deliver_to_watchers(watchers: &mut Vec<Watcher>, event: &SharedEvent) {
    watchers.retain(|w| !w.scope.narrows_to(event) || deliver(&w.sender, &w.end, event));
}

impl EventHub {
    /// A hub whose consumers may fall `capacity` events behind.
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            state: Arc::new(Mutex::new(HubState::default())),
            capacity: capacity.max(1),
            next_watcher: Arc::new(AtomicU64::new(1)),
        }
    }

    /// Marks `run` open, so turns may subscribe to it. Opening an open run does nothing.
    pub(crate) fn open_run(&self, run: RunId) {
        lock(&self.state).runs.entry(run).or_default();
    }

    /// The stream of the turn `seq` answered by `run`; `None` when the run is not open.
    pub(crate) fn subscribe_run(&self, run: RunId, seq: i64, detail: Detail) -> Option<RunEvents> {
        let mut state = lock(&self.state);
        let sinks = state.runs.get_mut(&run)?;
        let capacity = match detail {
            Detail::All => self.capacity,
            Detail::Outcome => 1,
        };
        let (sender, receiver) = mpsc::channel(capacity);
        let end = Arc::new(EndSlot::default());
        sinks.push(Sink {
            seq,
            detail,
            sender,
            end: end.clone(),
        });
        Some(RunEvents::live(run, receiver, end))
    }

    /// Ends the stream of turn `seq` of `run` with `error` (its message left the run).
    pub(crate) fn end_turn(&self, run: RunId, seq: i64, error: StreamError) {
        if let Some(sinks) = lock(&self.state).runs.get_mut(&run) {
            sinks.retain(|sink| {
                if sink.seq == seq {
                    sink.end.set(error.clone());
                }
                sink.seq != seq
            });
        }
    }

    /// Closes `run` without a terminal event: every stream of it ends with `error`.
    pub(crate) fn end_run(&self, run: RunId, error: StreamError) {
        if let Some(sinks) = lock(&self.state).runs.remove(&run) {
            for sink in sinks {
                sink.end.set(error.clone());
            }
        }
    }

    /// Sends `event` to its run's streams and to the watchers that see it; a terminal event
    /// closes the run.
    pub(crate) fn publish(&self, event: AgentEvent) {
        let terminal = event.kind.is_terminal();
        let event = Arc::new(event);
        let mut state = lock(&self.state);
        let state = &mut *state;
        if terminal {
            if let Some(sinks) = state.runs.remove(&event.run_id) {
                for sink in sinks {
                    deliver(&sink.sender, &sink.end, &event);
                }
            }
        } else if let Some(sinks) = state.runs.get_mut(&event.run_id) {
            sinks.retain(|sink| {
                sink.detail == Detail::Outcome || deliver(&sink.sender, &sink.end, &event)
            });
        }
        if let Some(tenant) = state.tenants.get_mut(&event.tenant_id) {
            deliver_to_watchers(&mut tenant.all, &event);
            if let Some(watchers) = tenant.by_user.get_mut(&event.user_id) {
                deliver_to_watchers(watchers, &event);
                if watchers.is_empty() {
                    tenant.by_user.remove(&event.user_id);
                }
            }
        }
        deliver_to_watchers(&mut state.everything, &event);
    }

    /// Starts watching `scope`. The watch ends when the returned value is dropped.
    pub(crate) fn watch(&self, scope: WatchScope) -> EventWatch {
        let id = self.next_watcher.fetch_add(1, Ordering::Relaxed);
        let (sender, receiver) = mpsc::channel(self.capacity);
        let end = Arc::new(EndSlot::default());
        let watcher = Watcher {
            id,
            scope: scope.clone(),
            sender,
            end: end.clone(),
        };
        let mut state = lock(&self.state);
        match (&scope.tenant, &scope.user) {
            (None, _) => state.everything.push(watcher),
            (Some(tenant), None) => state.tenants.entry(*tenant).or_default().all.push(watcher),
            (Some(tenant), Some(user)) => state
                .tenants
                .entry(*tenant)
                .or_default()
                .by_user
                .entry(user.clone())
                .or_default()
                .push(watcher),
        }
        EventWatch {
            id,
            scope,
            receiver,
            end,
            hub: Arc::downgrade(&self.state),
        }
    }

    /// Open runs and watchers, for tests and status.
    #[cfg(test)]
    pub(crate) fn counts(&self) -> (usize, usize) {
        let state = lock(&self.state);
        let watchers = state.everything.len()
            + state
                .tenants
                .values()
                .map(|t| t.all.len() + t.by_user.values().map(Vec::len).sum::<usize>())
                .sum::<usize>();
        (state.runs.len(), watchers)
    }
}

/// The ordered events of one run, as one turn sees them: ends after the run's terminal
/// event, or with a [`StreamError`].
#[derive(Debug)]
pub struct RunEvents {
    run_id: RunId,
    source: Source,
    finished: bool,
}

#[derive(Debug)]
enum Source {
    Live {
        receiver: mpsc::Receiver<SharedEvent>,
        end: Arc<EndSlot>,
    },
    /// A run that ended before this stream was asked for: only its terminal event.
    Ended(Option<SharedEvent>),
    Failed(Option<StreamError>),
}

impl RunEvents {
    fn live(run_id: RunId, receiver: mpsc::Receiver<SharedEvent>, end: Arc<EndSlot>) -> Self {
        Self {
            run_id,
            source: Source::Live { receiver, end },
            finished: false,
        }
    }

    /// The stream of a run that already ended with `terminal`.
    pub(crate) fn ended(terminal: AgentEvent) -> Self {
        Self {
            run_id: terminal.run_id,
            source: Source::Ended(Some(Arc::new(terminal))),
            finished: false,
        }
    }

    /// A stream that fails at once.
    pub(crate) fn failed(run_id: RunId, error: StreamError) -> Self {
        Self {
            run_id,
            source: Source::Failed(Some(error)),
            finished: false,
        }
    }

    /// The run these events belong to.
    pub fn run_id(&self) -> RunId {
        self.run_id
    }

    /// The next event; `Ok(None)` after the terminal event.
    pub async fn recv(&mut self) -> Result<Option<SharedEvent>, StreamError> {
        if self.finished {
            return Ok(None);
        }
        let next = match &mut self.source {
            Source::Live { receiver, end } => match receiver.recv().await {
                Some(event) => Ok(event),
                None => Err(end.get().unwrap_or(StreamError::Closed)),
            },
            Source::Ended(event) => event.take().ok_or(StreamError::Closed),
            Source::Failed(error) => Err(error.take().unwrap_or(StreamError::Closed)),
        };
        match next {
            Ok(event) => {
                self.finished = event.kind.is_terminal();
                Ok(Some(event))
            }
            Err(error) => {
                self.finished = true;
                Err(error)
            }
        }
    }

    /// Waits for the run's end and says how it ended for this turn.
    pub async fn outcome(self) -> RunOutcome {
        self.outcome_with(|_| {}).await
    }

    /// [`RunEvents::outcome`], handing each piece of the answer's text to `on_chunk` as it
    /// streams (which must not block: it runs between receiving events).
    pub async fn outcome_with(mut self, mut on_chunk: impl FnMut(&str) + Send) -> RunOutcome {
        loop {
            match self.recv().await {
                Ok(Some(event)) => match &event.kind {
                    AgentEventKind::Chunk { content } => on_chunk(content),
                    kind if kind.is_terminal() => {
                        return RunOutcome::from_terminal(self.run_id, kind)
                            .unwrap_or_else(|| RunOutcome::dropped("the run ended unexpectedly"));
                    }
                    _ => {}
                },
                Ok(None) => return RunOutcome::dropped("the run ended unexpectedly"),
                Err(StreamError::Dropped(reason)) => return RunOutcome::Dropped { reason },
                Err(StreamError::Lagged) => {
                    return RunOutcome::Failed {
                        run_id: self.run_id,
                        error: StreamError::Lagged.to_string(),
                    };
                }
                Err(StreamError::Closed) => {
                    return RunOutcome::dropped(crate::runtime::SHUTTING_DOWN_REASON);
                }
            }
        }
    }
}

/// A watcher's events, in publication order. Dropping it stops the watch.
#[derive(Debug)]
pub struct EventWatch {
    id: u64,
    scope: WatchScope,
    receiver: mpsc::Receiver<SharedEvent>,
    end: Arc<EndSlot>,
    hub: Weak<Mutex<HubState>>,
}

impl std::fmt::Debug for EndSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EndSlot")
    }
}

impl EventWatch {
    /// The next event; an error once the watcher fell behind (or the runtime stopped).
    pub async fn recv(&mut self) -> Result<SharedEvent, StreamError> {
        match self.receiver.recv().await {
            Some(event) => Ok(event),
            None => Err(self.end.get().unwrap_or(StreamError::Closed)),
        }
    }
}

impl Drop for EventWatch {
    fn drop(&mut self) {
        let Some(state) = self.hub.upgrade() else {
            return;
        };
        let mut state = lock(&state);
        let id = self.id;
        let keep = |w: &Watcher| w.id != id;
        match (&self.scope.tenant, &self.scope.user) {
            (None, _) => state.everything.retain(keep),
            (Some(tenant), user) => {
                if let Some(watchers) = state.tenants.get_mut(tenant) {
                    match user {
                        None => watchers.all.retain(keep),
                        Some(user) => {
                            if let Some(list) = watchers.by_user.get_mut(user) {
                                list.retain(keep);
                                if list.is_empty() {
                                    watchers.by_user.remove(user);
                                }
                            }
                        }
                    }
                    if watchers.all.is_empty() && watchers.by_user.is_empty() {
                        state.tenants.remove(tenant);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "hub_tests.rs"]
mod tests;
