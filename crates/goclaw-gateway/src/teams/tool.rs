//! The `team_tasks` tool: a team's agents work its task board. The lead `create`s tasks for
//! a member (`assignee`); a task that can start is dispatched at once — claimed for the member
//! and handed to a run of the member in `agent:{member}:team:{team}:{chat}` on the
//! `delegate` lane, as the user the lead serves (with a user's trust, whoever that is). Members `claim`, report `progress`,
//! `complete` and `comment`; the lead may `cancel`. When a dispatched task is completed, the
//! tasks it unblocked are dispatched in turn and the lead's session is told the result (a new
//! turn on the `team` channel). Every change is published as its `team.task.*` event, like the
//! `teams.tasks.*` methods'. `task_id` may be left out by a member working on its one task in
//! progress.

mod review;
mod trail;

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use goclaw_agent::{ChatInput, Detail, Runtime, TurnOverrides};
use goclaw_core::{
    Agent, AgentKey, CommentKind, DEFAULT_TASK_LOCK, MemberRole, NewTaskComment, NewTeamTask,
    SessionKey, Store, TEAM_ACTIVE, TaskEnded, TaskQuery, TaskStatus, Team, TeamTask, Tool,
    ToolContext, ToolDefinition, ToolOutput, Trust,
};
use serde_json::{Value, json};
use uuid::Uuid;

use super::wire::{Actor, task_event};
use super::{AgentNames, events};
use crate::scopes::Event;
use crate::tenant_events::TenantEvents;

/// The channel of dispatched team work and of the lead's notices (the `delegate` lane).
pub const TEAM_CHANNEL: &str = "team";
/// The longest subject, description, result or comment an agent may write.
const MAX_TEXT: usize = 10_000;

/// The tool; bind the runtime (for dispatching) once it exists.
pub struct TeamTasksTool {
    store: Arc<dyn Store>,
    events: TenantEvents,
    runtime: OnceLock<Runtime>,
    /// Where the teams' workspaces live (attachments are kept there); none: no attachments.
    workspaces: Option<PathBuf>,
}

impl TeamTasksTool {
    pub fn new(
        store: Arc<dyn Store>,
        events: TenantEvents,
        workspaces: Option<PathBuf>,
    ) -> Arc<Self> {
        Arc::new(Self {
            store,
            events,
            runtime: OnceLock::new(),
            workspaces,
        })
    }

    /// Dispatches each of `tasks` (of `team`) that is `pending` and has an assignee — tasks a
    /// lock expiry, a restart or a release put back — and returns how many started. A task
    /// someone holds is left alone: the claim is atomic.
    pub async fn redispatch(&self, team: &Team, tasks: &[TeamTask]) -> usize {
        let names = match self.store.agents().list(team.tenant_id).await {
            Ok(agents) => AgentNames::new(agents),
            Err(error) => {
                tracing::warn!(team = %team.id, error = %error, "team tasks not dispatched");
                return 0;
            }
        };
        let mut started = 0;
        for task in tasks.iter().filter(|t| t.status == TaskStatus::Pending) {
            match self.dispatch(team, &names, task).await {
                Ok(true) => started += 1,
                Ok(false) => {}
                Err(reason) => {
                    tracing::warn!(task = %task.id, reason = %reason, "team task dispatch failed")
                }
            }
        }
        started
    }

    /// Binds the runtime dispatched tasks run in; later calls are ignored.
    pub fn bind(&self, runtime: Runtime) {
        let _ = self.runtime.set(runtime);
    }
}

/// The caller, its team and the team's agents.
struct Board {
    agent: Agent,
    team: Team,
    names: AgentNames,
    lead: bool,
    /// The caller is one of the team's reviewers (who approve and reject like the lead).
    reviewer: bool,
    members: Vec<goclaw_core::AgentId>,
}

impl Board {
    /// Whether the caller judges tasks in review: the lead or a reviewer.
    fn judges(&self) -> bool {
        self.lead || self.reviewer
    }
}

fn text(arguments: &Value, key: &str) -> String {
    arguments
        .get(key)
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default()
        .to_owned()
}

fn checked(value: String, what: &str) -> Result<String, String> {
    if value.chars().count() > MAX_TEXT {
        return Err(format!(
            "{what} is too long (at most {MAX_TEXT} characters)"
        ));
    }
    Ok(value)
}

