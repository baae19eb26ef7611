//! The knowledge vault routes the dashboard reads, in GoClaw's shapes: documents listed as
//! `{documents, total}` (per agent under `/v1/agents/{id}/vault/…`, tenant-wide under
//! `/v1/vault/…` with an optional `agent_id`), one document, its links as `{outlinks,
//! backlinks, doc_names}`, a search answering a bare array of `{document, score, source}`, and
//! `POST /v1/vault/rescan` answering GoClaw's rescan counts.
//!
//! Reads are for viewers and up, the rescan for admins (changes: `vault_admin.rs`); everything
//! is confined to the caller's tenant. Below admin, the per-user workspaces of `open` agents
//! are the users' own: documents under `<agent_key>/<another user>/` are neither listed, found
//! nor shown ("not found", as a missing document).

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use goclaw_core::{
    AgentId, TenantId, VaultBacklink, VaultDocument, VaultFilter, VaultLink, VaultScope, VaultView,
};
use goclaw_memory::vault::{SearchRequest, Vault};
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

/// A listing's size without `limit`, and its ceiling (GoClaw's).
const DEFAULT_LIMIT: u32 = 20;
const MAX_LIMIT: u32 = 500;
/// Most results one search returns.
const MAX_SEARCH_RESULTS: usize = 100;

/// One registered document (GoClaw's `VaultDocument` JSON).
#[derive(Serialize, ToSchema)]
pub struct VaultDocumentView {
    pub id: Uuid,
    pub tenant_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
    /// `personal`, `team`, `shared` or `custom`.
    pub scope: String,
    /// Relative to the tenant's workspace root.
    pub path: String,
    /// The file name, lower-cased.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub path_basename: String,
    pub title: String,
    /// `context`, `memory`, `note`, `skill`, `episodic`, `media` or `document`.
    pub doc_type: String,
    /// SHA-256 of the file, hex.
    pub content_hash: String,
    pub summary: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    pub created_at: String,
    pub updated_at: String,
}

/// `GET …/vault/documents`.
#[derive(Serialize, ToSchema)]
pub struct VaultDocumentList {
    pub documents: Vec<VaultDocumentView>,
    /// How many documents match in all (the list is one page of them).
    pub total: u64,
}

/// A link between two documents (GoClaw's `VaultLink` JSON).
#[derive(Serialize, ToSchema)]
pub struct VaultLinkView {
    pub id: Uuid,
    pub from_doc_id: Uuid,
    pub to_doc_id: Uuid,
    /// `wikilink` for links found in a document's text.
    pub link_type: String,
    /// The text around the link.
    pub context: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    pub created_at: String,
}

/// A link into a document, with the linking document's title and path.
#[derive(Serialize, ToSchema)]
pub struct VaultBacklinkView {
    pub from_doc_id: Uuid,
    pub context: String,
    pub title: String,
    pub path: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team_id: Option<Uuid>,
}

/// `GET …/vault/documents/{docID}/links`.
#[derive(Serialize, ToSchema)]
pub struct VaultLinks {
    pub outlinks: Vec<VaultLinkView>,
    pub backlinks: Vec<VaultBacklinkView>,
    /// The title (or file name) of each outlink's target, by its id.
    pub doc_names: HashMap<String, String>,
}

/// One search result.
#[derive(Serialize, ToSchema)]
pub struct VaultSearchResult {
    pub document: VaultDocumentView,
    pub score: f64,
    /// Always `vault`.
    pub source: String,
}

/// `POST …/vault/search`.
#[derive(Deserialize, ToSchema)]
pub struct VaultSearchBody {
    /// What to look for (required).
    #[schema(min_length = 1)]
    pub query: String,
    /// Only this agent's documents and the shared ones (tenant-wide route only; the
    /// per-agent route takes the agent from the path).
    #[serde(default)]
    pub agent_id: Option<String>,
    /// Only this scope.
    #[serde(default)]
    pub scope: Option<String>,
    /// Only these types.
    #[serde(default)]
    pub doc_types: Option<Vec<String>>,
    /// At most this many (default 10; 0 is the default too).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 100)]
    pub max_results: Option<u64>,
    /// A team (no teams exist on this gateway: a team search finds nothing).
    #[serde(default)]
    pub team_id: Option<String>,
}

