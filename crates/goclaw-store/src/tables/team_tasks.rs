//! `team_tasks` and `team_task_comments`: the teams' task boards.
//!
//! Every write that changes a task's status is one `UPDATE` guarded by the state it needs
//! (`status = 'pending' AND owner_agent_id IS NULL` for a claim, the owner for progress and
//! completion, `in_review` for approval), inside a write transaction (`BEGIN IMMEDIATE` on
//! SQLite, so a writer never fails on a stale snapshot; on PostgreSQL the `UPDATE`'s row lock
//! makes concurrent claimers wait and re-check the guard): of any number of concurrent
//! claimers exactly one matches. A guard that matches nothing answers `None`; a task that does
//! not exist, `NotFound`.
//!
//! Writes that depend on the team's other tasks — numbering a new task, unblocking the
//! dependents of one that ended — lock the team's row first on PostgreSQL (SQLite's write
//! transaction already excludes every other writer), so two tasks ending at once cannot both
//! miss that together they unblocked a third, and numbers are handed out one at a time.
//! Which dependents to unblock is decided in Rust ([`unblockable`]): a `blocked` task whose
//! `blocked_by` holds no task that is still open.

use std::collections::HashSet;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Utc};
use goclaw_core::{
    AgentId, Followup, NewTaskComment, NewTeamTask, StoreError, TaskComment, TaskEnded, TaskQuery,
    TaskStatus, TeamTask, TeamTaskStore, TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use super::team_task_comments;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Param, Record, Row, Statement, Tx};

const TASK: &str = "team task";

pub(super) const COLUMNS: &str = "id, tenant_id, team_id, task_number, subject, description, status, \
                       owner_agent_id, blocked_by, priority, result, user_id, channel, chat_id, \
                       parent_id, locked_at, lock_expires_at, progress_percent, progress_step, \
                       created_at, updated_at, completed_at, metadata, followup_at, \
                       followup_count, followup_max, followup_message, followup_channel, \
                       followup_chat_id";

/// Holds the team's row until the transaction ends (PostgreSQL; a no-op on SQLite).
static LOCK_TEAM: Statement =
    Statement::new("SELECT id FROM agent_teams WHERE id = ? AND tenant_id = ? FOR NO KEY UPDATE");
static TEAM_EXISTS: Statement =
    Statement::new("SELECT id FROM agent_teams WHERE id = ? AND tenant_id = ?");
static TEAM_TENANT: Statement = Statement::new("SELECT tenant_id FROM agent_teams WHERE id = ?");
static TEAM_TASK_STATUSES: Statement =
    Statement::new("SELECT id, status FROM team_tasks WHERE team_id = ?");
