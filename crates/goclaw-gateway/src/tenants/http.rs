//! `/v1/tenants…`: GoClaw's tenant routes with its snake_case bodies — `GET /v1/tenants` →
//! `{tenants}`, `POST /v1/tenants {name, slug, settings?}` → 201 and the tenant,
//! `GET /v1/tenants/{id}` → the tenant, `PATCH /v1/tenants/{id} {name?, status?, settings?}` →
//! `{ok:"true"}`, `GET /v1/tenants/{id}/users` → `{users}`, `POST /v1/tenants/{id}/users
//! {user_id, role?, display_name?}` → 201 `{ok:"true"}`, `DELETE
//! /v1/tenants/{id}/users/{userId}` → `{ok:"true"}`. Who may do what is in [`super`].

use axum::Json;
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{delete, get};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::{AddUser, Refusal, Update};
use crate::http::{ApiError, ApiJson, ApiPath, Caller, ErrorResponse};
use crate::routes::AppState;

/// The tenant routes.
pub fn router() -> Router<AppState> {
    Router::new()
        .route("/v1/tenants", get(list).post(create))
        .route("/v1/tenants/{id}", get(get_one).patch(update))
        .route("/v1/tenants/{id}/users", get(users).post(add_user))
        .route("/v1/tenants/{id}/users/{userId}", delete(remove_user))
}

impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(message) => ApiError::bad_request(message),
            Refusal::NotFound(message) => ApiError::not_found(message),
            Refusal::Denied(message) => ApiError::forbidden(message),
            Refusal::Store(error) => error.into(),
        }
    }
}

/// `PATCH /v1/tenants/{id}`, as documented: what may change; nothing named changes nothing.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantChange {
    #[schema(max_length = 255)]
    pub name: Option<String>,
    /// The owner only; never the master tenant's.
    pub status: Option<TenantStatusName>,
    pub settings: Option<Map<String, Value>>,
}

/// A tenant's status.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum TenantStatusName {
    Active,
    Suspended,
    Archived,
}

/// The body of `POST /v1/tenants`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NewTenantBody {
    name: String,
    slug: String,
    settings: Option<Map<String, Value>>,
}

#[utoipa::path(get, path = "/v1/tenants", tag = "tenants", operation_id = "list_tenants",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{tenants: [{id, name, slug, status, settings, created_at, updated_at}]}`: every tenant for the owner, the caller's own otherwise", body = Object),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
    ))]
pub async fn list(State(state): State<AppState>, caller: Caller) -> Result<Json<Value>, ApiError> {
    Ok(Json(super::list(&state, &caller.0).await?))
}

#[utoipa::path(post, path = "/v1/tenants", tag = "tenants", operation_id = "create_tenant",
    request_body(content = Object, description = "`{name, slug, settings?}`; the slug is lowercase letters, digits and hyphens (1-100, starting and ending with a letter or digit)"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The new tenant, active", body = Object),
        (status = 400, description = "A missing name or slug, or an invalid slug", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Only the owner or an `operator.provision` key creates tenants", body = ErrorResponse),
        (status = 409, description = "The slug is taken", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body is not a JSON object", body = ErrorResponse),
    ))]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<NewTenantBody>,
) -> Result<impl IntoResponse, ApiError> {
    let tenant = super::create(&state, &caller.0, &body.name, &body.slug, body.settings).await?;
    Ok((StatusCode::CREATED, Json(super::tenant_view(&tenant))))
}

#[utoipa::path(get, path = "/v1/tenants/{id}", tag = "tenants", operation_id = "get_tenant",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The tenant", body = Object),
        (status = 400, description = "Not a tenant id", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No tenant the caller may see has this id", body = ErrorResponse),
    ))]
pub async fn get_one(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(super::get(&state, &caller.0, &id).await?))
}

#[utoipa::path(patch, path = "/v1/tenants/{id}", tag = "tenants", operation_id = "update_tenant",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    request_body(content = TenantChange, description = "`{name?, status? (the owner only), settings?}`"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{ok: \"true\"}`", body = Object),
        (status = 400, description = "Not a tenant id, a name too long, or an unknown status", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Only the owner and the tenant's admins change it, only the owner its status, and nobody suspends the master tenant", body = ErrorResponse),
        (status = 404, description = "No tenant the caller may see has this id", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body is not a JSON object", body = ErrorResponse),
    ))]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<Update>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(super::update(&state, &caller.0, &id, body).await?))
}

#[utoipa::path(get, path = "/v1/tenants/{id}/users", tag = "tenants", operation_id = "list_tenant_users",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{users: [{id, tenant_id, user_id, role, display_name?, metadata, created_at, updated_at}]}`", body = Object),
        (status = 400, description = "Not a tenant id", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Only the owner and the tenant's admins list its members", body = ErrorResponse),
        (status = 404, description = "No tenant the caller may see has this id", body = ErrorResponse),
    ))]
pub async fn users(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(super::users(&state, &caller.0, &id).await?))
}

#[utoipa::path(post, path = "/v1/tenants/{id}/users", tag = "tenants", operation_id = "add_tenant_user",
    params(("id" = Uuid, Path, description = "The tenant's id")),
    request_body(content = Object, description = "`{user_id, role? (owner|admin|operator|member|viewer; member), display_name?}`; an existing member gets the role"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "`{ok: \"true\"}`", body = Object),
        (status = 400, description = "A missing user id, an unknown role or not a tenant id", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Only the owner or an `operator.provision` key adds members", body = ErrorResponse),
        (status = 404, description = "No tenant the caller may see has this id", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body is not a JSON object", body = ErrorResponse),
    ))]
pub async fn add_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<AddUser>,
) -> Result<impl IntoResponse, ApiError> {
    let ok = super::add_user(&state, &caller.0, &id, body).await?;
    Ok((StatusCode::CREATED, Json(ok)))
}

#[utoipa::path(delete, path = "/v1/tenants/{id}/users/{userId}", tag = "tenants", operation_id = "remove_tenant_user",
    params(
        ("id" = Uuid, Path, description = "The tenant's id"),
        ("userId" = String, Path, description = "The member's user id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "`{ok: \"true\"}`; the user's connections in the tenant get `tenant.access.revoked`", body = Object),
        (status = 400, description = "Not a tenant id", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Only the owner and the tenant's admins remove members", body = ErrorResponse),
        (status = 404, description = "No tenant the caller may see has this id", body = ErrorResponse),
    ))]
pub async fn remove_user(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, user_id)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(
        super::remove_user(&state, &caller.0, &id, &user_id).await?,
    ))
}
