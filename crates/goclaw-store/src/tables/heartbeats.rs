//! `agent_heartbeats` and `heartbeat_run_logs`: one periodic check-in per agent and the
//! record of its runs.
//!
//! A heartbeat is written by selecting its tenant and a live agent of that tenant (held on
//! PostgreSQL against a concurrent delete, `agent_owned.rs`), as an upsert on `agent_id` that
//! replaces the settings and the next slot and leaves the run state alone. Deleting an agent
//! deletes its heartbeat in the same transaction (`delete_agent_heartbeat`, called by
//! `tables/agents.rs`); its runs go with it (`ON DELETE CASCADE`).
//!
//! Claiming a slot is a compare-and-set on `next_run_at` (`WHERE next_run_at = <due>`), as
//! for cron jobs (`tables/cron.rs`): PostgreSQL's row lock makes a second claimer re-read the
//! row and update nothing; SQLite's write transaction runs claimers in turn. Times are stored
//! to the millisecond on both engines, so a slot read back compares equal in the claim.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::cron::to_millis;
use goclaw_core::{
    AgentId, Heartbeat, HeartbeatConfig, HeartbeatRun, HeartbeatStatus, HeartbeatStore,
    NewHeartbeatRun, StoreError, TenantId,
};
use uuid::Uuid;

use super::{SqlStore, agent_owned};
use crate::error::store_error;
use crate::sql::{Param, Record, Row, Statement, Tx};

const HEARTBEAT: &str = "heartbeat";
const RUN: &str = "heartbeat run";

/// The page size of a run listing that asks for none (`limit` 0).
const DEFAULT_LIMIT: u32 = 20;

const COLUMNS: &str = "id, tenant_id, agent_id, enabled, interval_sec, prompt, provider_id, \
                       model, isolated_session, light_context, ack_max_chars, max_retries, \
                       active_hours_start, active_hours_end, timezone, channel, chat_id, \
                       next_run_at, last_run_at, last_status, last_error, run_count, \
                       suppress_count, metadata, created_at, updated_at";
const RUN_COLUMNS: &str = "id, heartbeat_id, tenant_id, agent_id, status, summary, error, \
                           duration_ms, input_tokens, output_tokens, skip_reason, ran_at, \
                           created_at";

static UPSERT: Statement = Statement::joined(&[
    "INSERT INTO agent_heartbeats (id, tenant_id, agent_id, enabled, interval_sec, prompt, \
     provider_id, model, isolated_session, light_context, ack_max_chars, max_retries, \
     active_hours_start, active_hours_end, timezone, channel, chat_id, next_run_at, \
     created_at, updated_at) \
     SELECT ?, t.id, a.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, {now} \
     FROM tenants t JOIN agents a ON a.tenant_id = t.id AND a.deleted_at IS NULL \
     WHERE t.id = ? AND a.id = ? \
     ON CONFLICT (agent_id) DO UPDATE SET enabled = excluded.enabled, \
     interval_sec = excluded.interval_sec, prompt = excluded.prompt, \
     provider_id = excluded.provider_id, model = excluded.model, \
     isolated_session = excluded.isolated_session, light_context = excluded.light_context, \
     ack_max_chars = excluded.ack_max_chars, max_retries = excluded.max_retries, \
     active_hours_start = excluded.active_hours_start, \
     active_hours_end = excluded.active_hours_end, timezone = excluded.timezone, \
     channel = excluded.channel, chat_id = excluded.chat_id, \
     next_run_at = excluded.next_run_at, updated_at = excluded.updated_at \
     RETURNING ",
    COLUMNS,
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_heartbeats WHERE agent_id = ? AND tenant_id = ?",
]);
static DUE: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_heartbeats WHERE enabled AND next_run_at IS NOT NULL AND next_run_at <= ? \
     ORDER BY next_run_at, id LIMIT ?",
]);
static CLAIM: Statement = Statement::new(
    "UPDATE agent_heartbeats SET next_run_at = ?, updated_at = {now} \
     WHERE id = ? AND enabled AND next_run_at = ?",
);
static INSERT_RUN: Statement = Statement::joined(&[
    "INSERT INTO heartbeat_run_logs (id, heartbeat_id, tenant_id, agent_id, status, summary, \
     error, duration_ms, input_tokens, output_tokens, skip_reason, ran_at, created_at) \
     SELECT ?, id, tenant_id, agent_id, ?, ?, ?, ?, ?, ?, ?, ?, {now} \
     FROM agent_heartbeats WHERE id = ? RETURNING ",
    RUN_COLUMNS,
]);
static RECORD_LAST: Statement = Statement::new(
    "UPDATE agent_heartbeats SET last_run_at = ?, last_status = ?, last_error = ?, \
     run_count = run_count + 1, suppress_count = suppress_count + ?, updated_at = {now} \
     WHERE id = ?",
);
static COUNT_RUNS: Statement = Statement::new(
    "SELECT COUNT(*) AS total FROM heartbeat_run_logs WHERE agent_id = ? AND tenant_id = ?",
);
static RUNS: Statement = Statement::joined(&[
    "SELECT ",
    RUN_COLUMNS,
    " FROM heartbeat_run_logs WHERE agent_id = ? AND tenant_id = ? \
     ORDER BY ran_at DESC, id DESC LIMIT ? OFFSET ?",
]);
static DELETE_AGENT_HEARTBEAT: Statement =
    Statement::new("DELETE FROM agent_heartbeats WHERE tenant_id = ? AND agent_id = ?");

