//! The router: liveness, readiness, the service index, `/ws`, the `/v1` API, and JSON 404s;
//! and the state every handler shares.

use std::sync::Arc;
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{StatusCode, Uri};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get};
use axum::{Json, Router};
use goclaw_core::{PROTOCOL_VERSION, Store};
use serde_json::json;
use tokio_util::sync::CancellationToken;

use crate::auth::AuthSettings;
use crate::origins::OriginPolicy;
use crate::ratelimit::RateLimiter;
use crate::ws::ClientRegistry;

/// Shared state of every handler.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub runtime: goclaw_agent::Runtime,
    pub auth: Arc<AuthSettings>,
    pub clients: ClientRegistry,
    /// Cancelled when the gateway shuts down; long-lived connections watch it.
    pub shutdown: CancellationToken,
    pub started: Instant,
    /// Version string reported by the gateway.
    pub version: String,
    /// Encrypts provider API keys before they are stored; `None` without
    /// `GOCLAW_ENCRYPTION_KEY`, and then no key is accepted.
    pub secrets: Option<Arc<goclaw_crypto::SecretBox>>,
    /// Told when stored providers change, so runs use the change at once.
    pub stored_providers: Option<Arc<dyn crate::providers::StoredProviders>>,
    /// Browser origins allowed on `/ws` and by CORS (`gateway.allowed_origins`).
    pub origins: OriginPolicy,
    /// Per-user budget of chat messages (`gateway.rate_limit_rpm`).
    pub rate_limiter: RateLimiter,
    /// Pending exec approvals, pushed to operators; `None` when exec never asks.
    pub approvals: Option<goclaw_tools::exec::ApprovalBroker>,
    /// The Prometheus registry `/metrics` exposes; handlers record into it.
    pub metrics: goclaw_telemetry::Metrics,
    /// Header, idle and WebSocket `connect` deadlines of every connection.
    pub deadlines: crate::ConnectionDeadlines,
    /// Memory documents and their search, embedding with the provider chosen now.
    pub memory: goclaw_memory::index::MemoryIndex,
    /// The knowledge vault the `/vault` routes read; `None` answers them with 503.
    pub vault: Option<goclaw_memory::vault::Vault>,
    /// Events of a tenant (pairing, cron, heartbeats) that its connections are sent.
    pub tenant_events: crate::tenant_events::TenantEvents,
    /// Inbound webhooks' limits, replay cache and run lane.
    pub webhooks: crate::webhooks::Webhooks,
    /// The messaging channels; `None` answers posts to them as finding no channel.
    pub channels: Option<Arc<dyn crate::channels::Channels>>,
    /// How cron jobs run and the clock their due times are read from.
    pub cron: crate::cron::Cron,
    /// The agents' workspace base, under which teams keep their files (`teams/<team>/…`);
    /// `None` answers `teams.workspace.*` as unavailable.
    pub team_workspaces: Option<std::path::PathBuf>,
    /// Where `/v1/files` and `/v1/media` serve from, and how their links are signed.
    pub files: crate::files::FileAccess,
    /// Uploaded skills and the skill directories; `None` answers `/v1/skills…` with 503.
    pub skills: Option<crate::skills::Skills>,
    /// The tenant-managed MCP servers' connections; `None` answers `/v1/mcp/servers…` with 503.
    pub mcp: Option<crate::mcp_servers::McpAdmin>,
    /// `gateway.quota`, which `quota.usage` reports on; `None` reports it off.
    pub quota: Option<Arc<crate::request_quota::RequestQuota>>,
    /// The production audit `GET /v1/system/doctor` runs; `None` answers 503.
    pub doctor: Option<crate::http::doctor::SharedAudit>,
    /// The configuration `config.*` read and change; `None` answers them as unavailable.
    pub config: Option<Arc<dyn crate::config_admin::ConfigAdmin>>,
}

