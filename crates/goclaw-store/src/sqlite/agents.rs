//! Agent definitions on SQLite. Soft-deleted agents (`deleted_at` set) are invisible here.
//!
//! Writes that may make an agent the tenant's default run in one `BEGIN IMMEDIATE`
//! transaction that first clears the flag on the tenant's other agents; the partial unique
//! index `agents_tenant_default_uniq` backs the rule.

use async_trait::async_trait;
use goclaw_core::{
    Agent, AgentId, AgentKey, AgentPatch, AgentStore, NewAgent, StoreError, TenantId,
};
use sqlx::SqliteConnection;

use super::{NOW, SqliteStore, parse_id, parse_json, parse_time};
use crate::error::{corrupt, store_error, store_error_with_parent};
use crate::patch::{apply_agent_patch, object_or_empty};

const COLUMNS: &str = "id, tenant_id, agent_key, display_name, provider, model, is_default, \
                       agent_type, status, context_window, max_tool_iterations, workspace, \
                       restrict_to_workspace, other_config, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: String,
    tenant_id: String,
    agent_key: String,
    display_name: String,
    provider: String,
    model: String,
    is_default: bool,
    agent_type: String,
    status: String,
    context_window: i64,
    max_tool_iterations: i64,
    workspace: String,
    restrict_to_workspace: bool,
    other_config: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<AgentRow> for Agent {
    type Error = StoreError;

    fn try_from(row: AgentRow) -> Result<Self, StoreError> {
        Ok(Agent {
            id: parse_id("agents", &row.id)?,
            tenant_id: parse_id("agents", &row.tenant_id)?,
            agent_key: AgentKey::parse(&row.agent_key).map_err(|e| corrupt("agents", e))?,
            display_name: row.display_name,
            provider: row.provider,
            model: row.model,
            is_default: row.is_default,
            agent_type: row.agent_type,
            status: row.status,
            context_window: row.context_window,
            max_tool_iterations: row.max_tool_iterations,
            workspace: row.workspace,
            restrict_to_workspace: row.restrict_to_workspace,
            other_config: parse_json("agents", Some(&row.other_config))?,
            created_at: parse_time("agents", &row.created_at)?,
            updated_at: parse_time("agents", &row.updated_at)?,
        })
    }
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn create(&self, agent: NewAgent) -> Result<Agent, StoreError> {
        let db_error = |e| store_error(e, "agent");
        let other_config = object_or_empty("other_config", agent.other_config)?;
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)?;
        if agent.is_default {
            clear_default(&mut tx, agent.tenant_id, None).await?;
        }
        let sql = format!(
            "INSERT INTO agents \
             (id, tenant_id, agent_key, display_name, provider, model, is_default, agent_type, \
              context_window, max_tool_iterations, workspace, restrict_to_workspace, \
              other_config, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {NOW}, {NOW}) RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as::<_, AgentRow>(&sql)
            .bind(AgentId::generate().to_string())
            .bind(agent.tenant_id.to_string())
            .bind(agent.agent_key.as_str())
            .bind(&agent.display_name)
            .bind(&agent.provider)
            .bind(&agent.model)
            .bind(agent.is_default)
            .bind(&agent.agent_type)
            .bind(agent.context_window)
            .bind(agent.max_tool_iterations)
            .bind(&agent.workspace)
            .bind(agent.restrict_to_workspace)
            .bind(other_config.to_string())
            .fetch_one(&mut *tx)
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
        row.try_into()
    }

    async fn get_by_key(&self, tenant: TenantId, key: &AgentKey) -> Result<Agent, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agents \
             WHERE tenant_id = ? AND agent_key = ? AND deleted_at IS NULL"
        );
        sqlx::query_as::<_, AgentRow>(&sql)
            .bind(tenant.to_string())
            .bind(key.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "agent"))?
            .try_into()
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<Agent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agents \
             WHERE tenant_id = ? AND deleted_at IS NULL ORDER BY agent_key"
        );
        sqlx::query_as::<_, AgentRow>(&sql)
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "agent"))?
            .into_iter()
            .map(Agent::try_from)
            .collect()
    }

    async fn get_default(&self, tenant: TenantId) -> Result<Option<Agent>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agents \
             WHERE tenant_id = ? AND is_default = 1 AND deleted_at IS NULL \
             ORDER BY agent_key LIMIT 1"
        );
        sqlx::query_as::<_, AgentRow>(&sql)
            .bind(tenant.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "agent"))?
            .map(Agent::try_from)
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
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)?;
        let select = format!(
            "SELECT {COLUMNS} FROM agents \
             WHERE tenant_id = ? AND agent_key = ? AND deleted_at IS NULL"
        );
        let mut agent: Agent = sqlx::query_as::<_, AgentRow>(&select)
            .bind(tenant.to_string())
            .bind(key.as_str())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?
            .try_into()?;
        apply_agent_patch(&mut agent, patch)?;
        if becomes_default {
            clear_default(&mut tx, tenant, Some(agent.id)).await?;
        }
        let update = format!(
            "UPDATE agents SET display_name = ?, provider = ?, model = ?, is_default = ?, \
             agent_type = ?, status = ?, context_window = ?, max_tool_iterations = ?, \
             workspace = ?, restrict_to_workspace = ?, other_config = ?, updated_at = {NOW} \
             WHERE id = ? RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as::<_, AgentRow>(&update)
            .bind(&agent.display_name)
            .bind(&agent.provider)
            .bind(&agent.model)
            .bind(agent.is_default)
            .bind(&agent.agent_type)
            .bind(&agent.status)
            .bind(agent.context_window)
            .bind(agent.max_tool_iterations)
            .bind(&agent.workspace)
            .bind(agent.restrict_to_workspace)
            .bind(agent.other_config.to_string())
            .bind(agent.id.to_string())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        row.try_into()
    }

    async fn delete(&self, tenant: TenantId, key: &AgentKey) -> Result<(), StoreError> {
        let sql = format!(
            "UPDATE agents SET deleted_at = {NOW}, updated_at = {NOW} \
             WHERE tenant_id = ? AND agent_key = ? AND deleted_at IS NULL"
        );
        let done = sqlx::query(&sql)
            .bind(tenant.to_string())
            .bind(key.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "agent"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("agent"));
        }
        Ok(())
    }
}

/// Clears `is_default` on the tenant's live agents other than `keep`.
async fn clear_default(
    conn: &mut SqliteConnection,
    tenant: TenantId,
    keep: Option<AgentId>,
) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE agents SET is_default = 0, updated_at = {NOW} \
         WHERE tenant_id = ? AND is_default = 1 AND deleted_at IS NULL AND id IS NOT ?"
    );
    sqlx::query(&sql)
        .bind(tenant.to_string())
        .bind(keep.map(|id| id.to_string()))
        .execute(conn)
        .await
        .map_err(|e| store_error(e, "agent"))?;
    Ok(())
}
