//! Exec approvals and the per-agent program allowlist on SQLite: ids are text, times ISO-8601 text.

use async_trait::async_trait;
use goclaw_core::{ExecApproval, ExecApprovalStore, NewExecApproval, StoreError, TenantId};

use super::{NOW, SqliteStore, parse_id, parse_time};
use crate::error::{store_error, store_error_with_parent};

const COLUMNS: &str = "id, tenant_id, agent_key, session_key, run_id, command, status, decision, \
                       created_at, resolved_at, resolved_by";

#[derive(sqlx::FromRow)]
struct ApprovalRow {
    id: String,
    tenant_id: String,
    agent_key: String,
    session_key: String,
    run_id: String,
    command: String,
    status: String,
    decision: Option<String>,
    created_at: String,
    resolved_at: Option<String>,
    resolved_by: Option<String>,
}

impl TryFrom<ApprovalRow> for ExecApproval {
    type Error = StoreError;

    fn try_from(row: ApprovalRow) -> Result<Self, StoreError> {
        let time = |text: &str| parse_time("exec_approvals", text);
        Ok(ExecApproval {
            id: row.id,
            tenant_id: parse_id("exec_approvals", &row.tenant_id)?,
            agent_key: row.agent_key,
            session_key: row.session_key,
            run_id: row.run_id,
            command: row.command,
            status: row.status,
            decision: row.decision,
            created_at: time(&row.created_at)?,
            resolved_at: row.resolved_at.as_deref().map(time).transpose()?,
            resolved_by: row.resolved_by,
        })
    }
}

#[async_trait]
impl ExecApprovalStore for SqliteStore {
    async fn create(&self, approval: NewExecApproval) -> Result<ExecApproval, StoreError> {
        let sql = format!(
            "INSERT INTO exec_approvals (id, tenant_id, agent_key, session_key, run_id, command) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING {COLUMNS}"
        );
        sqlx::query_as::<_, ApprovalRow>(&sql)
            .bind(&approval.id)
            .bind(approval.tenant_id.to_string())
            .bind(&approval.agent_key)
            .bind(&approval.session_key)
            .bind(&approval.run_id)
            .bind(&approval.command)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error_with_parent(e, "exec approval", "tenant"))?
            .try_into()
    }

    async fn list_pending(&self) -> Result<Vec<ExecApproval>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM exec_approvals WHERE status = 'pending' \
             ORDER BY created_at, id"
        );
        let rows = sqlx::query_as::<_, ApprovalRow>(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "exec approval"))?;
        rows.into_iter().map(ExecApproval::try_from).collect()
    }

    async fn resolve(
        &self,
        tenant: TenantId,
        id: &str,
        status: &str,
        decision: &str,
        resolved_by: &str,
    ) -> Result<bool, StoreError> {
        let sql = format!(
            "UPDATE exec_approvals SET status = ?, decision = ?, resolved_by = ?, \
             resolved_at = {NOW} WHERE tenant_id = ? AND id = ? AND status = 'pending'"
        );
        let done = sqlx::query(&sql)
            .bind(status)
            .bind(decision)
            .bind(resolved_by)
            .bind(tenant.to_string())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "exec approval"))?;
        Ok(done.rows_affected() > 0)
    }

    async fn allow_binary(
        &self,
        tenant: TenantId,
        agent_key: &str,
        binary: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO exec_allowlist (tenant_id, agent_key, \"binary\") VALUES (?, ?, ?) \
             ON CONFLICT (tenant_id, agent_key, \"binary\") DO NOTHING",
        )
        .bind(tenant.to_string())
        .bind(agent_key)
        .bind(binary)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error_with_parent(e, "exec allowlist entry", "tenant"))?;
        Ok(())
    }

    async fn is_binary_allowed(
        &self,
        tenant: TenantId,
        agent_key: &str,
        binary: &str,
    ) -> Result<bool, StoreError> {
        let row: Option<(i32,)> = sqlx::query_as(
            "SELECT 1 FROM exec_allowlist WHERE tenant_id = ? AND agent_key = ? AND \"binary\" = ?",
        )
        .bind(tenant.to_string())
        .bind(agent_key)
        .bind(binary)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| store_error(e, "exec allowlist entry"))?;
        Ok(row.is_some())
    }
}