static CREATE: Statement = Statement::joined(&[
    "INSERT INTO team_tasks (id, tenant_id, team_id, task_number, subject, description, status, \
     blocked_by, priority, user_id, channel, chat_id, parent_id, metadata, created_at, \
     updated_at) \
     SELECT ?, ?, ?, COALESCE(MAX(task_number), 0) + 1, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, \
     {now} FROM team_tasks WHERE team_id = ? RETURNING ",
    COLUMNS,
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM team_tasks WHERE id = ? AND tenant_id = ?",
]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM team_tasks WHERE tenant_id = ? AND team_id = ? AND (? IS NULL OR status = ?) \
     AND (? IS NULL OR owner_agent_id = ?) ORDER BY task_number",
]);
static CLAIM: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'in_progress', owner_agent_id = ?, locked_at = ?, \
     lock_expires_at = ?, updated_at = ? \
     WHERE id = ? AND tenant_id = ? AND status = 'pending' AND owner_agent_id IS NULL \
     AND EXISTS (SELECT 1 FROM agent_team_members m \
     WHERE m.team_id = team_tasks.team_id AND m.agent_id = ?) RETURNING ",
    COLUMNS,
]);
static PROGRESS: Statement = Statement::joined(&[
    "UPDATE team_tasks SET progress_percent = ?, progress_step = ?, lock_expires_at = ?, \
     updated_at = ? WHERE id = ? AND tenant_id = ? AND status = 'in_progress' \
     AND owner_agent_id = ? RETURNING ",
    COLUMNS,
]);
/// The ending writes; the last parameters of each are the task's id and tenant.
static COMPLETE: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'completed', result = ?, progress_percent = 100, \
     locked_at = NULL, lock_expires_at = NULL, completed_at = {now}, updated_at = {now} \
     WHERE owner_agent_id = ? AND status = 'in_progress' AND id = ? AND tenant_id = ? \
     RETURNING ",
    COLUMNS,
]);
static FAIL: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'failed', result = ?, locked_at = NULL, \
     lock_expires_at = NULL, completed_at = {now}, updated_at = {now} \
     WHERE owner_agent_id = ? AND status = 'in_progress' AND id = ? AND tenant_id = ? \
     RETURNING ",
    COLUMNS,
]);
static CANCEL: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'cancelled', result = ?, locked_at = NULL, \
     lock_expires_at = NULL, completed_at = {now}, updated_at = {now} \
     WHERE status NOT IN ('completed', 'failed', 'cancelled') AND id = ? AND tenant_id = ? \
     RETURNING ",
    COLUMNS,
]);
static APPROVE: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'completed', locked_at = NULL, lock_expires_at = NULL, \
     completed_at = {now}, updated_at = {now} \
     WHERE status = 'in_review' AND id = ? AND tenant_id = ? RETURNING ",
    COLUMNS,
]);
static REJECT: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'cancelled', result = ?, locked_at = NULL, \
     lock_expires_at = NULL, completed_at = {now}, updated_at = {now} \
     WHERE status = 'in_review' AND id = ? AND tenant_id = ? RETURNING ",
    COLUMNS,
]);
static SUBMIT_FOR_REVIEW: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'in_review', result = ?, locked_at = NULL, \
     lock_expires_at = NULL, updated_at = {now} \
     WHERE owner_agent_id = ? AND status = 'in_progress' AND id = ? AND tenant_id = ? \
     RETURNING ",
    COLUMNS,
]);
static BLOCKED: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM team_tasks WHERE team_id = ? AND status = 'blocked' ORDER BY task_number",
]);
static UNBLOCK: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'pending', updated_at = {now} \
     WHERE id = ? AND status = 'blocked' RETURNING ",
    COLUMNS,
]);
static RESET_EXPIRED: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'pending', owner_agent_id = NULL, locked_at = NULL, \
     lock_expires_at = NULL, updated_at = ? \
     WHERE team_id = ? AND status = 'in_progress' AND lock_expires_at < ? RETURNING ",
    COLUMNS,
]);
static MARK_STALE: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'stale', updated_at = ? \
     WHERE team_id = ? AND ((status = 'pending' AND updated_at < ?) \
     OR (status = 'in_review' AND updated_at < ?)) RETURNING ",
    COLUMNS,
]);
static RESET_IN_PROGRESS: Statement = Statement::joined(&[
    "UPDATE team_tasks SET status = 'pending', owner_agent_id = NULL, locked_at = NULL, \
     lock_expires_at = NULL, updated_at = {now} WHERE team_id = ? AND status = 'in_progress' \
     RETURNING ",
    COLUMNS,
]);
static DELETE_ENDED: Statement = Statement::joined(&[
    "DELETE FROM team_tasks WHERE id = ? AND tenant_id = ? \
     AND status IN ('completed', 'failed', 'cancelled') RETURNING ",
    COLUMNS,
]);
static OPEN_IN_CHAT: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM team_tasks WHERE tenant_id = ? AND chat_id = ? \
     AND status IN ('pending', 'in_progress', 'in_review', 'blocked') \
     ORDER BY team_id, task_number",
]);

