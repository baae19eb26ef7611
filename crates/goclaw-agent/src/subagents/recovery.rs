//! Start-up recovery of subagent tasks a previous process left `running` (it was killed, or
//! shut down before they ended). GoClaw leaves such records as they are; here each is ended
//! `failed` with [`INTERRUPTED_BY_RESTART`] and reported to the session that spawned it — one
//! message per session, like a batch of results — so no task is silently dropped.
//!
//! They are reported, not run again, for the reason turns are failed rather than resumed: a
//! run may have called tools with effects, and the parent agent is better placed to decide
//! whether to spawn the task again. A task whose parent session is itself an interrupted
//! subagent's is reported through that one only: nobody reads its session any more.

use std::collections::{BTreeMap, HashSet};

use goclaw_core::{AgentKey, SessionKey, SubagentOutcome, SubagentStatus, SubagentTask, Trust};

use super::SubagentManager;
use super::announce::{AnnounceTarget, Announcement, announcement_text};
use crate::error::RuntimeError;

/// The result an interrupted task is ended with.
pub const INTERRUPTED_BY_RESTART: &str =
    "interrupted by a restart: the gateway stopped before this subagent finished";

impl SubagentManager {
    /// Ends every task still `running` in the store as failed and tells each parent session
    /// which of its subagents were interrupted. Call once at start-up, after the runtime is
    /// bound and the unfinished turns are recovered, before serving. Returns how many tasks
    /// were ended.
    pub async fn recover_interrupted(&self) -> Result<usize, RuntimeError> {
        let tasks = self.inner.store.subagent_tasks().unfinished().await?;
        let interrupted: HashSet<(String, String)> = tasks
            .iter()
            .map(|t| (t.tenant_id.to_string(), t.session_key.clone()))
            .collect();
        let mut reports: BTreeMap<(String, String), (AnnounceTarget, Vec<Announcement>)> =
            BTreeMap::new();
        let mut ended = 0;
        for task in tasks {
            let outcome = SubagentOutcome {
                status: SubagentStatus::Failed,
                result: Some(INTERRUPTED_BY_RESTART.to_owned()),
                iterations: task.iterations,
                input_tokens: task.input_tokens,
                output_tokens: task.output_tokens,
            };
            let finished = self
                .inner
                .store
                .subagent_tasks()
                .finish(task.tenant_id, task.id, outcome)
                .await?;
            if finished.is_none() {
                continue; // ended meanwhile (another replica)
            }
            ended += 1;
            tracing::warn!(
                task_id = %task.id,
                session_key = %task.session_key,
                parent_session = %task.parent_session_key,
                "subagent.interrupted: a subagent left running by the last run was failed"
            );
            let parent = (task.tenant_id.to_string(), task.parent_session_key.clone());
            if interrupted.contains(&parent) {
                continue;
            }
            let Some(target) = target_of(&task) else {
                tracing::warn!(task_id = %task.id, "cannot report an interrupted subagent: its parent is unknown");
                continue;
            };
            let item = Announcement {
                id: task.id,
                label: task.subject.clone(),
                status: SubagentStatus::Failed,
                result: INTERRUPTED_BY_RESTART.to_owned(),
                depth: task.depth,
                input_tokens: task.input_tokens,
                output_tokens: task.output_tokens,
            };
            reports
                .entry(parent)
                .or_insert_with(|| (target, Vec::new()))
                .1
                .push(item);
        }
        for (target, items) in reports.into_values() {
            let text = announcement_text(&items, 0);
            self.send_announcement(target, text, items.len()).await;
        }
        Ok(ended)
    }
}

/// Where to report `task`: its parent session, as the user who spawned it.
fn target_of(task: &SubagentTask) -> Option<AnnounceTarget> {
    let user_id = task.metadata.get("user_id")?.as_str()?.to_owned();
    let trust = match task.metadata.get("trust").and_then(|t| t.as_str()) {
        Some("admin") => Trust::Admin,
        _ => Trust::User,
    };
    Some(AnnounceTarget {
        tenant: task.tenant_id,
        session: SessionKey::parse(&task.parent_session_key).ok()?,
        agent_key: AgentKey::parse(&task.parent_agent_key).ok()?,
        user_id,
        trust,
    })
}
