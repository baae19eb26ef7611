//! `teams.tasks.*`: a team's task board in GoClaw's shapes. Reads: `list {teamId, status?,
//! channel?, chatId?}` → `{tasks, count}` (`""` = active: pending, in progress, blocked;
//! `completed`, `in_review`, `all`; newest first, at most 200), `get {teamId, taskId}` →
//! `{task, comments, events, attachments}`, `comments` → `{comments}`,
//! `active-by-session {sessionKey}` → `{tasks}` (the chat sidebar's light shape). Changes:
//! `create`, `assign`, `approve`, `reject`, `comment`, `delete` as GoClaw's dashboard sends
//! them, and — ours, where GoClaw has only agent tools — `claim`, `progress`, `review`,
//! `complete`, `fail` and `cancel` acting for a member agent. Every change is published as its
//! `team.task.*` event; ending a task publishes `team.task.updated` for each task it unblocked.

use goclaw_core::{
    CommentKind, DEFAULT_TASK_LOCK, NewTaskComment, NewTeamTask, TaskCounts, TaskEnded, TaskQuery,
    TaskStatus, Team, TeamTask,
};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::agent_links::{agent_names, id_param};
use super::params::parse;
use super::sessions::store_error;
use super::teams::visible_team;
use crate::scopes::Event;
use crate::teams::wire::{Actor, attachment_json, comment_json, event_json, task_event, task_json};
use crate::teams::{AgentNames, events, visible};
use crate::ws::frames::{ErrorCode, ErrorShape};

/// Longest comment, reason or description (GoClaw's `maxCommentLength`).
const MAX_TEXT: usize = 10_000;
/// Longest subject.
const MAX_SUBJECT: usize = 500;
/// Most tasks `teams.tasks.list` answers (GoClaw's dashboard limit).
const LIST_LIMIT: usize = 200;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(super) struct TaskParams {
    team_id: String,
    task_id: String,
    agent_id: String,
    status: String,
    channel: String,
    chat_id: String,
    comment: String,
    reason: String,
    content: String,
    result: String,
    percent: i32,
    step: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct CreateParams {
    team_id: String,
    subject: String,
    description: String,
    priority: i32,
    task_type: String,
    assign_to: String,
    channel: String,
    chat_id: String,
    blocked_by: Vec<String>,
    parent_id: String,
}

/// A visible team and one of its tasks, with the tenant's agents.
pub(super) struct OnBoard {
    pub(super) team: Team,
    pub(super) task: TeamTask,
    pub(super) names: AgentNames,
}

/// The task `params` names on a team the caller may see; "not found" for a task of another
/// team, as GoClaw answers.
pub(super) async fn on_board(ctx: &Ctx<'_>, params: &TaskParams) -> Result<OnBoard, ErrorShape> {
    let team = visible_team(ctx, &params.team_id).await?;
    let id = id_param(&params.task_id, "taskId")?;
    let task = match ctx.state.store.team_tasks().get(team.tenant_id, id).await {
        Ok(task) if task.team_id == team.id => task,
        Ok(_) => return Err(ErrorShape::not_found("task not found")),
        Err(e) => return Err(store_error(&e)),
    };
    let names = agent_names(ctx).await?;
    Ok(OnBoard { team, task, names })
}

fn too_long(text: &str, what: &str) -> Result<(), ErrorShape> {
    if text.len() > MAX_TEXT {
        return Err(ErrorShape::invalid(format!("{what} too long")));
    }
    Ok(())
}

fn not_now(what: &str) -> ErrorShape {
    ErrorShape::new(ErrorCode::FailedPrecondition, what)
}

/// Announces `task` as `event`, changed by the caller.
async fn announce(
    ctx: &Ctx<'_>,
    board: &OnBoard,
    task: &TeamTask,
    event: Event,
    extra: &[(&str, Value)],
) {
    let payload = task_event(
        task,
        &board.names,
        Actor::Human(&ctx.principal.user_id),
        extra,
    );
    let trail = ctx.state.store.task_trail();
    events::task(&ctx.state.tenant_events, trail, &board.team, event, payload).await;
}

/// Announces an ended task as `event` and each task its end unblocked as `team.task.updated`.
async fn announce_end(
    ctx: &Ctx<'_>,
    board: &OnBoard,
    ended: &TaskEnded,
    event: Event,
    reason: &str,
) {
    let extra = [("reason", json!(reason))];
    announce(ctx, board, &ended.task, event, &extra).await;
    for task in &ended.unblocked {
        announce(
            ctx,
            board,
            task,
            Event::TeamTaskUpdated,
            &[("reason", json!("blockers ended"))],
        )
        .await;
    }
}

fn ended_json(board: &OnBoard, ended: &TaskEnded) -> Value {
    let unblocked: Vec<String> = ended.unblocked.iter().map(|t| t.id.to_string()).collect();
    json!({ "ok": true, "task": task_json(&ended.task, &board.names, TaskCounts::default()), "unblocked": unblocked })
}

/// Whether `task` matches GoClaw's list filter `status` and the scope.
fn listed(task: &TeamTask, params: &TaskParams) -> bool {
    let status = match params.status.as_str() {
        "" | "active" => matches!(
            task.status,
            TaskStatus::Pending | TaskStatus::InProgress | TaskStatus::Blocked
        ),
        "completed" => task.status == TaskStatus::Completed,
        "in_review" => task.status == TaskStatus::InReview,
        _ => true,
    };
    status
        && (params.channel.is_empty() || task.channel == params.channel)
        && (params.chat_id.is_empty() || task.chat_id == params.chat_id)
}

/// `teams.tasks.list` → `{tasks, count}`.
pub async fn list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TaskParams = parse(params)?;
    let team = visible_team(ctx, &params.team_id).await?;
    let tasks = ctx.state.store.team_tasks();
    let all = tasks
        .list(team.tenant_id, team.id, &TaskQuery::default())
        .await;
    let all = all.map_err(|e| store_error(&e))?;
    let names = agent_names(ctx).await?;
    let counts = ctx
        .state
        .store
        .task_trail()
        .counts(team.tenant_id, team.id)
        .await
        .map_err(|e| store_error(&e))?;
    let listed: Vec<Value> = all
        .iter()
        .rev()
        .filter(|t| listed(t, &params))
        .take(LIST_LIMIT)
        .map(|t| task_json(t, &names, counts.get(&t.id).copied().unwrap_or_default()))
        .collect();
    Ok(json!({ "count": listed.len(), "tasks": listed }))
}

