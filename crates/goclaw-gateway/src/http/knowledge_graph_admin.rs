//! `/v1/agents/{id}/kg/…` beyond reading: GoClaw's management routes of an agent's knowledge
//! graph, in its shapes — an entity upserted by its `external_id` (`{"status":"ok"}`) or
//! deleted (`{"status":"deleted"}`), two entities merged (`{"status":"merged"}`), a candidate
//! pair dismissed (`{"status":"dismissed"}`), the graph's counts (`entity_count`,
//! `relation_count`, `entity_types`), the whole graph for drawing (`{entities, relations}`)
//! and a reset (`{"deleted_count": n}`).
//!
//! Whose graph follows the read routes' rule: the caller's own user's with this agent, and
//! with `user_id` another user's for admins only; below admin, naming someone else is refused
//! (403) for changes and reads as an empty graph. Changes need `operator.write`.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use goclaw_core::{GraphScope, NewEntity};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::knowledge_graph::{EntityView, RelationView, entity_view, relation_view, scope};
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use crate::routes::AppState;

/// Entities `graph` returns without `limit` (GoClaw's 200), and at most (500); relations up
/// to three times as many.
const GRAPH_LIMIT: u32 = 200;
const GRAPH_MAX: u32 = 500;

/// `POST /v1/agents/{id}/kg/entities`: GoClaw's `Entity` fields.
#[derive(Deserialize, ToSchema)]
pub struct EntityUpsert {
    /// The entity's name for its extraction; an entity with this one is updated.
    #[schema(min_length = 1, pattern = r"\S")]
    pub external_id: String,
    #[schema(min_length = 1, pattern = r"\S")]
    pub name: String,
    #[schema(min_length = 1, pattern = r"\S")]
    pub entity_type: String,
    #[serde(default)]
    pub description: String,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub properties: Option<Value>,
    #[serde(default)]
    pub source_id: String,
    /// 0 or none: 1.0.
    #[serde(default)]
    #[schema(minimum = 0.0, maximum = 1.0)]
    pub confidence: f64,
    /// Whose graph (admins only).
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `POST /v1/agents/{id}/kg/merge`.
#[derive(Deserialize, ToSchema)]
pub struct MergeRequest {
    /// The entity kept.
    #[schema(min_length = 1, pattern = r"\S")]
    pub target_id: String,
    /// The entity merged into it and deleted.
    #[schema(min_length = 1, pattern = r"\S")]
    pub source_id: String,
    /// Whose graph (admins only).
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `POST /v1/agents/{id}/kg/dedup/dismiss`.
#[derive(Deserialize, ToSchema)]
pub struct DismissRequest {
    #[schema(min_length = 1, pattern = r"\S")]
    pub candidate_id: String,
    /// Whose graph (admins only).
    #[serde(default)]
    pub user_id: Option<String>,
}

/// GoClaw's answer of a change: `ok`, `deleted`, `merged` or `dismissed`.
#[derive(Serialize, ToSchema)]
pub struct GraphStatus {
    #[schema(example = "ok")]
    pub status: String,
}

/// `GET /v1/agents/{id}/kg/stats` (GoClaw's `GraphStats`).
#[derive(Serialize, ToSchema)]
pub struct GraphStatsView {
    pub entity_count: u64,
    pub relation_count: u64,
    /// Current entities by type.
    pub entity_types: BTreeMap<String, u64>,
}

/// `GET /v1/agents/{id}/kg/graph`.
#[derive(Serialize, ToSchema)]
pub struct GraphView {
    pub entities: Vec<EntityView>,
    pub relations: Vec<RelationView>,
}

/// `POST /v1/agents/{id}/kg/reset`.
#[derive(Serialize, ToSchema)]
pub struct GraphReset {
    /// Entities deleted (their relations went with them).
    pub deleted_count: u64,
}

/// Query of `stats` (documentation; the handler reads the raw pairs).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct WhoseQuery {
    /// Whose graph (admins; everyone else has their own).
    user_id: Option<String>,
}

/// Query of `graph` (documentation; the handler reads the raw pairs).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct DrawingQuery {
    /// Whose graph (admins; everyone else has their own).
    user_id: Option<String>,
    /// At most this many entities (1–500, default 200), and three times as many relations.
    #[param(minimum = 1, maximum = 500)]
    limit: Option<u32>,
}

