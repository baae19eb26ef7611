//! Agent definitions on SQLite. Soft-deleted agents (`deleted_at` set) are invisible here.

use async_trait::async_trait;
use goclaw_core::{Agent, AgentId, AgentKey, AgentStore, NewAgent, StoreError, TenantId};

use super::{NOW, SqliteStore, parse_id, parse_time};
use crate::error::{corrupt, store_error, store_error_with_parent};

const COLUMNS: &str =
    "id, tenant_id, agent_key, display_name, provider, model, is_default, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: String,
    tenant_id: String,
    agent_key: String,
    display_name: String,
    provider: String,
    model: String,
    is_default: bool,
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
            created_at: parse_time("agents", &row.created_at)?,
            updated_at: parse_time("agents", &row.updated_at)?,
        })
    }
}

#[async_trait]
impl AgentStore for SqliteStore {
    async fn create(&self, agent: NewAgent) -> Result<Agent, StoreError> {
        let sql = format!(
            "INSERT INTO agents \
             (id, tenant_id, agent_key, display_name, provider, model, is_default, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, {NOW}, {NOW}) RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as::<_, AgentRow>(&sql)
            .bind(AgentId::generate().to_string())
            .bind(agent.tenant_id.to_string())
            .bind(agent.agent_key.as_str())
            .bind(&agent.display_name)
            .bind(&agent.provider)
            .bind(&agent.model)
            .bind(agent.is_default)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| match store_error_with_parent(e, "agent", "tenant") {
                StoreError::Conflict(_) => StoreError::Conflict(format!(
                    "agent {:?} in tenant {}",
                    agent.agent_key.as_str(),
                    agent.tenant_id
                )),
                other => other,
            })?;
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
}