/// `POST /v1/vault/rescan`: what the walk of the tenant's workspace did.
#[derive(Serialize, ToSchema)]
pub struct VaultRescanResult {
    pub scanned: usize,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Unchanged documents still without a summary, queued again for enrichment.
    pub reenqueued: usize,
    pub skipped: usize,
    pub errors: usize,
    /// The walk stopped at a limit (5,000 files, 500 MB).
    pub truncated: bool,
}

/// Query of the document listings (GoClaw's: bad numbers fall back to the defaults).
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only this agent's documents and the shared ones (tenant-wide route only).
    agent_id: Option<String>,
    /// Only this scope (`personal`, `team`, `shared`, `custom`; another finds nothing).
    scope: Option<String>,
    /// Only these types, comma-separated.
    doc_type: Option<String>,
    /// A team (no teams exist on this gateway: a team listing is empty).
    team_id: Option<String>,
    /// At most this many (default 20, at most 500).
    limit: Option<String>,
    /// Matching documents to skip.
    offset: Option<String>,
}

fn time(at: chrono::DateTime<chrono::Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

pub(super) fn document_view(document: VaultDocument) -> VaultDocumentView {
    let path_basename = document
        .path
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_lowercase();
    let metadata = Some(document.metadata).filter(|m| m.as_object().is_none_or(|o| !o.is_empty()));
    VaultDocumentView {
        id: document.id,
        tenant_id: document.tenant_id.as_uuid(),
        agent_id: document.agent_id.map(|a| a.as_uuid()),
        team_id: document.team_id,
        scope: document.scope.as_str().to_owned(),
        path: document.path,
        path_basename,
        title: document.title,
        doc_type: document.doc_type,
        content_hash: document.content_hash,
        summary: document.summary,
        metadata,
        created_at: time(document.created_at),
        updated_at: time(document.updated_at),
    }
}

pub(super) fn link_view(link: VaultLink) -> VaultLinkView {
    let metadata = Some(link.metadata).filter(|m| m.as_object().is_none_or(|o| !o.is_empty()));
    VaultLinkView {
        id: link.id,
        from_doc_id: link.from_doc_id,
        to_doc_id: link.to_doc_id,
        link_type: link.link_type,
        context: link.context,
        metadata,
        created_at: time(link.created_at),
    }
}

fn backlink_view(link: VaultBacklink) -> VaultBacklinkView {
    VaultBacklinkView {
        from_doc_id: link.from_doc_id,
        context: link.context,
        title: link.title,
        path: link.path,
        team_id: link.team_id,
    }
}

pub(super) fn vault(state: &AppState) -> Result<&Vault, ApiError> {
    state.vault.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the vault is not available",
        )
    })
}

/// Which documents a caller may see beyond its tenant: below admin, not those in another
/// user's workspace of an `open` agent.
pub(super) struct Visibility {
    sees_all: bool,
    own_segment: String,
    /// The tenant's `open` agents, by id, with their keys.
    open_agents: HashMap<AgentId, String>,
}

impl Visibility {
    pub(super) async fn of(state: &AppState, principal: &Principal) -> Result<Self, ApiError> {
        let sees_all = principal.sees_all();
        let open_agents = if sees_all {
            HashMap::new()
        } else {
            state
                .store
                .agents()
                .list(principal.tenant_id)
                .await?
                .into_iter()
                .filter(|a| a.agent_type == "open")
                .map(|a| (a.id, a.agent_key.as_str().to_owned()))
                .collect()
        };
        Ok(Self {
            sees_all,
            own_segment: goclaw_tools::workspace::sanitize_segment(&principal.user_id),
            open_agents,
        })
    }

    pub(super) fn sees(&self, document: &VaultDocument) -> bool {
        if self.sees_all || document.scope != VaultScope::Personal {
            return true;
        }
        let Some(key) = document.agent_id.and_then(|a| self.open_agents.get(&a)) else {
            return true;
        };
        let Some(rest) = document.path.strip_prefix(&format!("{key}/")) else {
            return true;
        };
        match rest.split_once('/') {
            Some((user, _)) => user == self.own_segment,
            None => true,
        }
    }

