//! `/v1/agents`: list and read agents (viewer), create, update and delete them (admin); an
//! `other_config` over the size cap is refused with 413.
//!
//! Bodies have GoClaw's shape (its `AgentData` JSON): `id` is the agent's UUID and `agent_key`
//! its key; `{id}` in a path is either. Requests may be GoClaw's `AgentData` too. An update
//! answers the agent with GoClaw's `ok`, a delete GoClaw's `{"ok":"true"}`.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use goclaw_core::{Agent, AgentKey, NewAgent, TenantId};
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::{self, AgentCreate, AgentDeleted, AgentList, AgentUpdated, ErrorResponse};
use crate::agents::{self as shared, AgentFields};
use crate::quotas::QuotaRefusal;
use crate::ratelimit::RATE_LIMITED_MESSAGE;
use crate::routes::AppState;

/// What GoClaw answers where it has nothing else to say (a string, as GoClaw sends it).
const OK_TRUE: &str = "true";

impl From<QuotaRefusal> for ApiError {
    fn from(refusal: QuotaRefusal) -> Self {
        match refusal {
            QuotaRefusal::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, refusal.to_string())
            }
            QuotaRefusal::RateLimited { retry_after } => {
                ApiError::new(StatusCode::TOO_MANY_REQUESTS, RATE_LIMITED_MESSAGE)
                    .with_retry_after(retry_after)
            }
        }
    }
}

/// An agent as GoClaw's HTTP API shows it (its `AgentData` JSON tags).
pub fn agent_body(agent: &Agent) -> Value {
    let mut body = json!({
        "id": agent.id.to_string(),
        "tenant_id": agent.tenant_id.to_string(),
        "agent_key": agent.agent_key.to_string(),
        "display_name": agent.display_name,
        "provider": agent.provider,
        "model": agent.model,
        "context_window": agent.context_window,
        "max_tool_iterations": agent.max_tool_iterations,
        "workspace": agent.workspace,
        "restrict_to_workspace": agent.restrict_to_workspace,
        "agent_type": agent.agent_type,
        "is_default": agent.is_default,
        "status": agent.status,
        "other_config": agent.other_config,
        "created_at": agent.created_at.to_rfc3339(),
        "updated_at": agent.updated_at.to_rfc3339(),
    });
    let memory = agent
        .other_config
        .get(goclaw_memory::settings::AGENT_MEMORY_CONFIG_KEY);
    if let (Some(memory), Some(fields)) = (memory, body.as_object_mut()) {
        fields.insert("memory_config".to_owned(), memory.clone());
    }
    body
}

/// The agent fields of a request body, which may be GoClaw's whole `AgentData`: there `id` is
/// the agent's UUID, never its key, so with `agent_key` present it is dropped, and
/// `display_name` wins over `name` (each would otherwise be a second spelling of one field).
fn agent_fields(mut body: Map<String, Value>) -> Result<AgentFields, ApiError> {
    if body.contains_key("agent_key") {
        body.remove("id");
    }
    if body.contains_key("display_name") {
        body.remove("name");
    }
    serde_json::from_value(Value::Object(body)).map_err(|error| {
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("invalid body: {error}"),
        )
    })
}

/// The tenant's agent `raw` names: its UUID or its key. A UUID that is no agent's id is still
/// tried as a key (a key may look like one).
pub(crate) async fn find_agent(
    state: &AppState,
    tenant: TenantId,
    raw: &str,
) -> Result<Agent, ApiError> {
    let raw = raw.trim();
    if let Ok(id) = Uuid::parse_str(raw) {
        let agents = state.store.agents().list(tenant).await?;
        if let Some(agent) = agents.into_iter().find(|a| a.id.as_uuid() == id) {
            return Ok(agent);
        }
        return match AgentKey::parse(raw) {
            Ok(key) => Ok(state.store.agents().get_by_key(tenant, &key).await?),
            Err(_) => Err(ApiError::not_found(format!("agent {raw} not found"))),
        };
    }
    let key = AgentKey::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok(state.store.agents().get_by_key(tenant, &key).await?)
}

/// Lists the agents of the caller's tenant.
#[utoipa::path(
    get,
    path = "/v1/agents",
    tag = "agents",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The agents", body = AgentList),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let agents = state.store.agents().list(caller.0.tenant_id).await?;
    Ok(Json(
        json!({ "agents": agents.iter().map(agent_body).collect::<Vec<_>>() }),
    ))
}

/// One agent.
#[utoipa::path(
    get,
    path = "/v1/agents/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The agent", body = schemas::Agent),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let agent = find_agent(&state, caller.0.tenant_id, &id).await?;
    Ok(Json(agent_body(&agent)))
}

/// Creates an agent (admin). Its key is `agent_key` (or `id`), else derived from
/// `display_name` (or `name`).
#[utoipa::path(
    post,
    path = "/v1/agents",
    tag = "agents",
    request_body(content = AgentCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The created agent", body = schemas::Agent),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 409, description = "Already exists", body = ErrorResponse),
        (status = 413, description = "`other_config` is over 64 KiB", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let fields = agent_fields(body)?;
    shared::check_quotas(&caller.0, &fields)?;
    let agent_key = shared::key_for_new_agent(&fields).map_err(ApiError::bad_request)?;
    let mut agent = NewAgent::new(
        caller.0.tenant_id,
        agent_key,
        fields.name.clone().unwrap_or_default(),
    );
    shared::apply_to_new(&mut agent, &fields).map_err(ApiError::bad_request)?;
    let created = state.store.agents().create(agent).await?;
    Ok((StatusCode::CREATED, Json(agent_body(&created))))
}

/// Changes the fields given (admin).
#[utoipa::path(
    put,
    path = "/v1/agents/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = schemas::AgentFields, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated agent, with GoClaw's `ok`", body = AgentUpdated),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 409, description = "Already exists", body = ErrorResponse),
        (status = 413, description = "`other_config` is over 64 KiB", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let fields = agent_fields(body)?;
    shared::check_quotas(&caller.0, &fields)?;
    let patch = shared::patch_from(&fields).map_err(ApiError::bad_request)?;
    let tenant = caller.0.tenant_id;
    let agent = find_agent(&state, tenant, &id).await?;
    let updated = state
        .store
        .agents()
        .update(tenant, &agent.agent_key, patch)
        .await?;
    let mut body = agent_body(&updated);
    body["ok"] = Value::from(OK_TRUE);
    Ok(Json(body))
}

/// Deletes an agent (admin).
#[utoipa::path(
    delete,
    path = "/v1/agents/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted", body = AgentDeleted),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let agent = find_agent(&state, tenant, &id).await?;
    state
        .store
        .agents()
        .delete(tenant, &agent.agent_key)
        .await?;
    Ok(Json(json!({ "ok": OK_TRUE })))
}
