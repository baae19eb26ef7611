//! MCP servers managed through the API (`/v1/mcp/servers…`, GoClaw's routes and shapes): a
//! tenant's admins register servers, test them, grant them to agents and users; every caller
//! may keep credentials of their own for a server. Runs reach the servers through the
//! [`McpPool`], which the routes tell when a server changes.
//!
//! A server's API key, headers and environment are stored as one secret-box ciphertext and
//! never answered: the API key reads `"***"`, header and variable values `"***"` under their
//! names. An update that sends `"***"` back keeps the stored value. Storing any of them needs
//! `GOCLAW_ENCRYPTION_KEY`.

pub mod grants;
pub mod http;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::http::StatusCode;
use goclaw_core::{McpAgentGrant, McpServer, McpServerPatch, NewMcpServer, TenantId};
use goclaw_tools::mcp::validate::ServerPolicy;
use goclaw_tools::mcp::{McpCredentials, McpPool};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::http::ApiError;
use crate::routes::AppState;

/// What masked secrets read as.
pub const MASK: &str = "***";

/// The default per-call timeout of a new server, in seconds.
const DEFAULT_TIMEOUT_SEC: i64 = 60;
/// The longest per-call timeout a server may have, in seconds.
const MAX_TIMEOUT_SEC: i64 = 3600;

/// The routes' view of the MCP runtime: the pool runs use and what servers may be.
#[derive(Clone)]
pub struct McpAdmin {
    pub pool: Arc<McpPool>,
    pub policy: ServerPolicy,
}

pub(crate) fn admin(state: &AppState) -> Result<&McpAdmin, ApiError> {
    state.mcp.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "MCP servers are not available",
        )
    })
}

/// Parses a server id from the path; anything else is 404, as another tenant's id is.
pub(crate) async fn find_server(
    state: &AppState,
    tenant: TenantId,
    raw: &str,
) -> Result<McpServer, ApiError> {
    let not_found = || ApiError::not_found(format!("MCP server {raw} not found"));
    let id = Uuid::parse_str(raw.trim()).map_err(|_| not_found())?;
    match state.store.mcp_servers().get(tenant, id).await {
        Err(goclaw_core::StoreError::NotFound(_)) => Err(not_found()),
        other => Ok(other?),
    }
}

/// Seals credentials for storage; empty ones are stored as nothing.
pub(crate) fn seal(state: &AppState, credentials: &McpCredentials) -> Result<String, ApiError> {
    if credentials.is_empty() {
        return Ok(String::new());
    }
    let secrets = state.secrets.as_ref().ok_or_else(|| {
        ApiError::bad_request(
            "set GOCLAW_ENCRYPTION_KEY to store an MCP server's api_key, headers or env",
        )
    })?;
    let json = serde_json::to_string(credentials).map_err(ApiError::internal)?;
    Ok(secrets.encrypt(&json))
}

/// The JSON of a server as GoClaw answers it, secrets masked.
pub(crate) fn server_view(server: &McpServer, credentials: &McpCredentials) -> Value {
    let masked = |values: &BTreeMap<String, String>| -> Value {
        values
            .keys()
            .map(|k| (k.clone(), Value::from(MASK)))
            .collect::<Map<String, Value>>()
            .into()
    };
    let mut view = json!({
        "id": server.id,
        "name": server.name,
        "display_name": server.display_name,
        "transport": server.transport,
        "command": server.command,
        "args": server.args,
        "url": server.url,
        "headers": masked(&credentials.headers),
        "env": masked(&credentials.env),
        "tool_prefix": server.tool_prefix,
        "timeout_sec": server.timeout_sec,
        "settings": server.settings,
        "enabled": server.enabled,
        "require_user_credentials": server.require_user_credentials,
        "created_by": server.created_by,
        "created_at": server.created_at,
        "updated_at": server.updated_at,
    });
    if !credentials.api_key.is_empty()
        && let Some(object) = view.as_object_mut()
    {
        object.insert("api_key".into(), MASK.into());
    }
    view
}

