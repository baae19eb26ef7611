//! Who may use a server: agent grants (`/v1/mcp/servers/{id}/grants…`, `/v1/mcp/grants/agent/
//! {agentID}`) with optional `tool_allow`/`tool_deny`, user grants (a disabled one shuts a
//! user out), and each caller's own credentials for a server (`/user-credentials`; admins may
//! name another user with `?user_id=`). Credentials are never answered, only whether they
//! exist.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use goclaw_core::McpToolFilter;
use goclaw_tools::mcp::McpCredentials;
use serde::Deserialize;
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};

use super::{admin, find_server, grant_view, seal};
use crate::http::{ApiError, ApiJson, ApiPath, Caller, ErrorResponse};
use crate::routes::AppState;

fn status(word: &str) -> Json<Value> {
    Json(json!({ "status": word }))
}

/// The body of an agent grant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct McpAgentGrantBody {
    /// The agent's id or key.
    #[schema(min_length = 1)]
    pub agent_id: String,
    /// Only these tools of the server (its own names); all when absent.
    #[serde(default)]
    pub tool_allow: Option<Vec<String>>,
    /// Never these tools.
    #[serde(default)]
    pub tool_deny: Option<Vec<String>>,
}

/// The body of a user grant.
#[derive(Debug, Deserialize, ToSchema)]
pub struct McpUserGrantBody {
    /// The user's id: 1 to 255 characters, no control characters.
    #[schema(pattern = "^[^\\u0000-\\u001F\\u007F]{1,255}$")]
    pub user_id: String,
    #[serde(default)]
    pub tool_allow: Option<Vec<String>>,
    #[serde(default)]
    pub tool_deny: Option<Vec<String>>,
}

fn filter(allow: Option<Vec<String>>, deny: Option<Vec<String>>) -> McpToolFilter {
    McpToolFilter {
        allow,
        deny: deny.unwrap_or_default(),
    }
}

/// A user id as GoClaw accepts it: 1–255 characters, no control characters.
fn user_id(raw: &str) -> Result<&str, ApiError> {
    if raw.is_empty() || raw.chars().count() > 255 || raw.chars().any(char::is_control) {
        return Err(ApiError::bad_request("invalid user_id"));
    }
    Ok(raw)
}

/// The agent `raw` (id or key) of the tenant; a malformed key is no agent (404).
async fn agent_in(
    state: &AppState,
    tenant: goclaw_core::TenantId,
    raw: &str,
) -> Result<goclaw_core::Agent, ApiError> {
    match crate::http::find_agent(state, tenant, raw).await {
        Err(error) if error.status == StatusCode::BAD_REQUEST => {
            Err(ApiError::not_found(format!("agent {raw} not found")))
        }
        other => other,
    }
}

#[utoipa::path(get, path = "/v1/mcp/servers/{id}/grants", tag = "mcp", operation_id = "list_mcp_server_grants",
    params(("id" = String, Path, description = "Server id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{grants: [{id, server_id, agent_id, enabled, tool_allow?, tool_deny?, granted_by, created_at}]}`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    let grants = state
        .store
        .mcp_servers()
        .server_grants(tenant, server.id)
        .await?;
    let grants: Vec<Value> = grants.iter().map(grant_view).collect();
    Ok(Json(json!({ "grants": grants })))
}

#[utoipa::path(get, path = "/v1/mcp/grants/agent/{agentID}", tag = "mcp", operation_id = "list_mcp_agent_grants",
    params(("agentID" = String, Path, description = "Agent id or key")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{grants: [...]}`: the servers granted to the agent", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn of_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(agent): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let agent = agent_in(&state, tenant, &agent).await?;
    let grants = state
        .store
        .mcp_servers()
        .agent_grants(tenant, agent.id)
        .await?;
    let grants: Vec<Value> = grants.iter().map(grant_view).collect();
    Ok(Json(json!({ "grants": grants })))
}

#[utoipa::path(post, path = "/v1/mcp/servers/{id}/grants/agent", tag = "mcp", operation_id = "grant_mcp_server_to_agent",
    params(("id" = String, Path, description = "Server id")),
    request_body = McpAgentGrantBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "`{\"status\": \"granted\"}`; granting again replaces the tool lists", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such server or agent in the caller's tenant", body = ErrorResponse),
        (status = 400, description = "The body is not JSON", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
    ))]
pub async fn grant_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<McpAgentGrantBody>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    let agent = agent_in(&state, tenant, &body.agent_id).await?;
    let tools = filter(body.tool_allow, body.tool_deny);
    state
        .store
        .mcp_servers()
        .grant_agent(tenant, server.id, agent.id, &tools, &caller.0.user_id)
        .await?;
    tracing::info!(server = %server.name, agent = %agent.agent_key, "mcp_server.agent_granted");
    Ok((StatusCode::CREATED, status("granted")))
}

#[utoipa::path(delete, path = "/v1/mcp/servers/{id}/grants/agent/{agentID}", tag = "mcp", operation_id = "revoke_mcp_server_from_agent",
    params(("id" = String, Path, description = "Server id"), ("agentID" = String, Path, description = "Agent id or key")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"status\": \"revoked\"}`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such server or agent in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn revoke_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, agent)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    let agent = agent_in(&state, tenant, &agent).await?;
    state
        .store
        .mcp_servers()
        .revoke_agent(tenant, server.id, agent.id)
        .await?;
    Ok(status("revoked"))
}