#[async_trait]
impl Tool for TeamTasksTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "team_tasks".to_owned(),
            description: "Work your team's task board (see TEAM.md). Actions: list (status?), \
                          get (task_id), create (lead: subject, description, assignee, \
                          blocked_by?, priority?), claim (task_id), progress (task_id?, percent, \
                          text?), complete (task_id?, result), review (task_id?, result: \
                          submit for the lead's approval), approve (lead or reviewer: task_id?), \
                          reject (lead or reviewer: task_id?, text), comment (task_id?, text, type?), cancel \
                          (lead: task_id, text), attach (task_id?, path: a file of your \
                          workspace or the team's), ask_user (owner: task_id?, text: the \
                          question the user is reminded of until they answer), clear_ask_user \
                          (task_id?)."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "action": {"type": "string", "enum": ["list", "get", "create", "claim", "progress", "complete", "review", "approve", "reject", "comment", "cancel", "attach", "ask_user", "clear_ask_user"]},
                    "team_id": {"type": "string", "description": "Only when you belong to several teams."},
                    "task_id": {"type": "string"},
                    "subject": {"type": "string"},
                    "description": {"type": "string"},
                    "assignee": {"type": "string", "description": "The member's agent key."},
                    "blocked_by": {"type": "array", "items": {"type": "string"}},
                    "priority": {"type": "integer"},
                    "status": {"type": "string"},
                    "percent": {"type": "integer", "minimum": 0, "maximum": 100},
                    "result": {"type": "string"},
                    "text": {"type": "string"},
                    "path": {"type": "string", "description": "For attach: the file's path."},
                    "type": {"type": "string", "enum": ["note", "blocker"]}
                },
                "required": ["action"]
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let action = text(&arguments, "action");
        let result = async {
            let board = self.board(ctx, &arguments).await?;
            match action.as_str() {
                "list" => self.list(ctx, &board, &arguments).await,
                "get" => self.get(ctx, &board, &arguments).await,
                "create" => self.create(ctx, &board, &arguments).await,
                "claim" => self.claim(ctx, &board, &arguments).await,
                "progress" => self.progress(ctx, &board, &arguments).await,
                "complete" => self.complete(ctx, &board, &arguments).await,
                "comment" => self.comment(ctx, &board, &arguments).await,
                "cancel" => self.cancel(ctx, &board, &arguments).await,
                "review" => self.review(ctx, &board, &arguments).await,
                "approve" => self.approve(ctx, &board, &arguments).await,
                "reject" => self.reject(ctx, &board, &arguments).await,
                "attach" => self.attach(ctx, &board, &arguments).await,
                "ask_user" => self.ask_user(ctx, &board, &arguments).await,
                "clear_ask_user" => self.clear_ask_user(ctx, &board, &arguments).await,
                "" => Err("action is required".to_owned()),
                other => Err(format!("unknown action: {other}")),
            }
        }
        .await;
        match result {
            Ok(value) => ToolOutput::ok(value.to_string()),
            Err(reason) => ToolOutput::error(reason),
        }
    }
}

impl TeamTasksTool {
    async fn board(&self, ctx: &ToolContext, arguments: &Value) -> Result<Board, String> {
        let key = AgentKey::parse(&ctx.agent_key).map_err(|e| e.to_string())?;
        let agent = self
            .store
            .agents()
            .get_by_key(ctx.tenant_id, &key)
            .await
            .map_err(|e| format!("agent not found: {e}"))?;
        let mut teams: Vec<Team> = self
            .store
            .teams()
            .teams_of(ctx.tenant_id, agent.id)
            .await
            .map_err(|e| format!("cannot read your teams: {e}"))?
            .into_iter()
            .filter(|t| t.status == TEAM_ACTIVE)
            .collect();
        let wanted = text(arguments, "team_id");
        if !wanted.is_empty() {
            teams.retain(|t| t.id.to_string() == wanted);
        }
        let team = match teams.len() {
            0 => return Err("you are not in an active team".to_owned()),
            1 => teams.remove(0),
            _ => return Err("you are in several teams: give team_id".to_owned()),
        };
        let members = self
            .store
            .teams()
            .members(ctx.tenant_id, team.id)
            .await
            .map_err(|e| format!("cannot read the team: {e}"))?;
        let agents = self
            .store
            .agents()
            .list(ctx.tenant_id)
            .await
            .map_err(|e| format!("cannot read the agents: {e}"))?;
        Ok(Board {
            lead: team.lead_agent_id == agent.id,
            reviewer: members
                .iter()
                .any(|m| m.agent_id == agent.id && m.role == MemberRole::Reviewer),
            members: members
                .iter()
                .filter(|m| m.role == MemberRole::Member)
                .map(|m| m.agent_id)
                .collect(),
            agent,
            team,
            names: AgentNames::new(agents),
        })
    }

