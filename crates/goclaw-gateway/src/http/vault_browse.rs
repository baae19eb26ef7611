//! The vault routes GoClaw's dashboard browses with, in its shapes: the outgoing links of many
//! documents at once (`POST /v1/vault/links/batch`, a bare array), one level of the documents'
//! folder tree (`GET /v1/vault/tree`, `{entries}` with GoClaw's camelCase fields), and the
//! caller's tenant's enrichment progress (`GET /v1/vault/enrichment/status`: the documents
//! queued since its enrichment last went idle as `total`, those summarized, given up, skipped
//! or stopped as `done`; the last run's counts while `idle`) and its stop
//! (`POST /v1/vault/enrichment/stop`, GoClaw's semantics for the caller's tenant: the tenant's
//! waiting documents are dropped and its batch in the model's hands halted, answering
//! `stopped: true` when anything was waiting or running; `stopped: false` also when enrichment
//! is off, where GoClaw answers 503: nothing runs, which is no server error).
//!
//! Everything follows the read routes' rule: the caller's tenant, and below admin not the
//! documents in another user's workspace of an `open` agent (nor links to them).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Query, State};
use goclaw_core::{VaultDocument, VaultFilter};
use goclaw_memory::vault::EnrichPhase;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::json::ApiJson;
use super::schemas::ErrorResponse;
use super::vault::{VaultLinkView, Visibility, link_view, view_of};
use crate::routes::AppState;

/// Most documents one batch reads (GoClaw's 500).
const MAX_BATCH: usize = 500;
/// Most documents a tree level is built from (the rescan's file limit).
const MAX_TREE_DOCUMENTS: u32 = 5000;

/// `POST /v1/vault/links/batch`.
#[derive(Deserialize, ToSchema)]
pub struct LinksBatch {
    /// The documents whose outgoing links to list (the first 500 count).
    #[serde(default)]
    pub doc_ids: Vec<String>,
}

/// Query of `GET /v1/vault/tree`.
#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TreeQuery {
    /// The folder whose children to list, relative to the workspace root (empty: the root).
    path: Option<String>,
    /// Only this agent's documents and the shared ones.
    agent_id: Option<String>,
    /// Only this scope.
    scope: Option<String>,
    /// Only these types, comma-separated.
    doc_type: Option<String>,
    /// A team (no teams exist on this gateway: a team tree is empty).
    team_id: Option<String>,
}

