//! The hooks fired around subagents, GoClaw's `subagent_start` (blocking: a block refuses the
//! spawn, and the spawning model reads the hook's reason as the tool's error) and
//! `subagent_stop` (not waited for, once the subagent's end is recorded). Both tell the
//! spawning run's session, tenant and agent, at the spawning run's depth, as GoClaw's
//! delegation does; the subagent's own run then fires its events one level deeper.

use goclaw_core::{AgentKey, HookEvent, SessionKey, TenantId};
use uuid::Uuid;

use super::{LiveTask, SubagentManager};
use crate::hooks::HookInput;

impl SubagentManager {
    /// Fires `subagent_start` for a subagent that a run of `agent_key` in `session`, at
    /// `parent_depth`, is about to spawn; `Err` carries the tool error a block answers.
    pub(super) async fn hook_start(
        &self,
        tenant: TenantId,
        agent_key: &AgentKey,
        session: &SessionKey,
        parent_depth: i32,
    ) -> Result<(), String> {
        let Some(engine) = self.inner.runtime.get().and_then(|r| r.hooks()) else {
            return Ok(());
        };
        let Some(agent_id) = self.agent_id(tenant, agent_key).await else {
            // Fail closed, as for hooks that cannot be read.
            return Err("Hook blocked this subagent: its agent could not be read".to_owned());
        };
        let input = event(tenant, session, agent_id, parent_depth);
        let fired = engine.fire(HookEvent::SubagentStart, input).await;
        if fired.is_block() {
            tracing::info!(session_key = %session, "subagent refused by a hook");
            return Err(format!("Hook blocked this subagent: {}", fired.reason));
        }
        Ok(())
    }

    /// Fires `subagent_stop` for `task`, which has ended (not waited for).
    pub(super) async fn hook_stop(&self, task: &LiveTask) {
        let Some(engine) = self.inner.runtime.get().and_then(|r| r.hooks()) else {
            return;
        };
        let Some(agent_id) = self.agent_id(task.tenant, &task.agent_key).await else {
            return;
        };
        let input = event(task.tenant, &task.parent_session, agent_id, task.depth - 1);
        engine.fire(HookEvent::SubagentStop, input).await;
    }

    async fn agent_id(&self, tenant: TenantId, key: &AgentKey) -> Option<Uuid> {
        match self.inner.store.agents().get_by_key(tenant, key).await {
            Ok(agent) => Some(agent.id.as_uuid()),
            Err(error) => {
                tracing::warn!(agent = %key, error = %error, "reading a subagent's agent for its hooks failed");
                None
            }
        }
    }
}

fn event(tenant: TenantId, session: &SessionKey, agent_id: Uuid, depth: i32) -> HookInput {
    HookInput {
        event_id: Uuid::now_v7().to_string(),
        session_id: session.to_string(),
        tenant_id: tenant,
        agent_id,
        depth: u32::try_from(depth).unwrap_or(0),
        ..Default::default()
    }
}
