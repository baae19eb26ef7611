//! Agent definitions. Soft-deleted agents (`deleted_at` set) are invisible here. Deleting an
//! agent also clears it from the tenant's webhooks and channel instances, in the same write
//! transaction, as the `ON DELETE SET NULL` of their `agent_id` would on a hard delete.
//!
//! Writes that may make an agent the tenant's default run in one write transaction that first
//! clears the flag on the tenant's other agents; the partial unique index
//! `agents_tenant_default_uniq` backs the rule. On PostgreSQL they lock the tenant row first
//! (`FOR NO KEY UPDATE`, which foreign-key checks do not wait for), so two of them in one tenant
//! take turns and the second sees and clears the first one's flag; SQLite's write transaction
//! already makes them take turns.

use async_trait::async_trait;
use goclaw_core::{
    Agent, AgentId, AgentKey, AgentPatch, AgentStore, NewAgent, StoreError, TenantId,
};

use super::SqlStore;
use super::{channel_instances, cron, heartbeats, webhooks};
use crate::error::{store_error, store_error_with_parent};
use crate::patch::{apply_agent_patch, object_or_empty};
use crate::sql::{Locked, Record, Row, Statement, Tx};

const COLUMNS: &str = "id, tenant_id, agent_key, display_name, provider, model, is_default, \
                       agent_type, status, context_window, max_tool_iterations, workspace, \
                       restrict_to_workspace, other_config, created_at, updated_at";

static INSERT: Statement = Statement::joined(&[
    "INSERT INTO agents \
     (id, tenant_id, agent_key, display_name, provider, model, is_default, agent_type, \
      context_window, max_tool_iterations, workspace, restrict_to_workspace, other_config, \
      created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, {now}) RETURNING ",
    COLUMNS,
]);
static BY_KEY: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agents WHERE tenant_id = ? AND agent_key = ? AND deleted_at IS NULL",
]);
static BY_KEY_FOR_UPDATE: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agents WHERE tenant_id = ? AND agent_key = ? AND deleted_at IS NULL {for_update}",
]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agents WHERE tenant_id = ? AND deleted_at IS NULL ORDER BY agent_key {bytewise}",
]);
static DEFAULT: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agents WHERE tenant_id = ? AND is_default = {true} AND deleted_at IS NULL \
     ORDER BY agent_key {bytewise} LIMIT 1",
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE agents SET display_name = ?, provider = ?, model = ?, is_default = ?, \
     agent_type = ?, status = ?, context_window = ?, max_tool_iterations = ?, workspace = ?, \
     restrict_to_workspace = ?, other_config = ?, updated_at = {now} \
     WHERE id = ? RETURNING ",
    COLUMNS,
]);
static DELETE: Statement = Statement::new(
    "UPDATE agents SET deleted_at = {now}, updated_at = {now} \
     WHERE tenant_id = ? AND agent_key = ? AND deleted_at IS NULL RETURNING id",
);
static LOCK_TENANT: Statement =
    Statement::new("SELECT id FROM tenants WHERE id = ? FOR NO KEY UPDATE");
static CLEAR_DEFAULT: Statement = Statement::new(
    "UPDATE agents SET is_default = {false}, updated_at = {now} \
     WHERE tenant_id = ? AND is_default = {true} AND deleted_at IS NULL \
     AND id IS DISTINCT FROM ?",
);

