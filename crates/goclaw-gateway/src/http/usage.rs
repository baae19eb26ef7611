//! `/v1/usage/summary`, `/v1/usage/timeseries` and `/v1/usage/breakdown` (viewer): what runs
//! used and cost, in GoClaw's shapes — `{current, previous}` totals of a period and the one
//! before it, `{points}` per hour or day, and `{rows}` per provider, model, agent or channel — computed from stored traces (`crate::usage`).
//!
//! Both follow their `Filter::OwnUser` entries: admins and the owner count their whole tenant,
//! everyone else only their own runs.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use utoipa::IntoParams;

use super::auth::Caller;
use super::error::ApiError;
use super::schemas::ErrorResponse;
use crate::routes::AppState;
use crate::scopes::{Filter, route_rule};
use crate::usage::{self, UsageBreakdown, UsageComparison, UsageScope, UsageSeries};

/// Query of `GET /v1/usage/summary` (documentation; the handler reads the raw pairs).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SummaryQuery {
    /// `today` (since UTC midnight), `24h` (the default), `7d` or `30d`; anything else is
    /// `24h`.
    period: Option<String>,
    /// Only runs of this agent: its id or its key.
    agent_id: Option<String>,
    /// Only runs that came in on this channel (`ws`, `http`, `telegram`, …).
    channel: Option<String>,
}

/// Query of `GET /v1/usage/timeseries` (documentation; the handler reads the raw pairs).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct SeriesQuery {
    /// Start of the range (RFC 3339), inclusive.
    #[param(format = DateTime)]
    from: String,
    /// End of the range (RFC 3339), exclusive.
    #[param(format = DateTime)]
    to: String,
    /// `hour` (the default) or `day`.
    #[param(pattern = "^(hour|day)$")]
    group_by: Option<String>,
    /// Only runs of this agent: its id or its key.
    agent_id: Option<String>,
    /// Only runs that came in on this channel.
    channel: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/usage/summary",
    tag = "usage",
    params(SummaryQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Totals of the period and of the one before it", body = UsageComparison),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "The agent filter names no agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn summary(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<UsageComparison>, ApiError> {
    let scope = scope(&state, &caller, &query).await?;
    let period = query.get("period").map_or("24h", |p| p.trim());
    Ok(Json(usage::comparison(&state, &scope, period).await?))
}

#[utoipa::path(
    get,
    path = "/v1/usage/timeseries",
    tag = "usage",
    params(SeriesQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Totals per hour or day with runs, oldest first", body = UsageSeries),
        (status = 400, description = "Invalid input (`from` and `to` are required)", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "The agent filter names no agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn timeseries(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<UsageSeries>, ApiError> {
    let scope = scope(&state, &caller, &query).await?;
    let from = time(&query, "from")?;
    let to = time(&query, "to")?;
    let by_day = match query.get("group_by").map(|g| g.as_str()) {
        None | Some("hour") => false,
        Some("day") => true,
        Some(_) => return Err(ApiError::bad_request("group_by must be hour or day")),
    };
    Ok(Json(usage::series(&state, &scope, from, to, by_day).await?))
}

/// Query of `GET /v1/usage/breakdown` (documentation; the handler reads the raw pairs).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct BreakdownQuery {
    /// Start of the range (RFC 3339), inclusive.
    #[param(format = DateTime)]
    from: String,
    /// End of the range (RFC 3339), exclusive.
    #[param(format = DateTime)]
    to: String,
    /// `provider` (the default), `model`, `agent` or `channel`.
    #[param(pattern = "^(provider|model|agent|channel)$")]
    group_by: Option<String>,
    /// Only runs of this agent: its id or its key.
    agent_id: Option<String>,
    /// Only runs that came in on this channel.
    channel: Option<String>,
}

#[utoipa::path(
    get,
    path = "/v1/usage/breakdown",
    tag = "usage",
    params(BreakdownQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Totals per provider, model, agent or channel, the costliest first", body = UsageBreakdown),
        (status = 400, description = "Invalid input (`from` and `to` are required)", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "The agent filter names no agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn breakdown(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<UsageBreakdown>, ApiError> {
    let scope = scope(&state, &caller, &query).await?;
    let from = time(&query, "from")?;
    let to = time(&query, "to")?;
    let grouping =
        usage::breakdown_grouping(query.get("group_by").map_or("provider", |g| g.trim()))
            .ok_or_else(|| {
                ApiError::bad_request("group_by must be provider, model, agent or channel")
            })?;
    Ok(Json(
        usage::breakdown(&state, &scope, from, to, grouping).await?,
    ))
}

/// The caller's scope: their tenant, narrowed to their own runs below admin, and the query's
/// agent and channel filters.
async fn scope(
    state: &AppState,
    caller: &Caller,
    query: &HashMap<String, String>,
) -> Result<UsageScope, ApiError> {
    if query.values().any(|v| v.contains('\0')) {
        return Err(ApiError::bad_request(
            "query parameters must not contain NUL characters",
        ));
    }
    let principal = &caller.0;
    let tenant = principal.tenant_id;
    let agent_id = match query.get("agent_id").map(|a| a.trim()) {
        None | Some("") => None,
        Some(raw) => Some(super::traces::agent_id(state, tenant, raw).await?),
    };
    let own_only = route_filter() == Filter::OwnUser && !principal.sees_all();
    Ok(UsageScope {
        tenant,
        user_id: own_only.then(|| principal.user_id.clone()),
        agent_id,
        channel: query
            .get("channel")
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty()),
    })
}

/// The filter of the usage routes (both have the same).
fn route_filter() -> Filter {
    route_rule("GET", "/v1/usage/summary").map_or(Filter::OwnUser, |rule| rule.filter)
}

/// A required RFC 3339 time parameter.
fn time(query: &HashMap<String, String>, name: &str) -> Result<DateTime<Utc>, ApiError> {
    let raw = query
        .get(name)
        .ok_or_else(|| ApiError::bad_request("from and to are required"))?;
    DateTime::parse_from_rfc3339(raw.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| ApiError::bad_request(format!("{name} must be an RFC 3339 time")))
}