/// The graph a change applies to; 403 for someone else's below admin.
async fn writable(
    state: &AppState,
    caller: &Caller,
    route: (&str, &str),
    agent: &str,
    user: Option<&str>,
) -> Result<GraphScope, ApiError> {
    scope(state, &caller.0, route, agent, user)
        .await?
        .ok_or_else(|| ApiError::forbidden("only admins may change another user's graph"))
}

fn status(status: &str) -> Json<GraphStatus> {
    Json(GraphStatus {
        status: status.to_owned(),
    })
}

fn entity_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| ApiError::not_found(format!("{what} {raw} not found")))
}

fn nul_free(query: &HashMap<String, String>) -> Result<(), ApiError> {
    if query.values().any(|v| v.contains('\0')) {
        return Err(ApiError::bad_request(
            "query parameters must not contain NUL characters",
        ));
    }
    Ok(())
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/kg/entities",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = EntityUpsert, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stored (created, or updated by its external id)", body = GraphStatus),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this, or the graph is another user's", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn upsert_entity(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<EntityUpsert>,
) -> Result<Json<GraphStatus>, ApiError> {
    let required = [&body.external_id, &body.name, &body.entity_type];
    if required
        .iter()
        .any(|v| v.trim().is_empty() || v.contains('\0'))
    {
        return Err(ApiError::bad_request(
            "external_id, name and entity_type are required",
        ));
    }
    if !body.confidence.is_finite() || !(0.0..=1.0).contains(&body.confidence) {
        return Err(ApiError::bad_request("confidence must be from 0 to 1"));
    }
    let properties = match body.properties {
        None | Some(Value::Null) => json!({}),
        Some(Value::Object(map)) => Value::Object(map),
        Some(_) => return Err(ApiError::bad_request("properties must be an object")),
    };
    let route = ("POST", "/v1/agents/{id}/kg/entities");
    let scope = writable(&state, &caller, route, &id, body.user_id.as_deref()).await?;
    let entity = NewEntity {
        external_id: body.external_id.trim().to_owned(),
        name: body.name.trim().to_owned(),
        entity_type: body.entity_type.trim().to_owned(),
        description: body.description,
        properties,
        source_id: body.source_id,
        confidence: if body.confidence > 0.0 {
            body.confidence
        } else {
            1.0
        },
        embedding: None,
    };
    state
        .store
        .knowledge_graph()
        .upsert_entity(&scope, entity)
        .await?;
    Ok(status("ok"))
}

