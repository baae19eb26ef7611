//! Subagent tasks: one record per subagent a run spawned — who spawned it (the parent agent
//! and session), the subagent's own session, what it was asked, how deep it sits, and, once it
//! ends, its status, result and usage. A record still `running` when the gateway starts was
//! left by a process that died; [`SubagentTaskStore::unfinished`] finds them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::TenantId;
use crate::store::StoreError;

/// Where a subagent task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubagentStatus {
    Running,
    Completed,
    Failed,
    Cancelled,
}

impl SubagentStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SubagentStatus::Running => "running",
            SubagentStatus::Completed => "completed",
            SubagentStatus::Failed => "failed",
            SubagentStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "running" => Some(SubagentStatus::Running),
            "completed" => Some(SubagentStatus::Completed),
            "failed" => Some(SubagentStatus::Failed),
            "cancelled" => Some(SubagentStatus::Cancelled),
            _ => None,
        }
    }
}

/// A subagent task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SubagentTask {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub parent_agent_key: String,
    pub parent_session_key: String,
    /// The subagent's own session (`agent:{agentKey}:subagent:{label}`).
    pub session_key: String,
    /// The label the subagent was spawned with.
    pub subject: String,
    pub description: String,
    pub status: SubagentStatus,
    pub result: Option<String>,
    /// 1 for a subagent of a top-level run.
    pub depth: i32,
    pub model: String,
    pub provider: String,
    pub iterations: i32,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub created_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub metadata: Value,
}

/// What is needed to record a spawned subagent (it starts `running`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubagentTask {
    pub tenant_id: TenantId,
    pub parent_agent_key: String,
    pub parent_session_key: String,
    pub session_key: String,
    pub subject: String,
    pub description: String,
    pub depth: i32,
    pub model: String,
    pub provider: String,
    pub metadata: Value,
}

/// How a subagent ended.
#[derive(Debug, Clone, PartialEq)]
pub struct SubagentOutcome {
    /// `Completed`, `Failed` or `Cancelled`.
    pub status: SubagentStatus,
    pub result: Option<String>,
    pub iterations: i32,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

/// The subagent tasks of every tenant.
#[async_trait]
pub trait SubagentTaskStore: Send + Sync {
    /// Records a spawned subagent as `running`.
    async fn create(&self, task: NewSubagentTask) -> Result<SubagentTask, StoreError>;

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<SubagentTask, StoreError>;

    /// Ends a running task with `outcome` (a `Running` outcome is refused as `Conflict`);
    /// `None` when the task had already ended, which keeps its first ending.
    async fn finish(
        &self,
        tenant: TenantId,
        id: Uuid,
        outcome: SubagentOutcome,
    ) -> Result<Option<SubagentTask>, StoreError>;

    /// Cancels a running task; `None` when it had already ended.
    async fn cancel(
        &self,
        tenant: TenantId,
        id: Uuid,
        reason: Option<&str>,
    ) -> Result<Option<SubagentTask>, StoreError>;

    /// The tasks spawned from `parent_session_key`, oldest first.
    async fn list_by_parent(
        &self,
        tenant: TenantId,
        parent_session_key: &str,
    ) -> Result<Vec<SubagentTask>, StoreError>;

    /// The latest task that ran in the subagent session `session_key`, if any: how deep a
    /// run in that session sits.
    async fn latest_for_session(
        &self,
        tenant: TenantId,
        session_key: &str,
    ) -> Result<Option<SubagentTask>, StoreError>;

    /// Every tenant's tasks still `running`, oldest first: at start-up, the ones a dead
    /// process left.
    async fn unfinished(&self) -> Result<Vec<SubagentTask>, StoreError>;
}