/// The JSON of an agent grant.
pub(crate) fn grant_view(grant: &McpAgentGrant) -> Value {
    let mut view = json!({
        "id": grant.id,
        "server_id": grant.server_id,
        "agent_id": grant.agent_id,
        "enabled": grant.enabled,
        "granted_by": grant.granted_by,
        "created_at": grant.created_at,
    });
    if let Some(object) = view.as_object_mut() {
        if let Some(allow) = &grant.tools.allow {
            object.insert("tool_allow".into(), json!(allow));
        }
        if !grant.tools.deny.is_empty() {
            object.insert("tool_deny".into(), json!(grant.tools.deny));
        }
    }
    view
}

/// A server's settings while they are edited: a new one, or a stored one with its opened
/// credentials, changed by the fields of a request body.
#[derive(Debug, Clone, Default)]
pub(crate) struct Draft {
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
    pub credentials: McpCredentials,
}

impl Draft {
    /// A server not stored yet.
    pub fn new() -> Self {
        Self {
            timeout_sec: DEFAULT_TIMEOUT_SEC,
            settings: json!({}),
            enabled: true,
            ..Self::default()
        }
    }

    /// A stored server and its opened credentials.
    pub fn stored(server: &McpServer, credentials: McpCredentials) -> Self {
        Self {
            name: server.name.clone(),
            display_name: server.display_name.clone(),
            transport: server.transport.clone(),
            command: server.command.clone(),
            args: server.args.clone(),
            url: server.url.clone(),
            tool_prefix: server.tool_prefix.clone(),
            timeout_sec: server.timeout_sec,
            settings: server.settings.clone(),
            enabled: server.enabled,
            require_user_credentials: server.require_user_credentials,
            credentials,
        }
    }

    /// Applies the known fields of `body` (others are ignored, as GoClaw's allowlist does).
    pub fn apply(&mut self, body: &Map<String, Value>) -> Result<(), String> {
        for (key, value) in body {
            if value.is_null() {
                continue;
            }
            match key.as_str() {
                "name" => self.name = text(key, value)?.trim().to_owned(),
                "display_name" => self.display_name = text(key, value)?,
                "transport" => self.transport = text(key, value)?.trim().to_owned(),
                "command" => self.command = text(key, value)?.trim().to_owned(),
                "args" => self.args = strings(key, value)?,
                "url" => self.url = text(key, value)?.trim().to_owned(),
                "tool_prefix" => self.tool_prefix = text(key, value)?.trim().to_owned(),
                "timeout_sec" => {
                    self.timeout_sec = value
                        .as_i64()
                        .ok_or_else(|| format!("{key} must be an integer"))?;
                }
                "settings" => {
                    if !value.is_object() {
                        return Err(format!("{key} must be an object"));
                    }
                    self.settings = value.clone();
                }
                "enabled" => self.enabled = flag(key, value)?,
                "require_user_credentials" => self.require_user_credentials = flag(key, value)?,
                "api_key" => {
                    let key_value = text(key, value)?;
                    if key_value != MASK {
                        self.credentials.api_key = key_value.trim().to_owned();
                    }
                }
                "headers" => {
                    self.credentials.headers = kept(key, value, &self.credentials.headers)?;
                }
                "env" => self.credentials.env = kept(key, value, &self.credentials.env)?,
                _ => {}
            }
        }
        Ok(())
    }

    /// Checks everything but the transport settings' safety ([`ServerPolicy`]).
    pub fn check(&self) -> Result<(), String> {
        if !goclaw_core::is_valid_skill_slug(&self.name) {
            return Err(
                "name must be a slug: lowercase letters, digits and hyphens (e.g. \"github\")"
                    .to_owned(),
            );
        }
        self.check_settings()
    }

