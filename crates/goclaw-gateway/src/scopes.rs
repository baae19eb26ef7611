//! Who may reach what: one table naming, for every WebSocket method, every HTTP route and every
//! pushed event, the least [`Role`] it needs, the API-key scopes ([`Access`]) that allow it, and
//! how results are narrowed for callers below admin ([`Filter`]). The method dispatch, the route
//! guard and the event forwarding all read their decision from here; anything not in the table
//! is refused.
//!
//! Reads (lists, gets, histories, previews, status) need `operator.read`, which `operator.write`
//! and `operator.admin` imply; chatting and changing sessions or agent files need
//! `operator.write`; agent definitions, key management and changing LLM providers need
//! `operator.admin` (providers are read with `operator.read`, as in GoClaw: their keys only
//! ever appear as `"***"`); exec approvals need `operator.approvals`
//! (or `operator.admin`). Gateway-token and no-auth callers are not scope-limited: only their
//! role counts. Least roles follow GoClaw's allow-lists.

pub use goclaw_core::ApiKeyScope as Scope;
use goclaw_core::TenantId;

use crate::auth::{Principal, Role};

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
    /// Creating tenants and adding their members: a key needs `operator.provision` (the
    /// handler checks it; `operator.admin` reaches the handler, which refuses it).
    Provision,
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
            Access::Provision => &[Scope::Admin, Scope::Provision],
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
            Access::Provision => Scope::Provision,
        }
    }
}

/// How the results of a method, route or event are narrowed for a caller below admin.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Filter {
    /// Nothing to narrow: every caller allowed gets the same answer (public endpoints,
    /// process-wide figures).
    None,
    /// Only what belongs to the caller's tenant.
    Tenant,
    /// The caller's tenant, and within it only the caller's own user's data; admins and the
    /// owner see the whole tenant.
    OwnUser,
}

/// Whose data a result or event is: its tenant and the user it belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Owner<'a> {
    pub tenant_id: TenantId,
    /// Empty when the user is unknown; then only admins see it.
    pub user_id: &'a str,
}

impl Filter {
    /// Whether `principal` may see something belonging to `owner`.
    pub fn admits(self, principal: &Principal, owner: Owner<'_>) -> bool {
        match self {
            Filter::None => true,
            Filter::Tenant => principal.tenant_id == owner.tenant_id,
            Filter::OwnUser => {
                principal.tenant_id == owner.tenant_id
                    && (principal.sees_all()
                        || (!owner.user_id.is_empty() && principal.user_id == owner.user_id))
            }
        }
    }
}

/// The entry of one method, route or event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rule {
    /// The least role; ignored for [`Access::Public`], which needs no credentials.
    pub role: Role,
    pub access: Access,
    pub filter: Filter,
}

/// Why a caller was refused by a [`Rule`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// The caller's role is below this one.
    Role(Role),
    /// The caller's API key holds none of the scopes of this access.
    Scope(Access),
}

impl Rule {
    pub const fn new(role: Role, access: Access, filter: Filter) -> Self {
        Self {
            role,
            access,
            filter,
        }
    }

    /// Whether `principal` passes this rule: role high enough and, for an API key, a scope
    /// that allows the access.
    pub fn check(&self, principal: &Principal) -> Result<(), Denial> {
        if self.access == Access::Public {
            return Ok(());
        }
        if let Some(scopes) = &principal.scopes
            && !self.access.allows(scopes)
        {
            return Err(Denial::Scope(self.access));
        }
        if principal.role < self.role {
            return Err(Denial::Role(self.role));
        }
        Ok(())
    }
}

/// Every event the gateway pushes; `frames::event` takes one, so an event cannot be sent
/// without a name here (and a test fails for a name without a table entry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Event {
    Agent,
    ExecApprovalRequested,
    ExecApprovalResolved,
    Shutdown,
    VaultEnrichProgress,
    DevicePairRequested,
    DevicePairResolved,
    Cron,
    // Teams, their task boards and delegation links (`crate::teams`).
    TeamTaskCreated,
    TeamTaskClaimed,
    TeamTaskCompleted,
    TeamTaskCancelled,
    TeamTaskFailed,
    TeamTaskReviewed,
    TeamTaskApproved,
    TeamTaskRejected,
    TeamTaskProgress,
    TeamTaskCommented,
    TeamTaskAssigned,
    TeamTaskUpdated,
    TeamTaskDeleted,
    TeamTaskStale,
    TeamTaskDispatched,
    TeamTaskAttachmentAdded,
    TeamCreated,
    TeamUpdated,
    TeamDeleted,
    TeamMemberAdded,
    TeamMemberRemoved,
    AgentLinkCreated,
    AgentLinkUpdated,
    AgentLinkDeleted,
    DelegationStarted,
    DelegationCompleted,
    DelegationFailed,
    DelegationCancelled,
    DelegationProgress,
    DelegationAccumulated,
    DelegationAnnounce,
    Heartbeat,
    TenantAccessRevoked,
}

