//! `GET /metrics`: the Prometheus exposition of [`goclaw_telemetry::Metrics`], behind the same
//! authentication as every read route (`operator.read` for API keys); [`metrics_router`], the
//! same page without authentication for a separate, operator-chosen listener
//! (`GOCLAW_METRICS_ADDR`); and [`record_http`], the middleware counting every HTTP request by
//! its matched route template.
//!
//! Gauges that mirror state owned elsewhere (lane load, connected WebSocket clients) are read
//! at scrape time rather than kept up to date on every change.

use std::time::Instant;

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use super::auth::Caller;
use super::error::ApiError;
use crate::routes::AppState;

/// The route label of requests no route matched (so raw paths never become labels).
pub const UNMATCHED_ROUTE: &str = "unmatched";

/// `GET /metrics` on the gateway's own listener: viewers and `operator.read` keys.
#[utoipa::path(
    get,
    path = "/metrics",
    tag = "system",
    operation_id = "metrics",
    summary = "Prometheus metrics (OpenMetrics text)",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The metrics in the OpenMetrics text format",
            content_type = "application/openmetrics-text", body = String),
        (status = 401, description = "No or wrong credentials", body = super::schemas::ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = super::schemas::ErrorResponse),
        (status = 500, description = "The metrics could not be encoded"),
    )
)]
pub async fn scrape(State(state): State<AppState>, _caller: Caller) -> Result<Response, ApiError> {
    Ok(exposition(&state))
}

/// `/metrics` alone and unauthenticated, for the separate metrics listener; whoever can reach
/// that address can read it, which is why it is off unless an address is configured.
pub fn metrics_router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(scrape_open))
        .with_state(state)
}

/// Serves [`metrics_router`] on `listener` until `shutdown` is cancelled.
pub async fn serve_metrics(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: tokio_util::sync::CancellationToken,
) -> std::io::Result<()> {
    axum::serve(listener, metrics_router(state))
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

async fn scrape_open(State(state): State<AppState>) -> Response {
    exposition(&state)
}

fn exposition(state: &AppState) -> Response {
    let metrics = &state.metrics;
    for lane in state.runtime.lane_stats() {
        metrics.set_lane_load(lane.lane.as_str(), lane.waiting, lane.running);
    }
    metrics.set_ws_clients(state.clients.len());
    metrics.set_webhook_sources(state.webhooks.tracked_sources());
    match metrics.encode() {
        Ok(body) => (
            [(header::CONTENT_TYPE, goclaw_telemetry::METRICS_CONTENT_TYPE)],
            body,
        )
            .into_response(),
        Err(error) => {
            tracing::error!(error = %error, "encoding the metrics failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

/// Counts the request under its method, matched route template and status.
pub async fn record_http(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = method_label(request.method());
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| UNMATCHED_ROUTE.to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.http_request(
        method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The standard methods by name; anything else is `other`, so a client cannot invent labels.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [&str; 8] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE",
    ];
    KNOWN
        .into_iter()
        .find(|known| *known == method.as_str())
        .unwrap_or("other")
}
