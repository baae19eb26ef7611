//! `/mcp/bridge`: the gateway's agent tools served as an MCP streamable-HTTP server (stateless,
//! JSON answers), for agent CLIs that run outside the gateway and call back into it.
//!
//! Who may call: only the holder of the gateway token (`Authorization: Bearer <token>`), as in
//! GoClaw — API keys, whatever their scopes, are answered 401 like a wrong token. Without a
//! gateway token the bridge is off: every request gets 403 with GoClaw's body, and start-up logs
//! `security.mcp_bridge_disabled`.
//!
//! Whom a call acts for comes from the context headers ([`signature::CONTEXT_HEADERS`]). Any of
//! them present requires a valid `X-Bridge-Sig` over all nine, else 403 — stricter than GoClaw,
//! which checks the signature only when an agent or user is named and takes the channel headers
//! unsigned. A request without context headers acts as the owner on the master tenant's default
//! agent: the bearer already is the owner's credential, so nothing is gained by forging less.
//! The signed values decide the tenant (`X-Tenant-ID`, a UUID; master when absent), the agent
//! (`X-Agent-ID`, its UUID or key; the tenant's default agent when absent), the user, the
//! channel and the session key (`X-Session-Key`; else the channel chat's key when `X-Channel`
//! and `X-Chat-ID` are given; else `agent:<key>:mcp-bridge`). `X-Workspace` and `X-Local-Key`
//! are covered by the signature but not used: tools always work in the workspace the agent's
//! runs use for that user. A named user who is not an owner gets a user's trust, so their
//! shell and file calls go where that user's runs would (the sandbox), never straight to the
//! host.
//!
//! What may be called: the runtime's registered tools, behind the same guards runs use (tool
//! policy of the agent, rate limit, credential scrubbing) — `tools/list` shows only what the
//! agent may use, and a call to anything else is refused.

mod server;
pub mod signature;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use goclaw_core::{Agent, MASTER_TENANT_ID, SessionKey, TenantId, ToolContext, Trust};

use crate::routes::AppState;
use signature::{BridgeHeaders, SIGNATURE_HEADER};

/// GoClaw's answer while no gateway token is configured.
pub const DISABLED_BODY: &str =
    r#"{"error":"mcp bridge disabled: set GOCLAW_GATEWAY_TOKEN to enable"}"#;

/// What a verified request acts as: the agent (for the tool policy) and the context its tools
/// run in. Handed to the MCP server through the request's extensions.
#[derive(Clone)]
pub(crate) struct BridgeScope {
    pub agent: Agent,
    pub context: ToolContext,
}

/// The bridge route: served when a gateway token is configured, answered 403 otherwise.
pub(crate) fn router(state: &AppState) -> Router<AppState> {
    let Some(token) = state.auth.token.clone().filter(|t| !t.is_empty()) else {
        tracing::warn!(route = "/mcp/bridge", "security.mcp_bridge_disabled");
        return Router::new().route("/mcp/bridge", any(disabled));
    };
    let bridge = Arc::new(server::Bridge::new(state.clone(), token));
    Router::new().route(
        "/mcp/bridge",
        any(move |State(state): State<AppState>, request: Request| {
            let bridge = bridge.clone();
            async move { serve(&bridge, &state, request).await }
        }),
    )
}

/// Answers while no gateway token is configured (and documents the route).
#[utoipa::path(
    method(get, post, put, delete, patch, trace),
    path = "/mcp/bridge",
    tag = "system",
    operation_id = "mcp_bridge",
    summary = "MCP streamable-HTTP server of the agent tools (gateway token only)",
    description = "MCP JSON-RPC over streamable HTTP (POST; stateless). Only the gateway token \
        is accepted. The context headers X-Agent-ID, X-User-ID, X-Channel, X-Chat-ID, \
        X-Peer-Kind, X-Workspace, X-Tenant-ID, X-Local-Key and X-Session-Key need X-Bridge-Sig: \
        hex HMAC-SHA256 under the gateway token of their values joined by `|` in that order.",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The MCP server's JSON-RPC answer"),
        (status = 401, description = "No bearer, or not the gateway token (API keys included)"),
        (status = 403, description = "No gateway token configured (the bridge is off), or context headers without a valid X-Bridge-Sig"),
        (status = 405, description = "A method other than POST"),
    )
)]
pub(crate) async fn disabled() -> Response {
    json_error(StatusCode::FORBIDDEN, DISABLED_BODY)
}