impl Record for TeamTask {
    const TABLE: &'static str = "team_tasks";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(TeamTask {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            team_id: row.id("team_id")?,
            task_number: row.int32("task_number")?,
            subject: row.text("subject")?,
            description: row.text("description")?,
            status: row.parse("status", parse_status)?,
            owner_agent_id: row.opt_id("owner_agent_id")?,
            blocked_by: row.id_list("blocked_by")?,
            priority: row.int32("priority")?,
            result: row.opt_text("result")?,
            user_id: row.text("user_id")?,
            channel: row.text("channel")?,
            chat_id: row.text("chat_id")?,
            parent_id: row.opt_id("parent_id")?,
            locked_at: row.opt_time("locked_at")?,
            lock_expires_at: row.opt_time("lock_expires_at")?,
            progress_percent: row.int32("progress_percent")?,
            progress_step: row.opt_text("progress_step")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            completed_at: row.opt_time("completed_at")?,
            metadata: row.json("metadata")?,
            followup: followup(row)?,
        })
    }
}

/// The follow-up a task row carries: one was set when it has a message.
fn followup(row: &Row<'_>) -> Result<Option<Followup>, StoreError> {
    let Some(message) = row.opt_text("followup_message")? else {
        return Ok(None);
    };
    Ok(Some(Followup {
        due_at: row.opt_time("followup_at")?,
        sent: row.int32("followup_count")?,
        max: row.int32("followup_max")?,
        message,
        channel: row.opt_text("followup_channel")?.unwrap_or_default(),
        chat_id: row.opt_text("followup_chat_id")?.unwrap_or_default(),
    }))
}

fn parse_status(text: &str) -> Result<TaskStatus, String> {
    TaskStatus::parse(text).ok_or_else(|| format!("status {text:?}"))
}

/// `now + lock_for`, or the last representable time for a lock too long to add.
fn lock_until(now: DateTime<Utc>, lock_for: Duration) -> DateTime<Utc> {
    TimeDelta::from_std(lock_for)
        .ok()
        .and_then(|delta| now.checked_add_signed(delta))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// The `blocked` tasks none of whose blockers is still open; a blocker that no longer
/// exists (deleted with its team's history) does not hold anything up.
fn unblockable<'t>(blocked: &'t [TeamTask], open: &HashSet<Uuid>) -> Vec<&'t TeamTask> {
    blocked
        .iter()
        .filter(|task| task.blocked_by.iter().all(|id| !open.contains(id)))
        .collect()
}

/// The statuses of every task of `team`.
async fn statuses(tx: &mut Tx, team: Uuid) -> Result<Vec<(Uuid, TaskStatus)>, StoreError> {
    tx.conn()
        .fetch_all(&TEAM_TASK_STATUSES, &[team.into()])
        .await
        .map_err(|e| store_error(e, TASK))?
        .map(TeamTask::TABLE, |row| {
            Ok((row.id("id")?, row.parse("status", parse_status)?))
        })
}

/// The tenant of `team`; `None` when there is no such team.
async fn team_tenant(tx: &mut Tx, team: Uuid) -> Result<Option<TenantId>, StoreError> {
    let Some(row) = tx
        .fetch_optional(&TEAM_TENANT, &[team.into()])
        .await
        .map_err(|e| store_error(e, "team"))?
    else {
        return Ok(None);
    };
    Ok(Some(row.read("agent_teams").id("tenant_id")?))
}

/// Locks `team` of `tenant` for the rest of the transaction; `NotFound("team")` without it.
async fn lock_team(tx: &mut Tx, tenant: TenantId, team: Uuid) -> Result<(), StoreError> {
    let params = [team.into(), tenant.into()];
    tx.lock(&LOCK_TEAM, &params)
        .await
        .map_err(|e| store_error(e, "team"))?;
    tx.fetch_optional(&TEAM_EXISTS, &params)
        .await
        .map_err(|e| store_error(e, "team"))?
        .ok_or(StoreError::NotFound("team"))?;
    Ok(())
}

/// Moves to `pending` the `blocked` tasks of `team` that no open task holds up any more.
async fn unblock_dependents(tx: &mut Tx, team: Uuid) -> Result<Vec<TeamTask>, StoreError> {
    let db_error = |e| store_error(e, TASK);
    let blocked: Vec<TeamTask> = tx
        .conn()
        .fetch_all(&BLOCKED, &[team.into()])
        .await
        .map_err(db_error)?
        .decode()?;
    if blocked.is_empty() {
        return Ok(Vec::new());
    }
    let open: HashSet<Uuid> = statuses(tx, team)
        .await?
        .into_iter()
        .filter(|(_, status)| !status.is_terminal())
        .map(|(id, _)| id)
        .collect();
    let mut unblocked = Vec::new();
    for task in unblockable(&blocked, &open) {
        if let Some(row) = tx
            .fetch_optional(&UNBLOCK, &[task.id.into()])
            .await
            .map_err(db_error)?
        {
            unblocked.push(row.decode()?);
        }
    }
    Ok(unblocked)
}

