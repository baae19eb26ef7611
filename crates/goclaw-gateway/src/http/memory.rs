//! GoClaw's memory routes: `/v1/memory/documents` and `/v1/agents/{id}/memory/…` — list,
//! read, write and delete memory documents, list a document's chunks, re-index, and search —
//! with GoClaw's shapes (bare arrays of `DocumentInfo` and `ChunkInfo`, `DocumentDetail`,
//! `{status, path}` answers, `{results, count}` for a search).
//!
//! Whose memory a request addresses: `user_id` (query or body) names a user; without it, the
//! caller. Only an admin may name another user (GoClaw lets anyone; that is a hole, closed
//! here); `user_id` of another user from anyone else is refused with 403. A read falls back
//! from the user's own document to the agent's shared one (as `memory_get` does); lists and
//! searches show the user's documents and the shared ones — an admin listing without
//! `user_id` sees every user's. The agent is found by UUID or key in the caller's tenant only.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use goclaw_core::{Agent, MemoryDocument, MemoryScope};
use goclaw_memory::index::SearchOptions;
use goclaw_memory::rank::RankOptions;
use serde_json::{Value, json};

use super::agents::find_agent;
use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use super::schemas_memory::{
    MemoryChunkInfo, MemoryDocumentDetail, MemoryDocumentInfo, MemoryIndexAllBody, MemoryIndexBody,
    MemoryPutBody, MemorySearchBody, MemorySearchResponse, MemoryStatus,
};
use crate::auth::Principal;
use crate::routes::AppState;

/// Most results one search returns.
const MAX_RESULTS: usize = 50;
/// Characters of a chunk shown in `text_preview`.
const PREVIEW_CHARS: usize = 200;
/// Most bytes of one document written through the API.
const MAX_DOCUMENT_BYTES: usize = 1024 * 1024;

/// The query string's pairs, read raw so that no query is refused before the handler
/// (unknown pairs are ignored).
type Pairs = HashMap<String, String>;

/// The user a request acts for: `requested` when the caller may name that user, else the
/// caller. An empty `requested` is no request.
fn acting_user(caller: &Principal, requested: Option<&str>) -> Result<String, ApiError> {
    match requested.map(str::trim).filter(|u| !u.is_empty()) {
        Some(user) if user == caller.user_id || caller.sees_all() => Ok(user.to_owned()),
        Some(_) => Err(ApiError::forbidden(
            "permission denied: only an admin may name another user's memory",
        )),
        None if caller.user_id.is_empty() => Err(ApiError::bad_request(
            "user_id is required: name the user (X-GoClaw-User-Id or user_id)",
        )),
        None => Ok(caller.user_id.clone()),
    }
}

fn clean_path(raw: &str) -> Result<String, ApiError> {
    let path = raw.trim().trim_start_matches('/');
    if path.is_empty() || path.chars().count() > 1024 || path.chars().any(char::is_control) {
        return Err(ApiError::bad_request(
            "path must be 1–1024 characters, none of them control characters",
        ));
    }
    Ok(path.to_owned())
}

fn millis(time: chrono::DateTime<chrono::Utc>) -> i64 {
    time.timestamp_millis()
}

fn document_info(agent: &Agent, document: &MemoryDocument) -> Value {
    let mut info = json!({
        "path": document.path,
        "hash": document.content_hash,
        "agent_id": agent.id.to_string(),
        "updated_at": millis(document.updated_at),
    });
    if let Some(user) = &document.user_id {
        info["user_id"] = json!(user);
    }
    info
}

async fn agent(state: &AppState, caller: &Caller, raw: &str) -> Result<Agent, ApiError> {
    find_agent(state, caller.0.tenant_id, raw).await
}

