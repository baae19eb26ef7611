//! A team's task board: numbered tasks (1, 2, 3, … per team), each waiting on the tasks it is
//! blocked by, claimed by one member at a time under a lock that progress renews, and ended by
//! completion (directly or through review), failure or cancellation. Ending a task — any
//! terminal status — unblocks each `blocked` task whose blockers have all ended, GoClaw's rule.
//!
//! The store keeps these rules in single guarded writes, so concurrent claimers get exactly one
//! winner; the recovery routines take their clock from the caller (`now`), so the gateway's
//! ticker and the tests decide what time it is.

use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;
use crate::task_trail::Followup;

/// How long a claim holds a task unless progress renews it (GoClaw: 60 minutes).
pub const DEFAULT_TASK_LOCK: Duration = Duration::from_secs(60 * 60);

/// Where a task stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TaskStatus {
    Pending,
    InProgress,
    InReview,
    Completed,
    Failed,
    Cancelled,
    Blocked,
    Stale,
}

impl TaskStatus {
    pub const ALL: [TaskStatus; 8] = [
        TaskStatus::Pending,
        TaskStatus::InProgress,
        TaskStatus::InReview,
        TaskStatus::Completed,
        TaskStatus::Failed,
        TaskStatus::Cancelled,
        TaskStatus::Blocked,
        TaskStatus::Stale,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Pending => "pending",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::InReview => "in_review",
            TaskStatus::Completed => "completed",
            TaskStatus::Failed => "failed",
            TaskStatus::Cancelled => "cancelled",
            TaskStatus::Blocked => "blocked",
            TaskStatus::Stale => "stale",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        TaskStatus::ALL.into_iter().find(|s| s.as_str() == text)
    }

    /// Whether the task has ended (completed, failed or cancelled).
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            TaskStatus::Completed | TaskStatus::Failed | TaskStatus::Cancelled
        )
    }
}

/// A task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamTask {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub team_id: Uuid,
    /// 1, 2, 3, … in its team.
    pub task_number: i32,
    pub subject: String,
    pub description: String,
    pub status: TaskStatus,
    /// The member working on it (set by a claim).
    pub owner_agent_id: Option<AgentId>,
    /// The team's tasks this one waits for.
    pub blocked_by: Vec<Uuid>,
    pub priority: i32,
    pub result: Option<String>,
    pub user_id: String,
    pub channel: String,
    pub chat_id: String,
    pub parent_id: Option<Uuid>,
    pub locked_at: Option<DateTime<Utc>>,
    pub lock_expires_at: Option<DateTime<Utc>>,
    pub progress_percent: i32,
    pub progress_step: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
    pub metadata: Value,
    /// The reminder its owner set while it waits on a person.
    pub followup: Option<Followup>,
}

/// What is needed to add a task to a team's board. It starts `pending`, or `blocked` while
/// any task of `blocked_by` has not ended.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTeamTask {
    pub tenant_id: TenantId,
    pub team_id: Uuid,
    pub subject: String,
    pub description: String,
    pub blocked_by: Vec<Uuid>,
    pub priority: i32,
    pub user_id: String,
    pub channel: String,
    pub chat_id: String,
    pub parent_id: Option<Uuid>,
    pub metadata: Value,
}

impl NewTeamTask {
    /// A task of `team` with nothing but its subject.
    pub fn new(tenant_id: TenantId, team_id: Uuid, subject: &str) -> Self {
        Self {
            tenant_id,
            team_id,
            subject: subject.to_owned(),
            description: String::new(),
            blocked_by: Vec::new(),
            priority: 0,
            user_id: String::new(),
            channel: String::new(),
            chat_id: String::new(),
            parent_id: None,
            metadata: Value::Object(Default::default()),
        }
    }
}

/// Which tasks of a team to list (every one when empty), ordered by number.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TaskQuery {
    pub status: Option<TaskStatus>,
    pub owner: Option<AgentId>,
}

/// A task that ended, with the tasks its ending unblocked.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEnded {
    pub task: TeamTask,
    /// Tasks that were `blocked` on it and are `pending` now.
    pub unblocked: Vec<TeamTask>,
}

/// What a comment on a task is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CommentKind {
    Note,
    Blocker,
}

impl CommentKind {
    pub fn as_str(self) -> &'static str {
        match self {
            CommentKind::Note => "note",
            CommentKind::Blocker => "blocker",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "note" => Some(CommentKind::Note),
            "blocker" => Some(CommentKind::Blocker),
            _ => None,
        }
    }
}

/// A comment on a task, written by an agent or a user.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskComment {
    pub id: Uuid,
    pub task_id: Uuid,
    pub agent_id: Option<AgentId>,
    pub user_id: String,
    pub kind: CommentKind,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

/// What is needed to comment on a task.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTaskComment {
    pub task_id: Uuid,
    pub agent_id: Option<AgentId>,
    pub user_id: String,
    pub kind: CommentKind,
    pub content: String,
}

