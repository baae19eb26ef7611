//! Exec approvals and the per-agent program allowlist on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{ExecApproval, ExecApprovalStore, NewExecApproval, StoreError, TenantId};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::{store_error, store_error_with_parent};

const COLUMNS: &str = "id, tenant_id, agent_key, session_key, run_id, command, status, decision, \
                       created_at, resolved_at, resolved_by";

#[derive(sqlx::FromRow)]
struct ApprovalRow {
    id: String,
    tenant_id: Uuid,
    agent_key: String,
    session_key: String,
    run_id: String,
    command: String,
    status: String,
    decision: Option<String>,
    created_at: DateTime<Utc>,
    resolved_at: Option<DateTime<Utc>>,
    resolved_by: Option<String>,
}

impl From<ApprovalRow> for ExecApproval {
    fn from(row: ApprovalRow) -> Self {
        ExecApproval {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            agent_key: row.agent_key,
            session_key: row.session_key,
            run_id: row.run_id,
            command: row.command,
            status: row.status,
            decision: row.decision,
            created_at: row.created_at,
            resolved_at: row.resolved_at,
            resolved_by: row.resolved_by,
        }
    }
}

#[async_trait]
impl ExecApprovalStore for PostgresStore {
    async fn create(&self, approval: NewExecApproval) -> Result<ExecApproval, StoreError> {
        let sql = format!(
            "INSERT INTO exec_approvals (id, tenant_id, agent_key, session_key, run_id, command) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING {COLUMNS}"
        );
        sqlx::query_as::<_, ApprovalRow>(&sql)
            .bind(&approval.id)
            .bind(approval.tenant_id.as_uuid())
            .bind(&approval.agent_key)
            .bind(&approval.session_key)
            .bind(&approval.run_id)
            .bind(&approval.command)
            .fetch_one(&self.pool)
            .await
            .map(ExecApproval::from)
            .map_err(|e| store_error_with_parent(e, "exec approval", "tenant"))
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
        Ok(rows.into_iter().map(ExecApproval::from).collect())
    }

    async fn resolve(
        &self,
        tenant: TenantId,
        id: &str,
        status: &str,
        decision: &str,
        resolved_by: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE exec_approvals SET status = $1, decision = $2, resolved_by = $3, \
             resolved_at = now() WHERE tenant_id = $4 AND id = $5 AND status = 'pending'",
        )
        .bind(status)
        .bind(decision)
        .bind(resolved_by)
        .bind(tenant.as_uuid())
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
            "INSERT INTO exec_allowlist (tenant_id, agent_key, \"binary\") VALUES ($1, $2, $3) \
             ON CONFLICT (tenant_id, agent_key, \"binary\") DO NOTHING",
        )
        .bind(tenant.as_uuid())
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
            "SELECT 1 FROM exec_allowlist WHERE tenant_id = $1 AND agent_key = $2 AND \"binary\" = $3",
        )
        .bind(tenant.as_uuid())
        .bind(agent_key)
        .bind(binary)
        .fetch_optional(&self.pool)
        .await
        .map_err(|e| store_error(e, "exec allowlist entry"))?;
        Ok(row.is_some())
    }
}
