//! Changing the knowledge vault over GoClaw's routes, per agent (`/v1/agents/{id}/vault/…`) and
//! tenant-wide (`/v1/vault/…`), in its shapes: a document registered (201, the document),
//! retitled or retyped (`PUT`, the document), forgotten (204), and links between documents made
//! (201, the link) and removed (204).
//!
//! The vault registers files, so a document is created for a file that exists in the tenant's
//! workspace (its owner and scope follow the file's place, as for every registered file) and a
//! change never moves it; deleting forgets the record, not the file (a rescan finds the file
//! again). Changes need `operator.write`; below admin only documents in the caller's own
//! workspace of an `open` agent may be changed or linked from, and a link's target must be a
//! document the caller sees. Anything else the caller may not change reads as not found.

use std::path::{Component, Path};

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use goclaw_core::{VaultDocument, VaultScope};
use goclaw_memory::vault::Registered;
use serde::Deserialize;
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::path::ApiPath;
use super::schemas::ErrorResponse;
use super::vault::{
    VaultDocumentView, VaultLinkView, Visibility, document_view, link_view, vault, view_of,
};
use crate::routes::AppState;

/// GoClaw's document types a client may set.
const DOC_TYPES: &[&str] = &["context", "memory", "note", "skill", "episodic", "media"];
/// Longest title, link type and context, in characters.
const MAX_TEXT_CHARS: usize = 1000;

