//! `cron_jobs` and `cron_run_logs`: agents' scheduled turns and the record of their runs.
//!
//! A job is created by selecting its tenant and a live agent of that tenant (locked on
//! PostgreSQL against a concurrent delete), so none points across tenants or at a deleted
//! agent; deleting an agent deletes its jobs in the same transaction (`delete_agent_jobs`,
//! called by `tables/agents.rs`), and a job's runs go with it (`ON DELETE CASCADE`).
//! Changes are read, merged in Rust and written back inside one write transaction, the row
//! locked on PostgreSQL.
//!
//! Claiming a due time is a compare-and-set on `next_run_at` (`WHERE next_run_at = <due>`)
//! followed, in the same transaction, by the `running` row of the run. On PostgreSQL a
//! second claimer's `UPDATE` waits for the first one's row lock and then re-reads the row,
//! finds `next_run_at` moved and updates nothing; on SQLite the write transaction
//! (`BEGIN IMMEDIATE`) runs claimers one after the other. Times are stored to the
//! millisecond on both engines, so the due time read back compares equal to the stored one.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::cron::to_millis;
use goclaw_core::{
    AgentId, CronClaim, CronJob, CronJobPatch, CronPayload, CronRun, CronRunEnd, CronRunStatus,
    CronSchedule, CronStore, NewCronJob, StoreError, TenantId,
};
use uuid::Uuid;

use super::{SqlStore, agent_owned};
use crate::error::{corrupt, store_error};
use crate::sql::{Param, Record, Row, Statement, Tx};

const JOB: &str = "cron job";
const RUN: &str = "cron run";

/// The page size of a run listing that asks for none (`limit` 0).
const DEFAULT_LIMIT: u32 = 20;

const COLUMNS: &str = "id, tenant_id, agent_id, user_id, name, enabled, schedule_kind, \
                       cron_expression, interval_ms, run_at, timezone, anchor_at, payload, \
                       delete_after_run, deliver, deliver_channel, deliver_to, wake_heartbeat, \
                       stateless, next_run_at, last_run_at, last_status, last_error, \
                       created_at, updated_at";
const RUN_COLUMNS: &str = "id, job_id, tenant_id, agent_id, status, due_at, started_at, \
                           ended_at, duration_ms, summary, error, input_tokens, output_tokens, \
                           run_id, session_key";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO cron_jobs (id, tenant_id, agent_id, user_id, name, enabled, schedule_kind, \
     cron_expression, interval_ms, run_at, timezone, anchor_at, payload, delete_after_run, \
     deliver, deliver_channel, deliver_to, wake_heartbeat, stateless, next_run_at, \
     created_at, updated_at) \
     SELECT ?, t.id, a.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, {now} \
     FROM tenants t JOIN agents a ON a.tenant_id = t.id AND a.deleted_at IS NULL \
     WHERE t.id = ? AND a.id = ? RETURNING ",
    COLUMNS,
]);
/// Holds a live agent until the job naming it is committed: its deletion waits, so it
/// cannot miss the job when it deletes the agent's jobs.
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM cron_jobs WHERE id = ? AND tenant_id = ?",
]);
static GET_FOR_UPDATE: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM cron_jobs WHERE id = ? AND tenant_id = ? {for_update}",
]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM cron_jobs WHERE tenant_id = ? AND (? IS NULL OR agent_id = ?) \
     ORDER BY name {bytewise}, id",
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE cron_jobs SET name = ?, enabled = ?, schedule_kind = ?, cron_expression = ?, \
     interval_ms = ?, run_at = ?, timezone = ?, anchor_at = ?, payload = ?, \
     delete_after_run = ?, deliver = ?, deliver_channel = ?, deliver_to = ?, \
     wake_heartbeat = ?, stateless = ?, next_run_at = ?, updated_at = {now} \
     WHERE id = ? AND tenant_id = ? RETURNING ",
    COLUMNS,
]);
static DELETE: Statement = Statement::new("DELETE FROM cron_jobs WHERE id = ? AND tenant_id = ?");
static DELETE_AGENT_JOBS: Statement =
    Statement::new("DELETE FROM cron_jobs WHERE tenant_id = ? AND agent_id = ?");
