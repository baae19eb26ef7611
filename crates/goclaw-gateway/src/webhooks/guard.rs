//! What every call of `/v1/webhooks/llm` and `/v1/webhooks/message` passes before its
//! handler, in this order (GoClaw's, with the per-source window first):
//!
//! 1. the per-source window — 30 calls a minute per peer address, 4,096 addresses tracked
//!    (429), checked before the body is read, so a flood costs neither reading nor lookups;
//! 2. the body cap (413);
//! 3. the secret: `X-GoClaw-Signature` with `X-Webhook-Id` (HMAC over `"{t}.{body}"`, at most
//!    5 minutes off, each signature once), otherwise `Authorization: Bearer wh_…` unless the
//!    webhook requires signatures (401);
//! 4. `localhost_only`, then the IP allowlist, against the peer address (403);
//! 5. the route's kind (403);
//! 6. the webhook's `rate_limit_per_min`, then the tenant's 600 a minute (429).
//!
//! Refusals have GoClaw's flat body, `{"error":"…"}`, and never say more than the table
//! above; the reason is logged as `security.webhook.*`.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use axum::Json;
use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use goclaw_core::{Webhook, WebhookKind};
use serde_json::json;
use uuid::Uuid;

use super::limits::TENANT_CALLS_PER_MIN;
use super::{net, secret};
use crate::routes::AppState;

/// Largest body of an `llm` call.
pub const LLM_BODY_CAP: usize = 1024 * 1024;
/// Largest body of a `message` call.
pub const MESSAGE_BODY_CAP: usize = 256 * 1024;
/// What a rate refusal asks the caller to wait.
const RETRY_AFTER: Duration = Duration::from_secs(60);

/// A refused webhook call: GoClaw's flat `{"error":"…"}`.
#[derive(Debug)]
pub struct Refused {
    pub status: StatusCode,
    pub message: String,
    pub retry_after: Option<Duration>,
}

impl Refused {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    pub(crate) fn rate_limited() -> Self {
        Self {
            retry_after: Some(RETRY_AFTER),
            ..Self::new(StatusCode::TOO_MANY_REQUESTS, "webhook rate limit exceeded")
        }
    }

    fn unauthenticated(message: &str) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message)
    }
}

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let mut response = (self.status, Json(json!({ "error": self.message }))).into_response();
        if let Some(wait) = self.retry_after {
            response.headers_mut().insert(
                header::RETRY_AFTER,
                HeaderValue::from(crate::ratelimit::retry_after_secs(wait)),
            );
        }
        response
    }
}

/// A call that passed: its webhook and body.
#[derive(Debug)]
pub struct Admitted {
    pub webhook: Webhook,
    pub body: Bytes,
}

/// Runs a call of a `kind` route through the checks.
pub async fn admit(
    state: &AppState,
    kind: WebhookKind,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<Admitted, Refused> {
    let peer = peer.ip();
    let webhooks = &state.webhooks;
    if !webhooks.allow_source(peer) {
        state.metrics.rate_limit_hit("webhook");
        tracing::warn!(peer = %peer, tier = "source", "security.webhook.rate_limited");
        return Err(Refused::rate_limited());
    }
    let cap = match kind {
        WebhookKind::Llm => LLM_BODY_CAP,
        WebhookKind::Message => MESSAGE_BODY_CAP,
    };
    let body = axum::body::to_bytes(body, cap).await.map_err(|_| {
        tracing::warn!(peer = %peer, cap, "security.webhook.body_too_large");
        Refused::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "request body exceeds size limit",
        )
    })?;
    let webhook = authenticate(state, headers, &body, peer).await?;
    if webhook.localhost_only && !net::is_loopback(peer) {
        tracing::warn!(webhook = %webhook.id, peer = %peer, "security.webhook.localhost_only_violation");
        return Err(Refused::new(
            StatusCode::FORBIDDEN,
            "this webhook is restricted to localhost callers",
        ));
    }
    if !net::allowed_by(&webhook.ip_allowlist, peer) {
        tracing::warn!(webhook = %webhook.id, peer = %peer, "security.webhook.ip_denied");
        return Err(Refused::new(
            StatusCode::FORBIDDEN,
            "request origin is not in the IP allowlist",
        ));
    }
    if webhook.kind != kind {
        tracing::warn!(webhook = %webhook.id, kind = kind.as_str(), "security.webhook.kind_mismatch");
        return Err(Refused::new(
            StatusCode::FORBIDDEN,
            "request kind does not match webhook configuration",
        ));
    }
    let now = Instant::now();
    let per_minute = u32::try_from(webhook.rate_limit_per_min.max(0)).unwrap_or(u32::MAX);
    if !webhooks.take(&format!("webhook:{}", webhook.id), per_minute, now) {
        state.metrics.rate_limit_hit("webhook");
        tracing::warn!(webhook = %webhook.id, tier = "webhook", "security.webhook.rate_limited");
        return Err(Refused::rate_limited());
    }
    if !webhooks.take(
        &format!("tenant:{}", webhook.tenant_id),
        TENANT_CALLS_PER_MIN,
        now,
    ) {
        state.metrics.rate_limit_hit("webhook");
        tracing::warn!(webhook = %webhook.id, tenant = %webhook.tenant_id, tier = "tenant", "security.webhook.rate_limited");
        return Err(Refused::rate_limited());
    }
    let store = state.store.clone();
    let id = webhook.id;
    tokio::spawn(async move {
        if let Err(error) = store.webhooks().touch(id, chrono::Utc::now()).await {
            tracing::debug!(webhook = %id, error = %error, "recording the webhook's last use failed");
        }
    });
    Ok(Admitted { webhook, body })
}

