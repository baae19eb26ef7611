//! `/v1/agents`: list and read agents (viewer), create, update and delete them (admin).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use goclaw_core::{AgentKey, NewAgent};
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::ApiError;
use crate::agents::{self as shared, AgentFields};
use crate::auth::Role;
use crate::routes::AppState;
use crate::ws::wire_agent;

fn key(raw: &str) -> Result<AgentKey, ApiError> {
    AgentKey::parse(raw).map_err(|e| ApiError::bad_request(e.to_string()))
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer, "/v1/agents")?;
    let agents = state.store.agents().list(caller.0.tenant_id).await?;
    Ok(Json(
        json!({ "agents": agents.iter().map(wire_agent).collect::<Vec<_>>() }),
    ))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Viewer, "/v1/agents")?;
    let agent = state
        .store
        .agents()
        .get_by_key(caller.0.tenant_id, &key(&id)?)
        .await?;
    Ok(Json(wire_agent(&agent)))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(fields): Json<AgentFields>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Admin, "/v1/agents")?;
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

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(fields): Json<AgentFields>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin, "/v1/agents")?;
    let patch = shared::patch_from(&fields).map_err(ApiError::bad_request)?;
    let updated = state
        .store
        .agents()
        .update(caller.0.tenant_id, &key(&id)?, patch)
        .await?;
    Ok(Json(wire_agent(&updated)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Role::Admin, "/v1/agents")?;
    state
        .store
        .agents()
        .delete(caller.0.tenant_id, &key(&id)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