/// `POST …/vault/documents`: a file of the workspace to register.
#[derive(Deserialize, ToSchema)]
pub struct VaultDocumentCreate {
    /// The file, relative to the tenant's workspace root.
    #[schema(min_length = 1)]
    pub path: String,
    #[schema(min_length = 1, pattern = r"\S")]
    pub title: String,
    /// `context`, `memory`, `note`, `skill`, `episodic` or `media` (empty or none: from the
    /// file).
    #[serde(default)]
    #[schema(pattern = "^(|context|memory|note|skill|episodic|media)$")]
    pub doc_type: Option<String>,
    /// Must be the file's own (`personal` under an agent's folder, else `shared`) when given.
    #[serde(default)]
    pub scope: Option<String>,
    /// Teams do not exist here: a team document is refused.
    #[serde(default)]
    pub team_id: Option<String>,
    /// Only this agent (tenant-wide route; the per-agent route takes it from the path).
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// `PUT …/vault/documents/{docID}`: what to change, all optional.
#[derive(Deserialize, ToSchema)]
pub struct VaultDocumentUpdate {
    #[serde(default)]
    #[schema(pattern = r"\S")]
    pub title: Option<String>,
    /// As on creation; empty or none leaves it.
    #[serde(default)]
    #[schema(pattern = "^(|context|memory|note|skill|episodic|media)$")]
    pub doc_type: Option<String>,
    /// Must be the document's own: a document's scope follows its file.
    #[serde(default)]
    pub scope: Option<String>,
    /// Teams do not exist here: only an empty value is accepted.
    #[serde(default)]
    pub team_id: Option<String>,
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// `POST …/vault/links`.
#[derive(Deserialize, ToSchema)]
pub struct VaultLinkCreate {
    #[schema(min_length = 1, pattern = r"\S")]
    pub from_doc_id: String,
    #[schema(min_length = 1, pattern = r"\S")]
    pub to_doc_id: String,
    /// Default `reference`; `wikilink` is kept for links found in the text.
    #[serde(default)]
    pub link_type: Option<String>,
    #[serde(default)]
    pub context: String,
}

fn text_ok(field: &str, value: &str) -> Result<(), ApiError> {
    if value.contains('\0') || value.chars().count() > MAX_TEXT_CHARS {
        return Err(ApiError::bad_request(format!(
            "{field} must be at most {MAX_TEXT_CHARS} characters of text"
        )));
    }
    Ok(())
}

fn doc_type_ok(doc_type: &str) -> Result<(), ApiError> {
    if DOC_TYPES.contains(&doc_type) {
        return Ok(());
    }
    Err(ApiError::bad_request("invalid doc_type"))
}

fn metadata_ok(metadata: Option<Value>, current: Value) -> Result<Value, ApiError> {
    match metadata {
        None | Some(Value::Null) => Ok(current),
        Some(Value::Object(map)) if Value::Object(map.clone()).to_string().len() <= 65_536 => {
            Ok(Value::Object(map))
        }
        Some(_) => Err(ApiError::bad_request(
            "metadata must be an object of at most 64 KiB",
        )),
    }
}

/// The scope a request names must be the document's own; a team is never one here.
fn scope_ok(
    asked: Option<&str>,
    team: Option<&str>,
    document: &VaultDocument,
) -> Result<(), ApiError> {
    if team.is_some_and(|t| !t.trim().is_empty()) {
        return Err(ApiError::bad_request("there are no teams on this gateway"));
    }
    match asked.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(()),
        Some(raw) => match VaultScope::parse(raw) {
            Ok(scope) if scope == document.scope => Ok(()),
            Ok(_) => Err(ApiError::bad_request(
                "a document's scope follows its file's place in the workspace",
            )),
            Err(_) => Err(ApiError::bad_request("invalid scope")),
        },
    }
}

/// A relative path of plain names, `/`-separated; anything else names no file of the
/// workspace (404).
fn relative_path(raw: &str) -> Result<String, ApiError> {
    let path = raw.trim();
    let plain = !path.is_empty()
        && !path.contains('\\')
        && !path.contains('\0')
        && Path::new(path)
            .components()
            .all(|c| matches!(c, Component::Normal(_)));
    if !plain {
        return Err(ApiError::not_found(
            "no such file in the workspace: the path must be relative to it, without `..`",
        ));
    }
    Ok(path.to_owned())
}

/// The document `raw` names if the caller may change it through the route's view; else 404.
async fn writable_document(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    raw: &str,
) -> Result<(VaultDocument, Visibility), ApiError> {
    let not_found = || ApiError::not_found("document not found");
    let id = Uuid::parse_str(raw.trim()).map_err(|_| not_found())?;
    let tenant = caller.0.tenant_id;
    let view = view_of(state, tenant, agent).await?;
    let visibility = Visibility::of(state, &caller.0).await?;
    let document = state
        .store
        .vault()
        .get_document(tenant, id)
        .await?
        .filter(|d| view.sees(d) && visibility.owns(d))
        .ok_or_else(not_found)?;
    Ok((document, visibility))
}

async fn create_in(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    body: VaultDocumentCreate,
) -> Result<(StatusCode, Json<VaultDocumentView>), ApiError> {
    let path = relative_path(&body.path)?;
    if body.title.trim().is_empty() {
        return Err(ApiError::bad_request("path and title are required"));
    }
    text_ok("title", &body.title)?;
    let asked_type = body
        .doc_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(doc_type) = asked_type {
        doc_type_ok(doc_type)?;
    }
    let tenant = caller.0.tenant_id;
    let view = view_of(state, tenant, agent.or(body.agent_id.as_deref())).await?;
    let visibility = Visibility::of(state, &caller.0).await?;
    let vault = vault(state)?;
    let is_file = tokio::fs::symlink_metadata(vault.absolute(tenant, &path))
        .await
        .is_ok_and(|m| m.is_file());
    if !is_file {
        return Err(ApiError::not_found(format!(
            "no file {path} in the workspace"
        )));
    }
    // Whose the file would be is only known once registered; a caller who may not own it
    // must not register it, so ownership is checked on a registered document and undone.
    let existed = state
        .store
        .vault()
        .lookup(&goclaw_core::VaultView::tenant(tenant), &path, false)
        .await?
        .into_iter()
        .next();
    let registered = vault
        .register(tenant, &path)
        .await
        .map_err(ApiError::internal)?;
    let document = match registered {
        Registered::New(d) | Registered::Updated(d) | Registered::Unchanged(d) => d,
        Registered::Skipped => {
            return Err(ApiError::bad_request(
                "the vault does not keep this file (type or place)",
            ));
        }
    };
    if !view.sees(&document) || !visibility.owns(&document) {
        if existed.is_none() {
            state
                .store
                .vault()
                .delete_document(tenant, document.id)
                .await?;
        }
        return Err(ApiError::not_found(format!(
            "no file {path} in the workspace"
        )));
    }
    scope_ok(body.scope.as_deref(), body.team_id.as_deref(), &document)?;
    let doc_type = asked_type.map_or_else(|| document.doc_type.clone(), str::to_owned);
    let metadata = metadata_ok(body.metadata, document.metadata.clone())?;
    let updated = state
        .store
        .vault()
        .update_document(tenant, document.id, body.title.trim(), &doc_type, &metadata)
        .await?
        .ok_or_else(|| ApiError::not_found("document not found"))?;
    Ok((StatusCode::CREATED, Json(document_view(updated))))
}

async fn update_in(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    raw: &str,
    body: VaultDocumentUpdate,
) -> Result<Json<VaultDocumentView>, ApiError> {
    let (document, _) = writable_document(state, caller, agent, raw).await?;
    scope_ok(body.scope.as_deref(), body.team_id.as_deref(), &document)?;
    let title = body.title.unwrap_or_else(|| document.title.clone());
    if title.trim().is_empty() {
        return Err(ApiError::bad_request("title must not be empty"));
    }
    text_ok("title", &title)?;
    let doc_type = body
        .doc_type
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| document.doc_type.clone());
    if doc_type != document.doc_type {
        doc_type_ok(&doc_type)?;
    }
    let metadata = metadata_ok(body.metadata, document.metadata.clone())?;
    let updated = state
        .store
        .vault()
        .update_document(
            caller.0.tenant_id,
            document.id,
            title.trim(),
            &doc_type,
            &metadata,
        )
        .await?
        .ok_or_else(|| ApiError::not_found("document not found"))?;
    Ok(Json(document_view(updated)))
}