impl SqlStore {
    /// Runs a guarded write of task `id` in a write transaction; `None` when the guard
    /// matched nothing but the task exists.
    async fn guarded_task_write(
        &self,
        tenant: TenantId,
        id: Uuid,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Option<TeamTask>, StoreError> {
        let db_error = |e| store_error(e, TASK);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let Some(row) = tx
            .fetch_optional(statement, params)
            .await
            .map_err(db_error)?
        else {
            tx.fetch_optional(&GET, &[id.into(), tenant.into()])
                .await
                .map_err(db_error)?
                .ok_or(StoreError::NotFound(TASK))?;
            return Ok(None);
        };
        let task = row.decode()?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(task))
    }

    /// Ends task `id` with a guarded write, then unblocks its dependents, with its team
    /// locked throughout.
    async fn end_task(
        &self,
        tenant: TenantId,
        id: Uuid,
        statement: &Statement,
        params: &[Param<'_>],
    ) -> Result<Option<TaskEnded>, StoreError> {
        let db_error = |e| store_error(e, TASK);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let current: TeamTask = tx
            .fetch_one(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(db_error)?
            .decode()?;
        lock_team(&mut tx, tenant, current.team_id).await?;
        let Some(row) = tx
            .fetch_optional(statement, params)
            .await
            .map_err(db_error)?
        else {
            return Ok(None);
        };
        let task: TeamTask = row.decode()?;
        let unblocked = unblock_dependents(&mut tx, task.team_id).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(TaskEnded { task, unblocked }))
    }
}

#[async_trait]
impl TeamTaskStore for SqlStore {
    async fn create(&self, task: NewTeamTask) -> Result<TeamTask, StoreError> {
        let db_error = |e| store_error_with_parent(e, TASK, "agent");
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        lock_team(&mut tx, task.tenant_id, task.team_id).await?;
        let mut status = TaskStatus::Pending;
        if !task.blocked_by.is_empty() || task.parent_id.is_some() {
            let team_tasks = statuses(&mut tx, task.team_id).await?;
            let status_of = |id: &Uuid| {
                team_tasks
                    .iter()
                    .find(|(task, _)| task == id)
                    .map(|(_, status)| *status)
            };
            for blocker in &task.blocked_by {
                match status_of(blocker) {
                    None => return Err(StoreError::NotFound("blocking task")),
                    Some(s) if !s.is_terminal() => status = TaskStatus::Blocked,
                    Some(_) => {}
                }
            }
            if let Some(parent) = &task.parent_id
                && status_of(parent).is_none()
            {
                return Err(StoreError::NotFound("parent task"));
            }
        }
        let params = [
            Uuid::now_v7().into(),
            task.tenant_id.into(),
            task.team_id.into(),
            (&task.subject).into(),
            (&task.description).into(),
            status.as_str().into(),
            task.blocked_by.as_slice().into(),
            task.priority.into(),
            (&task.user_id).into(),
            (&task.channel).into(),
            (&task.chat_id).into(),
            task.parent_id.into(),
            (&task.metadata).into(),
            task.team_id.into(),
        ];
        let created = tx
            .fetch_one(&CREATE, &params)
            .await
            .map_err(db_error)?
            .decode()?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<TeamTask, StoreError> {
        self.pool
            .fetch_one(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, TASK))?
            .decode()
    }

    async fn list(
        &self,
        tenant: TenantId,
        team: Uuid,
        query: &TaskQuery,
    ) -> Result<Vec<TeamTask>, StoreError> {
        let status = query.status.map(TaskStatus::as_str);
        let params = [
            tenant.into(),
            team.into(),
            status.into(),
            status.into(),
            query.owner.into(),
            query.owner.into(),
        ];
        self.pool
            .fetch_all(&LIST, &params)
            .await
            .map_err(|e| store_error(e, TASK))?
            .decode()
    }