#[utoipa::path(post, path = "/v1/mcp/servers/{id}/grants/user", tag = "mcp", operation_id = "grant_mcp_server_to_user",
    params(("id" = String, Path, description = "Server id")),
    request_body = McpUserGrantBody,
    security(("bearer" = [])),
    responses(
        (status = 201, description = "`{\"status\": \"granted\"}`", body = Object),
        (status = 400, description = "An empty or malformed `user_id`, or a body that is not JSON", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
    ))]
pub async fn grant_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<McpUserGrantBody>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = caller.0.tenant_id;
    let user = user_id(&body.user_id)?;
    let server = find_server(&state, tenant, &id).await?;
    let tools = filter(body.tool_allow, body.tool_deny);
    state
        .store
        .mcp_servers()
        .grant_user(tenant, server.id, user, &tools, &caller.0.user_id)
        .await?;
    Ok((StatusCode::CREATED, status("granted")))
}

#[utoipa::path(delete, path = "/v1/mcp/servers/{id}/grants/user/{userID}", tag = "mcp", operation_id = "revoke_mcp_server_from_user",
    params(("id" = String, Path, description = "Server id"), ("userID" = String, Path, description = "User id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"status\": \"revoked\"}`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn revoke_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, user)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    state
        .store
        .mcp_servers()
        .revoke_user(tenant, server.id, &user)
        .await?;
    Ok(status("revoked"))
}

/// `?user_id=`: whose credentials (the caller's own when absent).
#[derive(Debug, Deserialize, IntoParams)]
pub struct CredentialsQuery {
    /// Another user of the tenant (admins only): 1 to 255 characters, no control characters.
    #[param(pattern = "^[^\\u0000-\\u001F\\u007F]{1,255}$")]
    pub user_id: Option<String>,
}

/// The user whose credentials a request is about: the caller, or for admins anyone named.
fn target_user(caller: &Caller, query: &CredentialsQuery) -> Result<String, ApiError> {
    let own = caller.0.user_id.trim();
    match query.user_id.as_deref().map(str::trim) {
        None | Some("") => {
            if own.is_empty() {
                return Err(ApiError::bad_request("user context required"));
            }
            Ok(own.to_owned())
        }
        Some(named) if named == own => Ok(own.to_owned()),
        Some(named) => {
            let named = user_id(named)?;
            if !caller.0.sees_all() {
                tracing::warn!(caller = %own, target = %named, "security.mcp_credentials_forbidden");
                return Err(ApiError::forbidden(
                    "permission denied: admin or tenant admin required",
                ));
            }
            Ok(named.to_owned())
        }
    }
}

#[utoipa::path(get, path = "/v1/mcp/servers/{id}/user-credentials", tag = "mcp", operation_id = "get_mcp_user_credentials",
    params(("id" = String, Path, description = "Server id"), CredentialsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{has_credentials, has_api_key?, has_headers?, has_env?}`; never the values", body = Object),
        (status = 400, description = "No user to look up", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Another user's, and the caller is not an admin", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn get_credentials(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<CredentialsQuery>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    let user = target_user(&caller, &query)?;
    let stored = state
        .store
        .mcp_servers()
        .user_credentials(tenant, server.id, &user)
        .await?;
    let Some(sealed) = stored else {
        return Ok(Json(json!({ "has_credentials": false })));
    };
    let credentials = admin(&state)?.pool.credentials(&sealed);
    Ok(Json(json!({
        "has_credentials": true,
        "has_api_key": !credentials.api_key.is_empty(),
        "has_headers": !credentials.headers.is_empty(),
        "has_env": !credentials.env.is_empty(),
    })))
}

#[utoipa::path(put, path = "/v1/mcp/servers/{id}/user-credentials", tag = "mcp", operation_id = "set_mcp_user_credentials",
    params(("id" = String, Path, description = "Server id"), CredentialsQuery),
    request_body(content = Object, description = "`{api_key?, headers?, env?}`: laid over the server's own when this user's runs connect"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"status\": \"updated\"}`", body = Object),
        (status = 400, description = "No user, nothing to store, no `GOCLAW_ENCRYPTION_KEY` to store them with, or a body that is not JSON", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Another user's, and the caller is not an admin", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
    ))]
pub async fn set_credentials(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<CredentialsQuery>,
    ApiJson(credentials): ApiJson<McpCredentials>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    let user = target_user(&caller, &query)?;
    if credentials.is_empty() {
        return Err(ApiError::bad_request(
            "give at least one of api_key, headers, env (DELETE removes them)",
        ));
    }
    let sealed = seal(&state, &credentials)?;
    state
        .store
        .mcp_servers()
        .set_user_credentials(tenant, server.id, &user, &sealed)
        .await?;
    Ok(status("updated"))
}

#[utoipa::path(delete, path = "/v1/mcp/servers/{id}/user-credentials", tag = "mcp", operation_id = "delete_mcp_user_credentials",
    params(("id" = String, Path, description = "Server id"), CredentialsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"status\": \"deleted\"}`", body = Object),
        (status = 400, description = "No user", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Another user's, and the caller is not an admin", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn delete_credentials(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<CredentialsQuery>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    let user = target_user(&caller, &query)?;
    state
        .store
        .mcp_servers()
        .delete_user_credentials(tenant, server.id, &user)
        .await?;
    Ok(status("deleted"))
}
