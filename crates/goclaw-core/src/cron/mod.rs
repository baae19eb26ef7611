//! Cron jobs: scheduled agent turns, their schedules (`schedule.rs`) and the store that keeps
//! them and their run logs.
//!
//! A job fires **once per due time**, even with several gateways on one database and across
//! restarts: firing starts with [`CronStore::claim`], a compare-and-set of the job's
//! `next_run_at` from the due time read to the next one, which only one claimer wins, and
//! which records the run as a `running` run log in the same transaction. A gateway that stops
//! while a run is going leaves that row `running`; [`CronStore::running`] finds such runs.
//!
//! **Missed runs:** a job whose `next_run_at` passed while no gateway was running fires once
//! (not once per missed period) and then continues from the claim's time: its next due time
//! is the schedule's first fire time after *now* ([`claim_due`]).

mod schedule;

use async_trait::async_trait;
use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

pub use schedule::{CompiledSchedule, CronSchedule, MAX_EXPR_LEN, MIN_EVERY_MS, ScheduleError};

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// What a job does when it fires, in GoClaw's JSON shape
/// `{"kind":"agent_turn","message":…,"command"?:…,"credentialUserId"?:…}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename = "agent_turn")]
pub struct CronPayload {
    /// The message the agent is given.
    pub message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// A job bound to a credential can be changed or run only by that credential's user.
    #[serde(
        default,
        rename = "credentialUserId",
        skip_serializing_if = "Option::is_none"
    )]
    pub credential_user_id: Option<String>,
}

/// A cron job as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct CronJob {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// The agent that runs it; deleting the agent deletes its jobs.
    pub agent_id: AgentId,
    /// Who created it (`None`: an operator or the system).
    pub user_id: Option<String>,
    /// Unique among the agent's jobs.
    pub name: String,
    pub enabled: bool,
    pub schedule: CronSchedule,
    /// Where `every` periods are counted from: the creation or the last schedule change.
    pub anchor_at: DateTime<Utc>,
    pub payload: CronPayload,
    /// Deleted after its run (usual for `at`).
    pub delete_after_run: bool,
    /// Whether the result is sent to `deliver_channel`/`deliver_to`.
    pub deliver: bool,
    pub deliver_channel: String,
    pub deliver_to: String,
    pub wake_heartbeat: bool,
    /// Whether each run starts from an empty session.
    pub stateless: bool,
    /// When it fires next; `None` when it never will (an `at` that fired).
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_status: Option<CronRunStatus>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What is needed to store a job. Build it with [`NewCronJob::new`], which computes the
/// first due time.
#[derive(Debug, Clone, PartialEq)]
pub struct NewCronJob {
    pub tenant_id: TenantId,
    pub agent_id: AgentId,
    pub user_id: Option<String>,
    pub name: String,
    pub enabled: bool,
    pub schedule: CronSchedule,
    pub anchor_at: DateTime<Utc>,
    pub next_run_at: Option<DateTime<Utc>>,
    pub payload: CronPayload,
    pub delete_after_run: bool,
    pub deliver: bool,
    pub deliver_channel: String,
    pub deliver_to: String,
    pub wake_heartbeat: bool,
    pub stateless: bool,
}

impl NewCronJob {
    /// An enabled, stateless job anchored at `now`, due at its schedule's first fire time
    /// after `now`; an invalid schedule is refused.
    pub fn new(
        tenant_id: TenantId,
        agent_id: AgentId,
        name: impl Into<String>,
        schedule: CronSchedule,
        message: impl Into<String>,
        now: DateTime<Utc>,
        default_tz: &str,
    ) -> Result<Self, ScheduleError> {
        let change = ScheduleChange::new(schedule, now, default_tz)?;
        Ok(NewCronJob {
            tenant_id,
            agent_id,
            user_id: None,
            name: name.into(),
            enabled: true,
            schedule: change.schedule,
            anchor_at: change.anchor_at,
            next_run_at: change.next_run_at,
            payload: CronPayload {
                message: message.into(),
                ..CronPayload::default()
            },
            delete_after_run: false,
            deliver: false,
            deliver_channel: String::new(),
            deliver_to: String::new(),
            wake_heartbeat: false,
            stateless: true,
        })
    }
}

/// A new schedule for a job, with its new anchor and first due time.
#[derive(Debug, Clone, PartialEq)]
pub struct ScheduleChange {
    pub schedule: CronSchedule,
    pub anchor_at: DateTime<Utc>,
    pub next_run_at: Option<DateTime<Utc>>,
}

impl ScheduleChange {
    /// `schedule` anchored at `now` (to the millisecond, the stored precision), due at its
    /// first fire time after `now`.
    pub fn new(
        schedule: CronSchedule,
        now: DateTime<Utc>,
        default_tz: &str,
    ) -> Result<Self, ScheduleError> {
        let anchor_at = to_millis(now);
        let next_run_at = schedule
            .compile(default_tz)?
            .next_after(anchor_at, anchor_at);
        Ok(ScheduleChange {
            schedule,
            anchor_at,
            next_run_at,
        })
    }
}

/// A change to a job; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CronJobPatch {
    pub name: Option<String>,
    pub enabled: Option<bool>,
    pub schedule: Option<ScheduleChange>,
    pub payload: Option<CronPayload>,
    pub delete_after_run: Option<bool>,
    pub deliver: Option<bool>,
    pub deliver_channel: Option<String>,
    pub deliver_to: Option<String>,
    pub wake_heartbeat: Option<bool>,
    pub stateless: Option<bool>,
}

/// How a run went, as GoClaw's `last_status` spells it (plus `running`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CronRunStatus {
    /// Claimed and not finished yet (or its gateway stopped during it).
    Running,
    Ok,
    Error,
    /// Found unfinished after a restart and given up.
    Interrupted,
}

