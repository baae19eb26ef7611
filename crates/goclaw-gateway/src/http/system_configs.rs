//! `/v1/system-configs`: the caller's tenant's settings that are not secrets, with GoClaw's
//! shapes — the list is one object of key → value (the master tenant's values overlaid with the
//! tenant's own), one key is `{key, value}`, a write answers `{key, value}`, a delete 204.
//! Reads are open to every signed-in role, writes to admins. A change of an `embedding.*` key
//! makes the gateway choose memory's embedding provider again at once.
//!
//! Only plain settings live here: keys that name a secret are refused, so a token can never be
//! stored unencrypted and then shown to viewers.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use goclaw_core::is_valid_system_config_key;
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use super::schemas_memory::{SystemConfig, SystemConfigList, SystemConfigSet};
use crate::routes::AppState;

/// Most bytes of one value, as GoClaw's body limit.
const MAX_VALUE_BYTES: usize = 64 * 1024;

/// Words that mark a key as naming a secret, which belongs in `config_secrets` or the
/// environment instead.
const SECRET_WORDS: &[&str] = &[
    "token", "secret", "password", "api_key", "apikey", "private",
];

fn checked_key(key: &str) -> Result<&str, ApiError> {
    if !is_valid_system_config_key(key) {
        return Err(ApiError::bad_request(
            "invalid key format (alphanumeric, dots, underscores, hyphens, 1-100 chars)",
        ));
    }
    let lower = key.to_ascii_lowercase();
    if SECRET_WORDS.iter().any(|word| lower.contains(word)) {
        return Err(ApiError::bad_request(
            "system configs hold no secrets: set this one through the environment or the \
             encrypted config secrets",
        ));
    }
    Ok(key)
}

/// Re-chooses the embedding provider after a change to one of its keys.
async fn changed(state: &AppState, key: &str) {
    if key.starts_with("embedding.") {
        crate::providers::changed(state.stored_providers.as_ref()).await;
    }
}

/// Every setting the caller's tenant sees.
#[utoipa::path(
    get,
    path = "/v1/system-configs",
    tag = "system-configs",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Key → value: the master tenant's overlaid with the tenant's own", body = SystemConfigList),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    let configs = state
        .store
        .system_configs()
        .list(caller.0.tenant_id)
        .await?;
    Ok(Json(json!(configs)))
}

/// One setting.
#[utoipa::path(
    get,
    path = "/v1/system-configs/{key}",
    tag = "system-configs",
    params(("key" = String, Path, description = "The key, e.g. `embedding.provider`")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The setting", body = SystemConfig),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "The key is not set", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let value = state
        .store
        .system_configs()
        .get(caller.0.tenant_id, &key)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("config {key} not found")))?;
    Ok(Json(json!({ "key": key, "value": value })))
}

/// The body of `PUT /v1/system-configs/{key}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetBody {
    value: String,
}

/// Sets the tenant's own value of a key (admin).
#[utoipa::path(
    put,
    path = "/v1/system-configs/{key}",
    tag = "system-configs",
    params(("key" = String, Path, description = "1–100 letters, digits, `.`, `_` or `-`; not a secret's name", pattern = r"^(?!.*([Tt][Oo][Kk][Ee][Nn]|[Ss][Ee][Cc][Rr][Ee][Tt]|[Pp][Aa][Ss][Ss][Ww][Oo][Rr][Dd]|[Aa][Pp][Ii]_?[Kk][Ee][Yy]|[Pp][Rr][Ii][Vv][Aa][Tt][Ee]))[A-Za-z0-9._-]{1,100}$")),
    request_body(content = SystemConfigSet, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The stored setting", body = SystemConfig),
        (status = 400, description = "Invalid key or value", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn set(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
    ApiJson(body): ApiJson<SetBody>,
) -> Result<Json<Value>, ApiError> {
    let key = checked_key(&key)?;
    if body.value.len() > MAX_VALUE_BYTES {
        return Err(ApiError::bad_request(format!(
            "the value is longer than {MAX_VALUE_BYTES} bytes"
        )));
    }
    state
        .store
        .system_configs()
        .set(caller.0.tenant_id, key, &body.value)
        .await?;
    tracing::info!(key, user_id = %caller.0.user_id, "system config set");
    changed(&state, key).await;
    Ok(Json(json!({ "key": key, "value": body.value })))
}

/// Removes the tenant's own value of a key (admin); the master tenant's, if any, shows again.
#[utoipa::path(
    delete,
    path = "/v1/system-configs/{key}",
    tag = "system-configs",
    params(("key" = String, Path, description = "The key")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed (or there was nothing to remove)"),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(key): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    if state
        .store
        .system_configs()
        .delete(caller.0.tenant_id, &key)
        .await?
    {
        tracing::info!(key, user_id = %caller.0.user_id, "system config deleted");
        changed(&state, &key).await;
    }
    Ok(StatusCode::NO_CONTENT)
}

/// What memory embeds with now, as GoClaw answers it: `{configured:false}`, or
/// `{configured:true, provider, provider_name, model}`.
#[utoipa::path(
    get,
    path = "/v1/embedding/status",
    tag = "system-configs",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The embedding provider in use", body = super::schemas_memory::EmbeddingStatus),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
    )
)]
pub async fn embedding_status(State(state): State<AppState>, _caller: Caller) -> Json<Value> {
    let in_use = state
        .stored_providers
        .as_ref()
        .and_then(|providers| providers.embedding());
    Json(match in_use {
        Some(in_use) => json!({
            "configured": true,
            "provider": in_use.provider,
            "provider_name": in_use.provider,
            "model": in_use.model,
        }),
        None => json!({ "configured": false }),
    })
}
