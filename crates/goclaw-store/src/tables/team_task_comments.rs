//! `team_task_comments`: notes and blockers written on a team's task by an agent or a user. A
//! comment is written by selecting its task in the caller's tenant, so none lands on another
//! tenant's task; it goes with its task.

use goclaw_core::{CommentKind, NewTaskComment, StoreError, TaskComment, TenantId};
use uuid::Uuid;

use crate::error::store_error_with_parent;
use crate::sql::{Pool, Record, Row, Statement};

const COMMENT: &str = "task comment";

const COLUMNS: &str = "id, task_id, agent_id, user_id, comment_type, content, created_at";

static ADD: Statement = Statement::joined(&[
    "INSERT INTO team_task_comments (id, task_id, agent_id, user_id, comment_type, content, \
     created_at) SELECT ?, t.id, ?, ?, ?, ?, {now} FROM team_tasks t \
     WHERE t.id = ? AND t.tenant_id = ? RETURNING ",
    COLUMNS,
]);
static LIST: Statement = Statement::new(
    "SELECT c.id, c.task_id, c.agent_id, c.user_id, c.comment_type, c.content, c.created_at \
     FROM team_task_comments c JOIN team_tasks t ON t.id = c.task_id \
     WHERE c.task_id = ? AND t.tenant_id = ? ORDER BY c.created_at, c.id",
);

impl Record for TaskComment {
    const TABLE: &'static str = "team_task_comments";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(TaskComment {
            id: row.id("id")?,
            task_id: row.id("task_id")?,
            agent_id: row.opt_id("agent_id")?,
            user_id: row.text("user_id")?,
            kind: row.parse("comment_type", |text| {
                CommentKind::parse(text).ok_or_else(|| format!("comment type {text:?}"))
            })?,
            content: row.text("content")?,
            created_at: row.time("created_at")?,
        })
    }
}

/// Adds `comment` to a task of `tenant`: `NotFound("team task")` without one,
/// `NotFound("agent")` for an author that is not an agent.
pub(super) async fn add(
    pool: &Pool,
    tenant: TenantId,
    comment: NewTaskComment,
) -> Result<TaskComment, StoreError> {
    let params = [
        Uuid::now_v7().into(),
        comment.agent_id.into(),
        (&comment.user_id).into(),
        comment.kind.as_str().into(),
        (&comment.content).into(),
        comment.task_id.into(),
        tenant.into(),
    ];
    pool.fetch_optional(&ADD, &params)
        .await
        .map_err(|e| store_error_with_parent(e, COMMENT, "agent"))?
        .ok_or(StoreError::NotFound("team task"))?
        .decode()
}

/// The comments on a task of `tenant`, oldest first.
pub(super) async fn list(
    pool: &Pool,
    tenant: TenantId,
    task: Uuid,
) -> Result<Vec<TaskComment>, StoreError> {
    pool.fetch_all(&LIST, &[task.into(), tenant.into()])
        .await
        .map_err(|e| store_error_with_parent(e, COMMENT, "agent"))?
        .decode()
}