    /// Whether the caller may change `document`: admins any, anyone else only a document in
    /// their own workspace of an `open` agent.
    pub(super) fn owns(&self, document: &VaultDocument) -> bool {
        if self.sees_all {
            return true;
        }
        let Some(key) = document.agent_id.and_then(|a| self.open_agents.get(&a)) else {
            return false;
        };
        document.scope == VaultScope::Personal
            && document
                .path
                .strip_prefix(&format!("{key}/{}/", self.own_segment))
                .is_some()
    }
}

/// The view of a route: the agent the path names (or the `agent_id` given), else the tenant.
pub(super) async fn view_of(
    state: &AppState,
    tenant: TenantId,
    agent: Option<&str>,
) -> Result<VaultView, ApiError> {
    match agent.map(str::trim).filter(|a| !a.is_empty()) {
        Some(raw) => {
            // A name no agent could have is simply no agent here.
            let agent = find_agent(state, tenant, raw).await.map_err(|e| {
                if e.status == StatusCode::BAD_REQUEST {
                    ApiError::not_found(format!("agent {raw} not found"))
                } else {
                    e
                }
            })?;
            Ok(VaultView::agent(tenant, agent.id))
        }
        None => Ok(VaultView::tenant(tenant)),
    }
}

/// The scope a filter names: `Ok(None)` for none, `Err(())` for one no document has (GoClaw
/// filters by it all the same, and finds nothing).
fn parse_scope(raw: Option<&str>) -> Result<Option<VaultScope>, ()> {
    raw.map(str::trim)
        .filter(|s| !s.is_empty())
        .map(VaultScope::parse)
        .transpose()
        .map_err(|_| ())
}

async fn list_in(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    query: &ListQuery,
) -> Result<Json<VaultDocumentList>, ApiError> {
    let tenant = caller.0.tenant_id;
    let view = view_of(state, tenant, agent).await?;
    let scope = parse_scope(query.scope.as_deref());
    let team = query
        .team_id
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty());
    if team || scope.is_err() {
        return Ok(Json(VaultDocumentList {
            documents: Vec::new(),
            total: 0,
        }));
    }
    let limit = query
        .limit
        .as_deref()
        .and_then(|l| l.parse::<u32>().ok())
        .filter(|l| *l > 0)
        .map_or(DEFAULT_LIMIT, |l| l.min(MAX_LIMIT));
    let offset = query
        .offset
        .as_deref()
        .and_then(|o| o.parse::<u32>().ok())
        .unwrap_or(0);
    let filter = VaultFilter {
        scope: scope.unwrap_or_default(),
        doc_types: query
            .doc_type
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        limit,
        offset,
    };
    let visibility = Visibility::of(state, &caller.0).await?;
    let store = state.store.vault();
    let (documents, total) = if visibility.sees_all || visibility.open_agents.is_empty() {
        let documents = store.list_documents(&view, &filter).await?;
        (documents, store.count_documents(&view, &filter).await?)
    } else {
        // Someone else's workspace files are left out before paging.
        let everything = VaultFilter {
            limit: 5000,
            offset: 0,
            ..filter.clone()
        };
        let visible: Vec<_> = store
            .list_documents(&view, &everything)
            .await?
            .into_iter()
            .filter(|d| visibility.sees(d))
            .collect();
        let total = visible.len() as u64;
        let page = visible
            .into_iter()
            .skip(offset as usize)
            .take(limit as usize)
            .collect();
        (page, total)
    };
    Ok(Json(VaultDocumentList {
        documents: documents.into_iter().map(document_view).collect(),
        total,
    }))
}

/// The document `id` if the caller sees it in the route's view; else 404.
async fn visible_document(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    id: &str,
) -> Result<VaultDocument, ApiError> {
    let not_found = || ApiError::not_found("document not found");
    let id = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    let tenant = caller.0.tenant_id;
    let view = view_of(state, tenant, agent).await?;
    let document = state
        .store
        .vault()
        .get_document(tenant, id)
        .await?
        .filter(|d| view.sees(d))
        .ok_or_else(not_found)?;
    let visibility = Visibility::of(state, &caller.0).await?;
    if !visibility.sees(&document) {
        return Err(not_found());
    }
    Ok(document)
}

