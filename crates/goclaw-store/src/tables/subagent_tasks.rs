//! `subagent_tasks`: the record of each spawned subagent. A task is written `running` and
//! ended once: the ending write is guarded by `status = 'running'`, so a late second ending
//! (a cancel racing the finish) changes nothing. `latest_for_session` tells how deep a run in
//! a subagent session sits (a rare lookup: the runtime keeps the running ones in memory, so it
//! has no index of its own). `unfinished` reads the running rows through
//! their partial index, for the start-up recovery.

use async_trait::async_trait;
use goclaw_core::{
    NewSubagentTask, StoreError, SubagentOutcome, SubagentStatus, SubagentTask, SubagentTaskStore,
    TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::store_error_with_parent;
use crate::sql::{Param, Record, Row, Statement};

const TASK: &str = "subagent task";

const COLUMNS: &str = "id, tenant_id, parent_agent_key, parent_session_key, session_key, \
                       subject, description, status, result, depth, model, provider, \
                       iterations, input_tokens, output_tokens, created_at, completed_at, \
                       metadata";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO subagent_tasks (id, tenant_id, parent_agent_key, parent_session_key, \
     session_key, subject, description, status, depth, model, provider, metadata, created_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, 'running', ?, ?, ?, ?, {now}) RETURNING ",
    COLUMNS,
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM subagent_tasks WHERE id = ? AND tenant_id = ?",
]);
static FINISH: Statement = Statement::joined(&[
    "UPDATE subagent_tasks SET status = ?, result = ?, iterations = ?, input_tokens = ?, \
     output_tokens = ?, completed_at = {now} \
     WHERE id = ? AND tenant_id = ? AND status = 'running' RETURNING ",
    COLUMNS,
]);
static CANCEL: Statement = Statement::joined(&[
    "UPDATE subagent_tasks SET status = 'cancelled', result = COALESCE(?, result), \
     completed_at = {now} WHERE id = ? AND tenant_id = ? AND status = 'running' RETURNING ",
    COLUMNS,
]);
static LIST_BY_PARENT: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM subagent_tasks WHERE tenant_id = ? AND parent_session_key = ? \
     ORDER BY created_at, id",
]);
static LATEST_FOR_SESSION: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM subagent_tasks WHERE tenant_id = ? AND session_key = ? \
     ORDER BY created_at DESC, id DESC LIMIT 1",
]);
static UNFINISHED: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM subagent_tasks WHERE status = 'running' ORDER BY created_at, id",
]);

impl Record for SubagentTask {
    const TABLE: &'static str = "subagent_tasks";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(SubagentTask {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            parent_agent_key: row.text("parent_agent_key")?,
            parent_session_key: row.text("parent_session_key")?,
            session_key: row.text("session_key")?,
            subject: row.text("subject")?,
            description: row.text("description")?,
            status: row.parse("status", |text| {
                SubagentStatus::parse(text).ok_or_else(|| format!("status {text:?}"))
            })?,
            result: row.opt_text("result")?,
            depth: row.int32("depth")?,
            model: row.text("model")?,
            provider: row.text("provider")?,
            iterations: row.int32("iterations")?,
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
            created_at: row.time("created_at")?,
            completed_at: row.opt_time("completed_at")?,
            metadata: row.json("metadata")?,
        })
    }
}

#[async_trait]
impl SubagentTaskStore for SqlStore {
    async fn create(&self, task: NewSubagentTask) -> Result<SubagentTask, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            task.tenant_id.into(),
            (&task.parent_agent_key).into(),
            (&task.parent_session_key).into(),
            (&task.session_key).into(),
            (&task.subject).into(),
            (&task.description).into(),
            task.depth.into(),
            (&task.model).into(),
            (&task.provider).into(),
            (&task.metadata).into(),
        ];
        self.pool
            .fetch_one(&CREATE, &params)
            .await
            .map_err(|e| store_error_with_parent(e, TASK, "tenant"))?
            .decode()
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<SubagentTask, StoreError> {
        self.pool
            .fetch_one(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error_with_parent(e, TASK, "tenant"))?
            .decode()
    }

    async fn finish(
        &self,
        tenant: TenantId,
        id: Uuid,
        outcome: SubagentOutcome,
    ) -> Result<Option<SubagentTask>, StoreError> {
        if outcome.status == SubagentStatus::Running {
            return Err(StoreError::Conflict(
                "a subagent task cannot finish as running".to_owned(),
            ));
        }
        let params = [
            outcome.status.as_str().into(),
            (&outcome.result).into(),
            outcome.iterations.into(),
            outcome.input_tokens.into(),
            outcome.output_tokens.into(),
            id.into(),
            tenant.into(),
        ];
        self.end_subagent_task(&FINISH, &params, tenant, id).await
    }

    async fn cancel(
        &self,
        tenant: TenantId,
        id: Uuid,
        reason: Option<&str>,
    ) -> Result<Option<SubagentTask>, StoreError> {
        let params = [reason.into(), id.into(), tenant.into()];
        self.end_subagent_task(&CANCEL, &params, tenant, id).await
    }

    async fn list_by_parent(
        &self,
        tenant: TenantId,
        parent_session_key: &str,
    ) -> Result<Vec<SubagentTask>, StoreError> {
        self.pool
            .fetch_all(&LIST_BY_PARENT, &[tenant.into(), parent_session_key.into()])
            .await
            .map_err(|e| store_error_with_parent(e, TASK, "tenant"))?
            .decode()
    }

    async fn latest_for_session(
        &self,
        tenant: TenantId,
        session_key: &str,
    ) -> Result<Option<SubagentTask>, StoreError> {
        self.pool
            .fetch_optional(&LATEST_FOR_SESSION, &[tenant.into(), session_key.into()])
            .await
            .map_err(|e| store_error_with_parent(e, TASK, "tenant"))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn unfinished(&self) -> Result<Vec<SubagentTask>, StoreError> {
        self.pool
            .fetch_all(&UNFINISHED, &[])
            .await
            .map_err(|e| store_error_with_parent(e, TASK, "tenant"))?
            .decode()
    }
}

impl SqlStore {
    /// Runs an ending write; `None` when the task exists but had already ended.
    async fn end_subagent_task(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<SubagentTask>, StoreError> {
        if let Some(row) = self
            .pool
            .fetch_optional(statement, params)
            .await
            .map_err(|e| store_error_with_parent(e, TASK, "tenant"))?
        {
            return row.decode().map(Some);
        }
        SubagentTaskStore::get(self, tenant, id).await.map(|_| None)
    }
}
