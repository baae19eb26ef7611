//! The MCP servers' tools in the application's tool registry: every tool of the servers that
//! connected at start-up, and `mcp_tool_search` under its GoClaw alias `ToolSearch`. They are
//! registered before the registry is put behind the guards, so the tool policy, the rate
//! limit and the scrubbing apply to them as to the built-in tools.

use goclaw_agent::ToolRegistry;
use goclaw_tools::mcp::McpServers;

/// Adds the tools of `servers` to `tools`.
pub fn register(tools: &mut ToolRegistry, servers: &McpServers) {
    for tool in servers.tools() {
        tools.register(tool);
    }
    if tools.get("mcp_tool_search").is_some() {
        tools.register_alias("ToolSearch", "mcp_tool_search");
    }
}
