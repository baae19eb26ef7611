//! `/v1/mcp/servers…`: list and get (viewers and up), and for admins create, update, delete,
//! the connection test, reconnect; the tools a server lists (viewers and up). Answers are
//! GoClaw's: `{servers: [...]}` with `agent_count`, the server object, `{"status": …}`,
//! `{success, tool_count}` or `{success: false, error}`, `{tools: [...]}`.

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get, post};
use goclaw_tools::mcp::{probe, server_config};
use serde_json::{Map, Value, json};

use super::{Draft, admin, find_server, seal, server_view};
use crate::http::{ApiError, ApiJson, ApiPath, Caller, ErrorResponse};
use crate::routes::AppState;

/// The MCP server routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/mcp/servers", get(list).post(create))
        .route("/v1/mcp/servers/test", post(test))
        .route(
            "/v1/mcp/servers/{id}",
            get(get_one).put(update).delete(remove),
        )
        .route("/v1/mcp/servers/{id}/reconnect", post(reconnect))
        .route("/v1/mcp/servers/{id}/tools", get(tools))
        .route("/v1/mcp/servers/{id}/grants", get(super::grants::list))
        .route(
            "/v1/mcp/servers/{id}/grants/agent",
            post(super::grants::grant_agent),
        )
        .route(
            "/v1/mcp/servers/{id}/grants/agent/{agentID}",
            delete(super::grants::revoke_agent),
        )
        .route(
            "/v1/mcp/grants/agent/{agentID}",
            get(super::grants::of_agent),
        )
        .route(
            "/v1/mcp/servers/{id}/grants/user",
            post(super::grants::grant_user),
        )
        .route(
            "/v1/mcp/servers/{id}/grants/user/{userID}",
            delete(super::grants::revoke_user),
        )
        .route(
            "/v1/mcp/servers/{id}/user-credentials",
            get(super::grants::get_credentials)
                .put(super::grants::set_credentials)
                .delete(super::grants::delete_credentials),
        )
}

fn status(word: &str) -> Json<Value> {
    Json(json!({ "status": word }))
}

#[utoipa::path(get, path = "/v1/mcp/servers", tag = "mcp", operation_id = "list_mcp_servers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{servers: [server]}`: the tenant's servers by name, each with `agent_count`; secrets read `\"***\"`", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
    ))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let store = state.store.mcp_servers();
    let counts = store.grant_counts(tenant).await?;
    let pool = admin(&state)?.pool.clone();
    let servers: Vec<Value> = store
        .list(tenant)
        .await?
        .iter()
        .map(|server| {
            let mut view = server_view(server, &pool.credentials(&server.secrets));
            if let Some(object) = view.as_object_mut() {
                let count = counts.get(&server.id).copied().unwrap_or(0);
                object.insert("agent_count".into(), count.into());
            }
            view
        })
        .collect();
    Ok(Json(json!({ "servers": servers })))
}

