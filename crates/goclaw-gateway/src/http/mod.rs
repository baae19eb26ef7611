//! HTTP API under `/v1`: OpenAI-compatible chat completions, agent management, agents'
//! episodic memory and knowledge graph, the knowledge vault, teams' events and files, and
//! run traces with the usage and cost computed from them.

pub(crate) mod agents;
mod api_keys;
mod auth;
mod chat_completions;
mod docs;
pub mod doctor;
mod edition;
mod episodic;
mod error;
mod files;
mod json;
mod knowledge_graph;
mod knowledge_graph_admin;
mod knowledge_graph_extract;
mod media;
mod memory;
mod metrics;
pub(crate) mod openapi;
mod path;
mod provider_checks;
mod providers;
pub(crate) mod schemas;
pub(crate) mod schemas_memory;
mod sessions;
mod system_configs;
mod team_files;
mod teams;
mod traces;
mod usage;
mod vault;
mod vault_admin;
mod vault_browse;
mod vault_upload;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{delete, get, post, put};

pub(crate) use self::agents::find_agent;
pub use self::metrics::{metrics_router, record_http, serve_metrics};
pub(crate) use self::{
    auth::Caller, error::ApiError, json::ApiJson, path::ApiPath, schemas::ErrorResponse,
};
use crate::routes::AppState;

/// Routes of the `/v1` API.
pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/v1/chat/completions",
            post(chat_completions::create)
                .layer(DefaultBodyLimit::max(chat_completions::MAX_BODY_BYTES)),
        )
        .route("/v1/edition", get(edition::get))
        .route("/v1/system/doctor", get(doctor::report))
        .route("/v1/agents", get(agents::list).post(agents::create))
        .route(
            "/v1/agents/{id}",
            get(agents::get).put(agents::update).delete(agents::delete),
        )
        .route(
            "/v1/providers",
            get(providers::list).post(providers::create),
        )
        .route(
            "/v1/providers/{id}",
            get(providers::get)
                .put(providers::update)
                .delete(providers::delete),
        )
        .route("/v1/providers/{id}/models", get(provider_checks::models))
        .route("/v1/providers/{id}/verify", post(provider_checks::verify))
        .route("/v1/api-keys", get(api_keys::list).post(api_keys::create))
        .route("/v1/api-keys/{id}", delete(api_keys::delete))
        .route("/v1/api-keys/{id}/revoke", post(api_keys::revoke))
        .route("/v1/agents/{id}/episodic", get(episodic::list))
        .route("/v1/agents/{id}/episodic/search", post(episodic::search))
        .route("/v1/traces", get(traces::list))
        .route("/v1/traces/{id}", get(traces::get))
        .route("/v1/usage/summary", get(usage::summary))
        .route("/v1/usage/timeseries", get(usage::timeseries))
        .route("/v1/usage/breakdown", get(usage::breakdown))
        .route("/v1/sessions", get(sessions::list))
        .route("/v1/system-configs", get(system_configs::list))
        .route(
            "/v1/system-configs/{key}",
            get(system_configs::get)
                .put(system_configs::set)
                .delete(system_configs::delete),
        )
        .route(
            "/v1/embedding/status",
            get(system_configs::embedding_status),
        )
        .route("/v1/memory/documents", get(memory::list_all))
        .route("/v1/agents/{id}/memory/documents", get(memory::list))
        .route(
            "/v1/agents/{id}/memory/documents/{*path}",
            get(memory::get).put(memory::put).delete(memory::delete),
        )
        .route("/v1/agents/{id}/memory/chunks", get(memory::chunks))
        .route("/v1/agents/{id}/memory/index", post(memory::index))
        .route("/v1/agents/{id}/memory/index-all", post(memory::index_all))
        .route("/v1/agents/{id}/memory/search", post(memory::search))
        .route("/metrics", get(metrics::scrape))
        .merge(vault_router())
        .merge(team_router())
        .merge(knowledge_graph_router())
        .merge(docs::router())
}