    /// Checks what connecting needs: a transport, a timeout in range, clean headers.
    pub fn check_settings(&self) -> Result<(), String> {
        if self.transport.is_empty() {
            return Err("transport is required: stdio, sse or streamable-http".to_owned());
        }
        if !(1..=MAX_TIMEOUT_SEC).contains(&self.timeout_sec) {
            return Err(format!(
                "timeout_sec must be between 1 and {MAX_TIMEOUT_SEC}"
            ));
        }
        if self
            .credentials
            .headers
            .iter()
            .any(|(k, v)| k.contains(['\r', '\n']) || v.contains(['\r', '\n']))
        {
            return Err("headers may not contain line breaks".to_owned());
        }
        Ok(())
    }

    /// The checks of [`McpAdmin::policy`] on the transport settings.
    pub async fn check_transport(&self, policy: &ServerPolicy) -> Result<(), String> {
        goclaw_tools::mcp::validate::check_server(
            policy,
            &self.transport,
            &self.command,
            &self.args,
            &self.url,
        )
        .await
    }

    pub fn into_new(self, tenant: TenantId, secrets: String, created_by: &str) -> NewMcpServer {
        NewMcpServer {
            tenant_id: tenant,
            name: self.name,
            display_name: self.display_name,
            transport: self.transport,
            command: self.command,
            args: self.args,
            url: self.url,
            tool_prefix: self.tool_prefix,
            timeout_sec: self.timeout_sec,
            settings: self.settings,
            enabled: self.enabled,
            require_user_credentials: self.require_user_credentials,
            secrets,
            created_by: created_by.to_owned(),
        }
    }

    pub fn into_patch(self, secrets: String) -> McpServerPatch {
        McpServerPatch {
            name: Some(self.name),
            display_name: Some(self.display_name),
            transport: Some(self.transport),
            command: Some(self.command),
            args: Some(self.args),
            url: Some(self.url),
            tool_prefix: Some(self.tool_prefix),
            timeout_sec: Some(self.timeout_sec),
            settings: Some(self.settings),
            enabled: Some(self.enabled),
            require_user_credentials: Some(self.require_user_credentials),
            secrets: Some(secrets),
        }
    }

    /// A server of these settings, to connect to without storing it.
    pub fn as_server(&self, tenant: TenantId) -> McpServer {
        let now = chrono::Utc::now();
        McpServer {
            id: Uuid::nil(),
            tenant_id: tenant,
            name: if self.name.is_empty() {
                "test".to_owned()
            } else {
                self.name.clone()
            },
            display_name: self.display_name.clone(),
            transport: self.transport.clone(),
            command: self.command.clone(),
            args: self.args.clone(),
            url: self.url.clone(),
            tool_prefix: self.tool_prefix.clone(),
            timeout_sec: self.timeout_sec,
            settings: self.settings.clone(),
            enabled: true,
            require_user_credentials: false,
            secrets: String::new(),
            created_by: String::new(),
            created_at: now,
            updated_at: now,
        }
    }
}

fn text(key: &str, value: &Value) -> Result<String, String> {
    value
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("{key} must be a string"))
}

fn flag(key: &str, value: &Value) -> Result<bool, String> {
    value
        .as_bool()
        .ok_or_else(|| format!("{key} must be true or false"))
}

fn strings(key: &str, value: &Value) -> Result<Vec<String>, String> {
    let items = value
        .as_array()
        .ok_or_else(|| format!("{key} must be an array of strings"))?;
    items
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{key} must be an array of strings"))
        })
        .collect()
}

/// A string map from `value`; a value of `"***"` keeps the one stored under that name.
fn kept(
    key: &str,
    value: &Value,
    stored: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, String> {
    let object = value
        .as_object()
        .ok_or_else(|| format!("{key} must be an object of strings"))?;
    let mut map = BTreeMap::new();
    for (name, item) in object {
        let item = item
            .as_str()
            .ok_or_else(|| format!("{key} must be an object of strings"))?;
        let item = if item == MASK {
            match stored.get(name) {
                Some(old) => old.clone(),
                None => continue,
            }
        } else {
            item.to_owned()
        };
        map.insert(name.clone(), item);
    }
    Ok(map)
}

#[cfg(test)]
mod tests;