    async fn claim(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        lock_for: Duration,
    ) -> Result<Option<TeamTask>, StoreError> {
        let now = Utc::now();
        let params = [
            agent.into(),
            now.into(),
            lock_until(now, lock_for).into(),
            now.into(),
            id.into(),
            tenant.into(),
            agent.into(),
        ];
        self.guarded_task_write(tenant, id, &CLAIM, &params).await
    }

    async fn progress(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        percent: i32,
        step: Option<&str>,
        lock_for: Duration,
    ) -> Result<Option<TeamTask>, StoreError> {
        let now = Utc::now();
        let params = [
            percent.clamp(0, 100).into(),
            step.into(),
            lock_until(now, lock_for).into(),
            now.into(),
            id.into(),
            tenant.into(),
            agent.into(),
        ];
        self.guarded_task_write(tenant, id, &PROGRESS, &params)
            .await
    }

    async fn complete(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        result: &str,
    ) -> Result<Option<TaskEnded>, StoreError> {
        let params = [result.into(), agent.into(), id.into(), tenant.into()];
        self.end_task(tenant, id, &COMPLETE, &params).await
    }

    async fn fail(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        reason: &str,
    ) -> Result<Option<TaskEnded>, StoreError> {
        let params = [reason.into(), agent.into(), id.into(), tenant.into()];
        self.end_task(tenant, id, &FAIL, &params).await
    }

    async fn cancel(
        &self,
        tenant: TenantId,
        id: Uuid,
        reason: &str,
    ) -> Result<Option<TaskEnded>, StoreError> {
        let params = [reason.into(), id.into(), tenant.into()];
        self.end_task(tenant, id, &CANCEL, &params).await
    }

    async fn submit_for_review(
        &self,
        tenant: TenantId,
        id: Uuid,
        agent: AgentId,
        result: &str,
    ) -> Result<Option<TeamTask>, StoreError> {
        let params = [result.into(), agent.into(), id.into(), tenant.into()];
        self.guarded_task_write(tenant, id, &SUBMIT_FOR_REVIEW, &params)
            .await
    }

    async fn approve(&self, tenant: TenantId, id: Uuid) -> Result<Option<TaskEnded>, StoreError> {
        self.end_task(tenant, id, &APPROVE, &[id.into(), tenant.into()])
            .await
    }

    async fn reject(
        &self,
        tenant: TenantId,
        id: Uuid,
        reason: &str,
    ) -> Result<Option<TaskEnded>, StoreError> {
        let params = [reason.into(), id.into(), tenant.into()];
        self.end_task(tenant, id, &REJECT, &params).await
    }

    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<Option<TeamTask>, StoreError> {
        let db_error = |e| store_error(e, TASK);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let Some(row) = tx
            .fetch_optional(&DELETE_ENDED, &[id.into(), tenant.into()])
            .await
            .map_err(db_error)?
        else {
            tx.fetch_optional(&GET, &[id.into(), tenant.into()])
                .await
                .map_err(db_error)?
                .ok_or(StoreError::NotFound(TASK))?;
            return Ok(None);
        };
        let task = row.decode()?;
        tx.commit().await.map_err(db_error)?;
        Ok(Some(task))
    }

    async fn open_in_chat(
        &self,
        tenant: TenantId,
        chat_id: &str,
    ) -> Result<Vec<TeamTask>, StoreError> {
        self.pool
            .fetch_all(&OPEN_IN_CHAT, &[tenant.into(), chat_id.into()])
            .await
            .map_err(|e| store_error(e, TASK))?
            .decode()
    }

    async fn reset_expired_locks(
        &self,
        team: Uuid,
        now: DateTime<Utc>,
    ) -> Result<Vec<TeamTask>, StoreError> {
        self.pool
            .fetch_all(&RESET_EXPIRED, &[now.into(), team.into(), now.into()])
            .await
            .map_err(|e| store_error(e, TASK))?
            .decode()
    }