#[utoipa::path(post, path = "/v1/mcp/servers", tag = "mcp", operation_id = "create_mcp_server",
    request_body(content = Object, description = "`{name, transport (stdio|sse|streamable-http), command?, args?, url?, headers?, env?, api_key?, display_name?, tool_prefix?, timeout_sec? (60), settings?, enabled? (true), require_user_credentials?}`"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The stored server, secrets masked", body = Object),
        (status = 400, description = "A missing or wrongly typed field, a name that is not a slug, a program that is not allowed, code-running arguments, a URL to a private address, or secrets without `GOCLAW_ENCRYPTION_KEY`", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 409, description = "A server of that name exists in the tenant", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body is not a JSON object", body = ErrorResponse),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<impl IntoResponse, ApiError> {
    let admin = admin(&state)?;
    let mut draft = Draft::new();
    draft.apply(&body).map_err(ApiError::bad_request)?;
    draft.check().map_err(ApiError::bad_request)?;
    checked_transport(&draft, admin, &caller).await?;
    let secrets = seal(&state, &draft.credentials)?;
    let credentials = draft.credentials.clone();
    let new = draft.into_new(caller.0.tenant_id, secrets, &caller.0.user_id);
    let server = state.store.mcp_servers().create(new).await?;
    tracing::info!(server = %server.name, id = %server.id, "mcp_server.created");
    Ok((
        StatusCode::CREATED,
        Json(server_view(&server, &credentials)),
    ))
}

/// Refuses transport settings the policy does not allow, logging the refusal.
async fn checked_transport(
    draft: &Draft,
    admin: &super::McpAdmin,
    caller: &Caller,
) -> Result<(), ApiError> {
    draft
        .check_transport(&admin.policy)
        .await
        .map_err(|reason| {
            tracing::warn!(
                user_id = %caller.0.user_id,
                transport = %draft.transport,
                reason = %reason,
                "security.mcp.server_rejected"
            );
            ApiError::bad_request(reason)
        })
}

#[utoipa::path(get, path = "/v1/mcp/servers/{id}", tag = "mcp", operation_id = "get_mcp_server",
    params(("id" = String, Path, description = "Server id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The server, secrets masked", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let server = find_server(&state, caller.0.tenant_id, &id).await?;
    let credentials = admin(&state)?.pool.credentials(&server.secrets);
    Ok(Json(server_view(&server, &credentials)))
}

#[utoipa::path(put, path = "/v1/mcp/servers/{id}", tag = "mcp", operation_id = "update_mcp_server",
    params(("id" = String, Path, description = "Server id")),
    request_body(content = Object, description = "Fields to change (as for create); `\"***\"` as `api_key` or as a header or variable value keeps the stored one; unknown fields are ignored"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"status\": \"updated\"}`; the server's connections are reopened", body = Object),
        (status = 400, description = "As for create", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
        (status = 409, description = "Another server has that name", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body is not a JSON object", body = ErrorResponse),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let admin = admin(&state)?;
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    let mut draft = Draft::stored(&server, admin.pool.credentials(&server.secrets));
    draft.apply(&body).map_err(ApiError::bad_request)?;
    draft.check().map_err(ApiError::bad_request)?;
    checked_transport(&draft, admin, &caller).await?;
    let secrets = seal(&state, &draft.credentials)?;
    state
        .store
        .mcp_servers()
        .update(tenant, server.id, draft.into_patch(secrets))
        .await?;
    admin.pool.evict(tenant, server.id);
    tracing::info!(server = %server.name, id = %server.id, "mcp_server.updated");
    Ok(status("updated"))
}

#[utoipa::path(delete, path = "/v1/mcp/servers/{id}", tag = "mcp", operation_id = "delete_mcp_server",
    params(("id" = String, Path, description = "Server id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"status\": \"deleted\"}`, with its grants and users' credentials", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn remove(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    state.store.mcp_servers().delete(tenant, server.id).await?;
    admin(&state)?.pool.evict(tenant, server.id);
    tracing::info!(server = %server.name, id = %server.id, "mcp_server.deleted");
    Ok(status("deleted"))
}

#[utoipa::path(post, path = "/v1/mcp/servers/test", tag = "mcp", operation_id = "test_mcp_server",
    request_body(content = Object, description = "`{transport, command?, args?, url?, headers?, env?, api_key?, timeout_sec?}`: settings to try, not stored"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{success: true, tool_count}` or `{success: false, error}`", body = Object),
        (status = 400, description = "Settings create would refuse (but the name, which is not needed)", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body is not a JSON object", body = ErrorResponse),
    ))]
pub async fn test(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let admin = admin(&state)?;
    let mut draft = Draft::new();
    draft.apply(&body).map_err(ApiError::bad_request)?;
    draft.check_settings().map_err(ApiError::bad_request)?;
    checked_transport(&draft, admin, &caller).await?;
    let server = draft.as_server(caller.0.tenant_id);
    let config = server_config(&server, &draft.credentials);
    Ok(Json(match probe(&server.name, &config).await {
        Ok(tools) => json!({ "success": true, "tool_count": tools.len() }),
        Err(error) => json!({ "success": false, "error": error.to_string() }),
    }))
}

#[utoipa::path(post, path = "/v1/mcp/servers/{id}/reconnect", tag = "mcp", operation_id = "reconnect_mcp_server",
    params(("id" = String, Path, description = "Server id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{\"status\": \"reconnected\"}`: open connections are closed; the next run opens new ones", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Admins only", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn reconnect(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let server = find_server(&state, tenant, &id).await?;
    admin(&state)?.pool.evict(tenant, server.id);
    tracing::info!(server = %server.name, id = %server.id, "mcp.server.reconnect_requested");
    Ok(status("reconnected"))
}

#[utoipa::path(get, path = "/v1/mcp/servers/{id}/tools", tag = "mcp", operation_id = "list_mcp_server_tools",
    params(("id" = String, Path, description = "Server id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{tools: [{name, description}]}`: what the server lists now; empty when it cannot be reached", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such server in the caller's tenant", body = ErrorResponse),
    ))]
pub async fn tools(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let server = find_server(&state, caller.0.tenant_id, &id).await?;
    let listed = match admin(&state)?.pool.list_server_tools(&server).await {
        Ok(listed) => listed,
        Err(error) => {
            tracing::warn!(server = %server.name, error = %error, "mcp.discover_tools");
            Vec::new()
        }
    };
    let tools: Vec<Value> = listed
        .iter()
        .map(|tool| json!({ "name": tool.name, "description": tool.description }))
        .collect();
    Ok(Json(json!({ "tools": tools })))
}
