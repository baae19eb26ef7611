//! `/v1/agents`: list and read agents (viewer), create, update and delete them (admin); an
//! `other_config` over the size cap is refused with 413.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use goclaw_core::{AgentKey, NewAgent};
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::{self, Agent, AgentCreate, AgentList, ErrorResponse};
use crate::agents::{self as shared, AgentFields};
use crate::quotas::QuotaRefusal;
use crate::ratelimit::RATE_LIMITED_MESSAGE;
use crate::routes::AppState;
use crate::ws::wire_agent;

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

fn key(raw: &str) -> Result<AgentKey, ApiError> {
    AgentKey::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
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
        json!({ "agents": agents.iter().map(wire_agent).collect::<Vec<_>>() }),
    ))
}

/// One agent.
#[utoipa::path(
    get,
    path = "/v1/agents/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "Agent key", pattern = r"^[a-z0-9][a-z0-9_-]{0,63}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The agent", body = Agent),
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
    let agent = state
        .store
        .agents()
        .get_by_key(caller.0.tenant_id, &key(&id)?)
        .await?;
    Ok(Json(wire_agent(&agent)))
}

/// Creates an agent (admin). Its key is `id`, else derived from `name`.
#[utoipa::path(
    post,
    path = "/v1/agents",
    tag = "agents",
    request_body(content = AgentCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The created agent", body = Agent),
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
    ApiJson(fields): ApiJson<AgentFields>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    shared::check_quotas(&caller.0, &fields)?;
    let agent_key = shared::key_for_new_agent(&fields).map_err(ApiError::bad_request)?;
    let mut agent = NewAgent::new(
        caller.0.tenant_id,
        agent_key,
        fields.name.clone().unwrap_or_default(),
    );
    shared::apply_to_new(&mut agent, &fields).map_err(ApiError::bad_request)?;
    let created = state.store.agents().create(agent).await?;
    Ok((StatusCode::CREATED, Json(wire_agent(&created))))
}

/// Changes the fields given (admin).
#[utoipa::path(
    put,
    path = "/v1/agents/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "Agent key", pattern = r"^[a-z0-9][a-z0-9_-]{0,63}$")),
    request_body(content = schemas::AgentFields, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated agent", body = Agent),
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
    ApiJson(fields): ApiJson<AgentFields>,
) -> Result<Json<Value>, ApiError> {
    shared::check_quotas(&caller.0, &fields)?;
    let patch = shared::patch_from(&fields).map_err(ApiError::bad_request)?;
    let updated = state
        .store
        .agents()
        .update(caller.0.tenant_id, &key(&id)?, patch)
        .await?;
    Ok(Json(wire_agent(&updated)))
}

/// Deletes an agent (admin).
#[utoipa::path(
    delete,
    path = "/v1/agents/{id}",
    tag = "agents",
    params(("id" = String, Path, description = "Agent key", pattern = r"^[a-z0-9][a-z0-9_-]{0,63}$")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Deleted"),
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
) -> Result<StatusCode, ApiError> {
    state
        .store
        .agents()
        .delete(caller.0.tenant_id, &key(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