impl Event {
    pub const ALL: [Event; 41] = [
        Event::Agent,
        Event::ExecApprovalRequested,
        Event::ExecApprovalResolved,
        Event::Shutdown,
        Event::VaultEnrichProgress,
        Event::DevicePairRequested,
        Event::DevicePairResolved,
        Event::Cron,
        Event::TeamTaskCreated,
        Event::TeamTaskClaimed,
        Event::TeamTaskCompleted,
        Event::TeamTaskCancelled,
        Event::TeamTaskFailed,
        Event::TeamTaskReviewed,
        Event::TeamTaskApproved,
        Event::TeamTaskRejected,
        Event::TeamTaskProgress,
        Event::TeamTaskCommented,
        Event::TeamTaskAssigned,
        Event::TeamTaskUpdated,
        Event::TeamTaskDeleted,
        Event::TeamTaskStale,
        Event::TeamTaskDispatched,
        Event::TeamTaskAttachmentAdded,
        Event::TeamCreated,
        Event::TeamUpdated,
        Event::TeamDeleted,
        Event::TeamMemberAdded,
        Event::TeamMemberRemoved,
        Event::AgentLinkCreated,
        Event::AgentLinkUpdated,
        Event::AgentLinkDeleted,
        Event::DelegationStarted,
        Event::DelegationCompleted,
        Event::DelegationFailed,
        Event::DelegationCancelled,
        Event::DelegationProgress,
        Event::DelegationAccumulated,
        Event::DelegationAnnounce,
        Event::Heartbeat,
        Event::TenantAccessRevoked,
    ];

    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Event::Agent => "agent",
            Event::ExecApprovalRequested => "exec.approval.requested",
            Event::ExecApprovalResolved => "exec.approval.resolved",
            Event::Shutdown => "shutdown",
            Event::VaultEnrichProgress => "vault.enrich.progress",
            Event::DevicePairRequested => "device.pair.requested",
            Event::DevicePairResolved => "device.pair.resolved",
            Event::Cron => "cron",
            Event::TeamTaskCreated => "team.task.created",
            Event::TeamTaskClaimed => "team.task.claimed",
            Event::TeamTaskCompleted => "team.task.completed",
            Event::TeamTaskCancelled => "team.task.cancelled",
            Event::TeamTaskFailed => "team.task.failed",
            Event::TeamTaskReviewed => "team.task.reviewed",
            Event::TeamTaskApproved => "team.task.approved",
            Event::TeamTaskRejected => "team.task.rejected",
            Event::TeamTaskProgress => "team.task.progress",
            Event::TeamTaskCommented => "team.task.commented",
            Event::TeamTaskAssigned => "team.task.assigned",
            Event::TeamTaskUpdated => "team.task.updated",
            Event::TeamTaskDeleted => "team.task.deleted",
            Event::TeamTaskStale => "team.task.stale",
            Event::TeamTaskDispatched => "team.task.dispatched",
            Event::TeamTaskAttachmentAdded => "team.task.attachment_added",
            Event::TeamCreated => "team.created",
            Event::TeamUpdated => "team.updated",
            Event::TeamDeleted => "team.deleted",
            Event::TeamMemberAdded => "team.member.added",
            Event::TeamMemberRemoved => "team.member.removed",
            Event::AgentLinkCreated => "agent_link.created",
            Event::AgentLinkUpdated => "agent_link.updated",
            Event::AgentLinkDeleted => "agent_link.deleted",
            Event::DelegationStarted => "delegation.started",
            Event::DelegationCompleted => "delegation.completed",
            Event::DelegationFailed => "delegation.failed",
            Event::DelegationCancelled => "delegation.cancelled",
            Event::DelegationProgress => "delegation.progress",
            Event::DelegationAccumulated => "delegation.accumulated",
            Event::DelegationAnnounce => "delegation.announce",
            Event::Heartbeat => "heartbeat",
            Event::TenantAccessRevoked => "tenant.access.revoked",
        }
    }
}