#[utoipa::path(
    delete,
    path = "/v1/agents/{id}/kg/entities/{entityID}",
    tag = "memory",
    params(
        ("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"),
        ("entityID" = String, Path, description = "The entity's id (a UUID)"),
        ("user_id" = Option<String>, Query, description = "Whose graph (admins only)")
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted, with its relations", body = GraphStatus),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this, or the graph is another user's", body = ErrorResponse),
        (status = 404, description = "No such agent or entity in the graph", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete_entity(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, entity)): ApiPath<(String, String)>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<GraphStatus>, ApiError> {
    nul_free(&query)?;
    let route = ("DELETE", "/v1/agents/{id}/kg/entities/{entityID}");
    let user = query.get("user_id").map(String::as_str);
    let scope = writable(&state, &caller, route, &id, user).await?;
    let uuid = entity_id(&entity, "entity")?;
    if !state
        .store
        .knowledge_graph()
        .delete_entity(&scope, uuid)
        .await?
    {
        return Err(ApiError::not_found(format!("entity {entity} not found")));
    }
    Ok(status("deleted"))
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/kg/merge",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = MergeRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The source's relations moved to the target, the source deleted", body = GraphStatus),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this, or the graph is another user's", body = ErrorResponse),
        (status = 404, description = "No such agent, or an entity not in the graph", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn merge(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MergeRequest>,
) -> Result<Json<GraphStatus>, ApiError> {
    if body.target_id.trim().is_empty() || body.source_id.trim().is_empty() {
        return Err(ApiError::bad_request(
            "target_id and source_id are required",
        ));
    }
    let route = ("POST", "/v1/agents/{id}/kg/merge");
    let scope = writable(&state, &caller, route, &id, body.user_id.as_deref()).await?;
    let kept = entity_id(&body.target_id, "entity")?;
    let merged = entity_id(&body.source_id, "entity")?;
    state
        .store
        .knowledge_graph()
        .merge_entities(&scope, kept, merged)
        .await?;
    Ok(status("merged"))
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/kg/dedup/dismiss",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = DismissRequest, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The pair is no longer a candidate", body = GraphStatus),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this, or the graph is another user's", body = ErrorResponse),
        (status = 404, description = "No such agent, or no such pending candidate in the graph", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn dismiss(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<DismissRequest>,
) -> Result<Json<GraphStatus>, ApiError> {
    if body.candidate_id.trim().is_empty() {
        return Err(ApiError::bad_request("candidate_id is required"));
    }
    let route = ("POST", "/v1/agents/{id}/kg/dedup/dismiss");
    let scope = writable(&state, &caller, route, &id, body.user_id.as_deref()).await?;
    let gone = || ApiError::not_found("candidate not found or already resolved");
    let candidate = Uuid::parse_str(body.candidate_id.trim()).map_err(|_| gone())?;
    if !state
        .store
        .knowledge_graph()
        .dismiss_dedup_candidate(&scope, candidate)
        .await?
    {
        return Err(gone());
    }
    Ok(status("dismissed"))
}

#[utoipa::path(
    get,
    path = "/v1/agents/{id}/kg/stats",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"), WhoseQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Counts of the current graph", body = GraphStatsView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn stats(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<GraphStatsView>, ApiError> {
    nul_free(&query)?;
    let route = ("GET", "/v1/agents/{id}/kg/stats");
    let user = query.get("user_id").map(String::as_str);
    let empty = GraphStatsView {
        entity_count: 0,
        relation_count: 0,
        entity_types: BTreeMap::new(),
    };
    let Some(scope) = scope(&state, &caller.0, route, &id, user).await? else {
        return Ok(Json(empty));
    };
    let graph = state.store.knowledge_graph();
    let counts = graph.graph_counts(&scope).await?;
    Ok(Json(GraphStatsView {
        entity_count: counts.entities,
        relation_count: counts.relations,
        entity_types: graph
            .entity_type_counts(&scope)
            .await?
            .into_iter()
            .collect(),
    }))
}

#[utoipa::path(
    get,
    path = "/v1/agents/{id}/kg/graph",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"), DrawingQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Current entities by name and relations oldest first", body = GraphView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn graph(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<GraphView>, ApiError> {
    nul_free(&query)?;
    let limit = match query.get("limit").map(|v| v.trim().parse::<u32>()) {
        None => GRAPH_LIMIT,
        Some(Ok(n)) if (1..=GRAPH_MAX).contains(&n) => n,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "limit must be an integer from 1 to {GRAPH_MAX}"
            )));
        }
    };
    let route = ("GET", "/v1/agents/{id}/kg/graph");
    let user = query.get("user_id").map(String::as_str);
    let Some(scope) = scope(&state, &caller.0, route, &id, user).await? else {
        return Ok(Json(GraphView {
            entities: Vec::new(),
            relations: Vec::new(),
        }));
    };
    let graph = state.store.knowledge_graph();
    let entities = graph.list_entities(&scope, limit, 0).await?;
    let relations = graph.list_relations(&scope, limit * 3).await?;
    Ok(Json(GraphView {
        entities: entities.iter().map(entity_view).collect(),
        relations: relations.iter().map(relation_view).collect(),
    }))
}

#[utoipa::path(
    post,
    path = "/v1/agents/{id}/kg/reset",
    tag = "memory",
    params(
        ("id" = String, Path, description = "The agent's UUID or its key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"),
        ("user_id" = Option<String>, Query, description = "Whose graph (admins only)")
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The graph is empty now", body = GraphReset),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this, or the graph is another user's", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn reset(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<GraphReset>, ApiError> {
    nul_free(&query)?;
    let route = ("POST", "/v1/agents/{id}/kg/reset");
    let user = query.get("user_id").map(String::as_str);
    let scope = writable(&state, &caller, route, &id, user).await?;
    let deleted_count = state.store.knowledge_graph().clear_graph(&scope).await?;
    Ok(Json(GraphReset { deleted_count }))
}
