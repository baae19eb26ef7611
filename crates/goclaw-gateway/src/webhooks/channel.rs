//! `POST /channels/{name}/webhook`: where a messaging platform in webhook mode (Telegram with
//! `channels.telegram.webhook_url`) delivers updates. The per-source window and a 1 MiB cap
//! come first; the channel checks its own secret and answers 200 only once the update is
//! stored, so the platform delivers again whatever was not.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::DeliveryError;
use super::guard::Refused;
use crate::http::ApiPath;
use crate::routes::AppState;

/// Largest update taken.
const BODY_CAP: usize = 1024 * 1024;

/// Takes one update of channel `name`.
#[utoipa::path(
    post,
    path = "/channels/{name}/webhook",
    tag = "webhooks",
    operation_id = "channel_webhook",
    params(
        ("name" = String, Path, description = "The channel instance (`telegram`)"),
        ("X-Telegram-Bot-Api-Secret-Token" = Option<String>, Header, description = "Telegram's copy of the webhook secret"),
    ),
    request_body(content = Object, content_type = "application/json", description = "The platform's update"),
    security(()),
    responses(
        (status = 200, description = "Stored", body = super::schemas::Delivered),
        (status = 400, description = "Not an update of the platform", body = super::schemas::WebhookError),
        (status = 401, description = "The channel's secret is missing or wrong", body = super::schemas::WebhookError),
        (status = 404, description = "No such channel receives webhooks", body = super::schemas::WebhookError),
        (status = 413, description = "The body is over 1 MiB", body = super::schemas::WebhookError),
        (status = 429, description = "Over the per-source rate", body = super::schemas::WebhookError),
        (status = 503, description = "Not stored now; deliver it again", body = super::schemas::WebhookError),
    )
)]
pub async fn deliver(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    ApiPath(name): ApiPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match take(&state, peer, &name, &headers, body).await {
        Ok(()) => Json(json!({ "ok": true })).into_response(),
        Err(refused) => refused.into_response(),
    }
}

async fn take(
    state: &AppState,
    peer: SocketAddr,
    name: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<(), Refused> {
    let peer = peer.ip();
    if !state.webhooks.allow_source(peer) {
        state.metrics.rate_limit_hit("webhook");
        tracing::warn!(peer = %peer, tier = "source", channel = %name, "security.webhook.rate_limited");
        return Err(Refused::rate_limited());
    }
    let body = axum::body::to_bytes(body, BODY_CAP).await.map_err(|_| {
        Refused::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body exceeds size limit",
        )
    })?;
    let not_found = || Refused::new(StatusCode::NOT_FOUND, "channel not found");
    let channels = state.channels.as_ref().ok_or_else(not_found)?;
    let headers: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    channels
        .deliver(name, &headers, &body)
        .await
        .map_err(|error| match error {
            DeliveryError::NoChannel => not_found(),
            DeliveryError::Unauthorized => {
                tracing::warn!(peer = %peer, channel = %name, reason = "channel_secret", "security.webhook.auth_failed");
                Refused::new(StatusCode::UNAUTHORIZED, "webhook authentication failed")
            }
            DeliveryError::Invalid(reason) => {
                Refused::new(StatusCode::BAD_REQUEST, format!("invalid request: {reason}"))
            }
            DeliveryError::NotStored(reason) => {
                tracing::warn!(channel = %name, reason = %reason, "a channel update was not stored");
                Refused::new(StatusCode::SERVICE_UNAVAILABLE, "not stored; deliver it again")
            }
        })
}
