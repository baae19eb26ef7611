//! `GET /v1/sessions` (viewer): the tenant's sessions over HTTP, the same page and shape as the
//! WebSocket `sessions.list` — `{sessions:[{key, messageCount, created, updated, label, …}],
//! total, limit, offset}`; below admin only the caller's own sessions (`Filter::OwnUser`).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use serde_json::Value;
use utoipa::IntoParams;

use super::auth::Caller;
use super::error::ApiError;
use super::schemas::ErrorResponse;
use crate::routes::AppState;
use crate::scopes::{Filter, route_rule};
use crate::ws::frames::ErrorCode;
use crate::ws::methods::sessions::{ListParams, page};

/// Query of `GET /v1/sessions` (documentation; the handler reads the raw pairs).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SessionsQuery {
    /// Only this agent's sessions: its key.
    #[param(pattern = r"^([a-z0-9][a-z0-9_-]{0,63})?$")]
    agent_id: Option<String>,
    /// Only sessions of this channel (`ws`, `http`, `telegram`, …).
    channel: Option<String>,
    /// At most this many (1–200, default 20).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Sessions to skip first.
    #[param(maximum = 2147483647)]
    offset: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/v1/sessions",
    tag = "sessions",
    params(SessionsQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of sessions, newest first: `{sessions, total, limit, offset}`", body = Object),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let number = |name: &str, least: u32, most: u32| -> Result<Option<u32>, ApiError> {
        query
            .get(name)
            .map(|raw| {
                raw.trim()
                    .parse::<u32>()
                    .ok()
                    .filter(|n| (least..=most).contains(n))
                    .ok_or_else(|| {
                        ApiError::bad_request(format!("{name} must be from {least} to {most}"))
                    })
            })
            .transpose()
    };
    let text = |name: &str| {
        query
            .get(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    if query.values().any(|v| v.contains('\0')) {
        return Err(ApiError::bad_request(
            "query parameters must not contain NUL characters",
        ));
    }
    let params = ListParams {
        agent_id: text("agent_id"),
        channel: text("channel"),
        limit: number("limit", 1, 200)?,
        offset: number("offset", 0, i32::MAX as u32)?.unwrap_or(0),
    };
    let principal = &caller.0;
    let own_only = route_rule("GET", "/v1/sessions").map_or(Filter::OwnUser, |r| r.filter)
        == Filter::OwnUser
        && !principal.sees_all();
    let user = own_only.then(|| principal.user_id.clone());
    page(&state, principal.tenant_id, user, params)
        .await
        .map(Json)
        .map_err(|e| match e.code {
            ErrorCode::InvalidRequest => ApiError::bad_request(e.message),
            _ => ApiError::internal(e.message),
        })
}