impl CronRunStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CronRunStatus::Running => "running",
            CronRunStatus::Ok => "ok",
            CronRunStatus::Error => "error",
            CronRunStatus::Interrupted => "interrupted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "running" => CronRunStatus::Running,
            "ok" => CronRunStatus::Ok,
            "error" => CronRunStatus::Error,
            "interrupted" => CronRunStatus::Interrupted,
            _ => return None,
        })
    }
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct CronRun {
    pub id: Uuid,
    pub job_id: Uuid,
    pub tenant_id: TenantId,
    pub agent_id: AgentId,
    pub status: CronRunStatus,
    /// The due time this run was claimed for.
    pub due_at: DateTime<Utc>,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub run_id: Option<String>,
    pub session_key: Option<String>,
}

/// Claiming one due time of a job: the compare-and-set [`CronStore::claim`] applies.
#[derive(Debug, Clone, PartialEq)]
pub struct CronClaim {
    pub job_id: Uuid,
    /// The `next_run_at` read from the job; the claim fails unless it is still that.
    pub due_at: DateTime<Utc>,
    /// The job's next due time after this run (`None`: it never fires again).
    pub next_run_at: Option<DateTime<Utc>>,
    /// When the run starts.
    pub now: DateTime<Utc>,
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq)]
pub struct CronRunEnd {
    /// `Ok`, `Error` or `Interrupted`.
    pub status: CronRunStatus,
    pub ended_at: DateTime<Utc>,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub run_id: Option<String>,
    pub session_key: Option<String>,
}

/// The cron jobs of every tenant and their run logs.
#[async_trait]
pub trait CronStore: Send + Sync {
    /// Stores a job; `Conflict` when its agent already has a job of that name, `NotFound`
    /// when the tenant or a live agent of it is missing.
    async fn create(&self, job: NewCronJob) -> Result<CronJob, StoreError>;

    /// A job of `tenant`; `NotFound` for another tenant's.
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<CronJob, StoreError>;

    /// `tenant`'s jobs (only `agent`'s when given), by name.
    async fn list(
        &self,
        tenant: TenantId,
        agent: Option<AgentId>,
    ) -> Result<Vec<CronJob>, StoreError>;

    /// Applies `patch` and returns the result; `Conflict` when the new name is taken.
    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: CronJobPatch,
    ) -> Result<CronJob, StoreError>;

    /// Enables or disables a job and sets its next due time (computed from now when it is
    /// enabled again, so a job disabled for long does not fire at once).
    async fn set_enabled(
        &self,
        tenant: TenantId,
        id: Uuid,
        enabled: bool,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<CronJob, StoreError>;

    /// Deletes a job and its run logs; `NotFound` when `tenant` has no such job.
    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError>;

    /// Enabled jobs of every tenant due at `now` (`next_run_at <= now`), the most overdue
    /// first, at most `limit`. Reading them claims nothing.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<CronJob>, StoreError>;

    /// Claims one due time of an enabled job: moves `next_run_at` from `claim.due_at` to
    /// `claim.next_run_at` (and `last_run_at` to `claim.now`) only if it is still
    /// `claim.due_at`, and in the same transaction records a `running` run. Of any number of
    /// claimers of one due time, on any number of gateways, exactly one gets `Some`.
    async fn claim(&self, claim: CronClaim) -> Result<Option<CronRun>, StoreError>;

    /// Records a `running` run of `tenant`'s job started by hand at `now` (`cron.run` in
    /// `force` mode), due at `now`; the job's schedule is left as it is. `NotFound` when
    /// `tenant` has no such job.
    async fn start_run(
        &self,
        tenant: TenantId,
        job: Uuid,
        now: DateTime<Utc>,
    ) -> Result<CronRun, StoreError>;

    /// Ends a `running` run and records its status on the job (`last_status`,
    /// `last_error`); `NotFound` when there is no such running run.
    async fn finish_run(&self, run: Uuid, end: CronRunEnd) -> Result<CronRun, StoreError>;

    /// Runs of every tenant still `running` that started before `started_before`: runs a
    /// stopped gateway claimed and never finished.
    async fn running(&self, started_before: DateTime<Utc>) -> Result<Vec<CronRun>, StoreError>;

    /// A page of a job's runs, newest first, and how many it has in all.
    async fn runs(
        &self,
        tenant: TenantId,
        job: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<CronRun>, u64), StoreError>;
}

/// Claims up to `limit` due jobs at `now`; each claimed job comes back with its run.
///
/// Each job's next due time is its schedule's first fire time after `now` — not after its
/// due time — so a job that missed several periods fires once and continues from now. A
/// job whose stored schedule no longer compiles (say its zone left the time-zone database)
/// fires this once and is not due again.
pub async fn claim_due(
    store: &dyn CronStore,
    now: DateTime<Utc>,
    limit: u32,
    default_tz: &str,
) -> Result<Vec<(CronJob, CronRun)>, StoreError> {
    let now = to_millis(now);
    let mut claimed = Vec::new();
    for job in store.due(now, limit).await? {
        let Some(due_at) = job.next_run_at else {
            continue;
        };
        let next_run_at = job
            .schedule
            .compile(default_tz)
            .ok()
            .and_then(|s| s.next_after(job.anchor_at, now.max(due_at)));
        let claim = CronClaim {
            job_id: job.id,
            due_at,
            next_run_at,
            now,
        };
        if let Some(run) = store.claim(claim).await? {
            claimed.push((job, run));
        }
    }
    Ok(claimed)
}

/// `at` cut to the millisecond, the precision times are stored with on every engine.
pub fn to_millis(at: DateTime<Utc>) -> DateTime<Utc> {
    at.duration_trunc(TimeDelta::milliseconds(1)).unwrap_or(at)
}
