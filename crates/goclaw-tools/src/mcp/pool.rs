//! The MCP servers a tenant manages through the API, connected on demand: a run asks for the
//! tools of the servers granted to its agent (and not withheld from its user), and each
//! server's connection is opened the first time it is needed and kept for the next runs.
//!
//! A connection is keyed by server and, when the user has credentials of their own for it,
//! by user: a user's API key or headers never serve another user. Tools are listed on the
//! host; a sandboxed agent's calls of a stdio server start it inside the agent's sandbox
//! ([`McpServerLinks`]). A connection is reopened
//! when its server is changed (its `updated_at`) or its user's credentials are, and dropped
//! by [`McpPool::evict`] (reconnect, delete). A server that cannot be reached offers no tools
//! to that run and is tried again by the next one (after the link's backoff).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use goclaw_config::{McpServerConfig, McpTransport, SensitiveMap};
use goclaw_core::{AgentId, McpAccess, McpServer, Store, TenantId};
use rmcp::model::Tool as McpToolInfo;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{LinkError, McpLink, McpServerLinks, McpTool, tool_prefix};
use crate::sandbox::SandboxRouter;

/// A server's or a user's secrets, stored as one secret-box ciphertext of this JSON.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct McpCredentials {
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub api_key: String,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub env: BTreeMap<String, String>,
}

impl McpCredentials {
    pub fn is_empty(&self) -> bool {
        self.api_key.is_empty() && self.headers.is_empty() && self.env.is_empty()
    }

    /// These credentials with `user`'s laid over them: the user's API key replaces the
    /// server's, their headers and variables replace those of the same name.
    pub fn overlaid(mut self, user: McpCredentials) -> Self {
        if !user.api_key.is_empty() {
            self.api_key = user.api_key;
        }
        self.headers.extend(user.headers);
        self.env.extend(user.env);
        self
    }
}

/// Opens a stored ciphertext; `None` when it cannot be opened (no key, wrong key).
pub type Opener = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// How to connect to `server` with `credentials`: its transport settings, the headers (and a
/// `Bearer` API key unless an `Authorization` header is set) and the environment.
pub fn server_config(server: &McpServer, credentials: &McpCredentials) -> McpServerConfig {
    let transport = match server.transport.as_str() {
        "stdio" => McpTransport::Stdio,
        "sse" => McpTransport::Sse,
        _ => McpTransport::StreamableHttp,
    };
    let mut headers: SensitiveMap = credentials.headers.clone().into_iter().collect();
    if !credentials.api_key.is_empty()
        && !headers
            .keys()
            .any(|k| k.eq_ignore_ascii_case("authorization"))
    {
        headers.insert(
            "Authorization".to_owned(),
            format!("Bearer {}", credentials.api_key),
        );
    }
    McpServerConfig {
        transport,
        command: (!server.command.is_empty()).then(|| server.command.clone()),
        args: server.args.clone(),
        env: credentials.env.clone().into_iter().collect(),
        url: (!server.url.is_empty()).then(|| server.url.clone()),
        headers,
        enabled: server.enabled,
        tool_prefix: (!server.tool_prefix.is_empty()).then(|| server.tool_prefix.clone()),
        timeout_sec: u64::try_from(server.timeout_sec).unwrap_or(60).max(1),
        require_approval: server.settings["require_approval"].as_bool() == Some(true),
    }
}

/// One open (or opening) connection and the tools it listed.
struct Entry {
    /// The server's `updated_at` and the user's credentials it was opened with.
    fingerprint: String,
    links: Arc<McpServerLinks>,
    listed: tokio::sync::Mutex<Option<Vec<McpToolInfo>>>,
}

/// The tenant-managed servers' connections.
pub struct McpPool {
    store: Arc<dyn Store>,
    open: Opener,
    /// Places calls of stdio servers (`None`: always on the host).
    router: Option<Arc<SandboxRouter>>,
    entries: Mutex<HashMap<(TenantId, Uuid, String), Arc<Entry>>>,
}

