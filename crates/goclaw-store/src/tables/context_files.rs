//! Agent context files: shared ones (`agent_context_files`) unique by `(agent_id, file_name)`,
//! per-user ones (`user_context_files`) unique by `(agent_id, user_id, file_name)`. Both are
//! written only for a live agent of the caller's tenant: the upsert selects from `agents`, so
//! any other agent inserts nothing and is `NotFound("agent")`.

use async_trait::async_trait;
use goclaw_core::{AgentId, ContextFile, ContextFileStore, StoreError, TenantId};
use uuid::Uuid;

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{Param, Record, Row, Statement};

const COLUMNS: &str = "agent_id, file_name, content, updated_at";

static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_context_files WHERE agent_id = ? ORDER BY file_name {bytewise}",
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_context_files WHERE agent_id = ? AND file_name = ?",
]);
static SET: Statement = Statement::joined(&[
    "INSERT INTO agent_context_files (id, tenant_id, agent_id, file_name, content, updated_at) \
     SELECT ?, tenant_id, id, ?, ?, {now} FROM agents \
     WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL \
     ON CONFLICT (agent_id, file_name) \
     DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at \
     RETURNING ",
    COLUMNS,
]);
static LIST_FOR_USER: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM user_context_files WHERE agent_id = ? AND user_id = ? ORDER BY file_name {bytewise}",
]);
static GET_FOR_USER: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM user_context_files WHERE agent_id = ? AND user_id = ? AND file_name = ?",
]);
static SET_FOR_USER: Statement = Statement::joined(&[
    "INSERT INTO user_context_files \
     (id, tenant_id, agent_id, user_id, file_name, content, created_at, updated_at) \
     SELECT ?, tenant_id, id, ?, ?, ?, {now}, {now} FROM agents \
     WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL \
     ON CONFLICT (agent_id, user_id, file_name) \
     DO UPDATE SET content = excluded.content, updated_at = excluded.updated_at \
     RETURNING ",
    COLUMNS,
]);

impl Record for ContextFile {
    const TABLE: &'static str = "agent_context_files";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(ContextFile {
            agent_id: row.id("agent_id")?,
            file_name: row.text("file_name")?,
            content: row.text("content")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl SqlStore {
    async fn context_files(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Vec<ContextFile>, StoreError> {
        self.pool
            .fetch_all(statement, params)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .decode()
    }

    async fn context_file(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Option<ContextFile>, StoreError> {
        self.pool
            .fetch_optional(statement, params)
            .await
            .map_err(|e| store_error(e, "context file"))?
            .map(|row| row.decode())
            .transpose()
    }
}

#[async_trait]
impl ContextFileStore for SqlStore {
    async fn list(&self, agent: AgentId) -> Result<Vec<ContextFile>, StoreError> {
        self.context_files(&LIST, &[agent.into()]).await
    }

    async fn get(
        &self,
        agent: AgentId,
        file_name: &str,
    ) -> Result<Option<ContextFile>, StoreError> {
        self.context_file(&GET, &[agent.into(), file_name.into()])
            .await
    }

    async fn set(
        &self,
        tenant: TenantId,
        agent: AgentId,
        file_name: &str,
        content: &str,
    ) -> Result<ContextFile, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            file_name.into(),
            content.into(),
            agent.into(),
            tenant.into(),
        ];
        self.context_file(&SET, &params)
            .await?
            .ok_or(StoreError::NotFound("agent"))
    }

    async fn list_for_user(
        &self,
        agent: AgentId,
        user: &str,
    ) -> Result<Vec<ContextFile>, StoreError> {
        self.context_files(&LIST_FOR_USER, &[agent.into(), user.into()])
            .await
    }

    async fn get_for_user(
        &self,
        agent: AgentId,
        user: &str,
        file_name: &str,
    ) -> Result<Option<ContextFile>, StoreError> {
        let params = [agent.into(), user.into(), file_name.into()];
        self.context_file(&GET_FOR_USER, &params).await
    }

    async fn set_for_user(
        &self,
        tenant: TenantId,
        agent: AgentId,
        user: &str,
        file_name: &str,
        content: &str,
    ) -> Result<ContextFile, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            user.into(),
            file_name.into(),
            content.into(),
            agent.into(),
            tenant.into(),
        ];
        self.context_file(&SET_FOR_USER, &params)
            .await?
            .ok_or(StoreError::NotFound("agent"))
    }
}
