//! Tool calls made outside a run (the MCP bridge): the registry of guarded tools runs are
//! offered, and the context an agent's tools run in for a user, laid out exactly as a run of
//! that agent lays it out (the user's workspace, the agent's restriction, `allowed_paths`).

use goclaw_core::{Agent, AgentKey, StoreError, ToolContext};

use crate::error::RuntimeError;
use crate::runtime::Runtime;
use crate::settings::RunSettings;
use crate::tools::ToolRegistry;

impl Runtime {
    /// The tools runs are offered: behind their guards, filtered per agent by the tool policy.
    pub fn tools(&self) -> &ToolRegistry {
        &self.inner.services.tools
    }

    /// The agent `context.agent_key` of `context.tenant_id`, and `context` with the workspace,
    /// restriction and allowed paths a run of that agent for `context.user_id` would give its
    /// tools. The caller's own fields (session, channel, trust, run id) are kept.
    pub async fn scope_tool_context(
        &self,
        mut context: ToolContext,
    ) -> Result<(Agent, ToolContext), RuntimeError> {
        let services = &self.inner.services;
        let key = AgentKey::parse(&context.agent_key)
            .map_err(|_| RuntimeError::AgentNotFound(context.agent_key.clone()))?;
        let agent = match services
            .store
            .agents()
            .get_by_key(context.tenant_id, &key)
            .await
        {
            Ok(agent) => agent,
            Err(StoreError::NotFound(_)) => {
                return Err(RuntimeError::AgentNotFound(key.to_string()));
            }
            Err(error) => return Err(error.into()),
        };
        let settings = RunSettings::resolve(&agent, &services.defaults);
        context.workspace =
            crate::settings::user_workspace(&agent, &settings, context.tenant_id, &context.user_id);
        context.restrict_to_workspace = settings.restrict_to_workspace;
        context.allowed_paths = settings.allowed_paths;
        Ok((agent, context))
    }
}
