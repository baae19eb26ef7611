//! Agent definitions on PostgreSQL. Soft-deleted agents (`deleted_at` set) are invisible here.
//!
//! Writes that may make an agent the tenant's default lock the tenant row first
//! (`FOR NO KEY UPDATE`, which foreign-key checks do not wait for), so two of them in one
//! tenant take turns and the second sees and clears the first one's flag; the partial unique
//! index `agents_tenant_default_uniq` backs the rule.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    Agent, AgentId, AgentKey, AgentPatch, AgentStore, NewAgent, StoreError, TenantId,
};
use sqlx::PgConnection;
use uuid::Uuid;

use super::PostgresStore;
use crate::error::{corrupt, store_error, store_error_with_parent};
use crate::patch::{apply_agent_patch, object_or_empty};

const COLUMNS: &str = "id, tenant_id, agent_key, display_name, provider, model, is_default, \
                       agent_type, status, context_window, max_tool_iterations, workspace, \
                       restrict_to_workspace, other_config, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: Uuid,
    tenant_id: Uuid,
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
    other_config: serde_json::Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<AgentRow> for Agent {
    type Error = StoreError;

    fn try_from(row: AgentRow) -> Result<Self, StoreError> {
        Ok(Agent {
            id: AgentId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
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
            other_config: row.other_config,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl AgentStore for PostgresStore {
    async fn create(&self, agent: NewAgent) -> Result<Agent, StoreError> {
        let db_error = |e| store_error(e, "agent");
        let other_config = object_or_empty("other_config", agent.other_config)?;
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        if agent.is_default {
            lock_tenant(&mut tx, agent.tenant_id).await?;
            clear_default(&mut tx, agent.tenant_id, None).await?;
        }
        let sql = format!(
            "INSERT INTO agents \
             (id, tenant_id, agent_key, display_name, provider, model, is_default, agent_type, \
              context_window, max_tool_iterations, workspace, restrict_to_workspace, \
              other_config) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) \
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as::<_, AgentRow>(&sql)
            .bind(AgentId::generate().as_uuid())
            .bind(agent.tenant_id.as_uuid())
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
            .bind(&other_config)
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
             WHERE tenant_id = $1 AND agent_key = $2 AND deleted_at IS NULL"
        );
        sqlx::query_as::<_, AgentRow>(&sql)
            .bind(tenant.as_uuid())
            .bind(key.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "agent"))?
            .try_into()
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<Agent>, StoreError> {
        // `COLLATE "C"` orders bytewise, as SQLite does.
        let sql = format!(
            "SELECT {COLUMNS} FROM agents \
             WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY agent_key COLLATE \"C\""
        );
        sqlx::query_as::<_, AgentRow>(&sql)
            .bind(tenant.as_uuid())
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
             WHERE tenant_id = $1 AND is_default AND deleted_at IS NULL \
             ORDER BY agent_key COLLATE \"C\" LIMIT 1"
        );
        sqlx::query_as::<_, AgentRow>(&sql)
            .bind(tenant.as_uuid())
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
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        if becomes_default {
            // An agent of a tenant that does not exist is simply not found.
            lock_tenant(&mut tx, tenant).await.map_err(|e| match e {
                StoreError::NotFound(_) => StoreError::NotFound("agent"),
                other => other,
            })?;
        }
        let select = format!(
            "SELECT {COLUMNS} FROM agents \
             WHERE tenant_id = $1 AND agent_key = $2 AND deleted_at IS NULL FOR UPDATE"
        );
        let mut agent: Agent = sqlx::query_as::<_, AgentRow>(&select)
            .bind(tenant.as_uuid())
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
            "UPDATE agents SET display_name = $1, provider = $2, model = $3, is_default = $4, \
             agent_type = $5, status = $6, context_window = $7, max_tool_iterations = $8, \
             workspace = $9, restrict_to_workspace = $10, other_config = $11, \
             updated_at = now() \
             WHERE id = $12 RETURNING {COLUMNS}"
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
            .bind(&agent.other_config)
            .bind(agent.id.as_uuid())
            .fetch_one(&mut *tx)
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        row.try_into()
    }

    async fn delete(&self, tenant: TenantId, key: &AgentKey) -> Result<(), StoreError> {
        let done = sqlx::query(
            "UPDATE agents SET deleted_at = now(), updated_at = now() \
             WHERE tenant_id = $1 AND agent_key = $2 AND deleted_at IS NULL",
        )
        .bind(tenant.as_uuid())
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

/// Locks the tenant row until the transaction ends; `NotFound("tenant")` when it is missing.
async fn lock_tenant(conn: &mut PgConnection, tenant: TenantId) -> Result<(), StoreError> {
    sqlx::query("SELECT id FROM tenants WHERE id = $1 FOR NO KEY UPDATE")
        .bind(tenant.as_uuid())
        .fetch_optional(conn)
        .await
        .map_err(|e| store_error(e, "tenant"))?
        .ok_or(StoreError::NotFound("tenant"))?;
    Ok(())
}

/// Clears `is_default` on the tenant's live agents other than `keep`.
async fn clear_default(
    conn: &mut PgConnection,
    tenant: TenantId,
    keep: Option<AgentId>,
) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE agents SET is_default = false, updated_at = now() \
         WHERE tenant_id = $1 AND is_default AND deleted_at IS NULL \
         AND id IS DISTINCT FROM $2",
    )
    .bind(tenant.as_uuid())
    .bind(keep.map(|id| id.as_uuid()))
    .execute(conn)
    .await
    .map_err(|e| store_error(e, "agent"))?;
    Ok(())
}
