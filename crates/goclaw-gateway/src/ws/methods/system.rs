//! `connect`, `health` and `status`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::params::parse;
use super::{Connection, Ctx};
use crate::auth::Role;
use crate::tenants::select::{Credential, Refused, select};
use crate::ws::frames::{ErrorCode, ErrorShape};

/// GoClaw's refusal of a tenant the caller is no (longer a) member of.
pub fn revoked() -> ErrorShape {
    ErrorShape::new(ErrorCode::TenantAccessRevoked, "tenant access revoked")
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConnectParams {
    token: String,
    user_id: String,
    sender_id: String,
    /// The tenant to work in (UUID or slug); `tenant_scope` is GoClaw's older name for it.
    tenant_id: String,
    tenant_scope: String,
    /// A paired browser's tenant (slug).
    tenant_hint: String,
}

impl ConnectParams {
    /// The tenant the caller names, by GoClaw's order of the three params.
    fn requested_tenant(&self) -> &str {
        [&self.tenant_id, &self.tenant_hint, &self.tenant_scope]
            .into_iter()
            .map(|name| name.trim())
            .find(|name| !name.is_empty())
            .unwrap_or_default()
    }
}

/// Authenticates the connection: the gateway token, an API key, the no-auth fallback, or a
/// paired browser's `sender_id`; without a token where one is needed, a browser pairing code.
/// Then the tenant the caller names, where its credential allows (`crate::tenants::select`).
pub async fn connect(conn: &mut Connection, params: Value) -> Result<Value, ErrorShape> {
    let params: ConnectParams = parse(params)?;
    let user_id = params.user_id.chars().take(255).collect::<String>();
    let mut paired_sender = None;
    let (mut principal, key, credential) = if crate::api_keys::looks_like_key(&params.token)
        && !conn.state.auth.is_gateway_token(&params.token)
    {
        let (principal, key, bound) = super::api_keys::login(conn, &params.token, &user_id).await?;
        (principal, key, Credential::ApiKey { bound })
    } else {
        match conn.state.auth.authenticate(&params.token, &user_id) {
            Ok(principal) if conn.state.auth.is_gateway_token(&params.token) => {
                (principal, None, Credential::GatewayToken)
            }
            Ok(principal) => (principal, None, Credential::NoAuth),
            Err(_) if params.token.is_empty() => {
                let sender = params.sender_id.trim();
                match super::browser_pairing::paired_operator(conn, sender, &user_id).await? {
                    Some(principal) => {
                        paired_sender = Some(sender.to_owned());
                        (principal, None, Credential::BrowserPairing)
                    }
                    None => return super::browser_pairing::request(conn, sender).await,
                }
            }
            Err(e) => {
                tracing::warn!(remote = %conn.remote, user_id = %user_id, "security.ws_connect_rejected");
                return Err(ErrorShape::unauthorized(e.to_string()));
            }
        }
    };
    let store = conn.state.store.as_ref();
    let membership =
        match select(store, &mut principal, credential, params.requested_tenant()).await {
            Ok(membership) => membership,
            Err(Refused::Revoked) => return Err(revoked()),
            Err(Refused::Store(error)) => return Err(super::sessions::store_error(&error)),
        };
    let is_owner = principal.role == Role::Owner;
    let mut payload = json!({
        "protocol": goclaw_core::PROTOCOL_VERSION,
        "role": principal.role.as_str(),
        "user_id": principal.user_id,
        "tenant_id": principal.tenant_id.to_string(),
        "is_owner": is_owner,
        "is_master_scope": is_owner || principal.tenant_id == goclaw_core::MASTER_TENANT_ID,
        "edition": "standard",
        "server": { "name": "goclaw", "version": conn.state.version },
    });
    // The tenant's name and slug, as GoClaw adds them when it can read the tenant.
    if let Ok(tenant) = conn.state.store.tenants().get(principal.tenant_id).await {
        payload["tenant_name"] = Value::String(tenant.name);
        payload["tenant_slug"] = Value::String(tenant.slug);
    }
    conn.principal = Some(principal);
    conn.membership = membership;
    conn.api_key = key;
    conn.paired_sender = paired_sender;
    conn.pending_sender = None;
    Ok(payload)
}

/// Gateway health as a client sees it.
pub async fn health(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let database = match ctx.state.store.ping().await {
        Ok(()) => "ok",
        Err(_) => "error",
    };
    let clients = if ctx.principal.sees_all() {
        let owner = ctx.principal.role == Role::Owner;
        let visible: Vec<_> = ctx
            .state
            .clients
            .list()
            .into_iter()
            .filter(|c| owner || c.tenant_id == ctx.principal.tenant_id)
            .collect();
        serde_json::to_value(visible).unwrap_or_default()
    } else {
        json!([])
    };
    Ok(json!({
        "status": "ok",
        "version": ctx.state.version,
        "uptime": ctx.state.started.elapsed().as_millis() as u64,
        "mode": "managed",
        "database": database,
        "tools": ctx.state.runtime.tool_count(),
        "clients": clients,
        "currentId": ctx.conn_id.to_string(),
    }))
}

/// The tenant's agents (`{id, model, isRunning}` each), counts of agents, clients and
/// sessions, and the load of each scheduler lane (`lanes`, beyond GoClaw's shape).
pub async fn status(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let store = &ctx.state.store;
    let tenant = ctx.principal.tenant_id;
    let agents = store
        .agents()
        .list(tenant)
        .await
        .map_err(|e| super::sessions::store_error(&e))?;
    let filter = goclaw_core::SessionFilter {
        limit: 1,
        ..Default::default()
    };
    let running = ctx.state.runtime.running_agents(tenant);
    let (_, sessions) = store
        .sessions()
        .list(tenant, &filter)
        .await
        .map_err(|e| super::sessions::store_error(&e))?;
    Ok(json!({
        "agents": agents
            .iter()
            .map(|a| json!({
                "id": a.agent_key.to_string(),
                "model": ctx.state.runtime.primary_model(a, None).1,
                "isRunning": running.contains(a.agent_key.as_str()),
            }))
            .collect::<Vec<_>>(),
        "agentTotal": agents.len(),
        "clients": ctx.state.clients.len(),
        "sessions": sessions,
        "lanes": ctx.state.runtime.lane_stats().iter().map(|l| json!({
            "lane": l.lane.as_str(),
            "limit": l.limit,
            "running": l.running,
            "waiting": l.waiting,
        })).collect::<Vec<_>>(),
    }))
}