static DUE: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM cron_jobs WHERE enabled AND next_run_at IS NOT NULL AND next_run_at <= ? \
     ORDER BY next_run_at, id LIMIT ?",
]);
static CLAIM: Statement = Statement::new(
    "UPDATE cron_jobs SET next_run_at = ?, last_run_at = ?, updated_at = {now} \
     WHERE id = ? AND enabled AND next_run_at = ?",
);
static START_RUN: Statement = Statement::joined(&[
    "INSERT INTO cron_run_logs (id, job_id, tenant_id, agent_id, status, due_at, started_at) \
     SELECT ?, id, tenant_id, agent_id, 'running', ?, ? FROM cron_jobs WHERE id = ? \
     RETURNING ",
    RUN_COLUMNS,
]);
static START_MANUAL_RUN: Statement = Statement::joined(&[
    "INSERT INTO cron_run_logs (id, job_id, tenant_id, agent_id, status, due_at, started_at) \
     SELECT ?, id, tenant_id, agent_id, 'running', ?, ? FROM cron_jobs \
     WHERE id = ? AND tenant_id = ? RETURNING ",
    RUN_COLUMNS,
]);
static GET_RUNNING: Statement = Statement::joined(&[
    "SELECT ",
    RUN_COLUMNS,
    " FROM cron_run_logs WHERE id = ? AND status = 'running' {for_update}",
]);
static END_RUN: Statement = Statement::joined(&[
    "UPDATE cron_run_logs SET status = ?, ended_at = ?, duration_ms = ?, summary = ?, \
     error = ?, input_tokens = ?, output_tokens = ?, run_id = ?, session_key = ? \
     WHERE id = ? RETURNING ",
    RUN_COLUMNS,
]);
static RECORD_LAST: Statement = Statement::new(
    "UPDATE cron_jobs SET last_status = ?, last_error = ?, updated_at = {now} WHERE id = ?",
);
static RUNNING: Statement = Statement::joined(&[
    "SELECT ",
    RUN_COLUMNS,
    " FROM cron_run_logs WHERE status = 'running' AND started_at < ? ORDER BY started_at, id",
]);
static COUNT_RUNS: Statement = Statement::new(
    "SELECT COUNT(*) AS total FROM cron_run_logs WHERE job_id = ? AND tenant_id = ?",
);
static RUNS: Statement = Statement::joined(&[
    "SELECT ",
    RUN_COLUMNS,
    " FROM cron_run_logs WHERE job_id = ? AND tenant_id = ? \
     ORDER BY started_at DESC, id DESC LIMIT ? OFFSET ?",
]);

impl Record for CronJob {
    const TABLE: &'static str = "cron_jobs";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(CronJob {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_id: row.id("agent_id")?,
            user_id: row.opt_text("user_id")?,
            name: row.text("name")?,
            enabled: row.bool("enabled")?,
            schedule: schedule(row)?,
            anchor_at: row.time("anchor_at")?,
            payload: serde_json::from_value(row.json("payload")?)
                .map_err(|e| row.corrupt(format!("payload: {e}")))?,
            delete_after_run: row.bool("delete_after_run")?,
            deliver: row.bool("deliver")?,
            deliver_channel: row.text("deliver_channel")?,
            deliver_to: row.text("deliver_to")?,
            wake_heartbeat: row.bool("wake_heartbeat")?,
            stateless: row.bool("stateless")?,
            next_run_at: row.opt_time("next_run_at")?,
            last_run_at: row.opt_time("last_run_at")?,
            last_status: row
                .opt_text("last_status")?
                .map(|s| status(row, &s))
                .transpose()?,
            last_error: row.opt_text("last_error")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Record for CronRun {
    const TABLE: &'static str = "cron_run_logs";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(CronRun {
            id: row.id("id")?,
            job_id: row.id("job_id")?,
            tenant_id: row.id("tenant_id")?,
            agent_id: row.id("agent_id")?,
            status: status(row, &row.text("status")?)?,
            due_at: row.time("due_at")?,
            started_at: row.time("started_at")?,
            ended_at: row.opt_time("ended_at")?,
            duration_ms: row.opt_int("duration_ms")?,
            summary: row.opt_text("summary")?,
            error: row.opt_text("error")?,
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
            run_id: row.opt_text("run_id")?,
            session_key: row.opt_text("session_key")?,
        })
    }
}

