//! `/v1/providers`: the LLM providers stored in the caller's tenant, admin only. API keys go
//! in as plaintext and are stored encrypted; responses show them only as GoClaw does, `"***"`
//! (and `has_api_key`). Bodies have GoClaw's shape (its `LLMProviderData` JSON); `{id}` in a
//! path is the provider's UUID or its name. An update answers the provider with GoClaw's
//! `status: "updated"`, a delete GoClaw's `{"status":"deleted"}`; an update whose `api_key` is
//! the mask `"***"` (a form sending back what it was shown) keeps the stored key.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use goclaw_core::{LlmProvider, ProviderName, TenantId};
use serde_json::{Value, json};
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::{
    ErrorResponse, Provider, ProviderCreate, ProviderDeleted, ProviderList, ProviderUpdate,
    ProviderUpdated,
};
use crate::providers::{self as shared, ConfiguredProvider, ProviderFields, ProviderInputError};
use crate::routes::AppState;

impl From<ProviderInputError> for ApiError {
    fn from(error: ProviderInputError) -> Self {
        ApiError::bad_request(error.to_string())
    }
}

/// The name of the tenant's provider `raw` names: its UUID or its name. A UUID that is no
/// provider's id is still tried as a name. A provider of the configuration is read-only here:
/// naming one is a conflict.
async fn find_name(
    state: &AppState,
    tenant: TenantId,
    raw: &str,
) -> Result<ProviderName, ApiError> {
    match resolve(state, tenant, raw).await? {
        Named::Stored(provider) => Ok(provider.name),
        Named::Configured(provider) => Err(ApiError::forbidden(format!(
            "provider {} comes from the configuration (file or environment) and is read-only \
             here; change it there",
            provider.name
        ))),
    }
}

/// A provider `{id}` names.
pub(super) enum Named {
    Stored(LlmProvider),
    Configured(ConfiguredProvider),
}

/// The provider `raw` names in the tenant: a stored one by UUID or name, else one of the
/// configuration by its id or name; 404 when neither.
pub(super) async fn resolve(
    state: &AppState,
    tenant: TenantId,
    raw: &str,
) -> Result<Named, ApiError> {
    let stored = state.store.llm_providers().list(tenant).await?;
    let id = Uuid::parse_str(raw).ok();
    if let Some(provider) = stored
        .into_iter()
        .find(|p| Some(p.id) == id || p.name.as_str() == raw)
    {
        return Ok(Named::Stored(provider));
    }
    if let Some(provider) = configured(state)
        .into_iter()
        .find(|p| Some(p.id()) == id || p.name == raw)
    {
        return Ok(Named::Configured(provider));
    }
    shared::provider_name(raw)?;
    Err(ApiError::not_found(format!("provider {raw} not found")))
}

/// The configuration's providers.
fn configured(state: &AppState) -> Vec<ConfiguredProvider> {
    state
        .stored_providers
        .as_ref()
        .map(|providers| providers.configured())
        .unwrap_or_default()
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
    let providers = shared::listed(&state, caller.0.tenant_id).await?;
    Ok(Json(json!({ "providers": providers })))
}

/// One stored provider (admin).
#[utoipa::path(
    get,
    path = "/v1/providers/{id}",
    tag = "providers",
    params(("id" = String, Path, description = "The provider's UUID or its name", pattern = r"^[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\x00-\x1f\x7f-\x9f]{1,100}$")),
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
    Ok(Json(
        match resolve(&state, caller.0.tenant_id, &id).await? {
            Named::Stored(provider) => shared::wire(&provider),
            Named::Configured(provider) => shared::configured_wire(&provider),
        },
    ))
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
    Ok((StatusCode::CREATED, Json(shared::wire(&created))))
}

/// Changes a stored provider (admin). A new `api_base` or `provider_type` without an `api_key`
/// clears the stored key (`has_api_key` false in the answer): it was given for the old endpoint.
/// An `api_key` of `"***"` (the mask) keeps the stored key.
#[utoipa::path(
    put,
    path = "/v1/providers/{id}",
    tag = "providers",
    params(("id" = String, Path, description = "The provider's UUID or its name", pattern = r"^[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\x00-\x1f\x7f-\x9f]{1,100}$")),
    request_body(content = ProviderUpdate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The updated provider, with GoClaw's `status`", body = ProviderUpdated),
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
    ApiJson(mut fields): ApiJson<ProviderFields>,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let name = find_name(&state, tenant, &id).await?;
    if fields.api_key.as_deref().map(str::trim) == Some(shared::MASKED_KEY) {
        fields.api_key = None;
    }
    let secrets = state.secrets.as_deref();
    let mut patch = shared::update_patch(&name, fields, secrets)?;
    let providers = state.store.llm_providers();
    let current = providers.get(tenant, &name).await?;
    let key_cleared = shared::drop_key_if_endpoint_moves(&current, &mut patch);
    let updated = providers.update(tenant, &name, patch).await?;
    if key_cleared {
        shared::log_key_cleared(&name, &caller.0.user_id);
    }
    shared::changed(state.stored_providers.as_ref()).await;
    let mut body = shared::wire(&updated);
    body["status"] = Value::from("updated");
    Ok(Json(body))
}

/// Deletes a stored provider (admin).
#[utoipa::path(
    delete,
    path = "/v1/providers/{id}",
    tag = "providers",
    params(("id" = String, Path, description = "The provider's UUID or its name", pattern = r"^[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\x00-\x1f\x7f-\x9f]{1,100}$")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted", body = ProviderDeleted),
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
    let name = find_name(&state, tenant, &id).await?;
    state.store.llm_providers().delete(tenant, &name).await?;
    shared::changed(state.stored_providers.as_ref()).await;
    Ok(Json(json!({ "status": "deleted" })))
}