/// `teams.tasks.get` → `{task, comments, events, attachments}`.
pub async fn get(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let board = on_board(ctx, &parse(params)?).await?;
    let comments = ctx
        .state
        .store
        .team_tasks()
        .comments(board.team.tenant_id, board.task.id)
        .await;
    let comments = comments.map_err(|e| store_error(&e))?;
    let trail = ctx.state.store.task_trail();
    let tenant = board.team.tenant_id;
    let trail_error = |e: goclaw_core::StoreError| store_error(&e);
    let events = trail
        .task_events(tenant, board.task.id)
        .await
        .map_err(trail_error)?;
    let attachments = trail
        .attachments(tenant, board.task.id)
        .await
        .map_err(trail_error)?;
    let counts = TaskCounts {
        comments: comments.len(),
        attachments: attachments.len(),
    };
    Ok(json!({
        "task": task_json(&board.task, &board.names, counts),
        "comments": comments.iter().map(|c| comment_json(c, &board.names)).collect::<Vec<_>>(),
        "events": events.iter().map(event_json).collect::<Vec<_>>(),
        "attachments": attachments.iter().map(attachment_json).collect::<Vec<_>>(),
    }))
}

/// `teams.tasks.get-light` → `{task}` (no comments).
pub async fn get_light(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let board = on_board(ctx, &parse(params)?).await?;
    let counts = ctx
        .state
        .store
        .task_trail()
        .counts(board.team.tenant_id, board.team.id)
        .await
        .map_err(|e| store_error(&e))?;
    let counted = counts.get(&board.task.id).copied().unwrap_or_default();
    Ok(json!({ "task": task_json(&board.task, &board.names, counted) }))
}

/// `teams.tasks.comments` → `{comments}`.
pub async fn comments(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let board = on_board(ctx, &parse(params)?).await?;
    let comments = ctx
        .state
        .store
        .team_tasks()
        .comments(board.team.tenant_id, board.task.id)
        .await;
    let comments = comments.map_err(|e| store_error(&e))?;
    let listed: Vec<Value> = comments
        .iter()
        .map(|c| comment_json(c, &board.names))
        .collect();
    Ok(json!({ "comments": listed }))
}

