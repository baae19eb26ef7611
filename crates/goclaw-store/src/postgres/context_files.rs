//! Agent context files on PostgreSQL: shared ones unique by `(agent_id, file_name)`, per-user
//! ones (`user_context_files`) unique by `(agent_id, user_id, file_name)`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{AgentId, ContextFile, ContextFileStore, StoreError, TenantId};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::store_error;

const COLUMNS: &str = "agent_id, file_name, content, updated_at";

#[derive(sqlx::FromRow)]
struct ContextFileRow {
    agent_id: Uuid,
    file_name: String,
    content: String,
    updated_at: DateTime<Utc>,
}

impl From<ContextFileRow> for ContextFile {
    fn from(row: ContextFileRow) -> Self {
        ContextFile {
            agent_id: AgentId::from_uuid(row.agent_id),
            file_name: row.file_name,
            content: row.content,
            updated_at: row.updated_at,
        }
    }
}

#[async_trait]
impl ContextFileStore for PostgresStore {
    async fn list(&self, agent: AgentId) -> Result<Vec<ContextFile>, StoreError> {
        // `COLLATE "C"` orders bytewise, as SQLite does.
        let sql = format!(
            "SELECT {COLUMNS} FROM agent_context_files WHERE agent_id = $1 \
             ORDER BY file_name COLLATE \"C\""
        );
        let rows = sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(agent.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?;
        Ok(rows.into_iter().map(ContextFile::from).collect())
    }

    async fn get(
        &self,
        agent: AgentId,
        file_name: &str,
    ) -> Result<Option<ContextFile>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agent_context_files WHERE agent_id = $1 AND file_name = $2"
        );
        let row = sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(agent.as_uuid())
            .bind(file_name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?;
        Ok(row.map(ContextFile::from))
    }

    /// Writes only for a live agent of `tenant`; any other agent is `NotFound("agent")`.
    async fn set(
        &self,
        tenant: TenantId,
        agent: AgentId,
        file_name: &str,
        content: &str,
    ) -> Result<ContextFile, StoreError> {
        let sql = format!(
            "INSERT INTO agent_context_files (id, tenant_id, agent_id, file_name, content) \
             SELECT $1, tenant_id, id, $2, $3 FROM agents \
             WHERE id = $4 AND tenant_id = $5 AND deleted_at IS NULL \
             ON CONFLICT (agent_id, file_name) \
             DO UPDATE SET content = EXCLUDED.content, updated_at = now() \
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(Uuid::now_v7())
            .bind(file_name)
            .bind(content)
            .bind(agent.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .ok_or(StoreError::NotFound("agent"))?;
        Ok(row.into())
    }

    async fn list_for_user(
        &self,
        agent: AgentId,
        user: &str,
    ) -> Result<Vec<ContextFile>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM user_context_files WHERE agent_id = $1 AND user_id = $2 \
             ORDER BY file_name COLLATE \"C\""
        );
        let rows = sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(agent.as_uuid())
            .bind(user)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?;
        Ok(rows.into_iter().map(ContextFile::from).collect())
    }

    async fn get_for_user(
        &self,
        agent: AgentId,
        user: &str,
        file_name: &str,
    ) -> Result<Option<ContextFile>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM user_context_files \
             WHERE agent_id = $1 AND user_id = $2 AND file_name = $3"
        );
        let row = sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(agent.as_uuid())
            .bind(user)
            .bind(file_name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?;
        Ok(row.map(ContextFile::from))
    }

    /// Writes only for a live agent of `tenant`; any other agent is `NotFound("agent")`.
    async fn set_for_user(
        &self,
        tenant: TenantId,
        agent: AgentId,
        user: &str,
        file_name: &str,
        content: &str,
    ) -> Result<ContextFile, StoreError> {
        let sql = format!(
            "INSERT INTO user_context_files (id, tenant_id, agent_id, user_id, file_name, content) \
             SELECT $1, tenant_id, id, $2, $3, $4 FROM agents \
             WHERE id = $5 AND tenant_id = $6 AND deleted_at IS NULL \
             ON CONFLICT (agent_id, user_id, file_name) \
             DO UPDATE SET content = EXCLUDED.content, updated_at = now() \
             RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(Uuid::now_v7())
            .bind(user)
            .bind(file_name)
            .bind(content)
            .bind(agent.as_uuid())
            .bind(tenant.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .ok_or(StoreError::NotFound("agent"))?;
        Ok(row.into())
    }
}