/// Why authentication failed, for the log.
fn auth_failed(reason: &'static str, peer: IpAddr, message: &str) -> Refused {
    tracing::warn!(reason, peer = %peer, "security.webhook.auth_failed");
    Refused::unauthenticated(message)
}

const GENERIC: &str = "webhook authentication failed";

async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    peer: IpAddr,
) -> Result<Webhook, Refused> {
    if let Some(signature) = headers.get("x-goclaw-signature") {
        return authenticate_signed(state, headers, signature, body, peer).await;
    }
    let Some(token) = bearer(headers).filter(|t| t.starts_with(secret::SECRET_PREFIX)) else {
        return Err(auth_failed("no_credentials", peer, GENERIC));
    };
    let webhook = state
        .store
        .webhooks()
        .by_secret_hash(&secret::secret_hash(token))
        .await
        .map_err(|error| {
            tracing::error!(error = %error, "looking up a webhook failed");
            Refused::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
        })?
        .ok_or_else(|| auth_failed("webhook_not_found", peer, GENERIC))?;
    if webhook.require_hmac {
        return Err(auth_failed(
            "bearer_requires_hmac",
            peer,
            "this webhook requires HMAC authentication",
        ));
    }
    Ok(webhook)
}

async fn authenticate_signed(
    state: &AppState,
    headers: &HeaderMap,
    signature: &HeaderValue,
    body: &[u8],
    peer: IpAddr,
) -> Result<Webhook, Refused> {
    let header = signature
        .to_str()
        .ok()
        .and_then(secret::parse_signature_header)
        .ok_or_else(|| auth_failed("hmac_invalid", peer, "HMAC signature is invalid"))?;
    if !secret::within_skew(header.timestamp, chrono::Utc::now().timestamp()) {
        return Err(auth_failed(
            "hmac_timestamp_skew",
            peer,
            "request timestamp outside acceptable window",
        ));
    }
    let id = headers
        .get("x-webhook-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Uuid::parse_str(v.trim()).ok())
        .ok_or_else(|| auth_failed("webhook_not_found", peer, GENERIC))?;
    let webhook = match state.store.webhooks().get(None, id).await {
        Ok(webhook) if !webhook.revoked => webhook,
        Ok(_) | Err(goclaw_core::StoreError::NotFound(_)) => {
            return Err(auth_failed("webhook_not_found", peer, GENERIC));
        }
        Err(error) => {
            tracing::error!(error = %error, "looking up a webhook failed");
            return Err(Refused::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal error",
            ));
        }
    };
    let key = state
        .secrets
        .as_ref()
        .and_then(|secrets| secrets.decrypt(&webhook.encrypted_secret).ok())
        .ok_or_else(|| {
            tracing::error!(webhook = %webhook.id, "security.webhook.hmac_decrypt_failed");
            auth_failed("hmac_invalid", peer, GENERIC)
        })?;
    let key = zeroize::Zeroizing::new(key);
    if !secret::verify(&key, &header, body) {
        return Err(auth_failed(
            "hmac_invalid",
            peer,
            "HMAC signature is invalid",
        ));
    }
    let seen = format!("{}|{}", webhook.tenant_id, header.v1);
    if !state.webhooks.first_use(&seen) {
        tracing::warn!(webhook = %webhook.id, peer = %peer, "security.webhook.hmac_replay");
        return Err(auth_failed("hmac_replay", peer, GENERIC));
    }
    Ok(webhook)
}

fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
}