impl Record for Heartbeat {
    const TABLE: &'static str = "agent_heartbeats";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Heartbeat {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_id: row.id("agent_id")?,
            config: HeartbeatConfig {
                enabled: row.bool("enabled")?,
                interval_sec: row.int("interval_sec")?,
                prompt: row.opt_text("prompt")?,
                provider_id: row.opt_id("provider_id")?,
                model: row.opt_text("model")?,
                isolated_session: row.bool("isolated_session")?,
                light_context: row.bool("light_context")?,
                ack_max_chars: row.int("ack_max_chars")?,
                max_retries: row.int("max_retries")?,
                active_hours_start: row.opt_text("active_hours_start")?,
                active_hours_end: row.opt_text("active_hours_end")?,
                timezone: row.opt_text("timezone")?,
                channel: row.opt_text("channel")?,
                chat_id: row.opt_text("chat_id")?,
            },
            next_run_at: row.opt_time("next_run_at")?,
            last_run_at: row.opt_time("last_run_at")?,
            last_status: row.opt_text("last_status")?,
            last_error: row.opt_text("last_error")?,
            run_count: row.int("run_count")?,
            suppress_count: row.int("suppress_count")?,
            metadata: row.json("metadata")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Record for HeartbeatRun {
    const TABLE: &'static str = "heartbeat_run_logs";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        let status = row.text("status")?;
        Ok(HeartbeatRun {
            id: row.id("id")?,
            heartbeat_id: row.id("heartbeat_id")?,
            tenant_id: row.id("tenant_id")?,
            agent_id: row.id("agent_id")?,
            status: HeartbeatStatus::parse(&status)
                .ok_or_else(|| row.corrupt(format!("unknown status {status:?}")))?,
            summary: row.opt_text("summary")?,
            error: row.opt_text("error")?,
            duration_ms: row.opt_int("duration_ms")?,
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
            skip_reason: row.opt_text("skip_reason")?,
            ran_at: row.time("ran_at")?,
            created_at: row.time("created_at")?,
        })
    }
}

fn millis(at: Option<DateTime<Utc>>) -> Param<'static> {
    at.map(to_millis).into()
}

