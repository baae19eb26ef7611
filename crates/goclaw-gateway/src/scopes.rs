//! What an API key's scopes allow: one table for every WebSocket method and one for every HTTP
//! route, each naming the [`Access`] it needs. Anything not in a table is refused to API keys.
//!
//! Reads (lists, gets, histories, previews, status) need `operator.read`, which `operator.write`
//! and `operator.admin` imply; chatting and changing sessions or agent files need
//! `operator.write`; agent definitions, key management and LLM providers (whose reads show
//! credentials, even masked) need `operator.admin`. Gateway-token
//! and no-auth callers are not scope-limited: only their role counts.

pub use goclaw_core::ApiKeyScope as Scope;

use crate::auth::Role;

/// The kind of action a method or route performs, which decides the scopes that allow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Takes no credentials at all (liveness, readiness, the WebSocket upgrade).
    Public,
    Read,
    Write,
    Admin,
    Approvals,
    Pairing,
}

impl Access {
    /// The scopes any one of which allows this access.
    pub fn allowed_by(self) -> &'static [Scope] {
        match self {
            Access::Public => &Scope::ALL,
            Access::Read => &[Scope::Admin, Scope::Write, Scope::Read],
            Access::Write => &[Scope::Admin, Scope::Write],
            Access::Admin => &[Scope::Admin],
            Access::Approvals => &[Scope::Admin, Scope::Approvals],
            Access::Pairing => &[Scope::Admin, Scope::Pairing],
        }
    }

    /// Whether a key holding `scopes` has this access.
    pub fn allows(self, scopes: &[Scope]) -> bool {
        self.allowed_by().iter().any(|s| scopes.contains(s))
    }

    /// The scope to name in a refusal.
    pub fn needed(self) -> Scope {
        match self {
            Access::Public | Access::Read => Scope::Read,
            Access::Write => Scope::Write,
            Access::Admin => Scope::Admin,
            Access::Approvals => Scope::Approvals,
            Access::Pairing => Scope::Pairing,
        }
    }
}

/// The access each WebSocket method needs (`connect` is the handshake and needs none).
pub const METHOD_ACCESS: &[(&str, Access)] = &[
    ("health", Access::Read),
    ("status", Access::Read),
    ("chat.send", Access::Write),
    ("chat.history", Access::Read),
    ("chat.abort", Access::Write),
    ("chat.inject", Access::Write),
    ("chat.session.status", Access::Read),
    ("sessions.list", Access::Read),
    ("sessions.preview", Access::Read),
    ("sessions.patch", Access::Write),
    ("sessions.delete", Access::Write),
    ("sessions.reset", Access::Write),
    ("sessions.compact", Access::Write),
    ("agents.list", Access::Read),
    ("agents.files.list", Access::Read),
    ("agents.files.get", Access::Read),
    ("agents.files.set", Access::Write),
    ("agents.create", Access::Admin),
    ("agents.update", Access::Admin),
    ("agents.delete", Access::Admin),
    ("api_keys.list", Access::Admin),
    ("api_keys.create", Access::Admin),
    ("api_keys.revoke", Access::Admin),
    ("providers.list", Access::Admin),
    ("providers.create", Access::Admin),
    ("providers.update", Access::Admin),
    ("providers.delete", Access::Admin),
    ("exec.approval.list", Access::Approvals),
    ("exec.approval.approve", Access::Approvals),
    ("exec.approval.deny", Access::Approvals),
];

/// The access each HTTP route needs, by method and path pattern as the router spells it.
pub const ROUTE_ACCESS: &[(&str, &str, Access)] = &[
    ("ANY", "/health", Access::Public),
    ("GET", "/ready", Access::Public),
    ("GET", "/", Access::Public),
    ("GET", "/ws", Access::Public),
    ("GET", "/v1/openapi.json", Access::Public),
    ("GET", "/docs", Access::Public),
    ("GET", "/docs/", Access::Public),
    ("GET", "/docs/{*path}", Access::Public),
    ("GET", "/metrics", Access::Read),
    ("POST", "/v1/chat/completions", Access::Write),
    ("GET", "/v1/agents", Access::Read),
    ("POST", "/v1/agents", Access::Admin),
    ("GET", "/v1/agents/{id}", Access::Read),
    ("PUT", "/v1/agents/{id}", Access::Admin),
    ("DELETE", "/v1/agents/{id}", Access::Admin),
    ("GET", "/v1/api-keys", Access::Admin),
    ("POST", "/v1/api-keys", Access::Admin),
    ("POST", "/v1/api-keys/{id}/revoke", Access::Admin),
    ("DELETE", "/v1/api-keys/{id}", Access::Admin),
    ("GET", "/v1/providers", Access::Admin),
    ("POST", "/v1/providers", Access::Admin),
    ("GET", "/v1/providers/{id}", Access::Admin),
    ("PUT", "/v1/providers/{id}", Access::Admin),
    ("DELETE", "/v1/providers/{id}", Access::Admin),
    ("GET", "/v1/traces", Access::Read),
    ("GET", "/v1/traces/{id}", Access::Read),
];

/// The access a WebSocket method needs; `None` for a method missing from the table.
pub fn method_access(method: &str) -> Option<Access> {
    METHOD_ACCESS
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, access)| *access)
}

/// The access an HTTP route needs; `None` for a route missing from the table.
pub fn route_access(method: &str, path: &str) -> Option<Access> {
    ROUTE_ACCESS
        .iter()
        .find(|(m, p, _)| *p == path && (*m == method || *m == "ANY"))
        .map(|(_, _, access)| *access)
}

/// The role a key's principal has: `operator.admin` → admin; write, approvals or pairing →
/// operator; anything else → viewer.
pub fn role_for(scopes: &[Scope]) -> Role {
    if scopes.contains(&Scope::Admin) {
        Role::Admin
    } else if scopes
        .iter()
        .any(|s| matches!(s, Scope::Write | Scope::Approvals | Scope::Pairing))
    {
        Role::Operator
    } else {
        Role::Viewer
    }
}

#[cfg(test)]
#[path = "scopes_tests.rs"]
mod tests;
