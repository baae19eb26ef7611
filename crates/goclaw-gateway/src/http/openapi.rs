//! The OpenAPI 3.1 document of the gateway, generated from the handlers' `#[utoipa::path]`
//! attributes and the schemas in `schemas.rs`, with the bearer security scheme (the gateway
//! token or an API key) and one tag per area.
//!
//! Every route the router serves appears here: `crates/goclaw/tests/openapi.rs` compares the
//! document with `scopes::ROUTE_ACCESS` (which has an entry for every registered route) and
//! runs schemathesis against the live gateway to check that it tells the truth.

use serde_json::Value;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{
    agents, api_keys, chat_completions, docs, doctor, edition, episodic, files, knowledge_graph,
    knowledge_graph_admin, knowledge_graph_extract, media, memory, metrics, provider_checks,
    providers, schemas, sessions, system_configs, team_files, teams, traces, usage, vault,
    vault_admin, vault_browse, vault_upload,
};

/// The document's paths, tags and schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "GoClaw gateway API",
        description = "HTTP API of the goclaw gateway: OpenAI-compatible chat completions with \
            agents, and management of agents, LLM providers and API keys.\n\n\
            Authenticate with `Authorization: Bearer <token>`, where the token is the gateway \
            token (`GOCLAW_GATEWAY_TOKEN`) or an API key (`goclaw_…`). API keys are held to \
            their scopes: reads need `operator.read`, chatting `operator.write`, agent \
            definitions, providers and keys `operator.admin`. With the gateway token, \
            `X-GoClaw-User-Id` names the user the caller acts for. A browser paired with the \
            gateway (`browser.pairing.status` approved) may send its `X-GoClaw-Sender-Id` \
            instead of a bearer and acts as an operator. A gateway listening on \
            loopback without a token takes requests without credentials.\n\n\
            Bodies have GoClaw's field names and envelopes (snake_case; `GET /v1/api-keys` \
            is a bare array; agents and providers are addressed by UUID or by key or name). \
            Errors have OpenAI's shape, `{\"error\":{\"message\",\"type\",\"code\"}}`. \
            Strings in request bodies must not contain NUL (U+0000): such a body is refused \
            with 400.",
        license(name = "MIT"),
    ),
    paths(
        crate::routes::health,
        crate::routes::ready,
        crate::routes::index,
        edition::get,
        crate::ws::ws_handler,
        metrics::scrape,
        crate::mcp_bridge::disabled,
        chat_completions::create,
        agents::list,
        agents::create,
        agents::get,
        agents::update,
        agents::delete,
        providers::list,
        providers::create,
        providers::get,
        providers::update,
        providers::delete,
        provider_checks::models,
        provider_checks::verify,
        api_keys::list,
        api_keys::create,
        api_keys::revoke,
        api_keys::delete,
        episodic::list,
        episodic::search,
        knowledge_graph::list_entities,
        knowledge_graph::get_entity,
        knowledge_graph::traverse,
        knowledge_graph::dedup_candidates,
        knowledge_graph_admin::upsert_entity,
        knowledge_graph_admin::delete_entity,
        knowledge_graph_admin::merge,
        knowledge_graph_admin::dismiss,
        knowledge_graph_admin::stats,
        knowledge_graph_admin::graph,
        knowledge_graph_admin::reset,
        knowledge_graph_extract::extract,
        knowledge_graph_extract::scan,
        traces::list,
        traces::get,
        usage::summary,
        usage::timeseries,
        usage::breakdown,
        sessions::list,
        system_configs::list,
        system_configs::get,
        system_configs::set,
        system_configs::delete,
        system_configs::embedding_status,
        memory::list_all,
        memory::list,
        memory::get,
        memory::put,
        memory::delete,
        memory::chunks,
        memory::index,
        memory::index_all,
        memory::search,
        vault::list_documents,
        vault::get_document,
        vault::document_links,
        vault::search,
        vault::rescan,
        vault::list_agent_documents,
        vault::get_agent_document,
        vault::agent_document_links,
        vault::search_agent,
        vault_admin::create_document,
        vault_admin::update_document,
        vault_admin::delete_document,
        vault_admin::create_link,
        vault_admin::delete_link,
        vault_admin::create_agent_document,
        vault_admin::update_agent_document,
        vault_admin::delete_agent_document,
        vault_admin::create_agent_link,
        vault_admin::delete_agent_link,
        vault_browse::links_batch,
        vault_browse::tree,
        vault_browse::enrichment_status,
        vault_browse::enrichment_stop,
        vault_upload::upload,
        teams::events,
        teams::download,
        team_files::upload,
        team_files::move_file,
        files::get,
        files::sign,
        media::upload,
        media::get,
        docs::spec,
        docs::redirect,
        docs::index,
        docs::asset,
        crate::dashboard::file,
        doctor::report,
        crate::webhooks::admin::list,
        crate::webhooks::admin::create,
        crate::webhooks::admin::get,
        crate::webhooks::admin::update,
        crate::webhooks::admin::delete,
        crate::webhooks::admin::rotate,
        crate::webhooks::admin::list_calls,
        crate::webhooks::admin::get_call,
        crate::webhooks::llm::call,
        crate::webhooks::message::call,
        crate::webhooks::channel::deliver,
        crate::channels::instances::list,
        crate::channels::instances::create,
        crate::channels::instances::get,
        crate::channels::instances::update,
        crate::channels::instances::delete,
        crate::skills::http::list,
        crate::skills::http::get_one,
        crate::skills::http::upload,
        crate::skills::http::update,
        crate::skills::http::remove,
        crate::skills::http::versions,
        crate::skills::http::toggle,
        crate::skills::http::grant_agent,
        crate::skills::http::revoke_agent,
        crate::skills::http::grant_user,
        crate::skills::http::revoke_user,
        crate::skills::transfer::export,
        crate::skills::transfer::import,
        crate::skills::runtimes::runtimes,
        crate::mcp_servers::http::list,
        crate::mcp_servers::http::create,
        crate::mcp_servers::http::get_one,
        crate::mcp_servers::http::update,
        crate::mcp_servers::http::remove,
        crate::mcp_servers::http::test,
        crate::mcp_servers::http::reconnect,
        crate::mcp_servers::http::tools,
        crate::mcp_servers::grants::list,
        crate::mcp_servers::grants::of_agent,
        crate::mcp_servers::grants::grant_agent,
        crate::mcp_servers::grants::revoke_agent,
        crate::mcp_servers::grants::grant_user,
        crate::mcp_servers::grants::revoke_user,
        crate::mcp_servers::grants::get_credentials,
        crate::mcp_servers::grants::set_credentials,
        crate::mcp_servers::grants::delete_credentials,
        crate::tenants::http::list,
        crate::tenants::http::create,
        crate::tenants::http::get_one,
        crate::tenants::http::update,
        crate::tenants::http::users,
        crate::tenants::http::add_user,
        crate::tenants::http::remove_user,
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "chat", description = "OpenAI-compatible chat completions"),
        (name = "agents", description = "Agent definitions"),
        (name = "skills", description = "Uploaded skills (SKILL.md packages), their versions and grants"),
        (name = "mcp", description = "MCP servers managed through the API, their grants and users' own credentials"),
        (name = "providers", description = "LLM providers stored in the database (admin)"),
        (name = "api-keys", description = "API keys and their scopes (admin)"),
        (name = "system", description = "Liveness, readiness, metrics, the service index and the WebSocket"),
        (name = "memory", description = "Agents' episodic memory (summaries of finished sessions) and knowledge graph"),
        (name = "traces", description = "Traces of agent runs and their spans"),
        (name = "sessions", description = "Conversations (below admin, the caller's own), as `sessions.list` pages them"),
        (name = "usage", description = "Requests, tokens and cost of runs, from their traces (below admin, the caller's own)"),
        (name = "memory", description = "Agents' long-term memory documents and their search"),
        (name = "system-configs", description = "Per-tenant settings and the embedding provider in use"),
        (name = "vault", description = "The knowledge vault: workspace files, their links, search"),
        (name = "teams", description = "Teams' task events, attachments and files (the teams the caller may see)"),
        (name = "files", description = "Files of the workspaces by signed link or the caller's own right"),
        (name = "media", description = "Uploads for chat messages"),
        (name = "docs", description = "This document and Swagger UI"),
        (name = "webhooks", description = "Inbound webhooks: registering them (admin; only with an encryption key) and the calls other systems make with their secrets"),
        (name = "tenants", description = "Tenants and their members (the owner: every tenant; others: their own)"),
        (name = "channels", description = "Messaging channel instances stored in the database (reads for every role, changes for admins)"),
    )
)]
struct ApiDoc;

/// Adds the security schemes the operations name: `bearer` and `webhook`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let scheme = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "The gateway token (`GOCLAW_GATEWAY_TOKEN`) or an API key (`goclaw_…`).",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(scheme));
        let webhook = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some(
                "A webhook's secret (`wh_…`); or leave it out and sign the body \
                 (`X-Webhook-Id`, `X-GoClaw-Signature`).",
            ))
            .build();
        openapi
            .components
            .get_or_insert_with(Default::default)
            .add_security_scheme("webhook", SecurityScheme::Http(webhook));
    }
}

/// The OpenAPI document, `version` as the API version.
pub fn document(version: &str) -> utoipa::openapi::OpenApi {
    let mut openapi = ApiDoc::openapi();
    version.clone_into(&mut openapi.info.version);
    openapi
}

/// The document as served: [`document`] with the schemas utoipa cannot express put in place.
pub fn document_json(version: &str) -> Result<Value, serde_json::Error> {
    let mut json = serde_json::to_value(document(version))?;
    if let Some(messages) =
        json.pointer_mut("/components/schemas/ChatCompletionRequest/properties/messages")
    {
        *messages = schemas::chat_messages();
    }
    Ok(json)
}