async fn links_of(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    id: &str,
) -> Result<Json<VaultLinks>, ApiError> {
    let document = visible_document(state, caller, agent, id).await?;
    let tenant = caller.0.tenant_id;
    let store = state.store.vault();
    let visibility = Visibility::of(state, &caller.0).await?;
    let mut outlinks = Vec::new();
    let mut doc_names = HashMap::new();
    for link in store.out_links(tenant, document.id).await? {
        let Some(target) = store.get_document(tenant, link.to_doc_id).await? else {
            continue;
        };
        if !visibility.sees(&target) {
            continue;
        }
        let name = if target.title.is_empty() {
            target
                .path
                .rsplit('/')
                .next()
                .unwrap_or_default()
                .to_owned()
        } else {
            target.title
        };
        doc_names.insert(link.to_doc_id.to_string(), name);
        outlinks.push(link_view(link));
    }
    let mut backlinks = Vec::new();
    for link in store.backlinks(tenant, document.id).await? {
        let source = store.get_document(tenant, link.from_doc_id).await?;
        if source.as_ref().is_some_and(|s| visibility.sees(s)) {
            backlinks.push(backlink_view(link));
        }
    }
    Ok(Json(VaultLinks {
        outlinks,
        backlinks,
        doc_names,
    }))
}

async fn search_in(
    state: &AppState,
    caller: &Caller,
    agent: Option<&str>,
    body: VaultSearchBody,
) -> Result<Json<Vec<VaultSearchResult>>, ApiError> {
    if body.query.is_empty() {
        return Err(ApiError::bad_request("query is required"));
    }
    let query = body.query.trim();
    let wanted = match body.max_results.unwrap_or(0) {
        0 => 10,
        n if n > MAX_SEARCH_RESULTS as u64 => {
            return Err(ApiError::bad_request(format!(
                "max_results must be at most {MAX_SEARCH_RESULTS}"
            )));
        }
        n => usize::try_from(n).unwrap_or(MAX_SEARCH_RESULTS),
    };
    let scope = parse_scope(body.scope.as_deref());
    let team = body
        .team_id
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty());
    if team || scope.is_err() {
        return Ok(Json(Vec::new()));
    }
    let agent = agent.or(body.agent_id.as_deref());
    let view = view_of(state, caller.0.tenant_id, agent).await?;
    let request = SearchRequest {
        query: query.to_owned(),
        scope: scope.unwrap_or_default(),
        doc_types: body.doc_types.unwrap_or_default(),
        max_results: wanted * 2,
    };
    let visibility = Visibility::of(state, &caller.0).await?;
    let hits = vault(state)?
        .search(&view, &request)
        .await
        .map_err(ApiError::internal)?;
    let results = hits
        .into_iter()
        .filter(|h| visibility.sees(&h.document))
        .take(wanted)
        .map(|h| VaultSearchResult {
            document: document_view(h.document),
            score: h.score,
            source: "vault".to_owned(),
        })
        .collect();
    Ok(Json(results))
}

/// Documents of one agent (its own and the shared ones).
#[utoipa::path(
    get,
    path = "/v1/agents/{id}/vault/documents",
    tag = "vault",
    params(("id" = String, Path, description = "The agent's UUID or key"), ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of documents", body = VaultDocumentList),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
    )
)]
pub async fn list_agent_documents(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(agent): ApiPath<String>,
    Query(query): Query<ListQuery>,
) -> Result<Json<VaultDocumentList>, ApiError> {
    list_in(&state, &caller, Some(&agent), &query).await
}

/// Documents of the tenant, or of the agent `agent_id` names.
#[utoipa::path(
    get,
    path = "/v1/vault/documents",
    tag = "vault",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "One page of documents", body = VaultDocumentList),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
    )
)]
pub async fn list_documents(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<ListQuery>,
) -> Result<Json<VaultDocumentList>, ApiError> {
    let agent = query.agent_id.clone();
    list_in(&state, &caller, agent.as_deref(), &query).await
}

