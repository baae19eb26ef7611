//! Method dispatch: `connect` first, then each method checked against its entry in the access
//! table (`scopes::METHOD_ACCESS`: least role and API-key scopes; anything not in it is refused)
//! and handed to its handler.

mod agent_links;
mod agents;
mod api_keys;
pub mod approvals;
pub(crate) mod browser_pairing;
mod channels;
mod chat;
mod config;
mod cron;
mod heartbeat;
mod hooks;
mod pairing;
pub(super) mod params;
mod providers;
pub(crate) mod sessions;
mod skills;
mod system;
mod team_tasks;
mod team_trail;
mod team_workspace;
mod teams;
mod tenants;
pub(crate) mod unsupported;
mod usage;

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;

use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use super::connection::Outbound;
use super::frames::{ErrorShape, RequestFrame};
use crate::api_keys::verify::BoundKey;
use crate::auth::Principal;
use crate::config_admin::EditKind;
use crate::routes::AppState;

/// A handler's answer: now, or once a slow operation (a chat run) finishes.
pub enum Reply {
    Now(Result<Value, ErrorShape>),
    Later(Pin<Box<dyn Future<Output = Result<Value, ErrorShape>> + Send>>),
}

impl From<Result<Value, ErrorShape>> for Reply {
    fn from(result: Result<Value, ErrorShape>) -> Self {
        Reply::Now(result)
    }
}

/// The state of one connection that handlers see.
pub struct Connection {
    pub id: Uuid,
    pub remote: SocketAddr,
    pub connected_at: DateTime<Utc>,
    pub state: AppState,
    pub outbound: Outbound,
    principal: Option<Principal>,
    /// The API key the connection authenticated with, re-checked on every request.
    api_key: Option<BoundKey>,
    /// The paired browser's sender id, when it signed in as one.
    paired_sender: Option<String>,
    /// The browser's sender id while its pairing code waits for approval.
    pending_sender: Option<String>,
    /// Whether the caller was admitted to its tenant by its membership, which every request
    /// checks again.
    membership: bool,
}

impl Connection {
    pub fn new(id: Uuid, remote: SocketAddr, state: AppState, outbound: Outbound) -> Self {
        Self {
            id,
            remote,
            connected_at: Utc::now(),
            state,
            outbound,
            principal: None,
            api_key: None,
            paired_sender: None,
            pending_sender: None,
            membership: false,
        }
    }

    /// The paired browser's sender id, when it signed in as one.
    pub fn paired_sender(&self) -> Option<&str> {
        self.paired_sender.as_deref()
    }

    /// The authenticated caller, once `connect` succeeded.
    pub fn principal(&self) -> Option<&Principal> {
        self.principal.as_ref()
    }

    /// The API key the connection authenticated with, if it did with one.
    pub fn api_key(&self) -> Option<&BoundKey> {
        self.api_key.as_ref()
    }
}