const PUBLIC: Rule = Rule::new(Role::Viewer, Access::Public, Filter::None);
const READ_ALL: Rule = Rule::new(Role::Viewer, Access::Read, Filter::None);
const READ_TENANT: Rule = Rule::new(Role::Viewer, Access::Read, Filter::Tenant);
const READ_OWN: Rule = Rule::new(Role::Viewer, Access::Read, Filter::OwnUser);
const WRITE_TENANT: Rule = Rule::new(Role::Operator, Access::Write, Filter::Tenant);
const WRITE_OWN: Rule = Rule::new(Role::Operator, Access::Write, Filter::OwnUser);
const ADMIN: Rule = Rule::new(Role::Admin, Access::Admin, Filter::Tenant);
const APPROVALS_READ: Rule = Rule::new(Role::Viewer, Access::Approvals, Filter::OwnUser);
const APPROVALS: Rule = Rule::new(Role::Operator, Access::Approvals, Filter::OwnUser);
const PAIRING: Rule = Rule::new(Role::Operator, Access::Pairing, Filter::Tenant);
/// Owners, and keys with `operator.provision` (checked by the handler).
const PROVISION: Rule = Rule::new(Role::Viewer, Access::Provision, Filter::Tenant);
/// The gateway token only: an API key (at most admin) never passes.
const OWNER: Rule = Rule::new(Role::Owner, Access::Admin, Filter::None);