/// `teams.tasks.active-by-session {sessionKey}` → `{tasks}`: the open tasks of the session's
/// chat on the teams the caller may see.
pub async fn active_by_session(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    #[derive(Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct SessionParams {
        session_key: String,
    }
    let params: SessionParams = parse(params)?;
    if params.session_key.is_empty() {
        return Ok(json!({ "tasks": [] }));
    }
    let tenant = ctx.principal.tenant_id;
    let open = ctx
        .state
        .store
        .team_tasks()
        .open_in_chat(tenant, &params.session_key)
        .await;
    let open = open.map_err(|e| store_error(&e))?;
    let teams = ctx
        .state
        .store
        .teams()
        .list(tenant)
        .await
        .map_err(|e| store_error(&e))?;
    let names = agent_names(ctx).await?;
    let seen = |task: &TeamTask| {
        teams
            .iter()
            .any(|team| team.id == task.team_id && visible(ctx.principal, team))
    };
    let tasks: Vec<Value> = open
        .iter()
        .filter(|t| seen(t))
        .map(|t| {
            let mut light = json!({
                "taskId": t.id.to_string(),
                "taskNumber": t.task_number,
                "subject": t.subject,
                "status": t.status.as_str(),
            });
            if let Some(owner) = t.owner_agent_id {
                light["ownerAgentKey"] = json!(names.key(owner));
            }
            if t.progress_percent > 0 {
                light["progressPercent"] = json!(t.progress_percent);
            }
            if let Some(step) = t.progress_step.as_deref().filter(|s| !s.is_empty()) {
                light["progressStep"] = json!(step);
            }
            light
        })
        .collect();
    Ok(json!({ "tasks": tasks }))
}

/// `teams.tasks.create` → `{task}`; `assignTo` hands it to that member at once.
pub async fn create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: CreateParams = parse(params)?;
    let team = visible_team(ctx, &params.team_id).await?;
    if params.subject.trim().is_empty() {
        return Err(ErrorShape::invalid("subject is required"));
    }
    if params.subject.len() > MAX_SUBJECT {
        return Err(ErrorShape::invalid("subject too long"));
    }
    too_long(&params.description, "description")?;
    let mut new = NewTeamTask::new(team.tenant_id, team.id, params.subject.trim());
    new.description = params.description;
    new.priority = params.priority;
    new.user_id = ctx.principal.user_id.clone();
    new.channel = non_empty(params.channel, "dashboard");
    new.chat_id = non_empty(params.chat_id, &team.id.to_string());
    let task_type = non_empty(params.task_type, "general");
    new.metadata = json!({ "task_type": task_type });
    for raw in &params.blocked_by {
        new.blocked_by.push(id_param(raw, "blockedBy")?);
    }
    if !params.parent_id.is_empty() {
        new.parent_id = Some(id_param(&params.parent_id, "parentId")?);
    }
    let names = agent_names(ctx).await?;
    let assignee = match params.assign_to.as_str() {
        "" => None,
        raw => Some(
            names
                .named(raw)
                .ok_or_else(|| ErrorShape::invalid("invalid assignTo"))?
                .id,
        ),
    };
    let tasks = ctx.state.store.team_tasks();
    let mut task = tasks.create(new).await.map_err(|e| match e {
        goclaw_core::StoreError::NotFound(what) => ErrorShape::invalid(format!("{what} not found")),
        other => store_error(&other),
    })?;
    let board = OnBoard {
        team,
        task: task.clone(),
        names,
    };
    announce(ctx, &board, &task, Event::TeamTaskCreated, &[]).await;
    if let Some(agent) = assignee {
        let claimed = tasks
            .claim(task.tenant_id, task.id, agent, DEFAULT_TASK_LOCK)
            .await;
        match claimed {
            Ok(Some(assigned)) => {
                announce(ctx, &board, &assigned, Event::TeamTaskAssigned, &[]).await;
                task = assigned;
            }
            Ok(None) => {
                tracing::warn!(task = %task.id, "teams.tasks.create: assignee could not take the task")
            }
            Err(error) => {
                tracing::warn!(task = %task.id, error = %error, "teams.tasks.create: assignment failed")
            }
        }
    }
    Ok(json!({ "task": task_json(&task, &board.names, TaskCounts::default()) }))
}

fn non_empty(value: String, fallback: &str) -> String {
    if value.is_empty() {
        fallback.to_owned()
    } else {
        value
    }
}

/// The member agent `params.agentId` names on the board's team.
fn acting_agent(board: &OnBoard, params: &TaskParams) -> Result<goclaw_core::AgentId, ErrorShape> {
    if params.agent_id.is_empty() {
        return Err(ErrorShape::invalid("agentId is required"));
    }
    board
        .names
        .named(&params.agent_id)
        .map(|a| a.id)
        .ok_or_else(|| ErrorShape::invalid("invalid agentId"))
}

/// `teams.tasks.assign {teamId, taskId, agentId}` → `{ok: true}`: a pending task to a member.
pub async fn assign(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    take(ctx, params, Event::TeamTaskAssigned)
        .await
        .map(|_| json!({ "ok": true }))
}

