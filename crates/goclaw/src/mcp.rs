//! The MCP servers' tools in the application: those of `tools.mcp_servers` (connected at
//! start-up) in the tool registry, with `mcp_tool_search` under its GoClaw alias `ToolSearch`;
//! and those of the servers a tenant manages through `/v1/mcp/servers`, offered per run to the
//! agents they are granted to. Both kinds pass the same guards (tool policy, rate limit,
//! scrubbing) as the built-in tools and operator approval where their server requires it,
//! and both run a stdio server called by a sandboxed agent inside that agent's sandbox (the
//! sandbox router decides, as for `exec`).

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_agent::{ToolRegistry, ToolSource};
use goclaw_config::ToolsConfig;
use goclaw_core::{Agent, Store, Tool};
use goclaw_tools::exec::ApprovalBroker;
use goclaw_tools::mcp::validate::ServerPolicy;
use goclaw_tools::mcp::{McpPool, McpServers, McpToolSearch, Opener, ToolEntry, approval};
use goclaw_tools::registry::ToolGuards;
use goclaw_tools::sandbox::SandboxRouter;

/// The name of the search tool over the MCP servers' tools.
const SEARCH: &str = "mcp_tool_search";

/// Adds the tools of `servers` to `tools`; calls of servers with `require_approval` wait for
/// `approvals`.
pub fn register(tools: &mut ToolRegistry, servers: &McpServers, approvals: &ApprovalBroker) {
    for tool in servers.tools(Some(approvals)) {
        tools.register(tool);
    }
    // The alias is there even before a run offers its own search over granted servers.
    tools.register_alias("ToolSearch", SEARCH);
}

/// The pool of the tenant-managed servers, opening their secrets with `secrets` (none can be
/// opened without a key, and none can be stored without one); `sandbox` places the calls of
/// their stdio servers (in a sandboxed agent's sandbox, else on the host).
pub fn pool(
    store: Arc<dyn Store>,
    secrets: Option<Arc<goclaw_crypto::SecretBox>>,
    sandbox: Arc<SandboxRouter>,
) -> Arc<McpPool> {
    let open: Opener = Arc::new(move |sealed: &str| {
        secrets
            .as_ref()
            .and_then(|secrets| secrets.decrypt(sealed).ok())
    });
    Arc::new(McpPool::new(store, open).with_router(sandbox))
}

/// What `/v1/mcp/servers` may register, from `tools.mcp_allowed_commands` and
/// `tools.mcp_allow_private_urls`.
pub fn policy(config: &ToolsConfig) -> ServerPolicy {
    ServerPolicy {
        extra_commands: config.mcp_allowed_commands.clone(),
        private_urls: config.mcp_allow_private_urls,
    }
}

/// The tools of the servers granted to a run's agent, behind the registry's guards. When
/// there are any, the run's `mcp_tool_search` searches them beside the configured servers'
/// tools the agent may use.
pub struct GrantedServers {
    pub pool: Arc<McpPool>,
    pub guards: Arc<ToolGuards>,
    /// The configured servers' tools, as `mcp_tool_search` knows them.
    pub configured: Vec<ToolEntry>,
    /// Where calls of servers with `require_approval` wait for an operator.
    pub approvals: ApprovalBroker,
}

#[async_trait]
impl ToolSource for GrantedServers {
    async fn tools_for(&self, agent: &Agent, user_id: &str) -> Vec<Arc<dyn Tool>> {
        let granted: Vec<Arc<dyn Tool>> = self
            .pool
            .tools_for(agent.tenant_id, agent.id, user_id)
            .await
            .into_iter()
            .map(|tool| approval::gated(Arc::new(tool), Some(&self.approvals)))
            .filter(|tool| self.guards.allows(agent, &tool.definition().name))
            .collect();
        if granted.is_empty() || !self.guards.allows(agent, SEARCH) {
            return granted.into_iter().map(|t| self.guards.guard(t)).collect();
        }
        let entries = self
            .configured
            .iter()
            .filter(|entry| self.guards.allows(agent, &entry.name))
            .cloned()
            .chain(granted.iter().map(|tool| ToolEntry::of(tool.as_ref())))
            .collect();
        let search: Arc<dyn Tool> = Arc::new(McpToolSearch::new(entries));
        granted
            .into_iter()
            .chain(std::iter::once(search))
            .map(|tool| self.guards.guard(tool))
            .collect()
    }

    fn supersedes(&self) -> &[&str] {
        &[SEARCH]
    }
}