/// Every WebSocket method (`connect` is the handshake and needs none). A method missing here
/// does not exist.
pub const METHOD_ACCESS: &[(&str, Rule)] = &[
    ("health", READ_TENANT),
    ("status", READ_TENANT),
    ("usage.get", READ_OWN),
    ("usage.summary", READ_OWN),
    ("quota.usage", READ_OWN),
    ("chat.send", WRITE_OWN),
    ("chat.history", READ_OWN),
    ("chat.abort", WRITE_OWN),
    ("chat.inject", WRITE_OWN),
    ("chat.session.status", READ_OWN),
    ("sessions.list", READ_OWN),
    ("sessions.preview", READ_OWN),
    ("sessions.patch", WRITE_OWN),
    ("sessions.delete", WRITE_OWN),
    ("sessions.reset", WRITE_OWN),
    ("sessions.compact", WRITE_OWN),
    ("agents.list", READ_TENANT),
    ("agents.files.list", READ_TENANT),
    ("agents.files.get", READ_TENANT),
    ("agents.files.set", WRITE_TENANT),
    ("agents.create", ADMIN),
    ("agents.update", ADMIN),
    ("agents.delete", ADMIN),
    ("api_keys.list", ADMIN),
    ("api_keys.create", ADMIN),
    ("api_keys.revoke", ADMIN),
    ("providers.list", ADMIN),
    ("providers.create", ADMIN),
    ("providers.update", ADMIN),
    ("providers.delete", ADMIN),
    ("exec.approval.list", APPROVALS_READ),
    ("exec.approval.approve", APPROVALS),
    ("exec.approval.deny", APPROVALS),
    ("device.pair.request", PAIRING),
    ("device.pair.approve", ADMIN),
    ("device.pair.deny", ADMIN),
    ("device.pair.list", ADMIN),
    ("device.pair.revoke", ADMIN),
    ("browser.pairing.status", PAIRING),
    ("channels.list", READ_TENANT),
    ("channels.status", READ_TENANT),
    ("channels.toggle", ADMIN),
    ("channels.instances.list", READ_TENANT),
    ("channels.instances.get", READ_TENANT),
    ("channels.instances.create", ADMIN),
    ("channels.instances.update", ADMIN),
    ("channels.instances.delete", ADMIN),
    ("cron.list", READ_OWN),
    ("cron.status", READ_OWN),
    ("cron.runs", READ_OWN),
    ("cron.create", WRITE_OWN),
    ("cron.update", WRITE_OWN),
    ("cron.delete", WRITE_OWN),
    ("cron.toggle", WRITE_OWN),
    ("cron.run", WRITE_OWN),
    // Teams (`ws/methods/teams.rs`, `team_tasks.rs`, `agent_links.rs`). Below admin a caller
    // sees only the teams that name its user (`crate::teams::visible`): `OwnUser`.
    ("agents.links.list", READ_TENANT),
    ("agents.links.create", ADMIN),
    ("agents.links.update", ADMIN),
    ("agents.links.delete", ADMIN),
    ("teams.list", READ_OWN),
    ("teams.get", READ_OWN),
    ("teams.create", ADMIN),
    ("teams.update", ADMIN),
    ("teams.delete", ADMIN),
    ("teams.members.add", ADMIN),
    ("teams.members.remove", ADMIN),
    ("teams.tasks.list", READ_OWN),
    ("teams.tasks.get", READ_OWN),
    ("teams.tasks.get-light", READ_OWN),
    ("teams.tasks.delete-bulk", ADMIN),
    ("teams.scopes", READ_OWN),
    ("teams.known_users", READ_OWN),
    ("teams.events.list", READ_OWN),
    ("teams.tasks.events", READ_OWN),
    ("teams.tasks.comments", READ_OWN),
    ("teams.tasks.active-by-session", READ_OWN),
    ("teams.tasks.create", WRITE_OWN),
    ("teams.tasks.assign", WRITE_OWN),
    ("teams.tasks.claim", WRITE_OWN),
    ("teams.tasks.progress", WRITE_OWN),
    ("teams.tasks.complete", WRITE_OWN),
    ("teams.tasks.fail", WRITE_OWN),
    ("teams.tasks.cancel", WRITE_OWN),
    ("teams.tasks.review", WRITE_OWN),
    ("teams.tasks.approve", WRITE_OWN),
    ("teams.tasks.reject", WRITE_OWN),
    ("teams.tasks.comment", WRITE_OWN),
    ("teams.tasks.delete", ADMIN),
    ("teams.workspace.list", READ_OWN),
    ("teams.workspace.read", READ_OWN),
    ("teams.workspace.write", WRITE_OWN),
    ("teams.workspace.delete", WRITE_OWN),
    ("heartbeat.get", READ_TENANT),
    ("heartbeat.logs", READ_TENANT),
    ("heartbeat.checklist.get", READ_TENANT),
    ("heartbeat.targets", READ_TENANT),
    ("heartbeat.set", ADMIN),
    ("heartbeat.toggle", ADMIN),
    ("heartbeat.test", ADMIN),
    ("heartbeat.checklist.set", ADMIN),
    // Skills (`ws/methods/skills.rs`): the tenant's, GoClaw's viewer reads and admin update.
    ("skills.list", READ_TENANT),
    ("skills.get", READ_TENANT),
    ("skills.update", ADMIN),
    // Tenants (`ws/methods/tenants.rs`, `crate::tenants`): GoClaw's viewer reads and admin
    // changes; below the owner a caller sees only its own tenant, and only its admins manage it.
    ("tenants.list", READ_TENANT),
    ("tenants.get", READ_TENANT),
    ("tenants.users.list", READ_TENANT),
    ("tenants.mine", READ_TENANT),
    ("tenants.create", PROVISION),
    ("tenants.update", ADMIN),
    ("tenants.users.add", PROVISION),
    ("tenants.users.remove", ADMIN),
    // Hooks (`ws/methods/hooks.rs`): the tenant's; GoClaw's viewer reads, operator test and
    // admin changes (command hooks: the owner only, checked by the handler).
    ("hooks.list", READ_TENANT),
    ("hooks.history", READ_TENANT),
    ("hooks.test", WRITE_TENANT),
    ("hooks.create", ADMIN),
    ("hooks.update", ADMIN),
    ("hooks.delete", ADMIN),
    ("hooks.toggle", ADMIN),
    // The configuration (`ws/methods/config.rs`): the owner in the master tenant, checked
    // again by the handler; `config.defaults` any admin of the master tenant.
    ("config.get", OWNER),
    ("config.apply", OWNER),
    ("config.patch", OWNER),
    ("config.schema", OWNER),
    ("config.defaults", ADMIN),
    // GoClaw dashboard methods for features this gateway lacks (`ws/methods/unsupported.rs`):
    // empty listings or NOT_IMPLEMENTED, with GoClaw's least roles.
    ("workstations.list", READ_TENANT),
    ("workstations.activity.list", READ_TENANT),
    ("workstations.create", ADMIN),
    ("workstations.update", ADMIN),
    ("workstations.delete", ADMIN),
    ("bitrix.portals.list", ADMIN),
    ("bitrix.portals.create", ADMIN),
    ("bitrix.portals.delete", ADMIN),
    ("bitrix.portals.get_install_url", ADMIN),
    ("config.permissions.list", ADMIN),
    ("config.permissions.check", ADMIN),
    ("config.permissions.grant", ADMIN),
    ("config.permissions.revoke", ADMIN),
    ("chat_behavior.preview", OWNER),
    ("whatsapp.qr.start", ADMIN),
    ("zalo.personal.qr.start", ADMIN),
    ("zalo.personal.contacts", ADMIN),
    ("logs.tail", ADMIN),
    ("run.timeline.get", READ_OWN),
];

