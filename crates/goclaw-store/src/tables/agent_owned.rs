//! Rows that belong to a live agent of a tenant — webhooks, channel instances, cron jobs,
//! heartbeats. They are inserted with `INSERT … SELECT` from the tenant and its live agent,
//! with the agent's row held on PostgreSQL until the transaction ends, so an agent deleted
//! meanwhile never leaves a row behind; an insert that selects nothing is told apart as a
//! missing tenant or agent.

use goclaw_core::{AgentId, StoreError, TenantId};

use crate::error::store_error;
use crate::sql::{Param, Pool, Record, Statement, Tx};

static LOCK_AGENT: Statement = Statement::new(
    "SELECT id FROM agents WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL FOR SHARE",
);
static TENANT_EXISTS: Statement = Statement::new("SELECT 1 AS found FROM tenants WHERE id = ?");

/// Holds `agent` (a live agent of `tenant`) on PostgreSQL until the transaction ends; a
/// missing agent shows as the write that needs it selecting nothing.
pub(super) async fn lock_agent(
    tx: &mut Tx,
    tenant: TenantId,
    agent: Option<AgentId>,
) -> Result<(), StoreError> {
    if let Some(agent) = agent {
        tx.lock(&LOCK_AGENT, &[agent.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, "agent"))?;
    }
    Ok(())
}

/// Runs `insert` (which returns the row it wrote, or nothing when `tenant` or its live `agent`
/// is missing) in a write transaction holding `agent`; `what` names the row in errors.
pub(super) async fn insert<R: Record>(
    pool: &Pool,
    insert: &Statement,
    params: &[Param<'_>],
    (tenant, agent): (TenantId, Option<AgentId>),
    what: &'static str,
) -> Result<R, StoreError> {
    let db_error = |e| store_error(e, what);
    let mut tx = pool.begin_write().await.map_err(db_error)?;
    lock_agent(&mut tx, tenant, agent).await?;
    if let Some(row) = tx.fetch_optional(insert, params).await.map_err(db_error)? {
        tx.commit().await.map_err(db_error)?;
        return row.decode();
    }
    let found = tx
        .fetch_optional(&TENANT_EXISTS, &[tenant.into()])
        .await
        .map_err(|e| store_error(e, "tenant"))?;
    Err(StoreError::NotFound(match found {
        None => "tenant",
        Some(_) => "agent",
    }))
}