/// The task boards of every team.
///
/// A write that finds its task in another state than it needs (a claim of a task someone
/// else holds, progress by an agent that does not own it, approving a task not in review)
/// changes nothing and answers `None`; `NotFound` is kept for a task that does not exist.
#[async_trait]
pub trait TeamTaskStore: Send + Sync {
    /// Adds a task with the team's next number: `NotFound("team")` for a team the tenant does
    /// not have, `NotFound("blocking task")` when `blocked_by` names a task outside the team.
    async fn create(&self, task: NewTeamTask) -> Result<TeamTask, StoreError>;

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<TeamTask, StoreError>;

    /// The team's tasks matching `query`, by number.
    async fn list(
        &self,
        tenant: TenantId,
        team: Uuid,
        query: &TaskQuery,
    ) -> Result<Vec<TeamTask>, StoreError>;

    /// Gives a `pending`, unowned task to `agent` (a member of its team): `in_progress`, owned,
    /// locked from now for `lock_for`. One guarded write: of any number of concurrent
    /// claimers exactly one gets the task, the others `None`.
    async fn claim(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        lock_for: Duration,
    ) -> Result<Option<TeamTask>, StoreError>;

    /// Records the owner's progress and renews its lock for `lock_for` from now; `None` when
    /// `agent` does not hold the task.
    async fn progress(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        percent: i32,
        step: Option<&str>,
        lock_for: Duration,
    ) -> Result<Option<TeamTask>, StoreError>;

    /// The owner completes its task with `result`.
    async fn complete(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        result: &str,
    ) -> Result<Option<TaskEnded>, StoreError>;

    /// The owner fails its task with `reason`.
    async fn fail(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        reason: &str,
    ) -> Result<Option<TaskEnded>, StoreError>;

    /// Cancels a task that has not ended.
    async fn cancel(
        &self,
        tenant: TenantId,
        id: Uuid,
        reason: &str,
    ) -> Result<Option<TaskEnded>, StoreError>;

    /// The owner hands its task in for review with `result`: `in_review`, lock released.
    async fn submit_for_review(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        result: &str,
    ) -> Result<Option<TeamTask>, StoreError>;

    /// Approves a task in review: `completed`.
    async fn approve(&self, tenant: TenantId, id: Uuid) -> Result<Option<TaskEnded>, StoreError>;

    /// Rejects a task in review: `cancelled` with `reason` as its result (GoClaw's rule).
    async fn reject(
        &self,
        tenant: TenantId,
        id: Uuid,
        reason: &str,
    ) -> Result<Option<TaskEnded>, StoreError>;

    /// Deletes a task of `tenant` that has ended (completed, failed or cancelled) and answers
    /// it; `None` when the task has not ended (GoClaw deletes only finished tasks).
    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<Option<TeamTask>, StoreError>;

    /// The tenant's open tasks (pending, in progress, in review or blocked) of every team whose
    /// `chat_id` is `chat_id` — a session's tasks, for the chat sidebar — by team and number.
    async fn open_in_chat(
        &self,
        tenant: TenantId,
        chat_id: &str,
    ) -> Result<Vec<TeamTask>, StoreError>;

    // Recovery, one team at a time (the ticker decides which teams it tends), with the clock
    // given by the caller.

    /// Puts every `in_progress` task of `team` whose lock expired before `now` back to
    /// `pending`, unowned; returns those tasks.
    async fn reset_expired_locks(
        &self,
        team: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<TeamTask>, StoreError>;

    /// Marks `stale` (changed at `now`) the `pending` tasks of `team` last changed before
    /// `pending_before` and its `in_review` tasks last changed before `in_review_before`;
    /// returns those tasks.
    async fn mark_stale(
        &self,
        team: Uuid,
        now: DateTime<Utc>,
        pending_before: DateTime<Utc>,
        in_review_before: DateTime<Utc>,
    ) -> Result<Vec<TeamTask>, StoreError>;

    /// Moves to `pending` the `blocked` tasks of `team` that no open task holds up any more
    /// (every blocker ended or gone); returns them.
    async fn release_blocked(&self, team: Uuid) -> Result<Vec<TeamTask>, StoreError>;

    /// At start-up: every `in_progress` task of `team` back to `pending`, unowned (the run that
    /// held it died with the previous process); returns those tasks.
    async fn reset_in_progress(&self, team: Uuid) -> Result<Vec<TeamTask>, StoreError>;

    /// Adds a comment to a task of `tenant`.
    async fn add_comment(
        &self,
        tenant: TenantId,
        comment: NewTaskComment,
    ) -> Result<TaskComment, StoreError>;

    /// The task's comments, oldest first.
    async fn comments(&self, tenant: TenantId, task: Uuid) -> Result<Vec<TaskComment>, StoreError>;
}
