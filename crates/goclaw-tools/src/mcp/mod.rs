//! The MCP client: the servers of `tools.mcp_servers`, connected at start-up, whose tools
//! become gateway tools named `<prefix>__<tool>` (prefix `tool_prefix` or `mcp_<server>`,
//! always starting `mcp_`), plus `mcp_tool_search` to find them. The tools go through the
//! same registry, policy, rate limit and scrubbing as the built-in ones, and wait for an
//! operator's approval when their server is configured with `require_approval` ([`approval`]).
//!
//! A server that fails at start-up offers no tools (its tool list is unknown) and is reported
//! as not connected. A connected server that dies later is reopened by the next call of one of
//! its tools ([`link`]). Tools are listed on the host at start-up (the configuration is the
//! operator's); a sandboxed agent's calls of a stdio server's tools start the server inside
//! its sandbox ([`server`]).

pub mod approval;
pub mod link;
pub mod pool;
pub mod sandboxed;
pub mod search;
pub mod server;
pub mod sse;
pub mod tool;
pub mod validate;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use goclaw_config::{McpServerConfig, McpTransport};
use goclaw_core::Tool;

use crate::exec::ApprovalBroker;
use crate::sandbox::SandboxRouter;

pub use link::{LinkError, McpLink};
pub use pool::{McpCredentials, McpPool, Opener, probe, server_config};
pub use search::{McpToolSearch, ToolEntry};
pub use server::McpServerLinks;
pub use tool::{McpTool, tool_prefix};

/// How one enabled server fared at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct McpServerStatus {
    /// Its name in `tools.mcp_servers`.
    pub name: String,
    /// `stdio`, `sse` or `streamable-http`.
    pub transport: &'static str,
    /// Whether it connected and listed its tools.
    pub connected: bool,
    /// Tools registered from it.
    pub tools: usize,
    /// Why it did not connect (never secrets).
    pub error: Option<String>,
}

/// The enabled MCP servers and the tools they offer.
#[derive(Default)]
pub struct McpServers {
    servers: Vec<Arc<McpServerLinks>>,
    tools: Vec<Arc<McpTool>>,
    status: Vec<McpServerStatus>,
}

impl std::fmt::Debug for McpServers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.status.iter()).finish()
    }
}

/// The transport's name as `config.json` spells it.
pub fn transport_name(transport: McpTransport) -> &'static str {
    match transport {
        McpTransport::Stdio => "stdio",
        McpTransport::Sse => "sse",
        McpTransport::StreamableHttp => "streamable-http",
    }
}

impl McpServers {
    /// Connects every enabled server of `servers` at once on the host, each within its
    /// `timeout_sec`, and lists their tools; calls are placed by `router` (`None`: always on
    /// the host). Failures are logged and reported in [`McpServers::status`].
    pub async fn connect(
        servers: &BTreeMap<String, McpServerConfig>,
        router: Option<Arc<SandboxRouter>>,
    ) -> Self {
        let mut tasks = tokio::task::JoinSet::new();
        for (name, config) in servers.iter().filter(|(_, c)| c.enabled) {
            let link = Arc::new(McpServerLinks::new(name, config, router.clone()));
            let prefix = tool_prefix(name, config.tool_prefix.as_deref());
            let transport = transport_name(config.transport);
            tasks.spawn(async move {
                let listed = link.host().list_tools().await;
                (link, prefix, transport, listed)
            });
        }
        let mut outcomes = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            if let Ok(outcome) = joined {
                outcomes.push(outcome);
            }
        }
        outcomes.sort_by(|a, b| a.0.name().cmp(b.0.name()));

        let mut servers = Self::default();
        let mut names = BTreeSet::new();
        for (link, prefix, transport, listed) in outcomes {
            let mut status = McpServerStatus {
                name: link.name().to_owned(),
                transport,
                connected: false,
                tools: 0,
                error: None,
            };
            match listed {
                Err(error) => {
                    tracing::warn!(server = %link.name(), error = %error, "mcp.server.unavailable");
                    status.error = Some(error.to_string());
                }
                Ok(infos) => {
                    status.connected = true;
                    for info in &infos {
                        let tool = McpTool::new(link.clone(), &prefix, info);
                        let name = tool.definition().name;
                        if !names.insert(name.clone()) {
                            tracing::warn!(server = %link.name(), tool = %name, "mcp.tool.name_collision");
                            continue;
                        }
                        servers.tools.push(Arc::new(tool));
                        status.tools += 1;
                    }
                    tracing::info!(
                        server = %link.name(),
                        transport,
                        tools = status.tools,
                        "mcp.server.ready"
                    );
                }
            }
            servers.status.push(status);
            servers.servers.push(link);
        }
        servers
    }

    /// The servers' tools (those of servers with `require_approval` behind `approvals`), and
    /// `mcp_tool_search` when there is at least one.
    pub fn tools(&self, approvals: Option<&ApprovalBroker>) -> Vec<Arc<dyn Tool>> {
        let mut tools: Vec<Arc<dyn Tool>> = self
            .tools
            .iter()
            .map(|t| approval::gated(t.clone(), approvals))
            .collect();
        if !self.tools.is_empty() {
            tools.push(Arc::new(McpToolSearch::new(self.search_entries())));
        }
        tools
    }

    /// What `mcp_tool_search` knows of the servers' tools: their names and descriptions.
    pub fn search_entries(&self) -> Vec<ToolEntry> {
        self.tools
            .iter()
            .map(|t| ToolEntry::of(t.as_ref()))
            .collect()
    }

    /// How each enabled server fared at start-up, by name.
    pub fn status(&self) -> &[McpServerStatus] {
        &self.status
    }

    /// Closes every connection, ending the stdio servers' processes (in sandboxes too).
    pub async fn close(&self) {
        for server in &self.servers {
            server.close().await;
        }
    }
}

#[cfg(test)]
mod tests;
