//! `connect`, `health` and `status`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::params::parse;
use super::{Connection, Ctx};
use crate::auth::Role;
use crate::ws::frames::ErrorShape;

#[derive(Deserialize, Default)]
#[serde(default)]
struct ConnectParams {
    token: String,
    user_id: String,
    sender_id: String,
}

/// Authenticates the connection: the gateway token, an API key, the no-auth fallback, or a
/// paired browser's `sender_id`; without a token where one is needed, a browser pairing code.
pub async fn connect(conn: &mut Connection, params: Value) -> Result<Value, ErrorShape> {
    let params: ConnectParams = parse(params)?;
    let user_id = params.user_id.chars().take(255).collect::<String>();
    let mut paired_sender = None;
    let (principal, key) = if crate::api_keys::looks_like_key(&params.token)
        && !conn.state.auth.is_gateway_token(&params.token)
    {
        super::api_keys::login(conn, &params.token, &user_id).await?
    } else {
        match conn.state.auth.authenticate(&params.token, &user_id) {
            Ok(principal) => (principal, None),
            Err(_) if params.token.is_empty() => {
                let sender = params.sender_id.trim();
                match super::browser_pairing::paired_operator(conn, sender, &user_id).await? {
                    Some(principal) => {
                        paired_sender = Some(sender.to_owned());
                        (principal, None)
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
        serde_json::to_value(ctx.state.clients.list()).unwrap_or_default()
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