    fn task_view(&self, board: &Board, task: &TeamTask) -> Value {
        json!({
            "task_id": task.id,
            "number": task.task_number,
            "subject": task.subject,
            "description": task.description,
            "status": task.status.as_str(),
            "owner": task.owner_agent_id.map(|id| board.names.key(id).to_owned()),
            "progress": task.progress_percent,
            "result": task.result,
        })
    }

    async fn announce(
        &self,
        board: &Board,
        task: &TeamTask,
        event: Event,
        extra: &[(&str, Value)],
    ) {
        let payload = task_event(
            task,
            &board.names,
            Actor::Agent(board.agent.agent_key.as_str()),
            extra,
        );
        let trail = self.store.task_trail();
        events::task(&self.events, trail, &board.team, event, payload).await;
    }

    async fn announce_end(&self, board: &Board, ended: &TaskEnded, event: Event) {
        self.announce(board, &ended.task, event, &[]).await;
        for task in &ended.unblocked {
            self.announce(
                board,
                task,
                Event::TeamTaskUpdated,
                &[("reason", json!("blockers ended"))],
            )
            .await;
        }
    }

    /// The task `task_id` names, else the caller's one task in progress on this board (for
    /// the lead: the board's one task in review).
    async fn task_of(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<TeamTask, String> {
        let raw = text(arguments, "task_id");
        if raw.is_empty() {
            let query = if board.judges() {
                TaskQuery {
                    status: Some(TaskStatus::InReview),
                    owner: None,
                }
            } else {
                TaskQuery {
                    status: Some(TaskStatus::InProgress),
                    owner: Some(board.agent.id),
                }
            };
            let mut mine = self
                .store
                .team_tasks()
                .list(ctx.tenant_id, board.team.id, &query)
                .await
                .map_err(|e| format!("cannot read the board: {e}"))?;
            let which = if board.judges() {
                "task in review"
            } else {
                "task in progress"
            };
            return match mine.len() {
                1 => Ok(mine.remove(0)),
                0 => Err(format!("task_id is required (there is no {which})")),
                _ => Err(format!("task_id is required (there are several: {which})")),
            };
        }
        let not_found = || format!("task {raw} not found");
        let id: Uuid = raw.parse().map_err(|_| not_found())?;
        let task = self
            .store
            .team_tasks()
            .get(ctx.tenant_id, id)
            .await
            .map_err(|_| not_found())?;
        if task.team_id != board.team.id {
            return Err(not_found());
        }
        Ok(task)
    }

    async fn list(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        let status = text(arguments, "status");
        let query = TaskQuery {
            status: match status.as_str() {
                "" | "all" => None,
                other => Some(
                    TaskStatus::parse(other).ok_or_else(|| format!("unknown status {other:?}"))?,
                ),
            },
            owner: None,
        };
        let tasks = self
            .store
            .team_tasks()
            .list(ctx.tenant_id, board.team.id, &query)
            .await
            .map_err(|e| format!("cannot read the board: {e}"))?;
        let views: Vec<Value> = tasks.iter().map(|t| self.task_view(board, t)).collect();
        Ok(json!({ "team": board.team.name, "count": views.len(), "tasks": views }))
    }

    async fn get(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        let task = self.task_of(ctx, board, arguments).await?;
        let comments = self
            .store
            .team_tasks()
            .comments(ctx.tenant_id, task.id)
            .await
            .map_err(|e| format!("cannot read the comments: {e}"))?;
        let comments: Vec<Value> = comments
            .iter()
            .map(|c| json!({ "type": c.kind.as_str(), "text": c.content, "agent": c.agent_id.map(|id| board.names.key(id).to_owned()) }))
            .collect();
        Ok(json!({ "task": self.task_view(board, &task), "comments": comments }))
    }

    async fn create(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        if !board.lead {
            return Err("only the team's lead creates tasks".to_owned());
        }
        let subject = checked(text(arguments, "subject"), "subject")?;
        if subject.is_empty() {
            return Err("subject is required".to_owned());
        }
        let assignee_key = text(arguments, "assignee");
        let assignee = board
            .names
            .named(&assignee_key)
            .filter(|a| board.members.contains(&a.id))
            .ok_or_else(|| format!("assignee {assignee_key:?} is not a member of the team"))?
            .clone();
        let mut blocked_by = Vec::new();
        for raw in arguments
            .get("blocked_by")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let id = raw
                .as_str()
                .and_then(|s| s.parse().ok())
                .ok_or("blocked_by holds task ids")?;
            blocked_by.push(id);
        }
        let task = NewTeamTask {
            description: checked(text(arguments, "description"), "description")?,
            blocked_by,
            priority: arguments
                .get("priority")
                .and_then(Value::as_i64)
                .and_then(|p| i32::try_from(p).ok())
                .unwrap_or(0),
            user_id: ctx.user_id.clone(),
            channel: ctx.channel.clone(),
            chat_id: ctx.session_key.to_string(),
            metadata: json!({
                "assignee": assignee.agent_key.as_str(),
                "lead_session": ctx.session_key.as_str(),
            }),
            ..NewTeamTask::new(ctx.tenant_id, board.team.id, &subject)
        };
        let created = self
            .store
            .team_tasks()
            .create(task)
            .await
            .map_err(|e| format!("cannot create the task: {e}"))?;
        self.announce(board, &created, Event::TeamTaskCreated, &[])
            .await;
        let dispatched = if created.status == TaskStatus::Pending {
            self.dispatch(&board.team, &board.names, &created).await?
        } else {
            false
        };
        Ok(json!({ "task": self.task_view(board, &created), "dispatched": dispatched }))
    }