/// One document of an agent.
#[utoipa::path(
    get,
    path = "/v1/agents/{id}/vault/documents/{docID}",
    tag = "vault",
    params(
        ("id" = String, Path, description = "The agent's UUID or key"),
        ("docID" = String, Path, description = "The document's UUID"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The document", body = VaultDocumentView),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
    )
)]
pub async fn get_agent_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((agent, id)): ApiPath<(String, String)>,
) -> Result<Json<VaultDocumentView>, ApiError> {
    let document = visible_document(&state, &caller, Some(&agent), &id).await?;
    Ok(Json(document_view(document)))
}

/// One document of the tenant.
#[utoipa::path(
    get,
    path = "/v1/vault/documents/{docID}",
    tag = "vault",
    params(("docID" = String, Path, description = "The document's UUID")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The document", body = VaultDocumentView),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
    )
)]
pub async fn get_document(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<VaultDocumentView>, ApiError> {
    let document = visible_document(&state, &caller, None, &id).await?;
    Ok(Json(document_view(document)))
}

/// A document's outgoing links and backlinks (agent route).
#[utoipa::path(
    get,
    path = "/v1/agents/{id}/vault/documents/{docID}/links",
    tag = "vault",
    params(
        ("id" = String, Path, description = "The agent's UUID or key"),
        ("docID" = String, Path, description = "The document's UUID"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Its links", body = VaultLinks),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
    )
)]
pub async fn agent_document_links(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((agent, id)): ApiPath<(String, String)>,
) -> Result<Json<VaultLinks>, ApiError> {
    links_of(&state, &caller, Some(&agent), &id).await
}

/// A document's outgoing links and backlinks.
#[utoipa::path(
    get,
    path = "/v1/vault/documents/{docID}/links",
    tag = "vault",
    params(("docID" = String, Path, description = "The document's UUID")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Its links", body = VaultLinks),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
    )
)]
pub async fn document_links(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<VaultLinks>, ApiError> {
    links_of(&state, &caller, None, &id).await
}

/// Searches an agent's documents and the shared ones.
#[utoipa::path(
    post,
    path = "/v1/agents/{id}/vault/search",
    tag = "vault",
    params(("id" = String, Path, description = "The agent's UUID or key")),
    request_body = VaultSearchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Best first", body = [VaultSearchResult]),
        (status = 400, description = "An empty query, or `max_results` over 100", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
    )
)]
pub async fn search_agent(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(agent): ApiPath<String>,
    ApiJson(body): ApiJson<VaultSearchBody>,
) -> Result<Json<Vec<VaultSearchResult>>, ApiError> {
    search_in(&state, &caller, Some(&agent), body).await
}

/// Searches the tenant's documents (or an agent's, with `agent_id`).
#[utoipa::path(
    post,
    path = "/v1/vault/search",
    tag = "vault",
    request_body = VaultSearchBody,
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Best first", body = [VaultSearchResult]),
        (status = 400, description = "An empty query, or `max_results` over 100", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
    )
)]
pub async fn search(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<VaultSearchBody>,
) -> Result<Json<Vec<VaultSearchResult>>, ApiError> {
    search_in(&state, &caller, None, body).await
}

/// Walks the tenant's workspace and brings the registry up to date (admin).
#[utoipa::path(
    post,
    path = "/v1/vault/rescan",
    tag = "vault",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "What the rescan did", body = VaultRescanResult),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
    )
)]
pub async fn rescan(
    State(state): State<AppState>,
    caller: Caller,
) -> Result<Json<VaultRescanResult>, ApiError> {
    let result = vault(&state)?
        .rescan(caller.0.tenant_id)
        .await
        .map_err(ApiError::internal)?;
    Ok(Json(VaultRescanResult {
        scanned: result.scanned,
        new: result.new,
        updated: result.updated,
        unchanged: result.unchanged,
        reenqueued: result.reenqueued,
        skipped: result.skipped,
        errors: result.errors,
        truncated: result.truncated,
    }))
}
