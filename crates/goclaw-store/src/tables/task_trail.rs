//! `team_task_events`, `team_task_attachments` and the `followup_*` columns of `team_tasks`:
//! what a team's board keeps beside its tasks.
//!
//! Events and attachments are written by selecting their task in the caller's tenant, so none
//! lands on another tenant's task, and they go with it. A follow-up is sent once per due time:
//! [`TaskTrailStore::advance_followup`] is a compare-and-set on `followup_at` (stored to the
//! millisecond on both engines, so a time read back compares equal), as cron claims its runs.

use std::collections::HashMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::cron::to_millis;
use goclaw_core::{
    ActorKind, NewTaskAttachment, NewTaskEvent, NewTaskFollowup, StoreError, TaskAttachment,
    TaskCounts, TaskEvent, TaskTrailStore, TeamTask, TeamTaskStore, TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use super::team_tasks::COLUMNS as TASK_COLUMNS;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Record, Row, Statement};

const EVENT: &str = "task event";
const ATTACHMENT: &str = "attachment";

/// The page size of a team's event listing (GoClaw's default and ceiling).
const DEFAULT_EVENTS: u32 = 50;
const MAX_EVENTS: u32 = 100;

const EVENT_COLUMNS: &str =
    "id, task_id, team_id, event_type, actor_type, actor_id, data, created_at";
const ATTACHMENT_COLUMNS: &str = "id, task_id, team_id, chat_id, path, file_size, mime_type, \
                                  created_by_agent_id, created_by_sender_id, created_at";

static RECORD: Statement = Statement::joined(&[
    "INSERT INTO team_task_events (id, tenant_id, task_id, team_id, event_type, actor_type, \
     actor_id, data, created_at) \
     SELECT ?, t.tenant_id, t.id, t.team_id, ?, ?, ?, ?, {now} FROM team_tasks t \
     WHERE t.id = ? AND t.tenant_id = ? RETURNING ",
    EVENT_COLUMNS,
]);
static TASK_EVENTS: Statement = Statement::joined(&[
    "SELECT ",
    EVENT_COLUMNS,
    " FROM team_task_events WHERE task_id = ? AND tenant_id = ? ORDER BY created_at, id",
]);
static TEAM_EVENTS: Statement = Statement::joined(&[
    "SELECT ",
    EVENT_COLUMNS,
    " FROM team_task_events WHERE team_id = ? AND tenant_id = ? \
     ORDER BY created_at DESC, id DESC LIMIT ? OFFSET ?",
]);
static ATTACH: Statement = Statement::joined(&[
    "INSERT INTO team_task_attachments (id, tenant_id, task_id, team_id, chat_id, path, \
     file_size, mime_type, created_by_agent_id, created_by_sender_id, created_at) \
     SELECT ?, t.tenant_id, t.id, t.team_id, ?, ?, ?, ?, ?, ?, {now} FROM team_tasks t \
     WHERE t.id = ? AND t.tenant_id = ? ON CONFLICT (task_id, path) DO NOTHING RETURNING ",
    ATTACHMENT_COLUMNS,
]);
static DETACH: Statement = Statement::new(
    "DELETE FROM team_task_attachments WHERE task_id = ? AND tenant_id = ? AND path = ?",
);
static ATTACHMENTS: Statement = Statement::joined(&[
    "SELECT ",
    ATTACHMENT_COLUMNS,
    " FROM team_task_attachments WHERE task_id = ? AND tenant_id = ? ORDER BY created_at, id",
]);
static ATTACHMENT_BY_ID: Statement = Statement::joined(&[
    "SELECT ",
    ATTACHMENT_COLUMNS,
    " FROM team_task_attachments WHERE id = ? AND team_id = ? AND tenant_id = ?",
]);
static COUNTS: Statement = Statement::new(
    "SELECT t.id, \
     (SELECT COUNT(*) FROM team_task_comments c WHERE c.task_id = t.id) AS comments, \
     (SELECT COUNT(*) FROM team_task_attachments a WHERE a.task_id = t.id) AS attachments \
     FROM team_tasks t WHERE t.team_id = ? AND t.tenant_id = ?",
);
static SET_FOLLOWUP: Statement = Statement::joined(&[
    "UPDATE team_tasks SET followup_at = ?, followup_count = 0, followup_max = ?, \
     followup_message = ?, followup_channel = ?, followup_chat_id = ?, updated_at = {now} \
     WHERE id = ? AND tenant_id = ? AND status = 'in_progress' RETURNING ",
    TASK_COLUMNS,
]);
/// Every column a follow-up sets, cleared.
const CLEARED: &str = "UPDATE team_tasks SET followup_at = NULL, followup_count = 0, \
                       followup_max = 0, followup_message = NULL, followup_channel = NULL, \
                       followup_chat_id = NULL, updated_at = {now} \
                       WHERE followup_message IS NOT NULL AND tenant_id = ? AND ";
