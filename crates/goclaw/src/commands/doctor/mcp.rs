//! The MCP servers section: connects to every enabled server of `tools.mcp_servers` as the
//! gateway would at start-up (stdio servers are started, then stopped), and reports
//! "N connected / M configured" and each server's tool count or why it did not connect.

use goclaw_config::LoadedConfig;
use goclaw_tools::mcp::{McpServers, transport_name};

use super::{Check, Section};

const S: &str = "mcp";

pub async fn section(loaded: &LoadedConfig) -> Section {
    let configured = &loaded.config.tools.mcp_servers;
    if configured.is_empty() {
        return Section::new(
            "MCP servers",
            vec![Check::ok(S, "mcp servers", "none configured")],
        );
    }
    let servers = McpServers::connect(configured, None).await;
    let status = servers.status();
    servers.close().await;
    let connected = status.iter().filter(|s| s.connected).count();
    let summary = format!("{connected} connected / {} configured", status.len());
    let mut checks = vec![if connected == status.len() {
        Check::ok(S, "mcp servers", summary)
    } else {
        Check::warn(S, "mcp servers", summary)
            .fix("the servers below that did not connect offer no tools until the gateway restarts")
    }];
    for server in status {
        checks.push(match &server.error {
            None => Check::ok(
                S,
                server.name.clone(),
                format!("{}, {} tools", server.transport, server.tools),
            ),
            Some(error) => Check::warn(S, server.name.clone(), error.clone())
                .fix("check the server's command or URL; the gateway log has the details"),
        });
    }
    for (name, server) in configured.iter().filter(|(_, s)| !s.enabled) {
        checks.push(Check::ok(
            S,
            name.clone(),
            format!("{}, disabled", transport_name(server.transport)),
        ));
    }
    Section::new("MCP servers", checks)
}