fn status(row: &Row<'_>, text: &str) -> Result<CronRunStatus, StoreError> {
    CronRunStatus::parse(text).ok_or_else(|| row.corrupt(format!("unknown status {text:?}")))
}

/// The schedule from its kind's columns.
fn schedule(row: &Row<'_>) -> Result<CronSchedule, StoreError> {
    let kind = row.text("schedule_kind")?;
    let missing = |column: &str| row.corrupt(format!("{kind} schedule without {column}"));
    Ok(match kind.as_str() {
        "at" => CronSchedule::At {
            at_ms: row
                .opt_time("run_at")?
                .ok_or_else(|| missing("run_at"))?
                .timestamp_millis(),
        },
        "every" => CronSchedule::Every {
            every_ms: row
                .opt_int("interval_ms")?
                .ok_or_else(|| missing("interval_ms"))?,
        },
        "cron" => CronSchedule::Cron {
            expr: row
                .opt_text("cron_expression")?
                .ok_or_else(|| missing("cron_expression"))?,
            tz: row.opt_text("timezone")?,
        },
        other => return Err(row.corrupt(format!("unknown schedule kind {other:?}"))),
    })
}

/// A schedule's columns: kind, expression, interval, instant, zone.
struct ScheduleColumns<'a> {
    kind: &'static str,
    expr: Option<&'a str>,
    interval_ms: Option<i64>,
    run_at: Option<DateTime<Utc>>,
    timezone: Option<&'a str>,
}

impl<'a> ScheduleColumns<'a> {
    fn of(schedule: &'a CronSchedule) -> Result<Self, StoreError> {
        let mut columns = ScheduleColumns {
            kind: schedule.kind(),
            expr: None,
            interval_ms: None,
            run_at: None,
            timezone: None,
        };
        match schedule {
            CronSchedule::At { at_ms } => {
                columns.run_at = Some(
                    DateTime::from_timestamp_millis(*at_ms)
                        .ok_or_else(|| corrupt(CronJob::TABLE, "`at` time out of range"))?,
                );
            }
            CronSchedule::Every { every_ms } => columns.interval_ms = Some(*every_ms),
            CronSchedule::Cron { expr, tz } => {
                columns.expr = Some(expr);
                columns.timezone = tz.as_deref();
            }
        }
        Ok(columns)
    }
}

fn payload_json(payload: &CronPayload) -> Result<serde_json::Value, StoreError> {
    serde_json::to_value(payload).map_err(|e| corrupt(CronJob::TABLE, e))
}

fn millis(at: Option<DateTime<Utc>>) -> Param<'static> {
    at.map(to_millis).into()
}

impl SqlStore {
    /// Reads `tenant`'s job `id` with its row locked, lets `change` edit it, and writes every
    /// changeable column back.
    async fn rewrite(
        &self,
        tenant: TenantId,
        id: Uuid,
        change: impl FnOnce(&mut CronJob),
    ) -> Result<CronJob, StoreError> {
        let db_error = |e| store_error(e, JOB);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let mut job: CronJob = tx
            .fetch_optional(&GET_FOR_UPDATE, &[id.into(), tenant.into()])
            .await
            .map_err(db_error)?
            .ok_or(StoreError::NotFound(JOB))?
            .decode()?;
        change(&mut job);
        let columns = ScheduleColumns::of(&job.schedule)?;
        let payload = payload_json(&job.payload)?;
        let params = [
            (&job.name).into(),
            job.enabled.into(),
            columns.kind.into(),
            columns.expr.into(),
            columns.interval_ms.into(),
            millis(columns.run_at),
            columns.timezone.into(),
            to_millis(job.anchor_at).into(),
            (&payload).into(),
            job.delete_after_run.into(),
            job.deliver.into(),
            (&job.deliver_channel).into(),
            (&job.deliver_to).into(),
            job.wake_heartbeat.into(),
            job.stateless.into(),
            millis(job.next_run_at),
            id.into(),
            tenant.into(),
        ];
        let row = tx.fetch_one(&UPDATE, &params).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        row.decode()
    }
}

