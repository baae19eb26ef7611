//! `/v1/providers`: the LLM providers stored in the caller's tenant, admin only. API keys go
//! in as plaintext and are stored encrypted; responses show them only masked.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use goclaw_core::ProviderName;
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::{ErrorResponse, Provider, ProviderCreate, ProviderList, ProviderUpdate};
use crate::providers::{self as shared, ProviderFields, ProviderInputError};
use crate::routes::AppState;

impl From<ProviderInputError> for ApiError {
    fn from(error: ProviderInputError) -> Self {
        ApiError::bad_request(error.to_string())
    }
}

fn name(raw: &str) -> Result<ProviderName, ApiError> {
    Ok(shared::provider_name(raw)?)
}

/// Lists the tenant's stored LLM providers (admin); keys only masked.
#[utoipa::path(
    get,
    path = "/v1/providers",
    tag = "providers",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The providers", body = ProviderList),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let providers = state.store.llm_providers().list(caller.0.tenant_id).await?;
    let secrets = state.secrets.as_deref();
    let providers: Vec<Value> = providers.iter().map(|p| shared::wire(p, secrets)).collect();
    Ok(Json(json!({ "providers": providers })))
}

/// One stored provider (admin).
#[utoipa::path(
    get,
    path = "/v1/providers/{name}",
    tag = "providers",
    params(("name" = String, Path, description = "Provider name", pattern = r"^[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\x00-\x1f\x7f-\x9f]{1,100}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The provider", body = Provider),
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
    let provider = state
        .store
        .llm_providers()
        .get(caller.0.tenant_id, &name(&id)?)
        .await?;
    Ok(Json(shared::wire(&provider, state.secrets.as_deref())))
}

/// Stores a provider (admin); its API key is encrypted first.
#[utoipa::path(
    post,
    path = "/v1/providers",
    tag = "providers",
    request_body(content = ProviderCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The stored provider", body = Provider),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 409, description = "Already exists", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(fields): ApiJson<ProviderFields>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let secrets = state.secrets.as_deref();
    let new = shared::new_provider(caller.0.tenant_id, fields, secrets)?;
    let created = state.store.llm_providers().create(new).await?;
    shared::changed(state.stored_providers.as_ref()).await;
    Ok((StatusCode::CREATED, Json(shared::wire(&created, secrets))))
}

/// Changes a stored provider (admin). A new `api_base` or `provider_type` without an `api_key`
/// clears the stored key (`has_api_key` false in the answer): it was given for the old endpoint.
#[utoipa::path(
    put,
    path = "/v1/providers/{name}",
    tag = "providers",
    params(("name" = String, Path, description = "Provider name", pattern = r"^[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\x00-\x1f\x7f-\x9f]{1,100}$")),
    request_body(content = ProviderUpdate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated provider", body = Provider),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(fields): ApiJson<ProviderFields>,
) -> Result<Json<Value>, ApiError> {
    let name = name(&id)?;
    let secrets = state.secrets.as_deref();
    let mut patch = shared::update_patch(&name, fields, secrets)?;
    let providers = state.store.llm_providers();
    let current = providers.get(caller.0.tenant_id, &name).await?;
    let key_cleared = shared::drop_key_if_endpoint_moves(&current, &mut patch);
    let updated = providers.update(caller.0.tenant_id, &name, patch).await?;
    if key_cleared {
        shared::log_key_cleared(&name, &caller.0.user_id);
    }
    shared::changed(state.stored_providers.as_ref()).await;
    Ok(Json(shared::wire(&updated, secrets)))
}

/// Deletes a stored provider (admin).
#[utoipa::path(
    delete,
    path = "/v1/providers/{name}",
    tag = "providers",
    params(("name" = String, Path, description = "Provider name", pattern = r"^[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\x00-\x1f\x7f-\x9f]{1,100}$")),
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
        .llm_providers()
        .delete(caller.0.tenant_id, &name(&id)?)
        .await?;
    shared::changed(state.stored_providers.as_ref()).await;
    Ok(StatusCode::NO_CONTENT)
}