async fn delete_in(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    raw: &str,
) -> Result<StatusCode, ApiError> {
    let (document, _) = writable_document(state, caller, agent, raw).await?;
    state
        .store
        .vault()
        .delete_document(caller.0.tenant_id, document.id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn link_in(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    body: VaultLinkCreate,
) -> Result<(StatusCode, Json<VaultLinkView>), ApiError> {
    if body.from_doc_id.trim().is_empty() || body.to_doc_id.trim().is_empty() {
        return Err(ApiError::bad_request(
            "from_doc_id and to_doc_id are required",
        ));
    }
    let link_type = body
        .link_type
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .unwrap_or("reference")
        .to_owned();
    if link_type == "wikilink" {
        return Err(ApiError::bad_request(
            "wikilinks follow the documents' text",
        ));
    }
    text_ok("link_type", &link_type)?;
    text_ok("context", &body.context)?;
    let not_found = || ApiError::not_found("one or both documents not found");
    let (from, visibility) = writable_document(state, caller, agent, &body.from_doc_id)
        .await
        .map_err(|_| not_found())?;
    let tenant = caller.0.tenant_id;
    let to = Uuid::parse_str(body.to_doc_id.trim()).map_err(|_| not_found())?;
    let view = view_of(state, tenant, agent).await?;
    let target = state
        .store
        .vault()
        .get_document(tenant, to)
        .await?
        .filter(|d| view.sees(d) && visibility.sees(d))
        .ok_or_else(not_found)?;
    let link = state
        .store
        .vault()
        .add_link(tenant, from.id, target.id, &link_type, &body.context)
        .await?
        .ok_or_else(not_found)?;
    Ok((StatusCode::CREATED, Json(link_view(link))))
}

async fn unlink_in(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    raw: &str,
) -> Result<StatusCode, ApiError> {
    let not_found = || ApiError::not_found("link not found");
    let id = Uuid::parse_str(raw.trim()).map_err(|_| not_found())?;
    let tenant = caller.0.tenant_id;
    let link = state
        .store
        .vault()
        .get_link(tenant, id)
        .await?
        .ok_or_else(not_found)?;
    writable_document(state, caller, agent, &link.from_doc_id.to_string())
        .await
        .map_err(|_| not_found())?;
    state.store.vault().delete_link(tenant, link.id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Registers a workspace file in an agent's view.
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/vault/documents",
    tag = "vault",
    params(("id" = String, Path, description = "The agent's UUID or its key")),
    request_body(content = VaultDocumentCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered, with the title and type given", body = VaultDocumentView),
        (status = 400, description = "Invalid input, or a file the vault does not keep", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent, or no such file (a relative path without `..`) the caller may register", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
        (status = 503, description = "The vault is not available", body = ErrorResponse),
    )
)]
pub async fn create_agent_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<VaultDocumentCreate>,
) -> Result<(StatusCode, Json<VaultDocumentView>), ApiError> {
    create_in(&state, &caller, Some(&id), body).await
}

/// Registers a workspace file (tenant-wide; `agent_id` optional).
#[utoipa::path(
    post,
    path = "/v1/vault/documents",
    tag = "vault",
    request_body(content = VaultDocumentCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "Registered, with the title and type given", body = VaultDocumentView),
        (status = 400, description = "Invalid input, or a file the vault does not keep", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent, or no such file (a relative path without `..`) the caller may register", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
        (status = 503, description = "The vault is not available", body = ErrorResponse),
    )
)]
pub async fn create_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<VaultDocumentCreate>,
) -> Result<(StatusCode, Json<VaultDocumentView>), ApiError> {
    create_in(&state, &caller, None, body).await
}