fn json_error(status: StatusCode, body: &'static str) -> Response {
    (status, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

/// Checks the bearer and the signed context, then lets the MCP server answer.
async fn serve(bridge: &server::Bridge, state: &AppState, mut request: Request) -> Response {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    if !bearer.is_some_and(|b| crate::auth::constant_time_eq(b, bridge.token())) {
        tracing::warn!(route = "/mcp/bridge", "security.http_auth_rejected");
        return json_error(StatusCode::UNAUTHORIZED, r#"{"error":"unauthorized"}"#);
    }
    let context = match verified_context(bridge.token(), &request) {
        Some(context) => context,
        None => {
            tracing::warn!(
                route = "/mcp/bridge",
                "security.mcp_bridge_invalid_signature"
            );
            return json_error(
                StatusCode::FORBIDDEN,
                r#"{"error":"invalid bridge context signature"}"#,
            );
        }
    };
    let scope = match resolve(state, &context).await {
        Ok(scope) => scope,
        Err(response) => return response,
    };
    request.extensions_mut().insert(scope);
    bridge.handle(request).await
}

/// The request's context headers if they are absent or validly signed.
fn verified_context(token: &str, request: &Request) -> Option<BridgeHeaders> {
    let context = BridgeHeaders::from_headers(request.headers()).ok()?;
    if context.is_empty() {
        return Some(context);
    }
    let signature = request.headers().get(SIGNATURE_HEADER)?.to_str().ok()?;
    context.verify(token, signature).then_some(context)
}

/// The agent and tool context the (verified) headers name.
async fn resolve(state: &AppState, headers: &BridgeHeaders) -> Result<BridgeScope, Response> {
    let tenant = match headers.tenant_id.trim() {
        "" => MASTER_TENANT_ID,
        raw => raw.parse::<TenantId>().map_err(|_| {
            json_error(
                StatusCode::BAD_REQUEST,
                r#"{"error":"invalid X-Tenant-ID"}"#,
            )
        })?,
    };
    let agent = match headers.agent_id.trim() {
        "" => state
            .runtime
            .ensure_default_agent(tenant)
            .await
            .map_err(|error| {
                tracing::error!(error = %error, "mcp bridge: no default agent");
                json_error(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    r#"{"error":"internal error"}"#,
                )
            })?,
        raw => crate::http::agents::find_agent(state, tenant, raw)
            .await
            .map_err(|_| json_error(StatusCode::NOT_FOUND, r#"{"error":"agent not found"}"#))?,
    };
    let user = headers.user_id.trim().to_owned();
    let trust = if user.is_empty() || state.auth.is_owner(&user) {
        Trust::Admin
    } else {
        Trust::User
    };
    let session_key = session_key(headers, agent.agent_key.as_str()).map_err(|_| {
        json_error(
            StatusCode::BAD_REQUEST,
            r#"{"error":"invalid X-Session-Key"}"#,
        )
    })?;
    let context = ToolContext {
        tenant_id: tenant,
        agent_key: agent.agent_key.to_string(),
        session_key,
        user_id: user,
        trust,
        run_id: String::new(),
        channel: match headers.channel.trim() {
            "" => "mcp-bridge".to_owned(),
            channel => channel.to_owned(),
        },
        workspace: Default::default(),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    };
    let (agent, context) = state
        .runtime
        .scope_tool_context(context)
        .await
        .map_err(|error| {
            tracing::error!(error = %error, "mcp bridge: agent context");
            json_error(
                StatusCode::INTERNAL_SERVER_ERROR,
                r#"{"error":"internal error"}"#,
            )
        })?;
    Ok(BridgeScope { agent, context })
}

/// `X-Session-Key`; else the channel chat's key; else the agent's bridge session.
fn session_key(
    headers: &BridgeHeaders,
    agent: &str,
) -> Result<SessionKey, goclaw_core::ParseError> {
    let given = headers.session_key.trim();
    if !given.is_empty() {
        return SessionKey::parse(given);
    }
    let (channel, chat) = (headers.channel.trim(), headers.chat_id.trim());
    if !channel.is_empty() && !chat.is_empty() {
        let kind = match headers.peer_kind.trim() {
            "group" => "group",
            _ => "direct",
        };
        return SessionKey::parse(&format!("agent:{agent}:{channel}:{kind}:{chat}"));
    }
    SessionKey::parse(&format!("agent:{agent}:mcp-bridge"))
}