static CLEAR_FOLLOWUP: Statement = Statement::joined(&[CLEARED, "id = ?"]);
static CLEAR_IN_CHAT: Statement = Statement::joined(&[
    CLEARED,
    "status = 'in_progress' AND followup_channel = ? AND followup_chat_id = ?",
]);
static DUE_FOLLOWUPS: Statement = Statement::joined(&[
    "SELECT ",
    TASK_COLUMNS,
    " FROM team_tasks WHERE followup_at IS NOT NULL AND followup_at <= ? \
     AND followup_message IS NOT NULL AND status = 'in_progress' \
     AND (followup_max = 0 OR followup_count < followup_max) \
     AND team_id IN (SELECT id FROM agent_teams WHERE status = 'active') \
     ORDER BY followup_at, id LIMIT ?",
]);
static ADVANCE_FOLLOWUP: Statement = Statement::new(
    "UPDATE team_tasks SET followup_count = followup_count + 1, followup_at = ?, \
     updated_at = {now} WHERE id = ? AND followup_at = ? AND status = 'in_progress'",
);
static KNOWN_USERS: Statement = Statement::new(
    "SELECT s.user_id FROM sessions s \
     JOIN agent_team_members m ON m.agent_id = s.agent_id \
     JOIN agent_teams t ON t.id = m.team_id \
     WHERE m.team_id = ? AND t.tenant_id = ? AND s.user_id <> '' \
     GROUP BY s.user_id ORDER BY s.user_id {bytewise} LIMIT ?",
);

impl Record for TaskEvent {
    const TABLE: &'static str = "team_task_events";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(TaskEvent {
            id: row.id("id")?,
            task_id: row.id("task_id")?,
            team_id: row.id("team_id")?,
            event_type: row.text("event_type")?,
            actor_kind: row.parse("actor_type", |text| {
                ActorKind::parse(text).ok_or_else(|| format!("actor type {text:?}"))
            })?,
            actor_id: row.text("actor_id")?,
            data: row.json("data")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Record for TaskAttachment {
    const TABLE: &'static str = "team_task_attachments";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(TaskAttachment {
            id: row.id("id")?,
            task_id: row.id("task_id")?,
            team_id: row.id("team_id")?,
            chat_id: row.text("chat_id")?,
            path: row.text("path")?,
            file_size: row.int("file_size")?,
            mime_type: row.text("mime_type")?,
            created_by_agent_id: row.opt_id("created_by_agent_id")?,
            created_by_sender_id: row.text("created_by_sender_id")?,
            created_at: row.time("created_at")?,
        })
    }
}

/// A count read back from the database as a `usize`.
fn count(row: &Row<'_>, column: &str) -> Result<usize, StoreError> {
    let n = row.int(column)?;
    usize::try_from(n).map_err(|_| row.corrupt(format!("{column} {n}")))
}