/// Changes a document's title, type or metadata.
#[utoipa::path(
    put,
    path = "/v1/agents/{id}/vault/documents/{docID}",
    tag = "vault",
    params(("id" = String, Path, description = "The agent's UUID or its key"), ("docID" = String, Path, description = "The document's id")),
    request_body(content = VaultDocumentUpdate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed document", body = VaultDocumentView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent, or no document the caller may change", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn update_agent_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, doc)): ApiPath<(String, String)>,
    ApiJson(body): ApiJson<VaultDocumentUpdate>,
) -> Result<Json<VaultDocumentView>, ApiError> {
    update_in(&state, &caller, Some(&id), &doc, body).await
}

/// Forgets a document and its links (the file stays).
#[utoipa::path(
    delete,
    path = "/v1/agents/{id}/vault/documents/{docID}",
    tag = "vault",
    params(("id" = String, Path, description = "The agent's UUID or its key"), ("docID" = String, Path, description = "The document's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent, or no document the caller may change", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete_agent_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, doc)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    delete_in(&state, &caller, Some(&id), &doc).await
}

/// Links one document to another.
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/vault/links",
    tag = "vault",
    params(("id" = String, Path, description = "The agent's UUID or its key")),
    request_body(content = VaultLinkCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The link (its context changed when it existed)", body = VaultLinkView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "One or both documents not found", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn create_agent_link(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(body): ApiJson<VaultLinkCreate>,
) -> Result<(StatusCode, Json<VaultLinkView>), ApiError> {
    link_in(&state, &caller, Some(&id), body).await
}

/// Removes a link.
#[utoipa::path(
    delete,
    path = "/v1/agents/{id}/vault/links/{linkID}",
    tag = "vault",
    params(("id" = String, Path, description = "The agent's UUID or its key"), ("linkID" = String, Path, description = "The link's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No link the caller may change", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete_agent_link(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((id, link)): ApiPath<(String, String)>,
) -> Result<StatusCode, ApiError> {
    unlink_in(&state, &caller, Some(&id), &link).await
}

/// Changes a document's title, type or metadata.
#[utoipa::path(
    put,
    path = "/v1/vault/documents/{docID}",
    tag = "vault",
    params(("docID" = String, Path, description = "The document's id")),
    request_body(content = VaultDocumentUpdate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed document", body = VaultDocumentView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No document the caller may change", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn update_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(doc): ApiPath<String>,
    ApiJson(body): ApiJson<VaultDocumentUpdate>,
) -> Result<Json<VaultDocumentView>, ApiError> {
    update_in(&state, &caller, None, &doc, body).await
}

/// Forgets a document and its links (the file stays).
#[utoipa::path(
    delete,
    path = "/v1/vault/documents/{docID}",
    tag = "vault",
    params(("docID" = String, Path, description = "The document's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Forgotten"),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No document the caller may change", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(doc): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    delete_in(&state, &caller, None, &doc).await
}

/// Links one document to another.
#[utoipa::path(
    post,
    path = "/v1/vault/links",
    tag = "vault",
        request_body(content = VaultLinkCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The link (its context changed when it existed)", body = VaultLinkView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "One or both documents not found", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn create_link(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<VaultLinkCreate>,
) -> Result<(StatusCode, Json<VaultLinkView>), ApiError> {
    link_in(&state, &caller, None, body).await
}

/// Removes a link.
#[utoipa::path(
    delete,
    path = "/v1/vault/links/{linkID}",
    tag = "vault",
    params(("linkID" = String, Path, description = "The link's id")),
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Removed"),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No link the caller may change", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete_link(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(link): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    unlink_in(&state, &caller, None, &link).await
}
