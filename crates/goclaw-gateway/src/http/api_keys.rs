//! `/v1/api-keys` (admin): list (a bare array, as GoClaw answers), create (201, the key shown
//! once), and revoke by `POST /v1/api-keys/{id}/revoke` or `DELETE /v1/api-keys/{id}` (GoClaw's
//! `status: "revoked"`). Also authenticating an HTTP request that presents an API key.

use std::net::SocketAddr;

use axum::Json;
use axum::extract::{ConnectInfo, MatchedPath, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde_json::Value;

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::{ApiKey, ApiKeyCreate, CreatedApiKey, ErrorResponse, RevokedApiKey};
use crate::api_keys::manage::{self, CreateParams, ManageError};
use crate::api_keys::verify::{self, KeyRejection, Origin};
use crate::routes::AppState;

/// Lists the API keys the caller may see (admin), newest first; never the keys themselves.
#[utoipa::path(
    get,
    path = "/v1/api-keys",
    tag = "api-keys",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The keys, newest first", body = Vec<ApiKey>),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Vec<Value>>, ApiError> {
    let keys = manage::visible(state.store.as_ref(), &caller.0)
        .await
        .map_err(error)?;
    Ok(Json(keys))
}

/// Creates an API key (admin); the response is the only time the key is shown.
#[utoipa::path(
    post,
    path = "/v1/api-keys",
    tag = "api-keys",
    request_body(content = ApiKeyCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The created key, shown once", body = CreatedApiKey),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(params): ApiJson<CreateParams>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let created = manage::create(state.store.as_ref(), &caller.0, params)
        .await
        .map_err(error)?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// Revokes an API key (admin); it stops working from the next request on, and WebSocket
/// connections opened with it are closed at once.
#[utoipa::path(
    post,
    path = "/v1/api-keys/{id}/revoke",
    tag = "api-keys",
    operation_id = "revoke_api_key",
    params(("id" = uuid::Uuid, Path, description = "API key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = RevokedApiKey),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn revoke(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let mut revoked = manage::revoke(state.store.as_ref(), &state.clients, &caller.0, &id)
        .await
        .map_err(error)?;
    revoked["status"] = Value::from("revoked");
    Ok(Json(revoked))
}

/// `DELETE /v1/api-keys/{id}`: the same as `POST /v1/api-keys/{id}/revoke`.
#[utoipa::path(
    delete,
    path = "/v1/api-keys/{id}",
    tag = "api-keys",
    operation_id = "delete_api_key",
    params(("id" = uuid::Uuid, Path, description = "API key id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = RevokedApiKey),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete(
    state: State<AppState>,
    caller: Caller,
    id: ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    revoke(state, caller, id).await
}

fn error(error: ManageError) -> ApiError {
    match error {
        ManageError::Invalid(message) => ApiError::bad_request(message),
        ManageError::Forbidden(message) => ApiError::forbidden(message),
        ManageError::NotFound => ApiError::not_found("api key not found"),
        ManageError::Store(error) => error.into(),
    }
}

/// The caller of a request presenting API key `token`, if the key is valid (the route guard in
/// `auth.rs` then holds it to its scopes). `user_id` is the `X-GoClaw-User-Id` the request
/// named, if any.
pub async fn key_caller(
    parts: &Parts,
    state: &AppState,
    token: &str,
    user_id: Option<&str>,
) -> Result<(Caller, bool), ApiError> {
    let remote = parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.to_string())
        .unwrap_or_default();
    let path = parts
        .extensions
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| parts.uri.path().to_owned());
    let method = format!("{} {path}", parts.method);
    let origin = Origin {
        method: &method,
        remote: &remote,
    };
    let login = verify::authenticate(&state.store, token, user_id.unwrap_or_default(), origin)
        .await
        .map_err(|rejection| match rejection {
            KeyRejection::Store(error) => ApiError::internal(error),
            _ => ApiError::unauthorized(),
        })?;
    let mut principal = login.principal;
    if principal.user_id.is_empty() {
        "system".clone_into(&mut principal.user_id);
    }
    Ok((Caller(principal), login.tenant_bound))
}
