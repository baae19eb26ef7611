//! Sessions on SQLite.

use async_trait::async_trait;
use goclaw_core::{Agent, Session, SessionId, SessionKey, SessionStore, StoreError, TenantId};

use super::{NOW, SqliteStore, parse_id, parse_time};
use crate::error::{corrupt, store_error, store_error_with_parent};

const COLUMNS: &str = "id, tenant_id, session_key, agent_id, user_id, channel, summary, \
                       message_count, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct SessionRow {
    id: String,
    tenant_id: String,
    session_key: String,
    agent_id: Option<String>,
    user_id: String,
    channel: String,
    summary: Option<String>,
    message_count: i64,
    created_at: String,
    updated_at: String,
}

impl TryFrom<SessionRow> for Session {
    type Error = StoreError;

    fn try_from(row: SessionRow) -> Result<Self, StoreError> {
        Ok(Session {
            id: parse_id("sessions", &row.id)?,
            tenant_id: parse_id("sessions", &row.tenant_id)?,
            session_key: SessionKey::parse(&row.session_key).map_err(|e| corrupt("sessions", e))?,
            agent_id: row
                .agent_id
                .as_deref()
                .map(|id| parse_id("sessions", id))
                .transpose()?,
            user_id: row.user_id,
            channel: row.channel,
            summary: row.summary,
            message_count: row.message_count,
            created_at: parse_time("sessions", &row.created_at)?,
            updated_at: parse_time("sessions", &row.updated_at)?,
        })
    }
}

#[async_trait]
impl SessionStore for SqliteStore {
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
        let sql = format!(
            "INSERT INTO sessions \
             (id, tenant_id, session_key, agent_id, user_id, channel, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, {NOW}, {NOW}) \
             ON CONFLICT (tenant_id, session_key) DO NOTHING"
        );
        sqlx::query(&sql)
            .bind(SessionId::generate().to_string())
            .bind(tenant.to_string())
            .bind(key.as_str())
            .bind(agent.map(|a| a.id.to_string()))
            .bind(user_id)
            .bind(channel)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error_with_parent(e, "session", "tenant or agent"))?;
        self.get(tenant, key).await
    }

    async fn get(&self, tenant: TenantId, key: &SessionKey) -> Result<Session, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM sessions WHERE tenant_id = ? AND session_key = ?");
        sqlx::query_as::<_, SessionRow>(&sql)
            .bind(tenant.to_string())
            .bind(key.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "session"))?
            .try_into()
    }
}
