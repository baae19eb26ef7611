//! `/v1/agents/{id}/kg/…`: reading an agent's knowledge graph in GoClaw's shapes (changing it:
//! `knowledge_graph_admin.rs`) — its
//! `Entity` JSON (times of creation and change as Unix seconds, validity as RFC 3339), an
//! entity with its relations, traversal results (`entity`, `depth`, `path`, `via`) and
//! de-duplication candidates (`entity_a`, `entity_b`, `similarity`, `status`).
//!
//! A graph belongs to one user of the agent. The routes follow their `Filter::OwnUser` entry:
//! everyone reads their own graph; admins and the owner may name another user with `user_id`
//! (without it, their own). A `user_id` naming someone else below admin matches nothing.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use chrono::Utc;
use goclaw_core::{DedupCandidate, Entity, GraphScope, Relation};
use goclaw_memory::graph::{GraphSearch, MAX_DEPTH};
use serde::{Deserialize, Serialize};
use serde_json::Value;
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

/// Entities one list returns without `limit` (GoClaw's 50), and at most.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 500;

/// Query of the list routes (documentation; handlers read the raw pairs).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct GraphQuery {
    /// Whose graph (admins; everyone else reads their own).
    user_id: Option<String>,
    /// Only entities whose name or description holds this (entity list only).
    q: Option<String>,
    /// At most this many (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
    /// Entities to skip, by name (entity list only; default 0).
    #[param(minimum = 0, maximum = 2147483647)]
    offset: Option<u32>,
}

