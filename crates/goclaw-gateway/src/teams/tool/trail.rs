//! The `team_tasks` actions that add to a task's trail: `attach` (a file to the task, from the
//! team's workspace of the task's chat or published there from the caller's own workspace),
//! `ask_user` (the owner, waiting on a person, sets a follow-up reminder to the chat the task
//! came from) and `clear_ask_user` (the owner or the lead stops it).

use chrono::Utc;
use goclaw_core::{NewTaskAttachment, NewTaskFollowup, SessionKey, TeamTask, ToolContext};
use goclaw_tools::workspace::{Access, WorkspaceGuard};
use serde_json::{Value, json};

use super::{Board, TeamTasksTool, checked, text};
use crate::scopes::Event;
use crate::teams::followups;
use crate::teams::workspace::{MAX_FILE_BYTES, TeamWorkspace, WorkspaceError};

/// The channels a task's work runs on, which no person reads.
const INTERNAL_CHANNELS: &[&str] = &["", "team", "system", "dashboard", "cron", "heartbeat"];

/// The person's chat a task came from: the task's own chat when it was created in a channel
/// chat, else the caller's.
fn person_chat(task: &TeamTask, ctx: &ToolContext) -> Option<(String, String)> {
    let person = |key: &SessionKey| {
        key.channel_chat()
            .filter(|c| !INTERNAL_CHANNELS.contains(&c.channel))
            .map(|c| (c.channel.to_owned(), c.chat_id.to_owned()))
    };
    SessionKey::parse(&task.chat_id)
        .ok()
        .and_then(|key| person(&key))
        .or_else(|| person(&ctx.session_key))
}

fn workspace_refusal(error: WorkspaceError) -> String {
    match error {
        WorkspaceError::Invalid(what)
        | WorkspaceError::Full(what)
        | WorkspaceError::Exists(what) => what.to_owned(),
        WorkspaceError::TooLarge => "file too large".to_owned(),
        WorkspaceError::NotFound(what) => what,
        WorkspaceError::Io(_) => "cannot write to the team workspace".to_owned(),
    }
}

impl TeamTasksTool {
    /// Attaches the file `path` to a task: a file of the team's workspace of the task's chat,
    /// or one of the caller's workspace, which is copied there first.
    pub(super) async fn attach(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        let task = self.task_of(ctx, board, arguments).await?;
        let path = text(arguments, "path");
        if path.is_empty() {
            return Err("path is required for attach action".to_owned());
        }
        let base = self
            .workspaces
            .clone()
            .ok_or("team workspaces are not available")?;
        let team = board.team.clone();
        let chat = task.chat_id.clone();
        let guard = WorkspaceGuard::new(ctx).map_err(|e| e.to_string())?;
        let (name, entry) = tokio::task::spawn_blocking(move || {
            let workspace = TeamWorkspace::of(&base, &team);
            if let Ok(entry) = workspace.stat(&chat, &path) {
                return Ok((path, entry));
            }
            let source = guard
                .resolve(&path, Access::Read)
                .map_err(|e| e.to_string())?;
            let meta = std::fs::metadata(&source).map_err(|_| format!("file not found: {path}"))?;
            if !meta.is_file() {
                return Err(format!("{path} is not a file"));
            }
            if meta.len() > MAX_FILE_BYTES as u64 {
                return Err("file too large".to_owned());
            }
            let bytes = std::fs::read(&source).map_err(|_| format!("file not found: {path}"))?;
            let name = source
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .ok_or_else(|| format!("{path} is not a file"))?;
            let entry = workspace
                .write_bytes(&chat, &name, &bytes)
                .map_err(workspace_refusal)?;
            Ok((name, entry))
        })
        .await
        .map_err(|_| "the attachment failed".to_owned())??;
        let attachment = NewTaskAttachment {
            task_id: task.id,
            chat_id: task.chat_id.clone(),
            path: name.clone(),
            file_size: i64::try_from(entry.size).unwrap_or(i64::MAX),
            mime_type: goclaw_core::mime_of_name(&name).to_owned(),
            created_by_agent_id: Some(board.agent.id),
            created_by_sender_id: String::new(),
        };
        let added = self
            .store
            .task_trail()
            .attach(ctx.tenant_id, attachment)
            .await
            .map_err(|e| format!("failed to attach file: {e}"))?;
        if added.is_some() {
            self.announce(
                board,
                &task,
                Event::TeamTaskAttachmentAdded,
                &[("path", json!(name))],
            )
            .await;
        }
        Ok(json!({
            "ok": true,
            "message": format!(
                "File attached to task #{} \"{}\" (id: {}).",
                task.task_number, task.subject, task.id
            ),
            "path": name,
            "already_attached": added.is_none(),
        }))
    }