/// All routes of the gateway.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/health", any(health))
        .route("/ready", get(ready))
        .route("/", get(index))
        .route(
            "/ws",
            get(crate::ws::ws_handler).route_layer(middleware::from_fn_with_state(
                state.clone(),
                crate::origins::guard_ws,
            )),
        )
        .merge(crate::http::router())
        .merge(crate::dashboard::router())
        .merge(crate::skills::http::router())
        .merge(crate::mcp_servers::http::router())
        .merge(crate::tenants::http::router())
        .merge(webhook_routes(&state))
        .merge(crate::webhooks::channel_router())
        .merge(crate::channels::router())
        .merge(crate::mcp_bridge::router(&state))
        .fallback(not_found)
        .layer(middleware::from_fn_with_state(
            state.clone(),
            crate::http::record_http,
        ))
        .layer(state.origins.cors_layer())
        .layer(middleware::from_fn(log_request))
        .with_state(state)
}

/// The webhook routes, which exist only with an encryption key (a webhook's secret is kept
/// encrypted); without one, `/v1/webhooks…` is not found.
fn webhook_routes(state: &AppState) -> Router<AppState> {
    if state.secrets.is_some() {
        crate::webhooks::router()
    } else {
        Router::new()
    }
}

/// Logs every request at debug level once it has been answered.
async fn log_request(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let uri = request.uri().clone();
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        method = %method,
        uri = %uri,
        status = response.status().as_u16(),
        took_us = started.elapsed().as_micros() as u64,
        "http request"
    );
    response
}

/// Liveness: the process is up and serving. Never touches the database.
#[utoipa::path(
    method(get, post, put, delete, patch, trace),
    path = "/health",
    tag = "system",
    operation_id = "health",
    summary = "Liveness (any method)",
    security(()),
    responses((status = 200, description = "The process is up", body = crate::http::schemas::Health))
)]
async fn health() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok", "protocol": PROTOCOL_VERSION }))
}

/// Readiness: 200 only when the database answers.
#[utoipa::path(
    get,
    path = "/ready",
    tag = "system",
    security(()),
    responses(
        (status = 200, description = "The database answers", body = crate::http::schemas::Ready),
        (status = 503, description = "The database does not answer", body = crate::http::schemas::NotReady),
    )
)]
async fn ready(State(state): State<AppState>) -> Response {
    match state.store.ping().await {
        Ok(()) => Json(json!({ "status": "ready", "database": state.store.backend().as_str() }))
            .into_response(),
        Err(error) => {
            tracing::warn!(error = %error, "readiness check failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({ "status": "unavailable", "error": "database unreachable" })),
            )
                .into_response()
        }
    }
}

/// The service index: name, version, protocol and the main endpoints; a browser (which
/// accepts HTML) gets the dashboard instead.
#[utoipa::path(
    get,
    path = "/",
    tag = "system",
    security(()),
    responses((status = 200, description = "The service index, or the dashboard's page for a client that accepts HTML",
        content(
            (crate::http::schemas::ServiceIndex = "application/json"),
            (String = "text/html"),
        )))
)]
async fn index(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    if crate::dashboard::wants_page(&headers) {
        return crate::dashboard::page();
    }
    Json(json!({
        "service": "goclaw",
        "status": "ok",
        "protocol": PROTOCOL_VERSION,
        "version": state.version,
        "endpoints": ["/health", "/ready", "/ws", "/v1/chat/completions", "/v1/agents"],
    }))
    .into_response()
}

async fn not_found(uri: Uri) -> Response {
    if uri.path().starts_with("/v1/") || uri.path() == "/v1" {
        let body = json!({ "error": { "code": "NOT_FOUND", "message": format!("no route for {}", uri.path()) } });
        return (StatusCode::NOT_FOUND, Json(body)).into_response();
    }
    (StatusCode::NOT_FOUND, Json(json!({ "error": "not found" }))).into_response()
}