/// Routes one request.
pub async fn dispatch(conn: &mut Connection, request: RequestFrame) -> Reply {
    if request.method == "connect" {
        return system::connect(conn, request.params).await.into();
    }
    if request.method == "browser.pairing.status"
        && conn.principal.is_none()
        && conn.pending_sender.is_some()
    {
        return browser_pairing::status_while_pending(conn, request.params)
            .await
            .into();
    }
    let Some(principal) = conn.principal.clone() else {
        return Reply::Now(Err(ErrorShape::unauthorized(
            "first request must be 'connect'",
        )));
    };
    let Some(rule) = crate::scopes::method_rule(&request.method) else {
        return Reply::Now(Err(ErrorShape::invalid(format!(
            "unknown method: {}",
            request.method
        ))));
    };
    let needed = rule.role;
    if let Err(refusal) = api_keys::guard(conn, &principal, &request.method).await {
        return Reply::Now(Err(refusal));
    }
    if conn.membership
        && let Err(refusal) = still_member(conn, &principal).await
    {
        return Reply::Now(Err(refusal));
    }
    if principal.role < needed {
        tracing::warn!(
            method = %request.method,
            role = %principal.role,
            needed = %needed,
            user_id = %principal.user_id,
            "security.permission_denied"
        );
        return Reply::Now(Err(ErrorShape::unauthorized(format!(
            "permission denied: {} requires {} role",
            request.method, needed
        ))));
    }
    let ctx = Ctx {
        state: &conn.state,
        principal: &principal,
        conn_id: conn.id,
        remote: conn.remote,
        filter: rule.filter,
    };
    let params = request.params;
    match request.method.as_str() {
        "health" => system::health(&ctx).await.into(),
        "status" => system::status(&ctx).await.into(),
        "usage.get" => usage::get(&ctx, params).await.into(),
        "usage.summary" => usage::summary(&ctx).await.into(),
        "quota.usage" => usage::quota(&ctx).await.into(),
        "chat.send" => chat::send(&ctx, params).await,
        "chat.history" => chat::history(&ctx, params).await.into(),
        "chat.abort" => chat::abort(&ctx, params).await.into(),
        "chat.inject" => chat::inject(&ctx, params).await.into(),
        "chat.session.status" => chat::session_status(&ctx, params).await.into(),
        "sessions.list" => sessions::list(&ctx, params).await.into(),
        "sessions.preview" => sessions::preview(&ctx, params).await.into(),
        "sessions.patch" => sessions::patch(&ctx, params).await.into(),
        "sessions.delete" => sessions::delete(&ctx, params).await.into(),
        "sessions.reset" => sessions::reset(&ctx, params).await.into(),
        "sessions.compact" => sessions::compact(&ctx, params).await.into(),
        "agents.list" => agents::list(&ctx).await.into(),
        "agents.create" => agents::create(&ctx, params).await.into(),
        "agents.update" => agents::update(&ctx, params).await.into(),
        "agents.delete" => agents::delete(&ctx, params).await.into(),
        "agents.files.list" => agents::files_list(&ctx, params).await.into(),
        "agents.files.get" => agents::files_get(&ctx, params).await.into(),
        "agents.files.set" => agents::files_set(&ctx, params).await.into(),
        "providers.list" => providers::list(&ctx).await.into(),
        "providers.create" => providers::create(&ctx, params).await.into(),
        "providers.update" => providers::update(&ctx, params).await.into(),
        "providers.delete" => providers::delete(&ctx, params).await.into(),
        "api_keys.list" => api_keys::list(&ctx).await.into(),
        "api_keys.create" => api_keys::create(&ctx, params).await.into(),
        "api_keys.revoke" => api_keys::revoke(&ctx, params).await.into(),
        "exec.approval.list" => approvals::list(&ctx).await.into(),
        "exec.approval.approve" => approvals::resolve(&ctx, params, true).await.into(),
        "exec.approval.deny" => approvals::resolve(&ctx, params, false).await.into(),
        "device.pair.request" => pairing::request(&ctx, params).await.into(),
        "device.pair.approve" => pairing::approve(&ctx, params).await.into(),
        "device.pair.deny" => pairing::deny(&ctx, params).await.into(),
        "device.pair.list" => pairing::list(&ctx).await.into(),
        "device.pair.revoke" => pairing::revoke(&ctx, params).await.into(),
        "browser.pairing.status" => browser_pairing::status(&ctx, params).await.into(),
        "channels.list" => channels::list(&ctx).await.into(),
        "channels.status" => channels::status(&ctx).await.into(),
        "channels.toggle" => channels::toggle(&ctx, params).await.into(),
        "channels.instances.list" => channels::instances_list(&ctx).await.into(),
        "channels.instances.get" => channels::instances_get(&ctx, params).await.into(),
        "channels.instances.create" => channels::instances_create(&ctx, params).await.into(),
        "channels.instances.update" => channels::instances_update(&ctx, params).await.into(),
        "channels.instances.delete" => channels::instances_delete(&ctx, params).await.into(),
        "cron.list" => cron::list(&ctx, params).await.into(),
        "cron.status" => cron::status(&ctx).await.into(),
        "cron.create" => cron::create(&ctx, params).await.into(),
        "cron.update" => cron::update(&ctx, params).await.into(),
        "cron.delete" => cron::delete(&ctx, params).await.into(),
        "cron.toggle" => cron::toggle(&ctx, params).await.into(),
        "cron.run" => cron::run(&ctx, params).await.into(),
        "cron.runs" => cron::runs(&ctx, params).await.into(),
        // Teams, their task boards and delegation links.
        "agents.links.list" => agent_links::list(&ctx, params).await.into(),
        "agents.links.create" => agent_links::create(&ctx, params).await.into(),
        "agents.links.update" => agent_links::update(&ctx, params).await.into(),
        "agents.links.delete" => agent_links::delete(&ctx, params).await.into(),
        "teams.list" => teams::list(&ctx).await.into(),
        "teams.get" => teams::get(&ctx, params).await.into(),
        "teams.create" => teams::create(&ctx, params).await.into(),
        "teams.update" => teams::update(&ctx, params).await.into(),
        "teams.delete" => teams::delete(&ctx, params).await.into(),
        "teams.members.add" => teams::add_member(&ctx, params).await.into(),
        "teams.members.remove" => teams::remove_member(&ctx, params).await.into(),
        "teams.tasks.list" => team_tasks::list(&ctx, params).await.into(),
        "teams.tasks.get" => team_tasks::get(&ctx, params).await.into(),
        "teams.tasks.get-light" => team_tasks::get_light(&ctx, params).await.into(),
        "teams.tasks.delete-bulk" => team_tasks::delete_bulk(&ctx, params).await.into(),
        "teams.scopes" => teams::scopes(&ctx, params).await.into(),
        "teams.known_users" => team_trail::known_users(&ctx, params).await.into(),
        "teams.events.list" => team_trail::events_list(&ctx, params).await.into(),
        "teams.tasks.events" => team_trail::task_events(&ctx, params).await.into(),
        "teams.tasks.comments" => team_tasks::comments(&ctx, params).await.into(),
        "teams.tasks.active-by-session" => team_tasks::active_by_session(&ctx, params).await.into(),
        "teams.tasks.create" => team_tasks::create(&ctx, params).await.into(),
        "teams.tasks.assign" => team_tasks::assign(&ctx, params).await.into(),
        "teams.tasks.claim" => team_tasks::claim(&ctx, params).await.into(),
        "teams.tasks.progress" => team_tasks::progress(&ctx, params).await.into(),
        "teams.tasks.complete" => team_tasks::complete(&ctx, params).await.into(),
        "teams.tasks.fail" => team_tasks::fail(&ctx, params).await.into(),
        "teams.tasks.cancel" => team_tasks::cancel(&ctx, params).await.into(),
        "teams.tasks.review" => team_tasks::review(&ctx, params).await.into(),
        "teams.tasks.approve" => team_tasks::approve(&ctx, params).await.into(),
        "teams.tasks.reject" => team_tasks::reject(&ctx, params).await.into(),
        "teams.tasks.comment" => team_tasks::comment(&ctx, params).await.into(),
        "teams.tasks.delete" => team_tasks::delete(&ctx, params).await.into(),
        "teams.workspace.list" => team_workspace::list(&ctx, params).await.into(),
        "teams.workspace.read" => team_workspace::read(&ctx, params).await.into(),
        "teams.workspace.write" => team_workspace::write(&ctx, params).await.into(),
        "teams.workspace.delete" => team_workspace::delete(&ctx, params).await.into(),
        "heartbeat.get" => heartbeat::get(&ctx, params).await.into(),
        "heartbeat.set" => heartbeat::set(&ctx, params).await.into(),
        "heartbeat.toggle" => heartbeat::toggle(&ctx, params).await.into(),
        "heartbeat.test" => heartbeat::test(&ctx, params).await.into(),
        "heartbeat.logs" => heartbeat::logs(&ctx, params).await.into(),
        "heartbeat.checklist.get" => heartbeat::checklist_get(&ctx, params).await.into(),
        "heartbeat.checklist.set" => heartbeat::checklist_set(&ctx, params).await.into(),
        "heartbeat.targets" => heartbeat::targets(&ctx, params).await.into(),
        "hooks.list" => hooks::list(&ctx, params).await.into(),
        "hooks.create" => hooks::create(&ctx, params).await.into(),
        "hooks.update" => hooks::update(&ctx, params).await.into(),
        "hooks.delete" => hooks::delete(&ctx, params).await.into(),
        "hooks.toggle" => hooks::toggle(&ctx, params).await.into(),
        "hooks.test" => hooks::test(&ctx, params).await.into(),
        "hooks.history" => hooks::history(&ctx, params).await.into(),
        "skills.list" => skills::list(&ctx).await.into(),
        "skills.get" => skills::get(&ctx, params).await.into(),
        "skills.update" => skills::update(&ctx, params).await.into(),
        // The configuration (`ws/methods/config.rs`).
        "config.get" => config::get(&ctx).await.into(),
        "config.apply" => config::edit(&ctx, params, EditKind::Apply).await.into(),
        "config.patch" => config::edit(&ctx, params, EditKind::Patch).await.into(),
        "config.schema" => config::schema(&ctx).await.into(),
        "config.defaults" => config::defaults(&ctx).await.into(),
        // GoClaw dashboard methods of features this gateway lacks (`ws/methods/unsupported.rs`).
        "workstations.list" => unsupported::empty_list("workstations").into(),
        "bitrix.portals.list" => unsupported::empty_list("portals").into(),
        "config.permissions.list" => unsupported::empty_list("permissions").into(),
        "workstations.create" => unsupported::not_implemented("workstations.create").into(),
        "workstations.update" => unsupported::not_implemented("workstations.update").into(),
        "workstations.delete" => unsupported::not_implemented("workstations.delete").into(),
        "workstations.activity.list" => {
            unsupported::not_implemented("workstations.activity.list").into()
        }
        "bitrix.portals.create" => unsupported::not_implemented("bitrix.portals.create").into(),
        "bitrix.portals.delete" => unsupported::not_implemented("bitrix.portals.delete").into(),
        "bitrix.portals.get_install_url" => {
            unsupported::not_implemented("bitrix.portals.get_install_url").into()
        }
        "config.permissions.check" => {
            unsupported::not_implemented("config.permissions.check").into()
        }
        "config.permissions.grant" => {
            unsupported::not_implemented("config.permissions.grant").into()
        }
        "config.permissions.revoke" => {
            unsupported::not_implemented("config.permissions.revoke").into()
        }
        "chat_behavior.preview" => unsupported::not_implemented("chat_behavior.preview").into(),
        "whatsapp.qr.start" => unsupported::not_implemented("whatsapp.qr.start").into(),
        "zalo.personal.qr.start" => unsupported::not_implemented("zalo.personal.qr.start").into(),
        "zalo.personal.contacts" => unsupported::not_implemented("zalo.personal.contacts").into(),
        "logs.tail" => unsupported::not_implemented("logs.tail").into(),
        "run.timeline.get" => unsupported::not_implemented("run.timeline.get").into(),
        "tenants.list" => tenants::list(&ctx).await.into(),
        "tenants.get" => tenants::get(&ctx, params).await.into(),
        "tenants.create" => tenants::create(&ctx, params).await.into(),
        "tenants.update" => tenants::update(&ctx, params).await.into(),
        "tenants.users.list" => tenants::users_list(&ctx, params).await.into(),
        "tenants.users.add" => tenants::users_add(&ctx, params).await.into(),
        "tenants.users.remove" => tenants::users_remove(&ctx, params).await.into(),
        "tenants.mine" => tenants::mine(&ctx).await.into(),
        other => Reply::Now(Err(ErrorShape::invalid(format!("unknown method: {other}")))),
    }
}