/// `teams.tasks.claim {teamId, taskId, agentId}` → `{task}`: a member takes a pending task.
pub async fn claim(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    take(ctx, params, Event::TeamTaskClaimed).await
}

async fn take(ctx: &Ctx<'_>, params: Value, event: Event) -> Result<Value, ErrorShape> {
    let params: TaskParams = parse(params)?;
    let board = on_board(ctx, &params).await?;
    let agent = acting_agent(&board, &params)?;
    let tasks = ctx.state.store.team_tasks();
    let taken = tasks
        .claim(
            board.team.tenant_id,
            board.task.id,
            agent,
            DEFAULT_TASK_LOCK,
        )
        .await;
    let task = taken
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| not_now("task is not pending, or the agent is not a member of the team"))?;
    announce(ctx, &board, &task, event, &[]).await;
    Ok(json!({ "task": task_json(&task, &board.names, TaskCounts::default()) }))
}

/// `teams.tasks.progress {teamId, taskId, agentId, percent, step?}` → `{task}`; renews the
/// owner's lock.
pub async fn progress(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TaskParams = parse(params)?;
    let board = on_board(ctx, &params).await?;
    let agent = acting_agent(&board, &params)?;
    let step = params.step.as_deref().filter(|s| !s.is_empty());
    let tenant = board.team.tenant_id;
    let tasks = ctx.state.store.team_tasks();
    let moved = tasks
        .progress(
            tenant,
            board.task.id,
            agent,
            params.percent,
            step,
            DEFAULT_TASK_LOCK,
        )
        .await;
    let task = moved
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| not_now("task is not in progress by this agent"))?;
    announce(ctx, &board, &task, Event::TeamTaskProgress, &[]).await;
    Ok(json!({ "task": task_json(&task, &board.names, TaskCounts::default()) }))
}

/// `teams.tasks.review {teamId, taskId, agentId, result}` → `{task}`: the owner hands it in.
pub async fn review(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TaskParams = parse(params)?;
    too_long(&params.result, "result")?;
    let board = on_board(ctx, &params).await?;
    let agent = acting_agent(&board, &params)?;
    let tasks = ctx.state.store.team_tasks();
    let handed = tasks
        .submit_for_review(board.team.tenant_id, board.task.id, agent, &params.result)
        .await;
    let task = handed
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| not_now("task is not in progress by this agent"))?;
    announce(ctx, &board, &task, Event::TeamTaskReviewed, &[]).await;
    Ok(json!({ "task": task_json(&task, &board.names, TaskCounts::default()) }))
}

/// How a task is ended.
#[derive(Clone, Copy)]
enum Ending {
    Complete,
    Fail,
    Cancel,
    Approve,
    Reject,
}

/// `teams.tasks.complete {teamId, taskId, agentId, result}`.
pub async fn complete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    end(ctx, params, Ending::Complete).await
}

/// `teams.tasks.fail {teamId, taskId, agentId, reason}`.
pub async fn fail(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    end(ctx, params, Ending::Fail).await
}

/// `teams.tasks.cancel {teamId, taskId, reason?}`.
pub async fn cancel(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    end(ctx, params, Ending::Cancel).await
}

/// `teams.tasks.approve {teamId, taskId, comment?}` → `{ok: true}`.
pub async fn approve(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    end(ctx, params, Ending::Approve).await
}

/// `teams.tasks.reject {teamId, taskId, reason?}` → `{ok: true}` (the task is cancelled).
pub async fn reject(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    end(ctx, params, Ending::Reject).await
}