/// Every HTTP route, by method and path pattern as the router spells it.
pub const ROUTE_ACCESS: &[(&str, &str, Rule)] = &[
    ("ANY", "/health", PUBLIC),
    ("GET", "/ready", PUBLIC),
    ("GET", "/", PUBLIC),
    ("GET", "/ws", PUBLIC),
    ("GET", "/v1/openapi.json", PUBLIC),
    ("GET", "/v1/edition", PUBLIC),
    ("GET", "/docs", PUBLIC),
    ("GET", "/docs/", PUBLIC),
    ("GET", "/docs/{*path}", PUBLIC),
    // The dashboard's files (`dashboard.rs`); what it shows comes from the API with the
    // caller's own credentials.
    ("GET", "/ui/{*path}", PUBLIC),
    ("GET", "/metrics", READ_ALL),
    // The production audit reads the whole configuration: the owner's (`http/doctor.rs`).
    ("GET", "/v1/system/doctor", OWNER),
    ("ANY", "/mcp/bridge", OWNER),
    ("POST", "/v1/chat/completions", WRITE_OWN),
    ("GET", "/v1/agents", READ_TENANT),
    ("POST", "/v1/agents", ADMIN),
    ("GET", "/v1/agents/{id}", READ_TENANT),
    ("PUT", "/v1/agents/{id}", ADMIN),
    ("DELETE", "/v1/agents/{id}", ADMIN),
    ("GET", "/v1/agents/{id}/episodic", READ_OWN),
    ("POST", "/v1/agents/{id}/episodic/search", READ_OWN),
    ("GET", "/v1/agents/{id}/kg/entities", READ_OWN),
    ("GET", "/v1/agents/{id}/kg/entities/{entityID}", READ_OWN),
    ("POST", "/v1/agents/{id}/kg/traverse", READ_OWN),
    ("GET", "/v1/agents/{id}/kg/dedup", READ_OWN),
    ("POST", "/v1/agents/{id}/kg/entities", WRITE_OWN),
    (
        "DELETE",
        "/v1/agents/{id}/kg/entities/{entityID}",
        WRITE_OWN,
    ),
    ("POST", "/v1/agents/{id}/kg/dedup/dismiss", WRITE_OWN),
    ("POST", "/v1/agents/{id}/kg/merge", WRITE_OWN),
    ("GET", "/v1/agents/{id}/kg/stats", READ_OWN),
    ("GET", "/v1/agents/{id}/kg/graph", READ_OWN),
    ("POST", "/v1/agents/{id}/kg/reset", WRITE_OWN),
    ("POST", "/v1/agents/{id}/kg/extract", WRITE_OWN),
    ("POST", "/v1/agents/{id}/kg/dedup/scan", WRITE_OWN),
    ("GET", "/v1/api-keys", ADMIN),
    ("POST", "/v1/api-keys", ADMIN),
    ("POST", "/v1/api-keys/{id}/revoke", ADMIN),
    ("DELETE", "/v1/api-keys/{id}", ADMIN),
    ("GET", "/v1/providers", READ_TENANT),
    ("POST", "/v1/providers", ADMIN),
    ("GET", "/v1/providers/{id}", READ_TENANT),
    ("PUT", "/v1/providers/{id}", ADMIN),
    ("DELETE", "/v1/providers/{id}", ADMIN),
    ("GET", "/v1/providers/{id}/models", READ_TENANT),
    ("POST", "/v1/providers/{id}/verify", ADMIN),
    ("GET", "/v1/traces", READ_OWN),
    ("GET", "/v1/traces/{id}", READ_OWN),
    ("GET", "/v1/usage/summary", READ_OWN),
    ("GET", "/v1/usage/timeseries", READ_OWN),
    ("GET", "/v1/usage/breakdown", READ_OWN),
    ("GET", "/v1/sessions", READ_OWN),
    ("GET", "/v1/system-configs", READ_TENANT),
    ("GET", "/v1/system-configs/{key}", READ_TENANT),
    ("PUT", "/v1/system-configs/{key}", ADMIN),
    ("DELETE", "/v1/system-configs/{key}", ADMIN),
    ("GET", "/v1/embedding/status", READ_TENANT),
    ("GET", "/v1/memory/documents", READ_OWN),
    ("GET", "/v1/agents/{id}/memory/documents", READ_OWN),
    ("GET", "/v1/agents/{id}/memory/documents/{*path}", READ_OWN),
    ("PUT", "/v1/agents/{id}/memory/documents/{*path}", WRITE_OWN),
    (
        "DELETE",
        "/v1/agents/{id}/memory/documents/{*path}",
        WRITE_OWN,
    ),
    ("GET", "/v1/agents/{id}/memory/chunks", READ_OWN),
    ("POST", "/v1/agents/{id}/memory/index", WRITE_OWN),
    ("POST", "/v1/agents/{id}/memory/index-all", WRITE_OWN),
    ("POST", "/v1/agents/{id}/memory/search", READ_OWN),
    ("GET", "/v1/vault/documents", READ_OWN),
    ("GET", "/v1/vault/documents/{docID}", READ_OWN),
    ("GET", "/v1/vault/documents/{docID}/links", READ_OWN),
    ("POST", "/v1/vault/search", READ_OWN),
    ("POST", "/v1/vault/rescan", ADMIN),
    ("GET", "/v1/agents/{id}/vault/documents", READ_OWN),
    ("GET", "/v1/agents/{id}/vault/documents/{docID}", READ_OWN),
    (
        "GET",
        "/v1/agents/{id}/vault/documents/{docID}/links",
        READ_OWN,
    ),
    ("POST", "/v1/agents/{id}/vault/search", READ_OWN),
    ("POST", "/v1/vault/documents", WRITE_OWN),
    ("PUT", "/v1/vault/documents/{docID}", WRITE_OWN),
    ("DELETE", "/v1/vault/documents/{docID}", WRITE_OWN),
    ("POST", "/v1/vault/links", WRITE_OWN),
    ("POST", "/v1/vault/upload", WRITE_OWN),
    ("POST", "/v1/vault/links/batch", READ_OWN),
    ("GET", "/v1/vault/tree", READ_OWN),
    ("GET", "/v1/vault/enrichment/status", READ_TENANT),
    ("POST", "/v1/vault/enrichment/stop", ADMIN),
    ("DELETE", "/v1/vault/links/{linkID}", WRITE_OWN),
    ("POST", "/v1/agents/{id}/vault/documents", WRITE_OWN),
    ("PUT", "/v1/agents/{id}/vault/documents/{docID}", WRITE_OWN),
    (
        "DELETE",
        "/v1/agents/{id}/vault/documents/{docID}",
        WRITE_OWN,
    ),
    ("POST", "/v1/agents/{id}/vault/links", WRITE_OWN),
    ("DELETE", "/v1/agents/{id}/vault/links/{linkID}", WRITE_OWN),
    // A team's board and files (`http/teams.rs`, `team_files.rs`), as their WebSocket methods:
    // below admin only the teams that name the caller's user.
    ("GET", "/v1/teams/{id}/events", READ_OWN),
    (
        "GET",
        "/v1/teams/{teamId}/attachments/{attachmentId}/download",
        READ_OWN,
    ),
    ("POST", "/v1/teams/{teamId}/workspace/upload", WRITE_OWN),
    // Files and uploads (`http/files.rs`, `http/media.rs`): below admin only the caller's own;
    // a signed `?ft=` link opens its one file without credentials.
    ("GET", "/v1/files/{*path}", READ_OWN),
    ("POST", "/v1/files/sign", READ_OWN),
    ("POST", "/v1/media/upload", WRITE_OWN),
    ("GET", "/v1/media/{id}", READ_OWN),
    ("PUT", "/v1/teams/{teamId}/workspace/move", WRITE_OWN),
    ("GET", "/v1/webhooks", ADMIN),
    ("POST", "/v1/webhooks", ADMIN),
    ("GET", "/v1/webhooks/{id}", ADMIN),
    ("PATCH", "/v1/webhooks/{id}", ADMIN),
    ("DELETE", "/v1/webhooks/{id}", ADMIN),
    ("POST", "/v1/webhooks/{id}/rotate", ADMIN),
    ("GET", "/v1/webhooks/{id}/calls", ADMIN),
    ("GET", "/v1/webhooks/{id}/calls/{callId}", ADMIN),
    // Called by other systems with a webhook's secret, which `webhooks/guard.rs` checks.
    ("POST", "/v1/webhooks/llm", PUBLIC),
    ("POST", "/v1/webhooks/message", PUBLIC),
    ("GET", "/v1/channels/instances", READ_TENANT),
    ("POST", "/v1/channels/instances", ADMIN),
    ("GET", "/v1/channels/instances/{id}", READ_TENANT),
    ("PUT", "/v1/channels/instances/{id}", ADMIN),
    ("DELETE", "/v1/channels/instances/{id}", ADMIN),
    // Skills (`skills/http.rs`): reads for viewers and up, writes for admins, in the tenant.
    ("GET", "/v1/skills", READ_TENANT),
    ("GET", "/v1/skills/{id}", READ_TENANT),
    ("GET", "/v1/skills/{id}/versions", READ_TENANT),
    ("POST", "/v1/skills/upload", ADMIN),
    ("GET", "/v1/skills/export", ADMIN),
    ("GET", "/v1/skills/runtimes", ADMIN),
    ("POST", "/v1/skills/import", ADMIN),
    ("PUT", "/v1/skills/{id}", ADMIN),
    ("DELETE", "/v1/skills/{id}", ADMIN),
    ("POST", "/v1/skills/{id}/toggle", ADMIN),
    ("POST", "/v1/skills/{id}/grants/agent", ADMIN),
    ("DELETE", "/v1/skills/{id}/grants/agent/{agentID}", ADMIN),
    ("POST", "/v1/skills/{id}/grants/user", ADMIN),
    ("DELETE", "/v1/skills/{id}/grants/user/{userID}", ADMIN),
    // MCP servers (`mcp_servers/`): reads for viewers and up, writes for admins, in the
    // tenant; everyone keeps their own credentials (admins anyone's).
    ("GET", "/v1/mcp/servers", READ_TENANT),
    ("POST", "/v1/mcp/servers", ADMIN),
    ("POST", "/v1/mcp/servers/test", ADMIN),
    ("GET", "/v1/mcp/servers/{id}", READ_TENANT),
    ("PUT", "/v1/mcp/servers/{id}", ADMIN),
    ("DELETE", "/v1/mcp/servers/{id}", ADMIN),
    ("POST", "/v1/mcp/servers/{id}/reconnect", ADMIN),
    ("GET", "/v1/mcp/servers/{id}/tools", READ_TENANT),
    ("GET", "/v1/mcp/servers/{id}/grants", READ_TENANT),
    ("POST", "/v1/mcp/servers/{id}/grants/agent", ADMIN),
    (
        "DELETE",
        "/v1/mcp/servers/{id}/grants/agent/{agentID}",
        ADMIN,
    ),
    ("GET", "/v1/mcp/grants/agent/{agentID}", READ_TENANT),
    ("POST", "/v1/mcp/servers/{id}/grants/user", ADMIN),
    ("DELETE", "/v1/mcp/servers/{id}/grants/user/{userID}", ADMIN),
    ("GET", "/v1/mcp/servers/{id}/user-credentials", READ_OWN),
    ("PUT", "/v1/mcp/servers/{id}/user-credentials", WRITE_OWN),
    ("DELETE", "/v1/mcp/servers/{id}/user-credentials", WRITE_OWN),
    // Tenants (`tenants/http.rs`), as their WebSocket methods.
    ("GET", "/v1/tenants", READ_TENANT),
    ("POST", "/v1/tenants", PROVISION),
    ("GET", "/v1/tenants/{id}", READ_TENANT),
    ("PATCH", "/v1/tenants/{id}", ADMIN),
    ("GET", "/v1/tenants/{id}/users", READ_TENANT),
    ("POST", "/v1/tenants/{id}/users", PROVISION),
    ("DELETE", "/v1/tenants/{id}/users/{userId}", ADMIN),
    // A platform delivering updates; the channel checks its own secret.
    ("POST", "/channels/{name}/webhook", PUBLIC),
];