/// The knowledge graph routes (`knowledge_graph.rs`, `knowledge_graph_admin.rs`,
/// `knowledge_graph_extract.rs`).
fn knowledge_graph_router() -> Router<AppState> {
    use knowledge_graph_admin as admin;
    Router::new()
        .route(
            "/v1/agents/{id}/kg/entities",
            get(knowledge_graph::list_entities).post(admin::upsert_entity),
        )
        .route(
            "/v1/agents/{id}/kg/entities/{entityID}",
            get(knowledge_graph::get_entity).delete(admin::delete_entity),
        )
        .route(
            "/v1/agents/{id}/kg/traverse",
            post(knowledge_graph::traverse),
        )
        .route(
            "/v1/agents/{id}/kg/dedup",
            get(knowledge_graph::dedup_candidates),
        )
        .route("/v1/agents/{id}/kg/dedup/dismiss", post(admin::dismiss))
        .route(
            "/v1/agents/{id}/kg/dedup/scan",
            post(knowledge_graph_extract::scan),
        )
        .route("/v1/agents/{id}/kg/merge", post(admin::merge))
        .route("/v1/agents/{id}/kg/stats", get(admin::stats))
        .route("/v1/agents/{id}/kg/graph", get(admin::graph))
        .route("/v1/agents/{id}/kg/reset", post(admin::reset))
        .route(
            "/v1/agents/{id}/kg/extract",
            post(knowledge_graph_extract::extract),
        )
}

/// The routes of teams' boards and files (`teams.rs`, `team_files.rs`).
fn team_router() -> Router<AppState> {
    Router::new()
        .route("/v1/teams/{id}/events", get(teams::events))
        .route("/v1/files/sign", post(files::sign))
        .route("/v1/files/{*path}", get(files::get))
        .route(
            "/v1/media/upload",
            post(media::upload).layer(DefaultBodyLimit::max(media::MAX_MEDIA_BODY_BYTES)),
        )
        .route("/v1/media/{id}", get(media::get))
        .route(
            "/v1/teams/{teamId}/attachments/{attachmentId}/download",
            get(teams::download),
        )
        .route(
            "/v1/teams/{teamId}/workspace/upload",
            post(team_files::upload).layer(DefaultBodyLimit::max(team_files::MAX_UPLOAD_BYTES)),
        )
        .route(
            "/v1/teams/{teamId}/workspace/move",
            put(team_files::move_file),
        )
}

/// The knowledge vault routes (`vault.rs`, `vault_browse.rs`, changes in `vault_admin.rs`,
/// uploads in `vault_upload.rs`).
fn vault_router() -> Router<AppState> {
    use vault_admin as admin;
    Router::new()
        .route(
            "/v1/vault/documents",
            get(vault::list_documents).post(admin::create_document),
        )
        .route(
            "/v1/vault/documents/{docID}",
            get(vault::get_document)
                .put(admin::update_document)
                .delete(admin::delete_document),
        )
        .route(
            "/v1/vault/documents/{docID}/links",
            get(vault::document_links),
        )
        .route("/v1/vault/links", post(admin::create_link))
        .route("/v1/vault/links/batch", post(vault_browse::links_batch))
        .route(
            "/v1/vault/upload",
            post(vault_upload::upload).layer(DefaultBodyLimit::max(vault_upload::MAX_UPLOAD_BYTES)),
        )
        .route("/v1/vault/tree", get(vault_browse::tree))
        .route(
            "/v1/vault/enrichment/status",
            get(vault_browse::enrichment_status),
        )
        .route(
            "/v1/vault/enrichment/stop",
            post(vault_browse::enrichment_stop),
        )
        .route("/v1/vault/links/{linkID}", delete(admin::delete_link))
        .route("/v1/vault/search", post(vault::search))
        .route("/v1/vault/rescan", post(vault::rescan))
        .route(
            "/v1/agents/{id}/vault/documents",
            get(vault::list_agent_documents).post(admin::create_agent_document),
        )
        .route(
            "/v1/agents/{id}/vault/documents/{docID}",
            get(vault::get_agent_document)
                .put(admin::update_agent_document)
                .delete(admin::delete_agent_document),
        )
        .route(
            "/v1/agents/{id}/vault/documents/{docID}/links",
            get(vault::agent_document_links),
        )
        .route(
            "/v1/agents/{id}/vault/links",
            post(admin::create_agent_link),
        )
        .route(
            "/v1/agents/{id}/vault/links/{linkID}",
            delete(admin::delete_agent_link),
        )
        .route("/v1/agents/{id}/vault/search", post(vault::search_agent))
}
