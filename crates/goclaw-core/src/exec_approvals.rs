//! Stored exec approvals: requests waiting for (or answered by) an operator, and the programs
//! an operator allowed always for an agent.

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::domain::TenantId;
use crate::store::StoreError;

/// One approval request as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecApproval {
    pub id: String,
    pub tenant_id: TenantId,
    pub agent_key: String,
    pub session_key: String,
    pub run_id: String,
    pub command: String,
    /// `pending`, `approved`, `denied` or `expired`.
    pub status: String,
    /// `allow-once`, `allow-always` or `deny` once resolved.
    pub decision: Option<String>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
}

/// What is needed to store a new (pending) request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewExecApproval {
    pub id: String,
    pub tenant_id: TenantId,
    pub agent_key: String,
    pub session_key: String,
    pub run_id: String,
    pub command: String,
}

/// Storage of exec approvals and the per-agent program allowlist.
#[async_trait]
pub trait ExecApprovalStore: Send + Sync {
    /// Stores a pending request.
    async fn create(&self, approval: NewExecApproval) -> Result<ExecApproval, StoreError>;
    /// Pending requests of every tenant, oldest first.
    async fn list_pending(&self) -> Result<Vec<ExecApproval>, StoreError>;
    /// Marks a pending request resolved; `false` when it was not pending.
    async fn resolve(
        &self,
        tenant: TenantId,
        id: &str,
        status: &str,
        decision: &str,
        resolved_by: &str,
    ) -> Result<bool, StoreError>;
    /// Remembers `binary` as allowed always for the agent (idempotent).
    async fn allow_binary(
        &self,
        tenant: TenantId,
        agent_key: &str,
        binary: &str,
    ) -> Result<(), StoreError>;
    /// Whether `binary` is allowed always for the agent.
    async fn is_binary_allowed(
        &self,
        tenant: TenantId,
        agent_key: &str,
        binary: &str,
    ) -> Result<bool, StoreError>;
}