#[async_trait]
impl TaskTrailStore for SqlStore {
    async fn record_event(
        &self,
        tenant: TenantId,
        event: NewTaskEvent,
    ) -> Result<TaskEvent, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            (&event.event_type).into(),
            event.actor_kind.as_str().into(),
            (&event.actor_id).into(),
            (&event.data).into(),
            event.task_id.into(),
            tenant.into(),
        ];
        self.pool
            .fetch_optional(&RECORD, &params)
            .await
            .map_err(|e| store_error(e, EVENT))?
            .ok_or(StoreError::NotFound("team task"))?
            .decode()
    }

    async fn task_events(
        &self,
        tenant: TenantId,
        task: Uuid,
    ) -> Result<Vec<TaskEvent>, StoreError> {
        self.pool
            .fetch_all(&TASK_EVENTS, &[task.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, EVENT))?
            .decode()
    }

    async fn team_events(
        &self,
        tenant: TenantId,
        team: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<TaskEvent>, StoreError> {
        let limit = match limit {
            1..=MAX_EVENTS => limit,
            _ => DEFAULT_EVENTS,
        };
        let params = [
            team.into(),
            tenant.into(),
            i64::from(limit).into(),
            i64::from(offset).into(),
        ];
        self.pool
            .fetch_all(&TEAM_EVENTS, &params)
            .await
            .map_err(|e| store_error(e, EVENT))?
            .decode()
    }

    async fn attach(
        &self,
        tenant: TenantId,
        attachment: NewTaskAttachment,
    ) -> Result<Option<TaskAttachment>, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            (&attachment.chat_id).into(),
            (&attachment.path).into(),
            attachment.file_size.into(),
            (&attachment.mime_type).into(),
            attachment.created_by_agent_id.into(),
            (&attachment.created_by_sender_id).into(),
            attachment.task_id.into(),
            tenant.into(),
        ];
        let row = self
            .pool
            .fetch_optional(&ATTACH, &params)
            .await
            .map_err(|e| store_error_with_parent(e, ATTACHMENT, "agent"))?;
        match row {
            Some(row) => Ok(Some(row.decode()?)),
            // Nothing inserted: the path was attached already, or there is no such task.
            None => TeamTaskStore::get(self, tenant, attachment.task_id)
                .await
                .map(|_| None),
        }
    }

    async fn detach(&self, tenant: TenantId, task: Uuid, path: &str) -> Result<bool, StoreError> {
        let removed = self
            .pool
            .execute(&DETACH, &[task.into(), tenant.into(), path.into()])
            .await
            .map_err(|e| store_error(e, ATTACHMENT))?;
        Ok(removed > 0)
    }

    async fn attachments(
        &self,
        tenant: TenantId,
        task: Uuid,
    ) -> Result<Vec<TaskAttachment>, StoreError> {
        self.pool
            .fetch_all(&ATTACHMENTS, &[task.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, ATTACHMENT))?
            .decode()
    }

    async fn attachment(
        &self,
        tenant: TenantId,
        team: Uuid,
        id: Uuid,
    ) -> Result<TaskAttachment, StoreError> {
        self.pool
            .fetch_optional(&ATTACHMENT_BY_ID, &[id.into(), team.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, ATTACHMENT))?
            .ok_or(StoreError::NotFound(ATTACHMENT))?
            .decode()
    }

    async fn counts(
        &self,
        tenant: TenantId,
        team: Uuid,
    ) -> Result<HashMap<Uuid, TaskCounts>, StoreError> {
        let rows = self
            .pool
            .fetch_all(&COUNTS, &[team.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, "team task"))?;
        let counted = rows.map("team_tasks", |row| {
            let counts = TaskCounts {
                comments: count(row, "comments")?,
                attachments: count(row, "attachments")?,
            };
            Ok((row.id("id")?, counts))
        })?;
        Ok(counted
            .into_iter()
            .filter(|(_, c)| *c != TaskCounts::default())
            .collect())
    }

    async fn set_followup(
        &self,
        tenant: TenantId,
        task: Uuid,
        followup: NewTaskFollowup,
    ) -> Result<Option<TeamTask>, StoreError> {
        let params = [
            to_millis(followup.due_at).into(),
            followup.max.into(),
            (&followup.message).into(),
            (&followup.channel).into(),
            (&followup.chat_id).into(),
            task.into(),
            tenant.into(),
        ];
        let row = self
            .pool
            .fetch_optional(&SET_FOLLOWUP, &params)
            .await
            .map_err(|e| store_error(e, "team task"))?;
        match row {
            Some(row) => Ok(Some(row.decode()?)),
            None => TeamTaskStore::get(self, tenant, task).await.map(|_| None),
        }
    }

    async fn clear_followup(&self, tenant: TenantId, task: Uuid) -> Result<bool, StoreError> {
        let cleared = self
            .pool
            .execute(&CLEAR_FOLLOWUP, &[tenant.into(), task.into()])
            .await
            .map_err(|e| store_error(e, "team task"))?;
        Ok(cleared > 0)
    }

    async fn clear_followups_in_chat(
        &self,
        tenant: TenantId,
        channel: &str,
        chat_id: &str,
    ) -> Result<u64, StoreError> {
        self.pool
            .execute(
                &CLEAR_IN_CHAT,
                &[tenant.into(), channel.into(), chat_id.into()],
            )
            .await
            .map_err(|e| store_error(e, "team task"))
    }

    async fn due_followups(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<TeamTask>, StoreError> {
        self.pool
            .fetch_all(&DUE_FOLLOWUPS, &[now.into(), i64::from(limit).into()])
            .await
            .map_err(|e| store_error(e, "team task"))?
            .decode()
    }

    async fn advance_followup(
        &self,
        task: Uuid,
        due: DateTime<Utc>,
        next: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let params = [next.map(to_millis).into(), task.into(), due.into()];
        let advanced = self
            .pool
            .execute(&ADVANCE_FOLLOWUP, &params)
            .await
            .map_err(|e| store_error(e, "team task"))?;
        Ok(advanced == 1)
    }

    async fn known_users(
        &self,
        tenant: TenantId,
        team: Uuid,
        limit: u32,
    ) -> Result<Vec<String>, StoreError> {
        let rows = self
            .pool
            .fetch_all(
                &KNOWN_USERS,
                &[team.into(), tenant.into(), i64::from(limit).into()],
            )
            .await
            .map_err(|e| store_error(e, "team"))?;
        rows.map("sessions", |row| row.text("user_id"))
    }
}
