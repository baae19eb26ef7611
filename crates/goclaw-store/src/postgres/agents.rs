//! Agent definitions on PostgreSQL. Soft-deleted agents (`deleted_at` set) are invisible here.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{Agent, AgentId, AgentKey, AgentStore, NewAgent, StoreError, TenantId};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::{corrupt, store_error, store_error_with_parent};

const COLUMNS: &str =
    "id, tenant_id, agent_key, display_name, provider, model, is_default, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct AgentRow {
    id: Uuid,
    tenant_id: Uuid,
    agent_key: String,
    display_name: String,
    provider: String,
    model: String,
    is_default: bool,
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
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl AgentStore for PostgresStore {
    async fn create(&self, agent: NewAgent) -> Result<Agent, StoreError> {
        let sql = format!(
            "INSERT INTO agents \
             (id, tenant_id, agent_key, display_name, provider, model, is_default) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as::<_, AgentRow>(&sql)
            .bind(AgentId::generate().as_uuid())
            .bind(agent.tenant_id.as_uuid())
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
        let sql = format!(
            "SELECT {COLUMNS} FROM agents \
             WHERE tenant_id = $1 AND deleted_at IS NULL ORDER BY agent_key"
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
}
