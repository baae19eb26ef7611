//! What a team's board keeps beside its tasks: the audit trail of every change to a task
//! (`team_task_events`: who did what, when), the files attached to tasks (paths in the team's
//! workspace), the follow-up reminders a task's owner sets while it waits on a person, and the
//! users who have talked to the team's agents.
//!
//! A follow-up belongs to an `in_progress` task: it names the chat to remind, the text, when the
//! next reminder is due and how many may be sent (0: no limit). The gateway's ticker sends the
//! due ones and moves each to its next time; the person answering in that chat clears them.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;
use crate::team_tasks::TeamTask;

/// Who changed a task, as the audit trail records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ActorKind {
    /// A person, by user id.
    Human,
    /// An agent, by key.
    Agent,
    /// The gateway itself (the recovery ticker).
    System,
}

impl ActorKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActorKind::Human => "human",
            ActorKind::Agent => "agent",
            ActorKind::System => "system",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "human" => Some(ActorKind::Human),
            "agent" => Some(ActorKind::Agent),
            "system" => Some(ActorKind::System),
            _ => None,
        }
    }
}

/// One change to a task, as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskEvent {
    pub id: Uuid,
    pub task_id: Uuid,
    pub team_id: Uuid,
    /// What happened: `created`, `claimed`, `completed`, … (the `team.task.*` event's suffix).
    pub event_type: String,
    pub actor_kind: ActorKind,
    pub actor_id: String,
    /// The event's own fields (status, reason, …).
    pub data: Value,
    pub created_at: DateTime<Utc>,
}

/// What is needed to record a change to a task.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTaskEvent {
    pub task_id: Uuid,
    pub event_type: String,
    pub actor_kind: ActorKind,
    pub actor_id: String,
    pub data: Value,
}

/// A file of the team's workspace attached to a task.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskAttachment {
    pub id: Uuid,
    pub task_id: Uuid,
    pub team_id: Uuid,
    /// The workspace scope (chat) the file lives in.
    pub chat_id: String,
    /// The file's path inside that scope.
    pub path: String,
    pub file_size: i64,
    pub mime_type: String,
    pub created_by_agent_id: Option<AgentId>,
    pub created_by_sender_id: String,
    pub created_at: DateTime<Utc>,
}

/// What is needed to attach a file to a task.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTaskAttachment {
    pub task_id: Uuid,
    pub chat_id: String,
    pub path: String,
    pub file_size: i64,
    pub mime_type: String,
    pub created_by_agent_id: Option<AgentId>,
    pub created_by_sender_id: String,
}

/// A task's follow-up reminder, as its task carries it.
#[derive(Debug, Clone, PartialEq)]
pub struct Followup {
    /// When the next reminder is due; `None` once the last one went out.
    pub due_at: Option<DateTime<Utc>>,
    /// Reminders sent so far.
    pub sent: i32,
    /// How many may be sent; 0 for no limit.
    pub max: i32,
    pub message: String,
    pub channel: String,
    pub chat_id: String,
}

/// How many comments and attachments a task has.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TaskCounts {
    pub comments: usize,
    pub attachments: usize,
}

/// What is needed to set a task's follow-up.
#[derive(Debug, Clone, PartialEq)]
pub struct NewTaskFollowup {
    pub due_at: DateTime<Utc>,
    pub max: i32,
    pub message: String,
    pub channel: String,
    pub chat_id: String,
}

/// The trail kept beside the task boards. Every read and write is scoped to a tenant.
#[async_trait]
pub trait TaskTrailStore: Send + Sync {
    /// Records a change to a task of `tenant`: `NotFound("team task")` without one.
    async fn record_event(
        &self,
        tenant: TenantId,
        event: NewTaskEvent,
    ) -> Result<TaskEvent, StoreError>;

    /// The changes to a task of `tenant`, oldest first.
    async fn task_events(&self, tenant: TenantId, task: Uuid)
    -> Result<Vec<TaskEvent>, StoreError>;

    /// The changes to every task of a team of `tenant`, newest first, a page at a time
    /// (`limit` 1–100, 50 when 0 or above 100, as GoClaw pages it).
    async fn team_events(
        &self,
        tenant: TenantId,
        team: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<TaskEvent>, StoreError>;

    /// Attaches a file to a task of `tenant`; attaching the same path again changes nothing
    /// and answers `None`. `NotFound("team task")` without the task.
    async fn attach(
        &self,
        tenant: TenantId,
        attachment: NewTaskAttachment,
    ) -> Result<Option<TaskAttachment>, StoreError>;

    /// Detaches `path` from a task of `tenant`; whether it was attached.
    async fn detach(&self, tenant: TenantId, task: Uuid, path: &str) -> Result<bool, StoreError>;

    /// The files attached to a task of `tenant`, oldest first.
    async fn attachments(
        &self,
        tenant: TenantId,
        task: Uuid,
    ) -> Result<Vec<TaskAttachment>, StoreError>;

    /// One attachment of a team of `tenant`.
    async fn attachment(
        &self,
        tenant: TenantId,
        team: Uuid,
        id: Uuid,
    ) -> Result<TaskAttachment, StoreError>;

    /// How many comments and attachments each task of a team of `tenant` has that has any.
    async fn counts(
        &self,
        tenant: TenantId,
        team: Uuid,
    ) -> Result<HashMap<Uuid, TaskCounts>, StoreError>;

    /// Sets the follow-up of a task of `tenant` (replacing one it had, from zero sent);
    /// `None` when the task is not `in_progress`.
    async fn set_followup(
        &self,
        tenant: TenantId,
        task: Uuid,
        followup: NewTaskFollowup,
    ) -> Result<Option<TeamTask>, StoreError>;

    /// Clears the follow-up of a task of `tenant`; whether it had one.
    async fn clear_followup(&self, tenant: TenantId, task: Uuid) -> Result<bool, StoreError>;

    /// Clears the follow-ups of `tenant`'s `in_progress` tasks that remind `chat_id` on
    /// `channel` (the person answered there); how many.
    async fn clear_followups_in_chat(
        &self,
        tenant: TenantId,
        channel: &str,
        chat_id: &str,
    ) -> Result<u64, StoreError>;

    /// Follow-ups due at `now` on `in_progress` tasks of active teams, every tenant, oldest
    /// first, at most `limit`.
    async fn due_followups(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TeamTask>, StoreError>;

    /// Counts one more reminder sent for `task`, due again at `next` (`None`: no more), if it
    /// was still due at `due` — so two gateways sending the same reminder count it once;
    /// whether this caller counted it.
    async fn advance_followup(
        &self,
        task: Uuid,
        due: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError>;

    /// The users (at most `limit`) with a session with an agent of a team of `tenant`, sorted.
    async fn known_users(
        &self,
        tenant: TenantId,
        team: Uuid,
        limit: u32,
    ) -> Result<Vec<String>, StoreError>;
}