    /// The task's owner sets a follow-up: the question `text`, reminded to the person's chat
    /// every team interval.
    pub(super) async fn ask_user(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        let task = self.task_of(ctx, board, arguments).await?;
        let message = checked(text(arguments, "text"), "text")?;
        if message.is_empty() {
            return Err(
                "text is required for ask_user action (the question for the user)".to_owned(),
            );
        }
        if task.owner_agent_id != Some(board.agent.id) {
            return Err("only the task owner can set follow-up reminders".to_owned());
        }
        let (channel, chat_id) = person_chat(&task, ctx).ok_or(
            "cannot set follow-up: no valid channel found (task has no origin channel and context channel is internal)",
        )?;
        let every = followups::interval(&board.team);
        let max = followups::max_reminders(&board.team);
        let followup = NewTaskFollowup {
            due_at: Utc::now() + every,
            max,
            message,
            channel: channel.clone(),
            chat_id,
        };
        self.store
            .task_trail()
            .set_followup(ctx.tenant_id, task.id, followup)
            .await
            .map_err(|e| format!("failed to set follow-up: {e}"))?
            .ok_or("follow-ups are set on a task in progress")?;
        let limit = if max > 0 {
            format!("max {max}")
        } else {
            "unlimited".to_owned()
        };
        Ok(json!({
            "ok": true,
            "message": format!(
                "Follow-up set for task {}. First reminder in {} minutes via {channel} ({limit}).",
                task.id,
                every.num_minutes()
            ),
        }))
    }

    /// The task's owner or the lead stops its follow-up.
    pub(super) async fn clear_ask_user(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        let task = self.task_of(ctx, board, arguments).await?;
        if task.owner_agent_id != Some(board.agent.id) && !board.lead {
            return Err(
                "only the task owner or team lead can clear follow-up reminders".to_owned(),
            );
        }
        self.store
            .task_trail()
            .clear_followup(ctx.tenant_id, task.id)
            .await
            .map_err(|e| format!("failed to clear follow-up: {e}"))?;
        Ok(json!({
            "ok": true,
            "message": format!("Follow-up reminders cleared for task {}.", task.id),
        }))
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use goclaw_core::{MASTER_TENANT_ID, TaskStatus, Trust};
    use uuid::Uuid;

    use super::*;

    fn task(channel: &str, chat_id: &str) -> TeamTask {
        TeamTask {
            id: Uuid::now_v7(),
            tenant_id: MASTER_TENANT_ID,
            team_id: Uuid::now_v7(),
            task_number: 1,
            subject: "dig".to_owned(),
            description: String::new(),
            status: TaskStatus::InProgress,
            owner_agent_id: None,
            blocked_by: Vec::new(),
            priority: 0,
            result: None,
            user_id: "ada".to_owned(),
            channel: channel.to_owned(),
            chat_id: chat_id.to_owned(),
            parent_id: None,
            locked_at: None,
            lock_expires_at: None,
            progress_percent: 0,
            progress_step: None,
            created_at: Utc::now(),
            updated_at: Utc::now(),
            completed_at: None,
            metadata: json!({}),
            followup: None,
        }
    }

    fn ctx(session: &str) -> ToolContext {
        ToolContext {
            tenant_id: MASTER_TENANT_ID,
            agent_key: "member".to_owned(),
            session_key: SessionKey::parse(session).expect("session"),
            user_id: "ada".to_owned(),
            trust: Trust::User,
            run_id: "run".to_owned(),
            channel: "team".to_owned(),
            workspace: PathBuf::from("/tmp"),
            restrict_to_workspace: true,
            allowed_paths: Vec::new(),
        }
    }

    #[test]
    fn reminders_go_to_the_chat_the_task_came_from() {
        let member = ctx("agent:member:team:0193:chat");
        let from_telegram = task("telegram", "agent:lead:telegram:direct:4711");
        assert_eq!(
            person_chat(&from_telegram, &member),
            Some(("telegram".to_owned(), "4711".to_owned()))
        );
        let from_group = task("discord", "agent:lead:discord:group:777:topic:9");
        assert_eq!(
            person_chat(&from_group, &member),
            Some(("discord".to_owned(), "777".to_owned()))
        );
        // A task from the dashboard: the caller's own chat, when it is a person's.
        let from_dashboard = task("ws", "agent:lead:ws-ada");
        assert_eq!(person_chat(&from_dashboard, &member), None);
        let in_chat = ctx("agent:member:slack:direct:U42");
        assert_eq!(
            person_chat(&from_dashboard, &in_chat),
            Some(("slack".to_owned(), "U42".to_owned()))
        );
        let internal = task("team", "agent:lead:team:direct:x");
        assert_eq!(person_chat(&internal, &member), None);
    }
}