    /// Claims `task` for its assignee and starts the assignee's run on it; `false` when the
    /// task has no assignee or someone holds it.
    async fn dispatch(
        &self,
        team: &Team,
        names: &AgentNames,
        task: &TeamTask,
    ) -> Result<bool, String> {
        let Some(assignee) = task.metadata.get("assignee").and_then(Value::as_str) else {
            return Ok(false);
        };
        let Some(member) = names.named(assignee).cloned() else {
            return Ok(false);
        };
        let runtime = self
            .runtime
            .get()
            .cloned()
            .ok_or("the agent runtime is not ready")?;
        let claimed = self
            .store
            .team_tasks()
            .claim(task.tenant_id, task.id, member.id, DEFAULT_TASK_LOCK)
            .await
            .map_err(|e| format!("cannot claim the task: {e}"))?;
        let Some(claimed) = claimed else {
            return Ok(false);
        };
        let payload = task_event(
            &claimed,
            names,
            Actor::Agent(member.agent_key.as_str()),
            &[],
        );
        let trail = self.store.task_trail();
        events::task(
            &self.events,
            trail,
            team,
            Event::TeamTaskClaimed,
            payload.clone(),
        )
        .await;
        events::task(
            &self.events,
            trail,
            team,
            Event::TeamTaskDispatched,
            payload,
        )
        .await;
        let chat: String = task
            .chat_id
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(64)
            .collect();
        let session = SessionKey::parse(&format!(
            "agent:{}:team:{}:{}",
            member.agent_key,
            team.id.simple(),
            if chat.is_empty() {
                "default".to_owned()
            } else {
                chat
            }
        ))
        .map_err(|e| format!("invalid team session: {e}"))?;
        let message = format!(
            "[Team task #{} for you] {}\n\n{}\n\n(task_id {}: report with team_tasks progress and finish with team_tasks complete and your result.)",
            claimed.task_number, claimed.subject, claimed.description, claimed.id
        );
        let input = ChatInput {
            media: Vec::new(),
            tenant_id: claimed.tenant_id,
            agent_key: member.agent_key.clone(),
            session_key: session,
            user_id: claimed.user_id.clone(),
            trust: Trust::User,
            channel: TEAM_CHANNEL.to_owned(),
            message,
            idempotency_key: None,
            from_channel: true,
            overrides: TurnOverrides::default(),
        };
        runtime
            .start_turn(input, Detail::Outcome)
            .await
            .map_err(|e| format!("cannot start the member's run: {e}"))?;
        Ok(true)
    }

    async fn claim(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        let task = self.task_of(ctx, board, arguments).await?;
        let claimed = self
            .store
            .team_tasks()
            .claim(ctx.tenant_id, task.id, board.agent.id, DEFAULT_TASK_LOCK)
            .await
            .map_err(|e| format!("cannot claim the task: {e}"))?
            .ok_or_else(|| {
                format!(
                    "task #{} cannot be claimed: it is {} or someone holds it",
                    task.task_number,
                    task.status.as_str()
                )
            })?;
        self.announce(board, &claimed, Event::TeamTaskClaimed, &[])
            .await;
        Ok(json!({ "task": self.task_view(board, &claimed) }))
    }