/// Every memory document of the caller's tenant the caller may see.
#[utoipa::path(
    get,
    path = "/v1/memory/documents",
    tag = "memory",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Documents of every agent: all of them for an admin, the caller's own and the shared ones otherwise", body = [MemoryDocumentInfo]),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list_all(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<Value>, ApiError> {
    let tenant = caller.0.tenant_id;
    let agents = state.store.agents().list(tenant).await?;
    let documents = state.store.memory().all_documents(tenant, None).await?;
    let visible: Vec<Value> = documents
        .iter()
        .filter(|d| {
            caller.0.sees_all() || d.user_id.as_deref().is_none_or(|u| u == caller.0.user_id)
        })
        .filter_map(|d| {
            let agent = agents.iter().find(|a| a.id == d.agent_id)?;
            Some(document_info(agent, d))
        })
        .collect();
    Ok(Json(Value::Array(visible)))
}

/// The memory documents of one agent the caller may see.
#[utoipa::path(
    get,
    path = "/v1/agents/{id}/memory/documents",
    tag = "memory",
    params(
        ("id" = String, Path, description = "The agent's UUID or key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"),
        ("user_id" = Option<String>, Query, description = "Only this user's documents and the shared ones (another user's: admins only)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The documents", body = [MemoryDocumentInfo]),
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
    Query(query): Query<Pairs>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent(&state, &caller, &id).await?;
    let tenant = caller.0.tenant_id;
    let memory = state.store.memory();
    let documents = if !query.contains_key("user_id") && caller.0.sees_all() {
        memory.all_documents(tenant, Some(agent.id)).await?
    } else {
        let user = acting_user(&caller.0, query.get("user_id").map(String::as_str))?;
        let scope = MemoryScope::user(tenant, agent.id, user);
        memory.list_documents(&scope, "").await?
    };
    let infos: Vec<Value> = documents.iter().map(|d| document_info(&agent, d)).collect();
    Ok(Json(Value::Array(infos)))
}

/// The user's document at `path`, else the agent's shared one.
async fn visible_document(
    state: &AppState,
    scope: &MemoryScope,
    path: &str,
) -> Result<Option<MemoryDocument>, ApiError> {
    let memory = state.store.memory();
    if let Some(document) = memory.get_document(scope, path).await? {
        return Ok(Some(document));
    }
    let shared = MemoryScope::shared(scope.tenant, scope.agent);
    Ok(memory.get_document(&shared, path).await?)
}

/// One document with its chunk counts.
#[utoipa::path(
    get,
    path = "/v1/agents/{id}/memory/documents/{path}",
    tag = "memory",
    params(
        ("id" = String, Path, description = "The agent's UUID or key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"),
        ("path" = String, Path, description = "The document's path, e.g. `MEMORY.md` or `memory/notes.md`", pattern = r"^[^\x00-\x20\x7f-\xa0/\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]{0,1023}$"),
        ("user_id" = Option<String>, Query, description = "Whose document (another user's: admins only)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The document", body = MemoryDocumentDetail),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent or document", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, path)): ApiPath<(String, String)>,
    Query(query): Query<Pairs>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent(&state, &caller, &id).await?;
    let path = clean_path(&path)?;
    let user = acting_user(&caller.0, query.get("user_id").map(String::as_str))?;
    let scope = MemoryScope::user(caller.0.tenant_id, agent.id, user);
    let document = visible_document(&state, &scope, &path)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("document {path} not found")))?;
    let chunks = state
        .store
        .memory()
        .document_chunks(caller.0.tenant_id, document.id)
        .await?;
    let embedded = chunks.iter().filter(|c| c.has_embedding).count();
    let mut detail = json!({
        "path": document.path,
        "content": document.content,
        "hash": document.content_hash,
        "chunk_count": chunks.len(),
        "embedded_count": embedded,
        "created_at": millis(document.created_at),
        "updated_at": millis(document.updated_at),
    });
    if let Some(user) = &document.user_id {
        detail["user_id"] = json!(user);
    }
    Ok(Json(detail))
}