/// One entity (GoClaw's `Entity`).
#[derive(Serialize, ToSchema)]
pub struct EntityView {
    pub id: Uuid,
    pub agent_id: Uuid,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user_id: String,
    pub external_id: String,
    pub name: String,
    pub entity_type: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub description: String,
    #[schema(value_type = Object)]
    pub properties: Value,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub source_id: String,
    pub confidence: f64,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds.
    pub updated_at: i64,
    pub valid_from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

/// One relation (GoClaw's `Relation`).
#[derive(Serialize, ToSchema)]
pub struct RelationView {
    pub id: Uuid,
    pub agent_id: Uuid,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user_id: String,
    pub source_entity_id: Uuid,
    pub relation_type: String,
    pub target_entity_id: Uuid,
    pub confidence: f64,
    #[schema(value_type = Object)]
    pub properties: Value,
    /// Unix seconds.
    pub created_at: i64,
    pub valid_from: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub valid_until: Option<String>,
}

/// `GET /v1/agents/{id}/kg/entities/{entityID}`.
#[derive(Serialize, ToSchema)]
pub struct EntityDetail {
    pub entity: EntityView,
    pub relations: Vec<RelationView>,
}

/// Query of `GET /v1/agents/{id}/kg/dedup` (documentation; the handler reads the raw pairs).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DedupQuery {
    /// Whose graph (admins; everyone else reads their own).
    user_id: Option<String>,
    /// At most this many (1–500, default 50).
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// `POST /v1/agents/{id}/kg/traverse`.
#[derive(Deserialize, ToSchema)]
pub struct TraverseRequest {
    /// Where the walk starts (an entity id).
    #[schema(min_length = 1, pattern = r"\S")]
    pub entity_id: String,
    /// Whose graph (admins only).
    #[serde(default)]
    pub user_id: Option<String>,
    /// Relations to follow (1–5; 0 or none: 2).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 5)]
    pub max_depth: Option<u32>,
}

/// An entity reached by a walk.
#[derive(Serialize, ToSchema)]
pub struct TraversalView {
    pub entity: EntityView,
    pub depth: u32,
    /// The names along the way, the start's first.
    pub path: Vec<String>,
    /// The relation that reached it (empty for the start).
    pub via: String,
}

/// Two entities that may be one (GoClaw's `DedupCandidate`).
#[derive(Serialize, ToSchema)]
pub struct CandidateView {
    pub id: Uuid,
    pub entity_a: EntityView,
    pub entity_b: EntityView,
    pub similarity: f64,
    pub status: String,
    /// Unix seconds.
    pub created_at: i64,
}

pub(super) fn entity_view(entity: &Entity) -> EntityView {
    EntityView {
        id: entity.id,
        agent_id: entity.agent_id.as_uuid(),
        user_id: entity.user_id.clone(),
        external_id: entity.external_id.clone(),
        name: entity.name.clone(),
        entity_type: entity.entity_type.clone(),
        description: entity.description.clone(),
        properties: entity.properties.clone(),
        source_id: entity.source_id.clone(),
        confidence: entity.confidence,
        created_at: entity.created_at.timestamp(),
        updated_at: entity.updated_at.timestamp(),
        valid_from: entity.valid_from.to_rfc3339(),
        valid_until: entity.valid_until.map(|at| at.to_rfc3339()),
    }
}

pub(super) fn relation_view(relation: &Relation) -> RelationView {
    RelationView {
        id: relation.id,
        agent_id: relation.agent_id.as_uuid(),
        user_id: relation.user_id.clone(),
        source_entity_id: relation.source_entity_id,
        relation_type: relation.relation_type.clone(),
        target_entity_id: relation.target_entity_id,
        confidence: relation.confidence,
        properties: relation.properties.clone(),
        created_at: relation.created_at.timestamp(),
        valid_from: relation.valid_from.to_rfc3339(),
        valid_until: relation.valid_until.map(|at| at.to_rfc3339()),
    }
}

/// The graph the caller reads: the agent `raw` names and the user, by the route's filter;
/// `None` for someone else's graph asked for below admin.
pub(super) async fn scope(
    state: &AppState,
    caller: &Principal,
    (method, route): (&str, &str),
    raw_agent: &str,
    asked: Option<&str>,
) -> Result<Option<GraphScope>, ApiError> {
    let agent = find_agent(state, caller.tenant_id, raw_agent).await?;
    let asked = asked.map(str::trim).filter(|u| !u.is_empty());
    let filter = route_rule(method, route).map_or(Filter::OwnUser, |rule| rule.filter);
    let sees_all = filter != Filter::OwnUser || caller.sees_all();
    let user = match asked {
        Some(other) if !sees_all && other != caller.user_id => return Ok(None),
        Some(user) => user.to_owned(),
        None => caller.user_id.clone(),
    };
    Ok(Some(GraphScope::new(caller.tenant_id, agent.id, user)))
}

fn bounded(
    query: &HashMap<String, String>,
    key: &str,
    default: u32,
    max: u32,
) -> Result<u32, ApiError> {
    match query.get(key).map(|v| v.trim().parse::<u32>()) {
        None => Ok(default),
        Some(Ok(n)) if n <= max && (n >= 1 || key == "offset") => Ok(n),
        Some(_) => Err(ApiError::bad_request(format!(
            "{key} must be an integer up to {max}"
        ))),
    }
}

#[utoipa::path(
    get,
    path = "/v1/agents/{id}/kg/entities",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"), GraphQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Current entities by name", body = Vec<EntityView>),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list_entities(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Vec<EntityView>>, ApiError> {
    if query.values().any(|v| v.contains('\0')) {
        return Err(ApiError::bad_request(
            "query parameters must not contain NUL characters",
        ));
    }
    let limit = bounded(&query, "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let offset = bounded(&query, "offset", 0, i32::MAX.unsigned_abs())?;
    let route = ("GET", "/v1/agents/{id}/kg/entities");
    let Some(scope) = scope(
        &state,
        &caller.0,
        route,
        &id,
        query.get("user_id").map(String::as_str),
    )
    .await?
    else {
        return Ok(Json(Vec::new()));
    };
    let graph = state.store.knowledge_graph();
    let entities = match query.get("q").map(|q| q.trim()).filter(|q| !q.is_empty()) {
        Some(q) => graph.find_entities(&scope, q, limit).await?,
        None => graph.list_entities(&scope, limit, offset).await?,
    };
    Ok(Json(entities.iter().map(entity_view).collect()))
}

#[utoipa::path(
    get,
    path = "/v1/agents/{id}/kg/entities/{entityID}",
    tag = "memory",
    params(
        ("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"),
        ("entityID" = String, Path, description = "The entity's id (a UUID)"),
        ("user_id" = Option<String>, Query, description = "Whose graph (admins; everyone else reads their own)")
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entity and its current relations", body = EntityDetail),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent or entity in the caller's graph", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn get_entity(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, entity_id)): ApiPath<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<EntityDetail>, ApiError> {
    let not_found = || ApiError::not_found(format!("entity {entity_id} not found"));
    let route = ("GET", "/v1/agents/{id}/kg/entities/{entityID}");
    let scope = scope(
        &state,
        &caller.0,
        route,
        &id,
        query.get("user_id").map(String::as_str),
    )
    .await?
    .ok_or_else(not_found)?;
    let uuid = Uuid::parse_str(entity_id.trim()).map_err(|_| not_found())?;
    let graph = state.store.knowledge_graph();
    let entity = graph
        .get_entity(scope.tenant, uuid)
        .await?
        .filter(|e| e.agent_id == scope.agent && e.user_id == scope.user)
        .ok_or_else(not_found)?;
    let relations = graph.relations_of(&scope, entity.id, Utc::now()).await?;
    Ok(Json(EntityDetail {
        entity: entity_view(&entity),
        relations: relations.iter().map(relation_view).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/kg/traverse",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = TraverseRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The entities reached, nearest first", body = Vec<TraversalView>),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn traverse(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<TraverseRequest>,
) -> Result<Json<Vec<TraversalView>>, ApiError> {
    let start = body.entity_id.trim();
    if start.is_empty() {
        return Err(ApiError::bad_request("entity_id is required"));
    }
    if body.max_depth.is_some_and(|d| d > MAX_DEPTH) {
        return Err(ApiError::bad_request(format!(
            "max_depth must be at most {MAX_DEPTH}"
        )));
    }
    let route = ("POST", "/v1/agents/{id}/kg/traverse");
    let Some(scope) = scope(&state, &caller.0, route, &id, body.user_id.as_deref()).await? else {
        return Ok(Json(Vec::new()));
    };
    let Ok(start) = Uuid::parse_str(start) else {
        return Ok(Json(Vec::new()));
    };
    let depth = body.max_depth.filter(|d| *d > 0);
    let found = GraphSearch::new(state.store.clone())
        .search(&scope, "", Some(start), None, depth, Utc::now())
        .await?;
    Ok(Json(
        found
            .hits
            .iter()
            .map(|hit| TraversalView {
                entity: entity_view(&hit.entity),
                depth: hit.depth,
                path: hit.path.clone(),
                via: hit.via.clone(),
            })
            .collect(),
    ))
}

#[utoipa::path(
    get,
    path = "/v1/agents/{id}/kg/dedup",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"), DedupQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Pending candidate pairs, most similar first", body = Vec<CandidateView>),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn dedup_candidates(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Vec<CandidateView>>, ApiError> {
    if query.values().any(|v| v.contains('\0')) {
        return Err(ApiError::bad_request(
            "query parameters must not contain NUL characters",
        ));
    }
    let limit = bounded(&query, "limit", DEFAULT_LIMIT, MAX_LIMIT)?;
    let route = ("GET", "/v1/agents/{id}/kg/dedup");
    let Some(scope) = scope(
        &state,
        &caller.0,
        route,
        &id,
        query.get("user_id").map(String::as_str),
    )
    .await?
    else {
        return Ok(Json(Vec::new()));
    };
    let graph = state.store.knowledge_graph();
    let mut views = Vec::new();
    for candidate in graph.dedup_candidates(&scope, limit).await? {
        if let Some(view) = candidate_view(&state, &scope, &candidate).await? {
            views.push(view);
        }
    }
    Ok(Json(views))
}

async fn candidate_view(
    state: &AppState,
    scope: &GraphScope,
    candidate: &DedupCandidate,
) -> Result<Option<CandidateView>, ApiError> {
    let graph = state.store.knowledge_graph();
    let a = graph.get_entity(scope.tenant, candidate.entity_a).await?;
    let b = graph.get_entity(scope.tenant, candidate.entity_b).await?;
    let (Some(a), Some(b)) = (a, b) else {
        return Ok(None);
    };
    Ok(Some(CandidateView {
        id: candidate.id,
        entity_a: entity_view(&a),
        entity_b: entity_view(&b),
        similarity: candidate.similarity,
        status: candidate.status.clone(),
        created_at: candidate.created_at.timestamp(),
    }))
}