/// A file or folder of the tree (GoClaw's `VaultTreeEntry`).
#[derive(Serialize, ToSchema)]
pub struct TreeEntry {
    pub name: String,
    pub path: String,
    #[serde(rename = "isDir")]
    pub is_dir: bool,
    #[serde(rename = "hasChildren", skip_serializing_if = "std::ops::Not::not")]
    pub has_children: bool,
    #[serde(rename = "docId", skip_serializing_if = "Option::is_none")]
    pub doc_id: Option<Uuid>,
    #[serde(rename = "docType", skip_serializing_if = "Option::is_none")]
    pub doc_type: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(rename = "updatedAt", skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<String>,
}

/// `GET /v1/vault/tree`.
#[derive(Serialize, ToSchema)]
pub struct Tree {
    pub entries: Vec<TreeEntry>,
}

/// GoClaw's enrichment progress (`EnrichEvent`).
#[derive(Serialize, ToSchema)]
pub struct EnrichmentStatus {
    /// `enriching`, or `idle` between runs.
    pub phase: String,
    /// Documents of the current (else the last) run that are through.
    pub done: u64,
    /// Documents queued in the current (else the last) run.
    pub total: u64,
    pub running: bool,
}

/// `POST /v1/vault/enrichment/stop`.
#[derive(Serialize, ToSchema)]
pub struct EnrichmentStopped {
    pub stopped: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

#[utoipa::path(
    post,
    path = "/v1/vault/links/batch",
    tag = "vault",
    request_body(content = LinksBatch, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The outgoing links of the documents the caller sees, to documents the caller sees", body = Vec<VaultLinkView>),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn links_batch(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(body): ApiJson<LinksBatch>,
) -> Result<Json<Vec<VaultLinkView>>, ApiError> {
    let tenant = caller.0.tenant_id;
    let visibility = Visibility::of(&state, &caller.0).await?;
    let store = state.store.vault();
    let sees = |document: &Option<VaultDocument>| {
        document
            .as_ref()
            .is_some_and(|d| d.tenant_id == tenant && visibility.sees(d))
    };
    let mut links = Vec::new();
    let ids = body
        .doc_ids
        .iter()
        .take(MAX_BATCH)
        .filter_map(|raw| Uuid::parse_str(raw.trim()).ok());
    for id in ids {
        if !sees(&store.get_document(tenant, id).await?) {
            continue;
        }
        for link in store.out_links(tenant, id).await? {
            if sees(&store.get_document(tenant, link.to_doc_id).await?) {
                links.push(link_view(link));
            }
        }
    }
    Ok(Json(links))
}

#[utoipa::path(
    get,
    path = "/v1/vault/tree",
    tag = "vault",
    params(TreeQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The folder's folders (first) and documents, by name", body = Tree),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn tree(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<TreeQuery>,
) -> Result<Json<Tree>, ApiError> {
    let empty = || {
        Json(Tree {
            entries: Vec::new(),
        })
    };
    let raw = query.path.as_deref().unwrap_or_default();
    let folder = raw.trim_matches('/');
    if folder.contains("..") || raw.starts_with('/') {
        // The tree is built from registered paths, never the disk: such a folder has nothing.
        tracing::warn!(path = %raw, "security.vault_tree_traversal");
        return Ok(empty());
    }
    if query
        .team_id
        .as_deref()
        .is_some_and(|t| !t.trim().is_empty())
    {
        return Ok(empty());
    }
    let scope = match query
        .scope
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(raw) => match goclaw_core::VaultScope::parse(raw) {
            Ok(scope) => Some(scope),
            Err(_) => return Ok(empty()),
        },
    };
    let tenant = caller.0.tenant_id;
    let view = view_of(&state, tenant, query.agent_id.as_deref()).await?;
    let filter = VaultFilter {
        scope,
        doc_types: query
            .doc_type
            .as_deref()
            .unwrap_or_default()
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(str::to_owned)
            .collect(),
        limit: MAX_TREE_DOCUMENTS,
        offset: 0,
    };
    let visibility = Visibility::of(&state, &caller.0).await?;
    let prefix = if folder.is_empty() {
        String::new()
    } else {
        format!("{folder}/")
    };
    let mut folders: BTreeMap<String, ()> = BTreeMap::new();
    let mut files = Vec::new();
    for document in state.store.vault().list_documents(&view, &filter).await? {
        if !visibility.sees(&document) {
            continue;
        }
        let Some(rest) = document.path.strip_prefix(&prefix) else {
            continue;
        };
        match rest.split_once('/') {
            Some((child, _)) => {
                folders.insert(child.to_owned(), ());
            }
            None => files.push(TreeEntry {
                name: rest.to_owned(),
                path: document.path.clone(),
                is_dir: false,
                has_children: false,
                doc_id: Some(document.id),
                doc_type: Some(document.doc_type.clone()),
                scope: Some(document.scope.as_str().to_owned()),
                title: Some(document.title.clone()),
                updated_at: Some(document.updated_at.to_rfc3339()),
            }),
        }
    }
    let mut entries: Vec<TreeEntry> = folders
        .into_keys()
        .map(|name| TreeEntry {
            path: format!("{prefix}{name}"),
            name,
            is_dir: true,
            has_children: true,
            doc_id: None,
            doc_type: None,
            scope: None,
            title: None,
            updated_at: None,
        })
        .collect();
    files.sort_by(|a, b| a.name.cmp(&b.name));
    entries.extend(files);
    Ok(Json(Tree { entries }))
}

#[utoipa::path(
    get,
    path = "/v1/vault/enrichment/status",
    tag = "vault",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The enrichment's progress (idle when none runs)", body = EnrichmentStatus),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
    )
)]
pub async fn enrichment_status(
    State(state): State<AppState>,
    caller: Caller,
) -> Json<EnrichmentStatus> {
    let progress = state
        .vault
        .as_ref()
        .and_then(|vault| vault.enrichment_progress(caller.0.tenant_id));
    Json(match progress {
        Some(progress) => EnrichmentStatus {
            phase: progress.phase.as_str().to_owned(),
            done: progress.done,
            total: progress.total,
            running: progress.running,
        },
        None => EnrichmentStatus {
            phase: EnrichPhase::Idle.as_str().to_owned(),
            done: 0,
            total: 0,
            running: false,
        },
    })
}

#[utoipa::path(
    post,
    path = "/v1/vault/enrichment/stop",
    tag = "vault",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Stopped (the tenant's waiting documents dropped, its batch in hand halted), or `stopped: false` when nothing was waiting or running", body = EnrichmentStopped),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
    )
)]
pub async fn enrichment_stop(
    State(state): State<AppState>,
    caller: Caller,
) -> Json<EnrichmentStopped> {
    let tenant = caller.0.tenant_id;
    let Some(stopped) = state
        .vault
        .as_ref()
        .and_then(|vault| vault.stop_enrichment(tenant))
    else {
        return Json(EnrichmentStopped {
            stopped: false,
            message: Some("enrichment is off on this gateway".to_owned()),
        });
    };
    if !stopped {
        return Json(EnrichmentStopped {
            stopped: false,
            message: Some("no enrichment running".to_owned()),
        });
    }
    tracing::info!(%tenant, user_id = %caller.0.user_id, "vault enrichment stopped");
    Json(EnrichmentStopped {
        stopped: true,
        message: None,
    })
}
