//! One MCP server's connections: the host link, and — for a stdio server called by sandboxed
//! agents — one link per sandbox, opened on demand by the first call from that sandbox.
//!
//! Which link a call uses is the sandbox router's decision ([`SandboxRouter::agent_route`]):
//! a sandboxed agent's call starts the server inside its sandbox (same scope key and
//! workspace as its `exec`), a refused one is a tool error with the reason and never falls
//! back to the host, and everything else uses the host link. HTTP and SSE servers are remote
//! and always use the host link. Every link keeps its own backoff, reconnection and timeout
//! ([`McpLink`]). At most [`MAX_SANDBOX_LINKS`] sandbox links stay open per server; opening
//! one more closes the one used longest ago.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use goclaw_config::{McpServerConfig, McpTransport};
use goclaw_core::ToolContext;

use super::link::McpLink;
use super::sandboxed::SandboxSeat;
use crate::sandbox::{Route, SandboxRouter};

/// Sandbox links one server keeps open at once.
pub const MAX_SANDBOX_LINKS: usize = 32;

/// A sandbox link and when a call last used it.
struct SeatLink {
    link: Arc<McpLink>,
    used: Instant,
}

/// One server's host link and sandbox links.
pub struct McpServerLinks {
    name: String,
    config: McpServerConfig,
    host: Arc<McpLink>,
    /// `None`: every call uses the host link (nothing is sandboxed).
    router: Option<Arc<SandboxRouter>>,
    /// By scope key and workspace, which together name a sandbox.
    seats: Mutex<HashMap<(String, PathBuf), SeatLink>>,
}

impl McpServerLinks {
    /// The server `name`; calls are placed by `router` (`None`: always on the host).
    pub fn new(name: &str, config: &McpServerConfig, router: Option<Arc<SandboxRouter>>) -> Self {
        Self {
            name: name.to_owned(),
            config: config.clone(),
            host: Arc::new(McpLink::new(name, config)),
            router,
            seats: Mutex::new(HashMap::new()),
        }
    }

    /// The server's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Whether every call waits for an operator's approval (`require_approval`).
    pub fn requires_approval(&self) -> bool {
        self.config.require_approval
    }

    /// The host link (tool listing, and calls that are not sandboxed).
    pub fn host(&self) -> &Arc<McpLink> {
        &self.host
    }

    /// The link a call of `ctx` goes through, or why it may not run anywhere.
    pub async fn link_for(&self, ctx: &ToolContext) -> Result<Arc<McpLink>, String> {
        if self.config.transport != McpTransport::Stdio {
            return Ok(self.host.clone());
        }
        let Some(router) = &self.router else {
            return Ok(self.host.clone());
        };
        match router.agent_route(ctx).await {
            Route::Host => Ok(self.host.clone()),
            Route::Refused(reason) => Err(format!("MCP server \"{}\": {reason}", self.name)),
            Route::Sandbox { sandbox, key } => Ok(self.seat_link(SandboxSeat {
                sandbox,
                key,
                workspace: ctx.workspace.clone(),
            })),
        }
    }

    /// The link into `seat`, made when there is none yet.
    fn seat_link(&self, seat: SandboxSeat) -> Arc<McpLink> {
        let id = (seat.key.clone(), seat.workspace.clone());
        let mut seats = self.seats.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if let Some(open) = seats.get_mut(&id) {
            open.used = now;
            return open.link.clone();
        }
        if seats.len() >= MAX_SANDBOX_LINKS {
            let oldest = seats
                .iter()
                .min_by_key(|(_, open)| open.used)
                .map(|(id, _)| id.clone());
            if let Some(closing) = oldest.and_then(|id| seats.remove(&id)) {
                tracing::info!(server = %self.name, "mcp.server.sandbox_link_closed");
                close_later(closing.link);
            }
        }
        let link = Arc::new(McpLink::in_sandbox(&self.name, &self.config, seat));
        seats.insert(
            id,
            SeatLink {
                link: link.clone(),
                used: now,
            },
        );
        link
    }

    /// Every link, the host's first.
    fn links(&self) -> Vec<Arc<McpLink>> {
        let seats = self.seats.lock().unwrap_or_else(|e| e.into_inner());
        let mut links = vec![self.host.clone()];
        links.extend(seats.values().map(|open| open.link.clone()));
        links
    }

    /// Whether any of the server's connections is open now.
    pub async fn is_connected(&self) -> bool {
        for link in self.links() {
            if link.is_connected().await {
                return true;
            }
        }
        false
    }

    /// Closes every connection, ending the server's processes on the host and in sandboxes.
    pub async fn close(&self) {
        let seats: Vec<SeatLink> = {
            let mut seats = self.seats.lock().unwrap_or_else(|e| e.into_inner());
            seats.drain().map(|(_, open)| open).collect()
        };
        self.host.close().await;
        for open in seats {
            open.link.close().await;
        }
    }
}

/// Closes a link without holding up the caller.
fn close_later(link: Arc<McpLink>) {
    if let Ok(runtime) = tokio::runtime::Handle::try_current() {
        runtime.spawn(async move { link.close().await });
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use goclaw_config::{SandboxConfig, SandboxMode};
    use goclaw_core::{MASTER_TENANT_ID, SessionKey, Trust};

    use super::*;

    fn context(agent: &str) -> ToolContext {
        ToolContext {
            tenant_id: MASTER_TENANT_ID,
            agent_key: agent.to_owned(),
            session_key: SessionKey::parse(&format!("agent:{agent}:ws:direct:alice"))
                .expect("valid session key"),
            user_id: "alice".to_owned(),
            trust: Trust::User,
            run_id: "run-1".to_owned(),
            channel: "ws".to_owned(),
            workspace: PathBuf::from("/tmp/ws"),
            restrict_to_workspace: true,
            allowed_paths: Vec::new(),
        }
    }

    /// Which link a call of `agent` gets: `Ok(true)` the host's, or the refusal.
    async fn check(links: &McpServerLinks, agent: &str) -> Result<bool, String> {
        let link = links.link_for(&context(agent)).await?;
        Ok(Arc::ptr_eq(&link, links.host()))
    }

    #[tokio::test]
    async fn calls_follow_the_agents_sandbox_mode_and_never_fall_back_to_the_host() {
        let config = SandboxConfig {
            mode: SandboxMode::NonMain,
            ..SandboxConfig::default()
        };
        let router = Arc::new(SandboxRouter::new(
            &config,
            BTreeMap::new(),
            None,
            "no backend in this test",
        ));
        let stdio = McpServerConfig {
            command: Some("mcp-files".to_owned()),
            ..McpServerConfig::default()
        };
        let http = McpServerConfig {
            transport: McpTransport::StreamableHttp,
            url: Some("https://mcp.example/mcp".to_owned()),
            ..McpServerConfig::default()
        };

        let routed = McpServerLinks::new("files", &stdio, Some(router.clone()));
        assert_eq!(check(&routed, "default").await, Ok(true));
        let refused = check(&routed, "coder").await.expect_err("no backend");
        assert!(
            refused.starts_with("MCP server \"files\": ")
                && refused.ends_with("no backend in this test"),
            "{refused}"
        );
        let remote = McpServerLinks::new("web", &http, Some(router));
        assert_eq!(check(&remote, "coder").await, Ok(true));
        let unrouted = McpServerLinks::new("files", &stdio, None);
        assert_eq!(check(&unrouted, "coder").await, Ok(true));
        assert!(!routed.is_connected().await);
    }
}
