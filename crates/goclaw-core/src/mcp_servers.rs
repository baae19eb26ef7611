//! MCP servers managed through the API (`/v1/mcp/servers…`), as opposed to the ones in
//! `tools.mcp_servers`: a tenant's servers, the agents and users they are granted to, and
//! each user's own credentials for them.
//!
//! A server's API key, headers and environment are one secret-box ciphertext (`secrets`), and
//! so are a user's credentials: the store never sees them in clear. An agent reaches a server
//! only through an enabled grant; a user grant that exists and is disabled shuts that user out.

use std::collections::BTreeMap;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// A server as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct McpServer {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// Unique in the tenant; a slug.
    pub name: String,
    pub display_name: String,
    /// `stdio`, `sse` or `streamable-http`.
    pub transport: String,
    pub command: String,
    pub args: Vec<String>,
    pub url: String,
    pub tool_prefix: String,
    pub timeout_sec: i64,
    /// Free-form settings the dashboard keeps (JSON object).
    pub settings: Value,
    pub enabled: bool,
    /// Only users with their own credentials reach it.
    pub require_user_credentials: bool,
    /// The secret box's ciphertext of `{api_key, headers, env}`; empty when there are none.
    pub secrets: String,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What is needed to register a server.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMcpServer {
    pub tenant_id: TenantId,
    pub name: String,
    pub display_name: String,
    pub transport: String,
    pub command: String,
    pub args: Vec<String>,
    pub url: String,
    pub tool_prefix: String,
    pub timeout_sec: i64,
    pub settings: Value,
    pub enabled: bool,
    pub require_user_credentials: bool,
    pub secrets: String,
    pub created_by: String,
}

/// A change to a server; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct McpServerPatch {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub transport: Option<String>,
    pub command: Option<String>,
    pub args: Option<Vec<String>>,
    pub url: Option<String>,
    pub tool_prefix: Option<String>,
    pub timeout_sec: Option<i64>,
    pub settings: Option<Value>,
    pub enabled: Option<bool>,
    pub require_user_credentials: Option<bool>,
    pub secrets: Option<String>,
}

/// Which of a server's tools a grant opens: `allow` `None` is all of them, `deny` wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolFilter {
    pub allow: Option<Vec<String>>,
    pub deny: Vec<String>,
}

impl ToolFilter {
    /// Whether the server's tool `name` (its own name, without prefix) passes.
    pub fn admits(&self, name: &str) -> bool {
        !self.deny.iter().any(|d| d == name)
            && self
                .allow
                .as_ref()
                .is_none_or(|allow| allow.iter().any(|a| a == name))
    }
}

/// A server granted to an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct McpAgentGrant {
    pub id: Uuid,
    pub server_id: Uuid,
    pub agent_id: AgentId,
    pub enabled: bool,
    pub tools: ToolFilter,
    pub granted_by: String,
    pub created_at: DateTime<Utc>,
}

/// A server an agent may use for a user, with the agent grant's tool filter.
#[derive(Debug, Clone, PartialEq)]
pub struct McpAccess {
    pub server: McpServer,
    pub tools: ToolFilter,
}

/// The tenant's API-managed MCP servers. Every call names its tenant; another tenant's server
/// is not found.
#[async_trait]
pub trait McpServerStore: Send + Sync {
    /// Registers a server; `Conflict` when the name is taken in the tenant.
    async fn create(&self, server: NewMcpServer) -> Result<McpServer, StoreError>;
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<McpServer, StoreError>;
    /// The tenant's servers by name.
    async fn list(&self, tenant: TenantId) -> Result<Vec<McpServer>, StoreError>;
    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: McpServerPatch,
    ) -> Result<McpServer, StoreError>;
    /// Deletes a server with its grants and users' credentials.
    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError>;

    /// Grants (or re-grants, replacing the filter) a server to an agent of the same tenant.
    async fn grant_agent(
        &self,
        tenant: TenantId,
        server: Uuid,
        agent: AgentId,
        tools: &ToolFilter,
        granted_by: &str,
    ) -> Result<(), StoreError>;
    /// Whether there was a grant to remove.
    async fn revoke_agent(
        &self,
        tenant: TenantId,
        server: Uuid,
        agent: AgentId,
    ) -> Result<bool, StoreError>;
    /// The agent grants of a server.
    async fn server_grants(
        &self,
        tenant: TenantId,
        server: Uuid,
    ) -> Result<Vec<McpAgentGrant>, StoreError>;
    /// The servers granted to an agent.
    async fn agent_grants(
        &self,
        tenant: TenantId,
        agent: AgentId,
    ) -> Result<Vec<McpAgentGrant>, StoreError>;
    /// Agent grants per server of the tenant.
    async fn grant_counts(&self, tenant: TenantId) -> Result<BTreeMap<Uuid, i64>, StoreError>;

    async fn grant_user(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
        tools: &ToolFilter,
        granted_by: &str,
    ) -> Result<(), StoreError>;
    async fn revoke_user(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
    ) -> Result<bool, StoreError>;

    /// The enabled servers `agent` holds an enabled grant to, less those whose user grant
    /// for `user` exists and is disabled.
    async fn accessible(
        &self,
        tenant: TenantId,
        agent: AgentId,
        user: &str,
    ) -> Result<Vec<McpAccess>, StoreError>;

    /// Stores a user's credentials (the secret box's ciphertext) for a server.
    async fn set_user_credentials(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
        secrets: &str,
    ) -> Result<(), StoreError>;
    /// A user's stored credentials for a server.
    async fn user_credentials(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
    ) -> Result<Option<String>, StoreError>;
    /// Whether there were credentials to remove.
    async fn delete_user_credentials(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
    ) -> Result<bool, StoreError>;
}
