//! The `team_tasks` actions of the review step: a member hands its task's result in for
//! review (`review`, the lead is told), and the lead or a reviewer judges it (`approve`: it is
//! completed and what it held up is dispatched; `reject`: cancelled with the reason).

use goclaw_core::ToolContext;
use serde_json::{Value, json};

use super::{Board, TeamTasksTool, checked, text};
use crate::scopes::Event;

impl TeamTasksTool {
    /// A member submits its task's result for the lead's approval; the lead is told.
    pub(super) async fn review(
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
        let reviewed = self
            .store
            .team_tasks()
            .submit_for_review(ctx.tenant_id, task.id, board.agent.id, &result)
            .await
            .map_err(|e| format!("cannot submit the task: {e}"))?
            .ok_or("only the task's owner submits a task in progress for review")?;
        self.announce(board, &reviewed, Event::TeamTaskReviewed, &[])
            .await;
        self.tell_lead(board, &reviewed, "submitted for review", &result)
            .await;
        Ok(json!({ "task": self.task_view(board, &reviewed) }))
    }

    /// The lead or a reviewer approves a task in review: it is completed and what it held up
    /// starts.
    pub(super) async fn approve(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        if !board.judges() {
            return Err("only the team's lead or a reviewer approves tasks".to_owned());
        }
        let task = self.task_of(ctx, board, arguments).await?;
        let ended = self
            .store
            .team_tasks()
            .approve(ctx.tenant_id, task.id)
            .await
            .map_err(|e| format!("cannot approve the task: {e}"))?
            .ok_or_else(|| format!("task #{} is not in review", task.task_number))?;
        self.announce_end(board, &ended, Event::TeamTaskApproved)
            .await;
        for unblocked in &ended.unblocked {
            if let Err(reason) = self.dispatch(&board.team, &board.names, unblocked).await {
                tracing::warn!(task = %unblocked.id, reason = %reason, "team task dispatch failed");
            }
        }
        Ok(json!({ "task": self.task_view(board, &ended.task) }))
    }

    /// The lead or a reviewer rejects a task in review (GoClaw's rule: it is cancelled with
    /// the reason).
    pub(super) async fn reject(
        &self,
        ctx: &ToolContext,
        board: &Board,
        arguments: &Value,
    ) -> Result<Value, String> {
        if !board.judges() {
            return Err("only the team's lead or a reviewer rejects tasks".to_owned());
        }
        let task = self.task_of(ctx, board, arguments).await?;
        let reason = checked(text(arguments, "text"), "text")?;
        let ended = self
            .store
            .team_tasks()
            .reject(ctx.tenant_id, task.id, &reason)
            .await
            .map_err(|e| format!("cannot reject the task: {e}"))?
            .ok_or_else(|| format!("task #{} is not in review", task.task_number))?;
        self.announce_end(board, &ended, Event::TeamTaskRejected)
            .await;
        Ok(json!({ "task": self.task_view(board, &ended.task) }))
    }
}
