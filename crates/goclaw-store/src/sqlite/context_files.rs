//! Agent context files on SQLite: shared ones unique by `(agent_id, file_name)`, per-user ones
//! (`user_context_files`) unique by `(agent_id, user_id, file_name)`.

use async_trait::async_trait;
use goclaw_core::{AgentId, ContextFile, ContextFileStore, StoreError, TenantId};
use uuid::Uuid;

use super::{NOW, SqliteStore, parse_id, parse_time};
use crate::error::store_error;

const COLUMNS: &str = "agent_id, file_name, content, updated_at";

#[derive(sqlx::FromRow)]
struct ContextFileRow {
    agent_id: String,
    file_name: String,
    content: String,
    updated_at: String,
}

impl TryFrom<ContextFileRow> for ContextFile {
    type Error = StoreError;

    fn try_from(row: ContextFileRow) -> Result<Self, StoreError> {
        Ok(ContextFile {
            agent_id: parse_id("agent_context_files", &row.agent_id)?,
            file_name: row.file_name,
            content: row.content,
            updated_at: parse_time("agent_context_files", &row.updated_at)?,
        })
    }
}

#[async_trait]
impl ContextFileStore for SqliteStore {
    async fn list(&self, agent: AgentId) -> Result<Vec<ContextFile>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agent_context_files WHERE agent_id = ? ORDER BY file_name"
        );
        sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(agent.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .into_iter()
            .map(ContextFile::try_from)
            .collect()
    }

    async fn get(
        &self,
        agent: AgentId,
        file_name: &str,
    ) -> Result<Option<ContextFile>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM agent_context_files WHERE agent_id = ? AND file_name = ?"
        );
        sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(agent.to_string())
            .bind(file_name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .map(ContextFile::try_from)
            .transpose()
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
            "INSERT INTO agent_context_files (id, tenant_id, agent_id, file_name, content, updated_at) \
             SELECT ?, tenant_id, id, ?, ?, {NOW} FROM agents \
             WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL \
             ON CONFLICT (agent_id, file_name) \
             DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at \
             RETURNING {COLUMNS}"
        );
        sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(Uuid::now_v7().to_string())
            .bind(file_name)
            .bind(content)
            .bind(agent.to_string())
            .bind(tenant.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .ok_or(StoreError::NotFound("agent"))?
            .try_into()
    }

    async fn list_for_user(
        &self,
        agent: AgentId,
        user: &str,
    ) -> Result<Vec<ContextFile>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM user_context_files WHERE agent_id = ? AND user_id = ? \
             ORDER BY file_name"
        );
        sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(agent.to_string())
            .bind(user)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .into_iter()
            .map(ContextFile::try_from)
            .collect()
    }

    async fn get_for_user(
        &self,
        agent: AgentId,
        user: &str,
        file_name: &str,
    ) -> Result<Option<ContextFile>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM user_context_files \
             WHERE agent_id = ? AND user_id = ? AND file_name = ?"
        );
        sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(agent.to_string())
            .bind(user)
            .bind(file_name)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .map(ContextFile::try_from)
            .transpose()
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
            "INSERT INTO user_context_files \
             (id, tenant_id, agent_id, user_id, file_name, content, created_at, updated_at) \
             SELECT ?, tenant_id, id, ?, ?, ?, {NOW}, {NOW} FROM agents \
             WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL \
             ON CONFLICT (agent_id, user_id, file_name) \
             DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at \
             RETURNING {COLUMNS}"
        );
        sqlx::query_as::<_, ContextFileRow>(&sql)
            .bind(Uuid::now_v7().to_string())
            .bind(user)
            .bind(file_name)
            .bind(content)
            .bind(agent.to_string())
            .bind(tenant.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .ok_or(StoreError::NotFound("agent"))?
            .try_into()
    }
}