    async fn progress(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        let task = self.task_of(ctx, board, arguments).await?;
        let percent = arguments
            .get("percent")
            .and_then(Value::as_i64)
            .unwrap_or(0)
            .clamp(0, 100) as i32;
        let step = checked(text(arguments, "text"), "text")?;
        let updated = self
            .store
            .team_tasks()
            .progress(
                ctx.tenant_id,
                task.id,
                board.agent.id,
                percent,
                Some(step.as_str()).filter(|s| !s.is_empty()),
                DEFAULT_TASK_LOCK,
            )
            .await
            .map_err(|e| format!("cannot record progress: {e}"))?
            .ok_or("only the task's owner reports progress on a task in progress")?;
        self.announce(board, &updated, Event::TeamTaskProgress, &[])
            .await;
        Ok(json!({ "task": self.task_view(board, &updated) }))
    }

    async fn complete(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        let task = self.task_of(ctx, board, arguments).await?;
        let result = checked(text(arguments, "result"), "result")?;
        if result.is_empty() {
            return Err("result is required".to_owned());
        }
        let ended = self
            .store
            .team_tasks()
            .complete(ctx.tenant_id, task.id, board.agent.id, &result)
            .await
            .map_err(|e| format!("cannot complete the task: {e}"))?
            .ok_or("only the task's owner completes a task in progress")?;
        self.announce_end(board, &ended, Event::TeamTaskCompleted)
            .await;
        for unblocked in &ended.unblocked {
            if let Err(reason) = self.dispatch(&board.team, &board.names, unblocked).await {
                tracing::warn!(task = %unblocked.id, reason = %reason, "team task dispatch failed");
            }
        }
        self.tell_lead(board, &ended.task, "completed", &result)
            .await;
        let unblocked: Vec<String> = ended.unblocked.iter().map(|t| t.id.to_string()).collect();
        Ok(json!({ "task": self.task_view(board, &ended.task), "unblocked": unblocked }))
    }

    /// Tells the lead's session, as a new turn, that a task was `what` (completed, submitted
    /// for review) and its result.
    async fn tell_lead(&self, board: &Board, task: &TeamTask, what: &str, result: &str) {
        let (Some(session), Some(runtime)) = (
            task.metadata
                .get("lead_session")
                .and_then(Value::as_str)
                .and_then(|s| SessionKey::parse(s).ok()),
            self.runtime.get(),
        ) else {
            return;
        };
        let input = ChatInput {
            media: Vec::new(),
            tenant_id: task.tenant_id,
            agent_key: AgentKey::parse(board.names.key(board.team.lead_agent_id))
                .unwrap_or_else(|_| board.agent.agent_key.clone()),
            session_key: session,
            user_id: task.user_id.clone(),
            trust: Trust::User,
            channel: TEAM_CHANNEL.to_owned(),
            message: format!(
                "[Task #{} \"{}\" {what} by {}]\n{}",
                task.task_number, task.subject, board.agent.agent_key, result
            ),
            idempotency_key: None,
            from_channel: true,
            overrides: TurnOverrides::default(),
        };
        if let Err(error) = runtime.start_turn(input, Detail::Outcome).await {
            tracing::warn!(task = %task.id, error = %error, "telling the lead failed");
        }
    }

    async fn comment(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        let task = self.task_of(ctx, board, arguments).await?;
        let content = checked(text(arguments, "text"), "text")?;
        if content.is_empty() {
            return Err("text is required".to_owned());
        }
        let kind = CommentKind::parse(&text(arguments, "type")).unwrap_or(CommentKind::Note);
        self.store
            .team_tasks()
            .add_comment(
                ctx.tenant_id,
                NewTaskComment {
                    task_id: task.id,
                    agent_id: Some(board.agent.id),
                    user_id: ctx.user_id.clone(),
                    kind,
                    content: content.clone(),
                },
            )
            .await
            .map_err(|e| format!("cannot comment: {e}"))?;
        self.announce(
            board,
            &task,
            Event::TeamTaskCommented,
            &[("comment_text", json!(content))],
        )
        .await;
        Ok(json!({ "ok": true, "task_id": task.id }))
    }

    async fn cancel(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        if !board.lead {
            return Err("only the team's lead cancels tasks".to_owned());
        }
        let task = self.task_of(ctx, board, arguments).await?;
        let reason = checked(text(arguments, "text"), "text")?;
        let ended = self
            .store
            .team_tasks()
            .cancel(ctx.tenant_id, task.id, &reason)
            .await
            .map_err(|e| format!("cannot cancel the task: {e}"))?
            .ok_or_else(|| format!("task #{} has already ended", task.task_number))?;
        self.announce_end(board, &ended, Event::TeamTaskCancelled)
            .await;
        Ok(json!({ "task": self.task_view(board, &ended.task) }))
    }
}
