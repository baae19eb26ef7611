//! The `spawn` tool's actions on the manager: spawn, list, cancel, steer and wait, each
//! limited to the subagents of the calling session.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::{AgentKey, SessionKey, SubagentTask, ToolContext};
use goclaw_tools::subagents::{
    SpawnRequest, SubagentInfo, SubagentSpawner, TaskSelector, label_for,
};

use super::{Claim, Launch, LiveTask, SubagentManager, subagent_session};

#[async_trait]
impl SubagentSpawner for SubagentManager {
    async fn spawn(
        &self,
        ctx: &ToolContext,
        request: SpawnRequest,
    ) -> Result<SubagentInfo, String> {
        let agent_key = AgentKey::parse(&ctx.agent_key).map_err(|e| e.to_string())?;
        let label = label_for(&request.task, request.label.as_deref());
        let session = subagent_session(&agent_key, &label)?;
        let depth = self.depth_of(ctx.tenant_id, &ctx.session_key).await? + 1;
        self.hook_start(ctx.tenant_id, &agent_key, &ctx.session_key, depth - 1)
            .await?;
        let launch = Launch {
            tenant: ctx.tenant_id,
            agent_key,
            parent_session: ctx.session_key.clone(),
            session,
            label,
            task: request.task,
            depth,
            user_id: ctx.user_id.clone(),
            trust: ctx.trust,
            channel: ctx.channel.clone(),
            announce: request.announce,
        };
        self.launch(launch, true).await
    }

    async fn list(&self, ctx: &ToolContext) -> Result<Vec<SubagentInfo>, String> {
        let tasks = self
            .inner
            .store
            .subagent_tasks()
            .list_by_parent(ctx.tenant_id, ctx.session_key.as_str())
            .await
            .map_err(|e| format!("cannot list subagents: {e}"))?;
        Ok(tasks.iter().map(stored_info).collect())
    }

    async fn cancel(
        &self,
        ctx: &ToolContext,
        which: TaskSelector,
    ) -> Result<Vec<SubagentInfo>, String> {
        let selected = match &which {
            TaskSelector::All => self.children(ctx),
            _ => self.running_child(ctx, &which).into_iter().collect(),
        };
        if selected.is_empty() {
            return match which {
                TaskSelector::Id(id) => {
                    let task = self.stored_child(ctx, &id).await?;
                    Err(format!(
                        "subagent {id} is not running ({})",
                        task.status.as_str()
                    ))
                }
                _ => Ok(Vec::new()),
            };
        }
        let mut ended = Vec::with_capacity(selected.len());
        for task in &selected {
            ended.push(self.stop(task).await);
        }
        Ok(ended)
    }

    async fn steer(
        &self,
        ctx: &ToolContext,
        which: TaskSelector,
        message: &str,
    ) -> Result<SubagentInfo, String> {
        let (previous, announce) = match self.running_child(ctx, &which) {
            Some(task) => {
                let announce = task.announce.load(Ordering::SeqCst);
                self.stop(&task).await;
                (task.info(), announce)
            }
            None => match &which {
                TaskSelector::Id(id) => (stored_info(&self.stored_child(ctx, id).await?), true),
                _ => return Err("no running subagent to steer".to_owned()),
            },
        };
        let session = SessionKey::parse(&previous.session_key).map_err(|e| e.to_string())?;
        let launch = Launch {
            tenant: ctx.tenant_id,
            agent_key: AgentKey::parse(&ctx.agent_key).map_err(|e| e.to_string())?,
            parent_session: ctx.session_key.clone(),
            session,
            label: previous.label,
            task: message.to_owned(),
            depth: previous.depth,
            user_id: ctx.user_id.clone(),
            trust: ctx.trust,
            channel: ctx.channel.clone(),
            announce,
        };
        self.launch(launch, false).await
    }

    async fn wait(
        &self,
        ctx: &ToolContext,
        which: TaskSelector,
        timeout: Option<Duration>,
    ) -> Result<Vec<SubagentInfo>, String> {
        let selected = match &which {
            TaskSelector::All => self.children(ctx),
            _ => self.running_child(ctx, &which).into_iter().collect(),
        };
        if selected.is_empty() {
            return match which {
                TaskSelector::Id(id) => Ok(vec![stored_info(&self.stored_child(ctx, &id).await?)]),
                TaskSelector::Last => Ok(self
                    .list(ctx)
                    .await?
                    .into_iter()
                    .next_back()
                    .into_iter()
                    .collect()),
                TaskSelector::All => Ok(Vec::new()),
            };
        }
        // A sync spawn waits without a limit; if it stops waiting, the result is announced.
        let hand_back = timeout.is_none();
        let claims: Vec<Claim> = selected
            .iter()
            .map(|task| {
                task.waiters.fetch_add(1, Ordering::SeqCst);
                Claim {
                    task: task.clone(),
                    hand_back,
                }
            })
            .collect();
        let all_ended = futures_join(&selected);
        match timeout {
            Some(limit) => {
                let _ = tokio::time::timeout(limit, all_ended).await;
            }
            None => all_ended.await,
        }
        let infos = selected.iter().map(|t| t.info()).collect();
        drop(claims);
        Ok(infos)
    }
}

/// Waits until every task in `tasks` has ended.
async fn futures_join(tasks: &[Arc<LiveTask>]) {
    for task in tasks {
        task.ended().await;
    }
}

fn stored_info(task: &SubagentTask) -> SubagentInfo {
    SubagentInfo {
        id: task.id.to_string(),
        label: task.subject.clone(),
        status: task.status.as_str().to_owned(),
        depth: task.depth,
        session_key: task.session_key.clone(),
        result: task.result.clone(),
    }
}
