//! The task-recovery ticker of GoClaw's v2 teams (`settings.version` ≥ 2, status `active`):
//! every `gateway.task_recovery_interval_sec` it puts `in_progress` tasks whose lock expired
//! back to `pending`, marks `pending` tasks untouched for 2 h and `in_review` tasks untouched
//! for 4 h `stale`, and releases `blocked` tasks none of whose blockers is open any more (their
//! blockers ended or were deleted); at start-up it puts every `in_progress` task back to
//! `pending`, since the runs that held them died with the previous process. After each pass
//! (and at start-up) pending tasks with an assignee are dispatched to it again, and each pass
//! sends the follow-up reminders that are due (`super::followups`, every active team).
//!
//! [`TaskRecovery::tick`] is the whole pass for a given time, so tests drive it with their own
//! clock; [`TaskRecovery::run`] calls it on a timer with the wall clock. Each change is
//! published as a team event (`team.task.updated`, `team.task.stale`) to whoever may see the
//! team.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use goclaw_core::{Store, StoreError, Team, TeamTask, TenantId};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::AgentNames;
use super::wire::{Actor, task_event};
use crate::channels::Channels;
use crate::scopes::Event;
use crate::tenant_events::TenantEvents;

/// How long a task may wait `pending` before it is `stale`.
pub const STALE_PENDING: TimeDelta = TimeDelta::hours(2);
/// How long a task may wait `in_review` before it is `stale`.
pub const STALE_IN_REVIEW: TimeDelta = TimeDelta::hours(4);
/// The least team version the ticker tends.
pub const TENDED_VERSION: i64 = 2;

/// What one pass changed.
#[derive(Debug, Default)]
pub struct Recovered {
    /// `in_progress` tasks whose lock had expired, now `pending`.
    pub reset: Vec<TeamTask>,
    /// Tasks waiting too long, now `stale`.
    pub stale: Vec<TeamTask>,
    /// `blocked` tasks nothing open holds up any more, now `pending`.
    pub released: Vec<TeamTask>,
    /// Pending tasks handed to their assignees again.
    pub dispatched: usize,
    /// Follow-up reminders sent (`super::followups`).
    pub reminded: usize,
}

/// The ticker: the store it tends, where it announces what it changed, and who hands tasks
/// put back to `pending` to their assignees again.
#[derive(Clone)]
pub struct TaskRecovery {
    store: Arc<dyn Store>,
    events: TenantEvents,
    dispatcher: Option<Arc<super::tool::TeamTasksTool>>,
    channels: Option<Arc<dyn Channels>>,
}

impl TaskRecovery {
    pub fn new(store: Arc<dyn Store>, events: TenantEvents) -> Self {
        Self {
            store,
            events,
            dispatcher: None,
            channels: None,
        }
    }

    /// Posts follow-up reminders through `channels`.
    pub fn with_channels(mut self, channels: Option<Arc<dyn Channels>>) -> Self {
        self.channels = channels;
        self
    }

    /// Re-dispatches, through `dispatcher`, every pending task with an assignee after each
    /// pass (and at start-up).
    pub fn with_dispatcher(mut self, dispatcher: Arc<super::tool::TeamTasksTool>) -> Self {
        self.dispatcher = Some(dispatcher);
        self
    }

    /// Hands `team`'s pending tasks with an assignee to it again; how many started.
    async fn redispatch(&self, team: &Team) -> Result<usize, StoreError> {
        let Some(dispatcher) = &self.dispatcher else {
            return Ok(0);
        };
        let query = goclaw_core::TaskQuery {
            status: Some(goclaw_core::TaskStatus::Pending),
            owner: None,
        };
        let pending = self
            .store
            .team_tasks()
            .list(team.tenant_id, team.id, &query)
            .await?;
        Ok(dispatcher.redispatch(team, &pending).await)
    }

    /// The teams the ticker tends: active, version 2 or later.
    async fn tended(&self) -> Result<Vec<Team>, StoreError> {
        let teams = self.store.teams().active().await?;
        Ok(teams
            .into_iter()
            .filter(|team| team.version() >= TENDED_VERSION)
            .collect())
    }