/// Every pushed event. `shutdown` reaches every open connection, signed in or not.
pub const EVENT_ACCESS: &[(Event, Rule)] = &[
    (Event::Agent, READ_OWN),
    (Event::ExecApprovalRequested, APPROVALS),
    (Event::ExecApprovalResolved, APPROVALS),
    (Event::Shutdown, PUBLIC),
    (Event::VaultEnrichProgress, READ_TENANT),
    (Event::DevicePairRequested, ADMIN),
    (Event::DevicePairResolved, ADMIN),
    // A job's runs reach its owner and the tenant's admins.
    (Event::Cron, READ_OWN),
    // A team's events reach the tenant's admins and the users the team names (`OwnUser`, the
    // team's users standing in for the owner: `tenant_events::Audience`).
    (Event::TeamTaskCreated, READ_OWN),
    (Event::TeamTaskClaimed, READ_OWN),
    (Event::TeamTaskCompleted, READ_OWN),
    (Event::TeamTaskCancelled, READ_OWN),
    (Event::TeamTaskFailed, READ_OWN),
    (Event::TeamTaskReviewed, READ_OWN),
    (Event::TeamTaskApproved, READ_OWN),
    (Event::TeamTaskRejected, READ_OWN),
    (Event::TeamTaskProgress, READ_OWN),
    (Event::TeamTaskCommented, READ_OWN),
    (Event::TeamTaskAssigned, READ_OWN),
    (Event::TeamTaskUpdated, READ_OWN),
    (Event::TeamTaskDeleted, READ_OWN),
    (Event::TeamTaskStale, READ_OWN),
    (Event::TeamTaskDispatched, READ_OWN),
    (Event::TeamTaskAttachmentAdded, READ_OWN),
    (Event::TeamCreated, READ_OWN),
    (Event::TeamUpdated, READ_OWN),
    (Event::TeamDeleted, READ_OWN),
    (Event::TeamMemberAdded, READ_OWN),
    (Event::TeamMemberRemoved, READ_OWN),
    (Event::AgentLinkCreated, ADMIN),
    (Event::AgentLinkUpdated, ADMIN),
    (Event::AgentLinkDeleted, ADMIN),
    // A delegation reaches the user it runs for and the tenant's admins.
    (Event::DelegationStarted, READ_OWN),
    (Event::DelegationCompleted, READ_OWN),
    (Event::DelegationFailed, READ_OWN),
    (Event::DelegationCancelled, READ_OWN),
    (Event::DelegationProgress, READ_OWN),
    (Event::DelegationAccumulated, READ_OWN),
    (Event::DelegationAnnounce, READ_OWN),
    // GoClaw sends heartbeats to everyone; here they stay within the agent's tenant.
    (Event::Heartbeat, READ_TENANT),
    // Only the removed user's connections in that tenant (`ws::wire::tenant_event_frame`).
    (Event::TenantAccessRevoked, READ_OWN),
];