    async fn mark_stale(
        &self,
        team: Uuid,
        now: DateTime<Utc>,
        pending_before: DateTime<Utc>,
        in_review_before: DateTime<Utc>,
    ) -> Result<Vec<TeamTask>, StoreError> {
        let params = [
            now.into(),
            team.into(),
            pending_before.into(),
            in_review_before.into(),
        ];
        self.pool
            .fetch_all(&MARK_STALE, &params)
            .await
            .map_err(|e| store_error(e, TASK))?
            .decode()
    }

    async fn release_blocked(&self, team: Uuid) -> Result<Vec<TeamTask>, StoreError> {
        let db_error = |e| store_error(e, TASK);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let Some(tenant) = team_tenant(&mut tx, team).await? else {
            return Ok(Vec::new());
        };
        lock_team(&mut tx, tenant, team).await?;
        let released = unblock_dependents(&mut tx, team).await?;
        tx.commit().await.map_err(db_error)?;
        Ok(released)
    }

    async fn reset_in_progress(&self, team: Uuid) -> Result<Vec<TeamTask>, StoreError> {
        self.pool
            .fetch_all(&RESET_IN_PROGRESS, &[team.into()])
            .await
            .map_err(|e| store_error(e, TASK))?
            .decode()
    }

    async fn add_comment(
        &self,
        tenant: TenantId,
        comment: NewTaskComment,
    ) -> Result<TaskComment, StoreError> {
        team_task_comments::add(&self.pool, tenant, comment).await
    }

    async fn comments(&self, tenant: TenantId, task: Uuid) -> Result<Vec<TaskComment>, StoreError> {
        team_task_comments::list(&self.pool, tenant, task).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Which of the blocked tasks (each given by its blockers' indexes into `ids`) are
    /// released when the tasks at `open` are the ones still open.
    fn check(blocked: &[&[usize]], open: &[usize], expected: &[usize]) {
        let ids: Vec<Uuid> = (0..4).map(|_| Uuid::now_v7()).collect();
        let tasks: Vec<TeamTask> = blocked
            .iter()
            .map(|blockers| TeamTask {
                id: Uuid::now_v7(),
                tenant_id: goclaw_core::MASTER_TENANT_ID,
                team_id: Uuid::nil(),
                task_number: 1,
                subject: String::new(),
                description: String::new(),
                status: TaskStatus::Blocked,
                owner_agent_id: None,
                blocked_by: blockers.iter().map(|&i| ids[i]).collect(),
                priority: 0,
                result: None,
                user_id: String::new(),
                channel: String::new(),
                chat_id: String::new(),
                parent_id: None,
                locked_at: None,
                lock_expires_at: None,
                progress_percent: 0,
                progress_step: None,
                created_at: Utc::now(),
                updated_at: Utc::now(),
                completed_at: None,
                metadata: serde_json::Value::Null,
                followup: None,
            })
            .collect();
        let open: HashSet<Uuid> = open.iter().map(|&i| ids[i]).collect();
        let released: Vec<usize> = unblockable(&tasks, &open)
            .iter()
            .filter_map(|task| tasks.iter().position(|t| t.id == task.id))
            .collect();
        assert_eq!(released, expected, "blocked {blocked:?}, open {open:?}");
    }

    #[test]
    fn dependents_are_released_when_no_blocker_is_open() {
        check(&[&[0, 1]], &[], &[0]);
        check(&[&[0, 1]], &[1], &[]);
        check(&[&[0], &[1], &[0, 1]], &[1], &[0]);
        check(&[&[0], &[2, 3]], &[0, 1], &[1]);
        // A blocker that no longer exists is not open.
        check(&[&[3]], &[0], &[0]);
    }

    #[test]
    fn locks_too_long_to_add_end_at_the_last_time() {
        let now = Utc::now();
        assert_eq!(
            lock_until(now, Duration::from_secs(60)),
            now + TimeDelta::seconds(60)
        );
        assert_eq!(lock_until(now, Duration::MAX), DateTime::<Utc>::MAX_UTC);
    }
}
