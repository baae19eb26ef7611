//! `/v1/agents/{id}/episodic`: an agent's episodic memory — the summaries of finished
//! sessions — listed newest first, and searched (`POST …/episodic/search`), in GoClaw's shapes:
//! a bare array of its `EpisodicSummary` JSON, and of `EpisodicSearchResult`
//! (`episodic_id`, `l0_abstract`, `score`, `created_at`, `session_key`).
//!
//! Episodes are what users told the agent, so both routes follow their `Filter::OwnUser`
//! entry in the access table: admins and the owner see the tenant's (a `user_id` narrows the
//! list; a search without one searches the caller's own), everyone else only their own — a
//! `user_id` naming someone else matches nothing.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use goclaw_core::{Episode, EpisodicScope};
use goclaw_memory::episodic::{EpisodicRecall, EpisodicSearchOptions};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::agents::find_agent;
use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use crate::auth::Principal;
use crate::routes::AppState;
use crate::scopes::{Filter, route_rule};

/// Most episodes one list returns (GoClaw's cap).
const MAX_LIST_LIMIT: u32 = 500;
/// Episodes a list returns without `limit`.
const DEFAULT_LIST_LIMIT: u32 = 20;
/// Most results of one search, and the number without `max_results` (GoClaw's 10).
const MAX_SEARCH_RESULTS: u32 = 100;
const DEFAULT_SEARCH_RESULTS: u32 = 10;

/// Query of `GET /v1/agents/{id}/episodic` (documentation; the handler reads the raw pairs so
/// that a bad value is answered with the API's error body).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListQuery {
    /// Only this user's episodes. Below admin only the caller's own are listed whatever this
    /// says.
    user_id: Option<String>,
    /// At most this many (1–500, default 20).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Episodes to skip, newest first (default 0).
    #[param(minimum = 0, maximum = 2147483647)]
    offset: Option<u32>,
}

/// One episode: a summary of a finished stretch of a session (GoClaw's `EpisodicSummary`).
#[derive(Serialize, ToSchema)]
pub struct EpisodeView {
    pub id: Uuid,
    pub tenant_id: Uuid,
    pub agent_id: Uuid,
    pub user_id: String,
    pub session_key: String,
    pub summary: String,
    pub key_topics: Vec<String>,
    /// About one sentence: what auto-inject shows.
    pub l0_abstract: String,
    /// `session` for the summaries the gateway writes.
    pub source_type: String,
    /// What was summarized (the session and its message count); unique per agent and user.
    pub source_id: String,
    pub turn_count: i64,
    pub token_count: i64,
    pub created_at: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<String>,
}

/// `POST /v1/agents/{id}/episodic/search`.
#[derive(Deserialize, ToSchema)]
pub struct SearchRequest {
    /// What to look for.
    #[schema(min_length = 1, pattern = r"\S")]
    pub query: String,
    /// Whose episodes (admins only; everyone else searches their own).
    #[serde(default)]
    pub user_id: Option<String>,
    /// At most this many results (1–100, default 10).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub max_results: Option<u32>,
    /// Drop results scoring below this.
    #[serde(default)]
    #[schema(minimum = 0)]
    pub min_score: Option<f64>,
}

/// One search hit (GoClaw's `EpisodicSearchResult`).
#[derive(Serialize, ToSchema)]
pub struct EpisodeHitView {
    pub episodic_id: Uuid,
    pub l0_abstract: String,
    pub score: f64,
    pub created_at: String,
    pub session_key: String,
}

fn episode_view(episode: &Episode) -> EpisodeView {
    EpisodeView {
        id: episode.id,
        tenant_id: episode.tenant_id.as_uuid(),
        agent_id: episode.agent_id.as_uuid(),
        user_id: episode.user_id.clone(),
        session_key: episode.session_key.clone(),
        summary: episode.summary.clone(),
        key_topics: episode.key_topics.clone(),
        l0_abstract: episode.l0_abstract.clone(),
        source_type: episode.source_type.clone(),
        source_id: episode.source_id.clone(),
        turn_count: episode.turn_count,
        token_count: episode.token_count,
        created_at: episode.created_at.to_rfc3339(),
        expires_at: episode.expires_at.map(|at| at.to_rfc3339()),
    }
}