/// What a connection signed in as `principal` watches of the runtime's `agent` events, by the
/// `agent` entry of [`EVENT_ACCESS`]: its tenant (admins) or its own runs; `None` when it may
/// see none. Only these events reach the connection at all.
pub fn agent_watch_scope(principal: &Principal) -> Option<goclaw_agent::WatchScope> {
    let rule = event_rule(Event::Agent)?;
    if rule.access != Access::Public && rule.check(principal).is_err() {
        return None;
    }
    match rule.filter {
        Filter::None => Some(goclaw_agent::WatchScope::everything()),
        Filter::Tenant => Some(goclaw_agent::WatchScope::tenant(principal.tenant_id)),
        Filter::OwnUser if principal.sees_all() => {
            Some(goclaw_agent::WatchScope::tenant(principal.tenant_id))
        }
        Filter::OwnUser if principal.user_id.is_empty() => None,
        Filter::OwnUser => Some(goclaw_agent::WatchScope::user(
            principal.tenant_id,
            principal.user_id.clone(),
        )),
    }
}

/// The entry of a WebSocket method; `None` for a method that does not exist.
pub fn method_rule(method: &str) -> Option<Rule> {
    METHOD_ACCESS
        .iter()
        .find(|(m, _)| *m == method)
        .map(|(_, rule)| *rule)
}