async fn end(ctx: &Ctx<'_>, params: Value, ending: Ending) -> Result<Value, ErrorShape> {
    let params: TaskParams = parse(params)?;
    too_long(&params.result, "result")?;
    too_long(&params.reason, "reason")?;
    too_long(&params.comment, "comment")?;
    let board = on_board(ctx, &params).await?;
    let (tenant, id) = (board.team.tenant_id, board.task.id);
    let tasks = ctx.state.store.team_tasks();
    let (outcome, event, reason, refusal) = match ending {
        Ending::Complete => {
            let agent = acting_agent(&board, &params)?;
            let done = tasks.complete(tenant, id, agent, &params.result).await;
            (
                done,
                Event::TeamTaskCompleted,
                String::new(),
                "task is not in progress by this agent",
            )
        }
        Ending::Fail => {
            let agent = acting_agent(&board, &params)?;
            let done = tasks.fail(tenant, id, agent, &params.reason).await;
            (
                done,
                Event::TeamTaskFailed,
                params.reason.clone(),
                "task is not in progress by this agent",
            )
        }
        Ending::Cancel => {
            let reason = non_empty(params.reason.clone(), "Cancelled by human");
            let done = tasks.cancel(tenant, id, &reason).await;
            (
                done,
                Event::TeamTaskCancelled,
                reason,
                "task has already ended",
            )
        }
        Ending::Approve => {
            let done = tasks.approve(tenant, id).await;
            (
                done,
                Event::TeamTaskApproved,
                String::new(),
                "task is not in review",
            )
        }
        Ending::Reject => {
            let reason = non_empty(params.reason.clone(), "Rejected by human");
            let done = tasks.reject(tenant, id, &reason).await;
            (
                done,
                Event::TeamTaskRejected,
                reason,
                "task is not in review",
            )
        }
    };
    let ended = outcome
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| not_now(refusal))?;
    if matches!(ending, Ending::Approve) && !params.comment.is_empty() {
        add_comment(ctx, &board, &params.comment).await?;
    }
    announce_end(ctx, &board, &ended, event, &reason).await;
    match ending {
        Ending::Approve | Ending::Reject => Ok(json!({ "ok": true })),
        _ => Ok(ended_json(&board, &ended)),
    }
}

async fn add_comment(ctx: &Ctx<'_>, board: &OnBoard, content: &str) -> Result<(), ErrorShape> {
    let comment = NewTaskComment {
        task_id: board.task.id,
        agent_id: None,
        user_id: ctx.principal.user_id.clone(),
        kind: CommentKind::Note,
        content: content.to_owned(),
    };
    let added = ctx
        .state
        .store
        .team_tasks()
        .add_comment(board.team.tenant_id, comment)
        .await;
    added.map(|_| ()).map_err(|e| store_error(&e))
}

/// `teams.tasks.comment {teamId, taskId, content}` → `{ok: true}`.
pub async fn comment(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TaskParams = parse(params)?;
    if params.content.trim().is_empty() {
        return Err(ErrorShape::invalid("content is required"));
    }
    too_long(&params.content, "comment")?;
    let board = on_board(ctx, &params).await?;
    add_comment(ctx, &board, &params.content).await?;
    let preview: String = params.content.chars().take(500).collect();
    announce(
        ctx,
        &board,
        &board.task,
        Event::TeamTaskCommented,
        &[("comment_text", json!(preview))],
    )
    .await;
    Ok(json!({ "ok": true }))
}

/// `teams.tasks.delete {teamId, taskId}` → `{ok: true}`: only a task that has ended.
pub async fn delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: TaskParams = parse(params)?;
    let board = on_board(ctx, &params).await?;
    let deleted = ctx
        .state
        .store
        .team_tasks()
        .delete(board.team.tenant_id, board.task.id)
        .await;
    let task = deleted
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| ErrorShape::invalid("task is not in a deletable state"))?;
    announce(ctx, &board, &task, Event::TeamTaskDeleted, &[]).await;
    Ok(json!({ "ok": true }))
}

/// `teams.tasks.delete-bulk {teamId, taskIds}` → `{deleted}`: how many of the named tasks of
/// the team were deleted (those that have ended; ids that do not read are skipped).
pub async fn delete_bulk(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    #[derive(Deserialize, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct BulkParams {
        team_id: String,
        task_ids: Vec<String>,
    }
    let params: BulkParams = parse(params)?;
    let team = visible_team(ctx, &params.team_id).await?;
    if params.task_ids.is_empty() {
        return Err(ErrorShape::invalid("taskIds is required"));
    }
    let ids: Vec<uuid::Uuid> = params
        .task_ids
        .iter()
        .filter_map(|raw| raw.trim().parse().ok())
        .collect();
    if ids.is_empty() {
        return Err(ErrorShape::invalid("no valid taskIds"));
    }
    let names = agent_names(ctx).await?;
    let tasks = ctx.state.store.team_tasks();
    let mut deleted = 0;
    for id in ids {
        match tasks.get(team.tenant_id, id).await {
            Ok(task) if task.team_id == team.id => {}
            Ok(_) | Err(goclaw_core::StoreError::NotFound(_)) => continue,
            Err(other) => return Err(store_error(&other)),
        }
        let Some(task) = tasks
            .delete(team.tenant_id, id)
            .await
            .map_err(|e| store_error(&e))?
        else {
            continue;
        };
        deleted += 1;
        let payload = task_event(&task, &names, Actor::Human(&ctx.principal.user_id), &[]);
        events::team(
            &ctx.state.tenant_events,
            &team,
            Event::TeamTaskDeleted,
            payload,
        );
    }
    Ok(json!({ "deleted": deleted }))
}