impl McpPool {
    pub fn new(store: Arc<dyn Store>, open: Opener) -> Self {
        Self {
            store,
            open,
            router: None,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// This pool with calls placed by `router`: a sandboxed agent's calls of a stdio server
    /// run the server in its sandbox.
    pub fn with_router(mut self, router: Arc<SandboxRouter>) -> Self {
        self.router = Some(router);
        self
    }

    /// Opens a stored ciphertext into credentials; empty for none or one that fails to open.
    pub fn credentials(&self, sealed: &str) -> McpCredentials {
        if sealed.is_empty() {
            return McpCredentials::default();
        }
        (self.open)(sealed)
            .and_then(|json| serde_json::from_str(&json).ok())
            .unwrap_or_default()
    }

    /// The tools `agent` may use for `user`, from every server granted to it that answers.
    pub async fn tools_for(&self, tenant: TenantId, agent: AgentId, user: &str) -> Vec<McpTool> {
        let granted = match self
            .store
            .mcp_servers()
            .accessible(tenant, agent, user)
            .await
        {
            Ok(granted) => granted,
            Err(error) => {
                tracing::warn!(error = %error, "mcp.pool.grants_unreadable");
                return Vec::new();
            }
        };
        let mut tools = Vec::new();
        for access in granted {
            match self.server_tools(&access, user).await {
                Ok(found) => tools.extend(found),
                Err(error) => {
                    tracing::warn!(server = %access.server.name, error = %error, "mcp.server.unavailable");
                }
            }
        }
        tools
    }

    /// The tools of one granted server for `user`, through its grant's filter.
    async fn server_tools(
        &self,
        access: &McpAccess,
        user: &str,
    ) -> Result<Vec<McpTool>, LinkError> {
        let server = &access.server;
        let own = self
            .store
            .mcp_servers()
            .user_credentials(server.tenant_id, server.id, user)
            .await
            .ok()
            .flatten();
        if server.require_user_credentials && own.is_none() {
            return Ok(Vec::new());
        }
        let entry = self.entry(server, user, own.as_deref());
        let infos = {
            let mut listed = entry.listed.lock().await;
            match listed.as_ref() {
                Some(infos) => infos.clone(),
                None => {
                    let infos = entry.links.host().list_tools().await?;
                    *listed = Some(infos.clone());
                    infos
                }
            }
        };
        let prefix = tool_prefix(
            &server.name,
            (!server.tool_prefix.is_empty()).then_some(server.tool_prefix.as_str()),
        );
        Ok(infos
            .iter()
            .filter(|info| access.tools.admits(&info.name))
            .map(|info| McpTool::new(entry.links.clone(), &prefix, info))
            .collect())
    }

    /// The connection of `server` for `user` (their own when they have credentials), opened
    /// anew when the server or the credentials changed since.
    fn entry(&self, server: &McpServer, user: &str, own: Option<&str>) -> Arc<Entry> {
        let key = (
            server.tenant_id,
            server.id,
            own.map(|_| user.to_owned()).unwrap_or_default(),
        );
        let fingerprint = format!("{}|{}", server.updated_at.to_rfc3339(), own.unwrap_or(""));
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(entry) = entries.get(&key)
            && entry.fingerprint == fingerprint
        {
            return entry.clone();
        }
        let mut credentials = self.credentials(&server.secrets);
        if let Some(own) = own {
            credentials = credentials.overlaid(self.credentials(own));
        }
        let links = Arc::new(McpServerLinks::new(
            &server.name,
            &server_config(server, &credentials),
            self.router.clone(),
        ));
        let entry = Arc::new(Entry {
            fingerprint,
            links,
            listed: tokio::sync::Mutex::new(None),
        });
        if let Some(replaced) = entries.insert(key, entry.clone()) {
            close_later(replaced);
        }
        entry
    }

    /// The tools `server` lists now (with its own credentials), connecting if needed.
    pub async fn list_server_tools(
        &self,
        server: &McpServer,
    ) -> Result<Vec<McpToolInfo>, LinkError> {
        let entry = self.entry(server, "", None);
        let mut listed = entry.listed.lock().await;
        let infos = entry.links.host().list_tools().await?;
        *listed = Some(infos.clone());
        Ok(infos)
    }

    /// Drops every connection to the server `id`; the next run opens a new one.
    pub fn evict(&self, tenant: TenantId, id: Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let keys: Vec<_> = entries
            .keys()
            .filter(|(t, server, _)| *t == tenant && *server == id)
            .cloned()
            .collect();
        for key in keys {
            if let Some(entry) = entries.remove(&key) {
                close_later(entry);
            }
        }
    }

    /// Whether a connection to the server `id` is open now.
    pub async fn is_connected(&self, tenant: TenantId, id: Uuid) -> bool {
        let servers: Vec<Arc<McpServerLinks>> = {
            let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries
                .iter()
                .filter(|((t, server, _), _)| *t == tenant && *server == id)
                .map(|(_, entry)| entry.links.clone())
                .collect()
        };
        for server in servers {
            if server.is_connected().await {
                return true;
            }
        }
        false
    }

    /// Closes every connection (at shutdown).
    pub async fn close(&self) {
        let drained: Vec<Arc<Entry>> = {
            let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            entries.drain().map(|(_, entry)| entry).collect()
        };
        for entry in drained {
            entry.links.close().await;
        }
    }
}

/// Closes a replaced connection without holding up the caller (a stdio server's process
/// ends with it).
fn close_later(entry: Arc<Entry>) {
    if let Ok(handle) = tokio::runtime::Handle::try_current() {
        handle.spawn(async move { entry.links.close().await });
    }
}

/// Lists the tools of a server described by `config` (the API's connection test) and closes
/// the connection again.
pub async fn probe(name: &str, config: &McpServerConfig) -> Result<Vec<McpToolInfo>, LinkError> {
    let link = McpLink::new(name, config);
    let listed = link.list_tools().await;
    link.close().await;
    listed
}