impl Record for Agent {
    const TABLE: &'static str = "agents";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Agent {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_key: row.parse("agent_key", AgentKey::parse)?,
            display_name: row.text("display_name")?,
            provider: row.text("provider")?,
            model: row.text("model")?,
            is_default: row.bool("is_default")?,
            agent_type: row.text("agent_type")?,
            status: row.text("status")?,
            context_window: row.int("context_window")?,
            max_tool_iterations: row.int("max_tool_iterations")?,
            workspace: row.text("workspace")?,
            restrict_to_workspace: row.bool("restrict_to_workspace")?,
            other_config: row.json("other_config")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

#[async_trait]
impl AgentStore for SqlStore {
    async fn create(&self, agent: NewAgent) -> Result<Agent, StoreError> {
        let db_error = |e| store_error(e, "agent");
        let other_config = object_or_empty("other_config", agent.other_config)?;
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        if agent.is_default {
            lock_tenant(&mut tx, agent.tenant_id).await?;
            clear_default(&mut tx, agent.tenant_id, None).await?;
        }
        let row = tx
            .fetch_one(
                &INSERT,
                &[
                    AgentId::generate().into(),
                    agent.tenant_id.into(),
                    agent.agent_key.as_str().into(),
                    (&agent.display_name).into(),
                    (&agent.provider).into(),
                    (&agent.model).into(),
                    agent.is_default.into(),
                    (&agent.agent_type).into(),
                    agent.context_window.into(),
                    agent.max_tool_iterations.into(),
                    (&agent.workspace).into(),
                    agent.restrict_to_workspace.into(),
                    (&other_config).into(),
                ],
            )
            .await
            .map_err(|e| match store_error_with_parent(e, "agent", "tenant") {
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "agent {:?} in tenant {}",
                    agent.agent_key.as_str(),
                    agent.tenant_id
                )),
                other => other,
            })?;
        tx.commit().await.map_err(db_error)?;
        row.decode()
    }

    async fn get_by_key(&self, tenant: TenantId, key: &AgentKey) -> Result<Agent, StoreError> {
        self.pool
            .fetch_one(&BY_KEY, &[tenant.into(), key.as_str().into()])
            .await
            .map_err(|e| store_error(e, "agent"))?
            .decode()
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<Agent>, StoreError> {
        self.pool
            .fetch_all(&LIST, &[tenant.into()])
            .await
            .map_err(|e| store_error(e, "agent"))?
            .decode()
    }

    async fn get_default(&self, tenant: TenantId) -> Result<Option<Agent>, StoreError> {
        self.pool
            .fetch_optional(&DEFAULT, &[tenant.into()])
            .await
            .map_err(|e| store_error(e, "agent"))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn update(
        &self,
        tenant: TenantId,
        key: &AgentKey,
        patch: AgentPatch,
    ) -> Result<Agent, StoreError> {
        let db_error = |e| store_error(e, "agent");
        let becomes_default = patch.is_default == Some(true);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        if becomes_default {
            // An agent of a tenant that does not exist is simply not found.
            lock_tenant(&mut tx, tenant).await.map_err(|e| match e {
                StoreError::NotFound(_) => StoreError::NotFound("agent"),
                other => other,
            })?;
        }
        let mut agent: Agent = tx
            .fetch_one(&BY_KEY_FOR_UPDATE, &[tenant.into(), key.as_str().into()])
            .await
            .map_err(db_error)?
            .decode()?;
        apply_agent_patch(&mut agent, patch)?;
        if becomes_default {
            clear_default(&mut tx, tenant, Some(agent.id)).await?;
        }
        let row = tx
            .fetch_one(
                &UPDATE,
                &[
                    (&agent.display_name).into(),
                    (&agent.provider).into(),
                    (&agent.model).into(),
                    agent.is_default.into(),
                    (&agent.agent_type).into(),
                    (&agent.status).into(),
                    agent.context_window.into(),
                    agent.max_tool_iterations.into(),
                    (&agent.workspace).into(),
                    agent.restrict_to_workspace.into(),
                    (&agent.other_config).into(),
                    agent.id.into(),
                ],
            )
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        row.decode()
    }

    async fn delete(&self, tenant: TenantId, key: &AgentKey) -> Result<(), StoreError> {
        let db_error = |e| store_error(e, "agent");
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let Some(row) = tx
            .fetch_optional(&DELETE, &[tenant.into(), key.as_str().into()])
            .await
            .map_err(db_error)?
        else {
            return Err(StoreError::NotFound("agent"));
        };
        let id: AgentId = row.read("agents").id("id")?;
        webhooks::detach_agent(&mut tx, tenant, id).await?;
        channel_instances::detach_agent(&mut tx, tenant, id).await?;
        cron::delete_agent_jobs(&mut tx, tenant, id).await?;
        heartbeats::delete_agent_heartbeat(&mut tx, tenant, id).await?;
        tx.commit().await.map_err(db_error)
    }
}

/// Locks the tenant row until the transaction ends; `NotFound("tenant")` when it is missing.
pub(super) async fn lock_tenant(tx: &mut Tx, tenant: TenantId) -> Result<(), StoreError> {
    let locked = tx
        .lock(&LOCK_TENANT, &[tenant.into()])
        .await
        .map_err(|e| store_error(e, "tenant"))?;
    if locked == Locked::NoRow {
        return Err(StoreError::NotFound("tenant"));
    }
    Ok(())
}

/// Clears `is_default` on the tenant's live agents other than `keep`.
async fn clear_default(
    tx: &mut Tx,
    tenant: TenantId,
    keep: Option<AgentId>,
) -> Result<(), StoreError> {
    tx.execute(&CLEAR_DEFAULT, &[tenant.into(), keep.into()])
        .await
        .map_err(|e| store_error(e, "agent"))?;
    Ok(())
}