/// Refuses a caller admitted by a membership it no longer has (or whose tenant is no longer
/// active): GoClaw's `TENANT_ACCESS_REVOKED`.
async fn still_member(conn: &Connection, principal: &Principal) -> Result<(), ErrorShape> {
    let store = conn.state.store.as_ref();
    match crate::tenants::select::still_admitted(store, principal.tenant_id, &principal.user_id)
        .await
    {
        Ok(true) => Ok(()),
        Ok(false) => {
            tracing::warn!(
                user_id = %principal.user_id,
                tenant_id = %principal.tenant_id,
                "security.tenant_access_revoked"
            );
            Err(system::revoked())
        }
        Err(crate::tenants::select::Refused::Store(error)) => Err(sessions::store_error(&error)),
        Err(crate::tenants::select::Refused::Revoked) => Err(system::revoked()),
    }
}

/// What a handler may use.
pub struct Ctx<'a> {
    pub state: &'a AppState,
    pub principal: &'a Principal,
    pub conn_id: Uuid,
    /// The peer address, for security logs.
    pub remote: SocketAddr,
    /// How the method's results are narrowed for this caller (its entry in the access table).
    pub filter: crate::scopes::Filter,
}

impl Ctx<'_> {
    /// Whether the caller may see something of `user_id` in its tenant, by the method's filter.
    pub fn may_see_user(&self, user_id: &str) -> bool {
        let owner = crate::scopes::Owner {
            tenant_id: self.principal.tenant_id,
            user_id,
        };
        self.filter.admits(self.principal, owner)
    }

    /// The user a listing is narrowed to: the caller's own, unless the filter lets it see
    /// the whole tenant.
    pub fn listing_user(&self) -> Option<String> {
        let narrowed = self.filter == crate::scopes::Filter::OwnUser && !self.principal.sees_all();
        narrowed.then(|| self.principal.user_id.clone())
    }
}

#[cfg(test)]
mod tests {
    use crate::auth::Role;

    /// The least role `method` needs, from its entry in `scopes::METHOD_ACCESS`.
    fn min_role(method: &str) -> Option<Role> {
        crate::scopes::method_rule(method).map(|rule| rule.role)
    }

    #[test]
    fn unlisted_methods_are_denied() {
        assert_eq!(min_role("config.applyx"), None);
        assert_eq!(min_role("chat.sendx"), None);
        assert_eq!(min_role(""), None);
    }

    #[test]
    fn roles_follow_goclaw() {
        assert_eq!(min_role("chat.send"), Some(Role::Operator));
        assert_eq!(min_role("chat.history"), Some(Role::Viewer));
        assert_eq!(min_role("agents.create"), Some(Role::Admin));
        assert_eq!(min_role("agents.files.set"), Some(Role::Operator));
        assert_eq!(min_role("sessions.delete"), Some(Role::Operator));
    }
}