#[async_trait]
impl HeartbeatStore for SqlStore {
    async fn get(&self, tenant: TenantId, agent: AgentId) -> Result<Option<Heartbeat>, StoreError> {
        self.pool
            .fetch_optional(&GET, &[agent.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, HEARTBEAT))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn upsert(
        &self,
        tenant: TenantId,
        agent: AgentId,
        config: &HeartbeatConfig,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<Heartbeat, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            config.enabled.into(),
            config.interval_sec.into(),
            (&config.prompt).into(),
            config.provider_id.into(),
            (&config.model).into(),
            config.isolated_session.into(),
            config.light_context.into(),
            config.ack_max_chars.into(),
            config.max_retries.into(),
            (&config.active_hours_start).into(),
            (&config.active_hours_end).into(),
            (&config.timezone).into(),
            (&config.channel).into(),
            (&config.chat_id).into(),
            millis(next_run_at),
            tenant.into(),
            agent.into(),
        ];
        agent_owned::insert(
            &self.pool,
            &UPSERT,
            &params,
            (tenant, Some(agent)),
            HEARTBEAT,
        )
        .await
    }

    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Heartbeat>, StoreError> {
        self.pool
            .fetch_all(&DUE, &[to_millis(now).into(), i64::from(limit).into()])
            .await
            .map_err(|e| store_error(e, HEARTBEAT))?
            .decode()
    }

    async fn claim(
        &self,
        id: Uuid,
        due_at: DateTime<Utc>,
        next_run_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let db_error = |e| store_error(e, HEARTBEAT);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let params = [
            to_millis(next_run_at).into(),
            id.into(),
            to_millis(due_at).into(),
        ];
        let claimed = tx.execute(&CLAIM, &params).await.map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(claimed == 1)
    }

    async fn record_run(&self, run: NewHeartbeatRun) -> Result<HeartbeatRun, StoreError> {
        let db_error = |e| store_error(e, RUN);
        let ran_at = to_millis(run.ran_at);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let params = [
            Uuid::now_v7().into(),
            run.status.as_str().into(),
            (&run.summary).into(),
            (&run.error).into(),
            run.duration_ms.into(),
            run.input_tokens.into(),
            run.output_tokens.into(),
            (&run.skip_reason).into(),
            ran_at.into(),
            run.heartbeat_id.into(),
        ];
        let recorded = tx
            .fetch_optional(&INSERT_RUN, &params)
            .await
            .map_err(db_error)?
            .ok_or(StoreError::NotFound(HEARTBEAT))?;
        if run.status != HeartbeatStatus::Skipped {
            let suppressed = i64::from(run.status == HeartbeatStatus::Suppressed);
            let params = [
                ran_at.into(),
                run.status.as_str().into(),
                (&run.error).into(),
                suppressed.into(),
                run.heartbeat_id.into(),
            ];
            tx.execute(&RECORD_LAST, &params)
                .await
                .map_err(|e| store_error(e, HEARTBEAT))?;
        }
        tx.commit().await.map_err(db_error)?;
        recorded.decode()
    }

    async fn runs(
        &self,
        tenant: TenantId,
        agent: AgentId,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<HeartbeatRun>, u64), StoreError> {
        let db_error = |e| store_error(e, RUN);
        let total = self
            .pool
            .fetch_one(&COUNT_RUNS, &[agent.into(), tenant.into()])
            .await
            .map_err(db_error)?
            .read(HeartbeatRun::TABLE)
            .int("total")?;
        let limit = match limit {
            0 => DEFAULT_LIMIT,
            limit => limit,
        };
        let params = [
            agent.into(),
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

/// Deletes a deleted agent's heartbeat (and so its runs), in the transaction that deletes it.
pub(super) async fn delete_agent_heartbeat(
    tx: &mut Tx,
    tenant: TenantId,
    agent: AgentId,
) -> Result<(), StoreError> {
    tx.execute(&DELETE_AGENT_HEARTBEAT, &[tenant.into(), agent.into()])
        .await
        .map_err(|e| store_error(e, HEARTBEAT))?;
    Ok(())
}
