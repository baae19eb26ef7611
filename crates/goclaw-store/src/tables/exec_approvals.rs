//! Exec approvals and the per-agent program allowlist.

use async_trait::async_trait;
use goclaw_core::{ExecApproval, ExecApprovalStore, NewExecApproval, StoreError, TenantId};

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Record, Row, Statement};

const COLUMNS: &str = "id, tenant_id, agent_key, session_key, run_id, command, status, decision, \
                       created_at, resolved_at, resolved_by";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO exec_approvals (id, tenant_id, agent_key, session_key, run_id, command) \
     VALUES (?, ?, ?, ?, ?, ?) RETURNING ",
    COLUMNS,
]);
static PENDING: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM exec_approvals WHERE status = 'pending' ORDER BY created_at, id",
]);
static RESOLVE: Statement = Statement::new(
    "UPDATE exec_approvals SET status = ?, decision = ?, resolved_by = ?, resolved_at = {now} \
     WHERE tenant_id = ? AND id = ? AND status = 'pending'",
);
static ALLOW: Statement = Statement::new(
    "INSERT INTO exec_allowlist (tenant_id, agent_key, \"binary\") VALUES (?, ?, ?) \
     ON CONFLICT (tenant_id, agent_key, \"binary\") DO NOTHING",
);
static ALLOWED: Statement = Statement::new(
    "SELECT 1 FROM exec_allowlist WHERE tenant_id = ? AND agent_key = ? AND \"binary\" = ?",
);

impl Record for ExecApproval {
    const TABLE: &'static str = "exec_approvals";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(ExecApproval {
            id: row.text("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_key: row.text("agent_key")?,
            session_key: row.text("session_key")?,
            run_id: row.text("run_id")?,
            command: row.text("command")?,
            status: row.text("status")?,
            decision: row.opt_text("decision")?,
            created_at: row.time("created_at")?,
            resolved_at: row.opt_time("resolved_at")?,
            resolved_by: row.opt_text("resolved_by")?,
        })
    }
}

#[async_trait]
impl ExecApprovalStore for SqlStore {
    async fn create(&self, approval: NewExecApproval) -> Result<ExecApproval, StoreError> {
        let params = [
            (&approval.id).into(),
            approval.tenant_id.into(),
            (&approval.agent_key).into(),
            (&approval.session_key).into(),
            (&approval.run_id).into(),
            (&approval.command).into(),
        ];
        self.pool
            .fetch_one(&CREATE, &params)
            .await
            .map_err(|e| store_error_with_parent(e, "exec approval", "tenant"))?
            .decode()
    }

    async fn list_pending(&self) -> Result<Vec<ExecApproval>, StoreError> {
        self.pool
            .fetch_all(&PENDING, &[])
            .await
            .map_err(|e| store_error(e, "exec approval"))?
            .decode()
    }

    async fn resolve(
        &self,
        tenant: TenantId,
        id: &str,
        status: &str,
        decision: &str,
        resolved_by: &str,
    ) -> Result<bool, StoreError> {
        let params = [
            status.into(),
            decision.into(),
            resolved_by.into(),
            tenant.into(),
            id.into(),
        ];
        let resolved = self
            .pool
            .execute(&RESOLVE, &params)
            .await
            .map_err(|e| store_error(e, "exec approval"))?;
        Ok(resolved > 0)
    }

    async fn allow_binary(
        &self,
        tenant: TenantId,
        agent_key: &str,
        binary: &str,
    ) -> Result<(), StoreError> {
        self.pool
            .execute(&ALLOW, &[tenant.into(), agent_key.into(), binary.into()])
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
        let row = self
            .pool
            .fetch_optional(&ALLOWED, &[tenant.into(), agent_key.into(), binary.into()])
            .await
            .map_err(|e| store_error(e, "exec allowlist entry"))?;
        Ok(row.is_some())
    }
}