    /// One pass as of `now`.
    pub async fn tick(&self, now: DateTime<Utc>) -> Result<Recovered, StoreError> {
        let tasks = self.store.team_tasks();
        let mut recovered = Recovered::default();
        let mut names = Names::new(self.store.clone());
        for team in self.tended().await? {
            let reset = tasks.reset_expired_locks(team.id, now).await?;
            let stale = tasks
                .mark_stale(team.id, now, now - STALE_PENDING, now - STALE_IN_REVIEW)
                .await?;
            let released = tasks.release_blocked(team.id).await?;
            let names = names.of(team.tenant_id).await?;
            self.announce(&team, names, &reset, Event::TeamTaskUpdated, "lock expired")
                .await;
            self.announce(&team, names, &stale, Event::TeamTaskStale, "no progress")
                .await;
            self.announce(
                &team,
                names,
                &released,
                Event::TeamTaskUpdated,
                "blockers ended",
            )
            .await;
            recovered.reset.extend(reset);
            recovered.stale.extend(stale);
            recovered.released.extend(released);
            recovered.dispatched += self.redispatch(&team).await?;
        }
        recovered.reminded =
            super::followups::send_due(self.store.as_ref(), self.channels.as_deref(), now).await?;
        Ok(recovered)
    }

    /// At start-up: every `in_progress` task of a tended team back to `pending`.
    pub async fn start_up(&self) -> Result<Vec<TeamTask>, StoreError> {
        let mut reset = Vec::new();
        let mut names = Names::new(self.store.clone());
        for team in self.tended().await? {
            let tasks = self.store.team_tasks().reset_in_progress(team.id).await?;
            let names = names.of(team.tenant_id).await?;
            self.announce(
                &team,
                names,
                &tasks,
                Event::TeamTaskUpdated,
                "gateway restarted",
            )
            .await;
            reset.extend(tasks);
            self.redispatch(&team).await?;
        }
        Ok(reset)
    }

    async fn announce(
        &self,
        team: &Team,
        names: &AgentNames,
        tasks: &[TeamTask],
        event: Event,
        reason: &str,
    ) {
        for task in tasks {
            let extra = [("reason", Value::String(reason.to_owned()))];
            let payload = task_event(task, names, Actor::System, &extra);
            let trail = self.store.task_trail();
            super::events::task(&self.events, trail, team, event, payload).await;
        }
    }

    /// Runs [`TaskRecovery::start_up`], then a pass every `interval` until `shutdown`.
    pub async fn run(self, interval: Duration, shutdown: CancellationToken) {
        match self.start_up().await {
            Ok(reset) if !reset.is_empty() => {
                tracing::info!(tasks = reset.len(), "team tasks left in progress reset");
            }
            Ok(_) => {}
            Err(error) => tracing::warn!(error = %error, "team task start-up reset failed"),
        }
        let mut timer = tokio::time::interval(interval.max(Duration::from_secs(1)));
        timer.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        timer.tick().await;
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                _ = timer.tick() => {}
            }
            match self.tick(Utc::now()).await {
                Ok(done) => {
                    let changed =
                        done.reset.len() + done.stale.len() + done.released.len() + done.reminded;
                    if changed > 0 {
                        tracing::info!(
                            reset = done.reset.len(),
                            stale = done.stale.len(),
                            released = done.released.len(),
                            reminded = done.reminded,
                            "team task recovery"
                        );
                    }
                }
                Err(error) => tracing::warn!(error = %error, "team task recovery failed"),
            }
        }
    }

    /// Starts [`TaskRecovery::run`] in the background.
    pub fn spawn(
        self,
        interval: Duration,
        shutdown: CancellationToken,
    ) -> tokio::task::JoinHandle<()> {
        tokio::spawn(self.run(interval, shutdown))
    }
}

/// Each tenant's agents, read once per pass when a team of the tenant is tended.
struct Names {
    store: Arc<dyn Store>,
    by_tenant: HashMap<TenantId, AgentNames>,
}

impl Names {
    fn new(store: Arc<dyn Store>) -> Self {
        Self {
            store,
            by_tenant: HashMap::new(),
        }
    }

    async fn of(&mut self, tenant: TenantId) -> Result<&AgentNames, StoreError> {
        if !self.by_tenant.contains_key(&tenant) {
            let agents = self.store.agents().list(tenant).await?;
            self.by_tenant.insert(tenant, AgentNames::new(agents));
        }
        Ok(self.by_tenant.entry(tenant).or_default())
    }
}