/// Writes (creates or replaces) the user's document and indexes it.
#[utoipa::path(
    put,
    path = "/v1/agents/{id}/memory/documents/{path}",
    tag = "memory",
    params(
        ("id" = String, Path, description = "The agent's UUID or key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"),
        ("path" = String, Path, description = "The document's path", pattern = r"^[^\x00-\x20\x7f-\xa0/\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]{0,1023}$"),
    ),
    request_body(content = MemoryPutBody, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stored and indexed", body = MemoryStatus),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn put(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, path)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<MemoryPutBody>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent(&state, &caller, &id).await?;
    let path = clean_path(&path)?;
    if body.content.len() > MAX_DOCUMENT_BYTES {
        return Err(ApiError::bad_request(format!(
            "the content is longer than {MAX_DOCUMENT_BYTES} bytes"
        )));
    }
    let user = acting_user(&caller.0, body.user_id.as_deref())?;
    let scope = MemoryScope::user(caller.0.tenant_id, agent.id, user);
    state
        .memory
        .write(scope, &path, &body.content)
        .await
        .map_err(memory_error)?;
    Ok(Json(json!({ "status": "ok", "path": path })))
}

/// Deletes the user's document at `path` with its chunks.
#[utoipa::path(
    delete,
    path = "/v1/agents/{id}/memory/documents/{path}",
    tag = "memory",
    params(
        ("id" = String, Path, description = "The agent's UUID or key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"),
        ("path" = String, Path, description = "The document's path", pattern = r"^[^\x00-\x20\x7f-\xa0/\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]{0,1023}$"),
        ("user_id" = Option<String>, Query, description = "Whose document (another user's: admins only)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted", body = MemoryStatus),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent or document", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, path)): ApiPath<(String, String)>,
    Query(query): Query<Pairs>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent(&state, &caller, &id).await?;
    let path = clean_path(&path)?;
    let user = acting_user(&caller.0, query.get("user_id").map(String::as_str))?;
    let scope = MemoryScope::user(caller.0.tenant_id, agent.id, user);
    if !state.store.memory().delete_document(&scope, &path).await? {
        return Err(ApiError::not_found(format!("document {path} not found")));
    }
    Ok(Json(json!({ "status": "deleted" })))
}

/// The chunks of one document, in line order.
#[utoipa::path(
    get,
    path = "/v1/agents/{id}/memory/chunks",
    tag = "memory",
    params(
        ("id" = String, Path, description = "The agent's UUID or key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$"),
        ("path" = String, Query, description = "The document's path", pattern = r"^[^\x00-\x20\x7f-\xa0/\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]{0,1023}$"),
        ("user_id" = Option<String>, Query, description = "Whose document (another user's: admins only)"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The chunks", body = [MemoryChunkInfo]),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent or document", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn chunks(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    Query(query): Query<Pairs>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent(&state, &caller, &id).await?;
    let path = clean_path(query.get("path").map_or("", String::as_str))
        .map_err(|_| ApiError::bad_request("path is required"))?;
    let user = acting_user(&caller.0, query.get("user_id").map(String::as_str))?;
    let scope = MemoryScope::user(caller.0.tenant_id, agent.id, user);
    let document = visible_document(&state, &scope, &path)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("document {path} not found")))?;
    let chunks = state
        .store
        .memory()
        .document_chunks(caller.0.tenant_id, document.id)
        .await?;
    let infos: Vec<Value> = chunks
        .iter()
        .map(|c| {
            json!({
                "id": c.id.to_string(),
                "start_line": c.start_line,
                "end_line": c.end_line,
                "text_preview": c.text.chars().take(PREVIEW_CHARS).collect::<String>(),
                "has_embedding": c.has_embedding,
            })
        })
        .collect();
    Ok(Json(Value::Array(infos)))
}