#[utoipa::path(
    get,
    path = "/v1/agents/{id}/episodic",
    tag = "memory",
    params(
        ("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"),
        ListQuery
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The episodes, newest first", body = Vec<EpisodeView>),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Vec<EpisodeView>>, ApiError> {
    if query.values().any(|v| v.contains('\0')) {
        return Err(ApiError::bad_request(
            "query parameters must not contain NUL characters",
        ));
    }
    let limit = match query.get("limit").map(|l| l.trim().parse::<u32>()) {
        None => DEFAULT_LIST_LIMIT,
        Some(Ok(limit)) if (1..=MAX_LIST_LIMIT).contains(&limit) => limit,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "limit must be an integer from 1 to {MAX_LIST_LIMIT}"
            )));
        }
    };
    let offset = match query.get("offset").map(|o| o.trim().parse::<i32>()) {
        None => 0,
        Some(Ok(offset)) if offset >= 0 => offset.unsigned_abs(),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "offset must be an integer from 0 to {}",
                i32::MAX
            )));
        }
    };
    let agent = find_agent(&state, caller.0.tenant_id, &id).await?;
    let asked = query
        .get("user_id")
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    let Some(user) = whose(&caller.0, "GET", "/v1/agents/{id}/episodic", asked) else {
        return Ok(Json(Vec::new()));
    };
    let episodes = state
        .store
        .episodic()
        .list_episodes(caller.0.tenant_id, agent.id, user.as_deref(), limit, offset)
        .await?;
    Ok(Json(episodes.iter().map(episode_view).collect()))
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/episodic/search",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = SearchRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The best matches first", body = Vec<EpisodeHitView>),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<SearchRequest>,
) -> Result<Json<Vec<EpisodeHitView>>, ApiError> {
    let query = body.query.trim();
    if query.is_empty() {
        return Err(ApiError::bad_request("query is required"));
    }
    let max_results = match body.max_results {
        None | Some(0) => DEFAULT_SEARCH_RESULTS,
        Some(n) if n <= MAX_SEARCH_RESULTS => n,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "max_results must be at most {MAX_SEARCH_RESULTS}"
            )));
        }
    };
    let min_score = match body.min_score {
        None => 0.0,
        Some(score) if score.is_finite() && score >= 0.0 => score,
        Some(_) => return Err(ApiError::bad_request("min_score must be a number ≥ 0")),
    };
    let agent = find_agent(&state, caller.0.tenant_id, &id).await?;
    let asked = body
        .user_id
        .map(|u| u.trim().to_owned())
        .filter(|u| !u.is_empty());
    let route = "/v1/agents/{id}/episodic/search";
    let Some(user) = whose(&caller.0, "POST", route, asked) else {
        return Ok(Json(Vec::new()));
    };
    let user = user.unwrap_or_else(|| caller.0.user_id.clone());
    let scope = EpisodicScope::new(caller.0.tenant_id, agent.id, user);
    let options = EpisodicSearchOptions {
        max_results: max_results as usize,
        min_score,
    };
    let hits = EpisodicRecall::new(state.store.clone(), None)
        .search(&scope, query, options)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(
        hits.iter()
            .map(|hit| EpisodeHitView {
                episodic_id: hit.episode.id,
                l0_abstract: hit.episode.l0_abstract.clone(),
                score: (hit.score * 1000.0).round() / 1000.0,
                created_at: hit.episode.created_at.to_rfc3339(),
                session_key: hit.episode.session_key.clone(),
            })
            .collect(),
    ))
}

/// Whose episodes the caller gets by the route's filter: `Some(None)` every user's (admins
/// without `user_id`), `Some(Some(user))` one user's, `None` nothing (someone else's, asked
/// for below admin).
fn whose(
    caller: &Principal,
    method: &str,
    route: &str,
    asked: Option<String>,
) -> Option<Option<String>> {
    let filter = route_rule(method, route).map_or(Filter::OwnUser, |rule| rule.filter);
    if filter != Filter::OwnUser || caller.sees_all() {
        return Some(asked);
    }
    match asked {
        Some(other) if other != caller.user_id => None,
        _ => Some(Some(caller.user_id.clone())),
    }
}