#[async_trait]
impl CronStore for SqlStore {
    async fn create(&self, job: NewCronJob) -> Result<CronJob, StoreError> {
        let columns = ScheduleColumns::of(&job.schedule)?;
        let payload = payload_json(&job.payload)?;
        let params = [
            Uuid::now_v7().into(),
            (&job.user_id).into(),
            (&job.name).into(),
            job.enabled.into(),
            columns.kind.into(),
            columns.expr.into(),
            columns.interval_ms.into(),
            millis(columns.run_at),
            columns.timezone.into(),
            to_millis(job.anchor_at).into(),
            (&payload).into(),
            job.delete_after_run.into(),
            job.deliver.into(),
            (&job.deliver_channel).into(),
            (&job.deliver_to).into(),
            job.wake_heartbeat.into(),
            job.stateless.into(),
            millis(job.next_run_at),
            job.tenant_id.into(),
            job.agent_id.into(),
        ];
        let owner = (job.tenant_id, Some(job.agent_id));
        agent_owned::insert(&self.pool, &CREATE, &params, owner, JOB).await
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<CronJob, StoreError> {
        self.pool
            .fetch_one(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, JOB))?
            .decode()
    }

    async fn list(
        &self,
        tenant: TenantId,
        agent: Option<AgentId>,
    ) -> Result<Vec<CronJob>, StoreError> {
        self.pool
            .fetch_all(&LIST, &[tenant.into(), agent.into(), agent.into()])
            .await
            .map_err(|e| store_error(e, JOB))?
            .decode()
    }

    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: CronJobPatch,
    ) -> Result<CronJob, StoreError> {
        self.rewrite(tenant, id, |job| {
            let CronJobPatch {
                name,
                enabled,
                schedule,
                payload,
                delete_after_run,
                deliver,
                deliver_channel,
                deliver_to,
                wake_heartbeat,
                stateless,
            } = patch;
            if let Some(change) = schedule {
                job.schedule = change.schedule;
                job.anchor_at = change.anchor_at;
                job.next_run_at = change.next_run_at;
            }
            set(&mut job.name, name);
            set(&mut job.enabled, enabled);
            set(&mut job.payload, payload);
            set(&mut job.delete_after_run, delete_after_run);
            set(&mut job.deliver, deliver);
            set(&mut job.deliver_channel, deliver_channel);
            set(&mut job.deliver_to, deliver_to);
            set(&mut job.wake_heartbeat, wake_heartbeat);
            set(&mut job.stateless, stateless);
        })
        .await
    }

    async fn set_enabled(
        &self,
        tenant: TenantId,
        id: Uuid,
        enabled: bool,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<CronJob, StoreError> {
        self.rewrite(tenant, id, |job| {
            job.enabled = enabled;
            job.next_run_at = next_run_at;
        })
        .await
    }

    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, JOB))?;
        if deleted == 0 {
            return Err(StoreError::NotFound(JOB));
        }
        Ok(())
    }

    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<CronJob>, StoreError> {
        self.pool
            .fetch_all(&DUE, &[to_millis(now).into(), i64::from(limit).into()])
            .await
            .map_err(|e| store_error(e, JOB))?
            .decode()
    }

    async fn claim(&self, claim: CronClaim) -> Result<Option<CronRun>, StoreError> {
        let db_error = |e| store_error(e, JOB);
        let due_at = to_millis(claim.due_at);
        let now = to_millis(claim.now);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let claimed = tx
            .execute(
                &CLAIM,
                &[
                    millis(claim.next_run_at),
                    now.into(),
                    claim.job_id.into(),
                    due_at.into(),
                ],
            )
            .await
            .map_err(db_error)?;
        if claimed == 0 {
            // Another claimer moved it on, or it was disabled, changed or deleted.
            return Ok(None);
        }
        let run = tx
            .fetch_one(
                &START_RUN,
                &[
                    Uuid::now_v7().into(),
                    due_at.into(),
                    now.into(),
                    claim.job_id.into(),
                ],
            )
            .await
            .map_err(|e| store_error(e, RUN))?;
        tx.commit().await.map_err(db_error)?;
        run.decode().map(Some)
    }

    async fn start_run(
        &self,
        tenant: TenantId,
        job: Uuid,
        now: DateTime<Utc>,
    ) -> Result<CronRun, StoreError> {
        let now = to_millis(now);
        let params = [
            Uuid::now_v7().into(),
            now.into(),
            now.into(),
            job.into(),
            tenant.into(),
        ];
        let mut tx = self
            .pool
            .begin_write()
            .await
            .map_err(|e| store_error(e, RUN))?;
        let run = tx
            .fetch_optional(&START_MANUAL_RUN, &params)
            .await
            .map_err(|e| store_error(e, RUN))?
            .ok_or(StoreError::NotFound(JOB))?;
        tx.commit().await.map_err(|e| store_error(e, RUN))?;
        run.decode()
    }

    async fn finish_run(&self, run: Uuid, end: CronRunEnd) -> Result<CronRun, StoreError> {
        if end.status == CronRunStatus::Running {
            return Err(StoreError::Conflict("running end of a cron run".to_owned()));
        }
        let db_error = |e| store_error(e, RUN);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let started: CronRun = tx
            .fetch_optional(&GET_RUNNING, &[run.into()])
            .await
            .map_err(db_error)?
            .ok_or(StoreError::NotFound(RUN))?
            .decode()?;
        let ended_at = to_millis(end.ended_at);
        let duration_ms = (ended_at - started.started_at).num_milliseconds().max(0);
        let params = [
            end.status.as_str().into(),
            ended_at.into(),
            duration_ms.into(),
            (&end.summary).into(),
            (&end.error).into(),
            end.input_tokens.into(),
            end.output_tokens.into(),
            (&end.run_id).into(),
            (&end.session_key).into(),
            run.into(),
        ];
        let ended = tx.fetch_one(&END_RUN, &params).await.map_err(db_error)?;
        tx.execute(
            &RECORD_LAST,
            &[
                end.status.as_str().into(),
                (&end.error).into(),
                started.job_id.into(),
            ],
        )
        .await
        .map_err(|e| store_error(e, JOB))?;
        tx.commit().await.map_err(db_error)?;
        ended.decode()
    }

    async fn running(&self, started_before: DateTime<Utc>) -> Result<Vec<CronRun>, StoreError> {
        self.pool
            .fetch_all(&RUNNING, &[started_before.into()])
            .await
            .map_err(|e| store_error(e, RUN))?
            .decode()
    }

    async fn runs(
        &self,
        tenant: TenantId,
        job: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<CronRun>, u64), StoreError> {
        let db_error = |e| store_error(e, RUN);
        let total = self
            .pool
            .fetch_one(&COUNT_RUNS, &[job.into(), tenant.into()])
            .await
            .map_err(db_error)?
            .read(CronRun::TABLE)
            .int("total")?;
        let limit = match limit {
            0 => DEFAULT_LIMIT,
            limit => limit,
        };
        let params = [
            job.into(),
            tenant.into(),
            i64::from(limit).into(),
            i64::from(offset).into(),
        ];
        let runs = self
            .pool
            .fetch_all(&RUNS, &params)
            .await
            .map_err(db_error)?
            .decode()?;
        Ok((runs, u64::try_from(total).unwrap_or_default()))
    }
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

/// Deletes a deleted agent's jobs (and so their runs), in the transaction that deletes it.
pub(super) async fn delete_agent_jobs(
    tx: &mut Tx,
    tenant: TenantId,
    agent: AgentId,
) -> Result<(), StoreError> {
    tx.execute(&DELETE_AGENT_JOBS, &[tenant.into(), agent.into()])
        .await
        .map_err(|e| store_error(e, JOB))?;
    Ok(())
}