/// Indexes one stored document again (chunks and embeddings from its current content): the
/// user's own at `path`, else the agent's shared one.
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/memory/index",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = MemoryIndexBody, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Indexed", body = MemoryStatus),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent or document", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn index(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MemoryIndexBody>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent(&state, &caller, &id).await?;
    let path = clean_path(&body.path)?;
    let user = acting_user(&caller.0, body.user_id.as_deref())?;
    let scope = MemoryScope::user(caller.0.tenant_id, agent.id, user);
    let document = visible_document(&state, &scope, &path)
        .await?
        .ok_or_else(|| ApiError::not_found(format!("document {path} not found")))?;
    // Re-indexing keeps the content and the owner: the shared document stays shared.
    let owner = MemoryScope {
        user: document.user_id.clone(),
        ..scope
    };
    state
        .memory
        .write(owner, &path, &document.content)
        .await
        .map_err(memory_error)?;
    Ok(Json(json!({ "status": "indexed", "path": path })))
}

/// Indexes every document of the user again (every document of the agent for an admin who
/// names no user).
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/memory/index-all",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = MemoryIndexAllBody, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Indexed", body = MemoryStatus),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn index_all(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<MemoryIndexAllBody>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent(&state, &caller, &id).await?;
    let tenant = caller.0.tenant_id;
    let documents = if body.user_id.is_none() && caller.0.sees_all() {
        state
            .store
            .memory()
            .all_documents(tenant, Some(agent.id))
            .await?
    } else {
        let user = acting_user(&caller.0, body.user_id.as_deref())?;
        let scope = MemoryScope::user(tenant, agent.id, user);
        // Only the user's own documents: the shared ones are not theirs to rewrite.
        state
            .store
            .memory()
            .list_documents(&scope, "")
            .await?
            .into_iter()
            .filter(|d| d.user_id.is_some())
            .collect()
    };
    for document in documents {
        let owner = MemoryScope {
            tenant,
            agent: agent.id,
            user: document.user_id.clone(),
        };
        state
            .memory
            .write(owner, &document.path, &document.content)
            .await
            .map_err(memory_error)?;
    }
    Ok(Json(json!({ "status": "indexed_all" })))
}

/// Searches the memory the user sees (their documents and the shared ones).
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/memory/search",
    tag = "memory",
    params(("id" = String, Path, description = "The agent's UUID or key", pattern = r"^([a-z0-9][a-z0-9_-]{0,63}|[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12})$")),
    request_body(content = MemorySearchBody, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The best matches first", body = MemorySearchResponse),
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
    ApiJson(body): ApiJson<MemorySearchBody>,
) -> Result<Json<Value>, ApiError> {
    let agent = agent(&state, &caller, &id).await?;
    let query = body.query.trim();
    if query.is_empty() {
        return Err(ApiError::bad_request("query is required"));
    }
    let user = acting_user(&caller.0, body.user_id.as_deref())?;
    let scope = MemoryScope::user(caller.0.tenant_id, agent.id, user);
    // `agents.defaults.memory`, then the agent's own `memory_config`, then the request.
    let defaults = state.memory.ranking_for(&agent);
    let options = SearchOptions {
        rank: RankOptions {
            max_results: match body.max_results {
                Some(n) if n > 0 => usize::try_from(n).map_or(MAX_RESULTS, |n| n.min(MAX_RESULTS)),
                _ => defaults.max_results,
            },
            min_score: body
                .min_score
                .filter(|s| s.is_finite() && *s > 0.0)
                .unwrap_or(defaults.min_score),
            ..defaults
        },
        path_prefix: None,
    };
    let found = state
        .memory
        .search(&scope, query, &options)
        .await
        .map_err(memory_error)?;
    let results: Vec<Value> = found
        .iter()
        .map(|r| {
            json!({
                "path": r.path,
                "start_line": r.start_line,
                "end_line": r.end_line,
                "score": r.score,
                "snippet": r.text,
                "source": "memory",
                "scope": if r.personal { "personal" } else { "global" },
            })
        })
        .collect();
    Ok(Json(json!({ "count": results.len(), "results": results })))
}

fn memory_error(error: goclaw_memory::index::MemoryError) -> ApiError {
    match error {
        goclaw_memory::index::MemoryError::Store(error) => error.into(),
        other => ApiError::internal(other),
    }
}