/// The entry of an HTTP route; `None` for a route missing from the table.
pub fn route_rule(method: &str, path: &str) -> Option<Rule> {
    ROUTE_ACCESS
        .iter()
        .find(|(m, p, _)| *p == path && (*m == method || *m == "ANY"))
        .map(|(_, _, rule)| *rule)
}

/// The entry of a pushed event; `None` for an event missing from the table.
pub fn event_rule(event: Event) -> Option<Rule> {
    EVENT_ACCESS
        .iter()
        .find(|(e, _)| *e == event)
        .map(|(_, rule)| *rule)
}

/// The access a WebSocket method needs; `None` for a method missing from the table.
pub fn method_access(method: &str) -> Option<Access> {
    method_rule(method).map(|rule| rule.access)
}

/// The access an HTTP route needs; `None` for a route missing from the table.
pub fn route_access(method: &str, path: &str) -> Option<Access> {
    route_rule(method, path).map(|rule| rule.access)
}

/// Whether a connection signed in as `principal` (`None` before `connect`) is sent `event`
/// about data of `owner` (`None` for an event that belongs to nobody, such as `shutdown`).
pub fn may_receive(event: Event, principal: Option<&Principal>, owner: Option<Owner<'_>>) -> bool {
    let Some(rule) = event_rule(event) else {
        return false;
    };
    if rule.access == Access::Public {
        return true;
    }
    let Some(principal) = principal else {
        return false;
    };
    if rule.check(principal).is_err() {
        return false;
    }
    match (rule.filter, owner) {
        (Filter::None, _) => true,
        (filter, Some(owner)) => filter.admits(principal, owner),
        (_, None) => false,
    }
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
