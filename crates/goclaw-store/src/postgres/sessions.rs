//! Sessions on PostgreSQL.
//!
//! `get_or_create` inserts with `ON CONFLICT DO NOTHING` and then reads the row: a concurrent
//! creator of the same key waits for the first insert to commit and then finds its row.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    Agent, AgentId, Session, SessionId, SessionKey, SessionStore, StoreError, TenantId,
};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::{corrupt, store_error, store_error_with_parent};

const COLUMNS: &str = "id, tenant_id, session_key, agent_id, user_id, channel, summary, \
                       message_count, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: Uuid,
    tenant_id: Uuid,
    session_key: String,
    agent_id: Option<Uuid>,
    user_id: String,
    channel: String,
    summary: Option<String>,
    message_count: i64,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: SessionId::from_uuid(row.id),
            tenant_id: TenantId::from_uuid(row.tenant_id),
            session_key: SessionKey::parse(&row.session_key).map_err(|e| corrupt("sessions", e))?,
            agent_id: row.agent_id.map(AgentId::from_uuid),
            user_id: row.user_id,
            channel: row.channel,
            summary: row.summary,
            message_count: row.message_count,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl SessionStore for PostgresStore {
    async fn get_or_create(
        &self,
        tenant: TenantId,
        key: &SessionKey,
        agent: Option<&Agent>,
        user_id: &str,
        channel: &str,
    ) -> Result<Session, StoreError> {
        if agent.is_some_and(|a| a.tenant_id != tenant) {
            return Err(StoreError::NotFound("agent"));
        }
        sqlx::query(
            "INSERT INTO sessions (id, tenant_id, session_key, agent_id, user_id, channel) \
             VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant_id, session_key) DO NOTHING",
        )
        .bind(SessionId::generate().as_uuid())
        .bind(tenant.as_uuid())
        .bind(key.as_str())
        .bind(agent.map(|a| a.id.as_uuid()))
        .bind(user_id)
        .bind(channel)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error_with_parent(e, "session", "tenant or agent"))?;
        self.get(tenant, key).await
    }

    async fn get(&self, tenant: TenantId, key: &SessionKey) -> Result<Session, StoreError> {
        let sql =
            format!("SELECT {COLUMNS} FROM sessions WHERE tenant_id = $1 AND session_key = $2");
        sqlx::query_as::<_, SessionRow>(&sql)
            .bind(tenant.as_uuid())
            .bind(key.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "session"))?
            .try_into()
    }
}
