//! `/v1/providers`: the LLM providers stored in the caller's tenant, admin only. API keys go
//! in as plaintext and are stored encrypted; responses show them only masked.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use goclaw_core::ProviderName;
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::ApiError;
use crate::auth::Role;
use crate::providers::{self as shared, ProviderFields, ProviderInputError};
use crate::routes::AppState;

const ROUTE: &str = "/v1/providers";

impl From<ProviderInputError> for ApiError {
    fn from(error: ProviderInputError) -> Self {
        ApiError::bad_request(error.to_string())
    }
}

fn name(raw: &str) -> Result<ProviderName, ApiError> {
    Ok(shared::provider_name(raw)?)
}

pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin, ROUTE)?;
    let providers = state.store.llm_providers().list(caller.0.tenant_id).await?;
    let secrets = state.secrets.as_deref();
    let providers: Vec<Value> = providers.iter().map(|p| shared::wire(p, secrets)).collect();
    Ok(Json(json!({ "providers": providers })))
}

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin, ROUTE)?;
    let provider = state
        .store
        .llm_providers()
        .get(caller.0.tenant_id, &name(&id)?)
        .await?;
    Ok(Json(shared::wire(&provider, state.secrets.as_deref())))
}

pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    Json(fields): Json<ProviderFields>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    caller.require(Role::Admin, ROUTE)?;
    let secrets = state.secrets.as_deref();
    let new = shared::new_provider(caller.0.tenant_id, fields, secrets)?;
    let created = state.store.llm_providers().create(new).await?;
    shared::changed(state.stored_providers.as_ref()).await;
    Ok((StatusCode::CREATED, Json(shared::wire(&created, secrets))))
}

pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
    Json(fields): Json<ProviderFields>,
) -> Result<Json<Value>, ApiError> {
    caller.require(Role::Admin, ROUTE)?;
    let name = name(&id)?;
    let secrets = state.secrets.as_deref();
    let patch = shared::update_patch(&name, fields, secrets)?;
    let updated = state
        .store
        .llm_providers()
        .update(caller.0.tenant_id, &name, patch)
        .await?;
    shared::changed(state.stored_providers.as_ref()).await;
    Ok(Json(shared::wire(&updated, secrets)))
}

pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    caller.require(Role::Admin, ROUTE)?;
    state
        .store
        .llm_providers()
        .delete(caller.0.tenant_id, &name(&id)?)
        .await?;
    shared::changed(state.stored_providers.as_ref()).await;
    Ok(StatusCode::NO_CONTENT)
}
