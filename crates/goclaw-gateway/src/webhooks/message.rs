//! `POST /v1/webhooks/message`: posts a message to a channel chat — the webhook's own channel
//! (a stored channel instance of its tenant) when it names one, else the call's `channel_name`. The post goes through the channel's
//! outbox like any reply, keyed by the call, so it is sent once even when the call is retried
//! with its idempotency key; the call is answered `sent` once the platform accepted it, or
//! 202 `queued` when the platform has not yet (the outbox keeps trying). A `media_url` is
//! fetched first (`media.rs`) and posted after the text, with `media_caption`.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use goclaw_core::{CallMode, CallStatus, CallUpdate, NewWebhookCall, WebhookKind};
use serde::Deserialize;
use serde_json::json;
use uuid::Uuid;

use super::guard::{self, Refused};
use super::idempotency::Recorded;
use super::{ChannelTarget, PostError, PostOutcome, idempotency, media, secret};
use crate::channels::PostedFile;
use crate::routes::AppState;

/// The longest message.
const MAX_CONTENT_BYTES: usize = 16 * 1024;

/// The body of a `message` call.
#[derive(Debug, Deserialize)]
struct MessageRequest {
    #[serde(default)]
    channel_name: String,
    #[serde(default)]
    chat_id: String,
    #[serde(default)]
    content: String,
    #[serde(default)]
    media_url: String,
    #[serde(default)]
    media_caption: String,
    /// Send the text alone where the channel cannot take files (each channel here can).
    #[serde(default)]
    #[allow(dead_code)]
    fallback_to_text: bool,
}

/// Answers a `message` call.
#[utoipa::path(
    post,
    path = "/v1/webhooks/message",
    tag = "webhooks",
    operation_id = "webhook_message",
    request_body(content = super::schemas::MessageCall, content_type = "application/json"),
    params(
        ("X-Webhook-Id" = Option<String>, Header, description = "The webhook, with a signature"),
        ("X-GoClaw-Signature" = Option<String>, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{body}\">`"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat gets the first call's answer"),
    ),
    security(("webhook" = [])),
    responses(
        (status = 200, description = "Sent (or a replayed answer)", body = super::schemas::MessageSent),
        (status = 202, description = "Accepted; the channel is still sending it", body = super::schemas::MessageSent),
        (status = 400, description = "Invalid input", body = super::schemas::WebhookError),
        (status = 401, description = "No valid secret or signature", body = super::schemas::WebhookError),
        (status = 403, description = "Not allowed from this address, or the wrong kind", body = super::schemas::WebhookError),
        (status = 404, description = "No such channel is running", body = super::schemas::WebhookError),
        (status = 409, description = "The idempotency key was used with another body", body = super::schemas::WebhookError),
        (status = 413, description = "The body is over 256 KiB, or the file at `media_url` over 25 MiB", body = super::schemas::WebhookError),
        (status = 415, description = "The file at `media_url` is of a type a chat would run (HTML, SVG, script)", body = super::schemas::WebhookError),
        (status = 429, description = "Over a rate limit", body = super::schemas::WebhookError),
        (status = 500, description = "Internal error", body = super::schemas::WebhookError),
        (status = 502, description = "The channel refused the message", body = super::schemas::WebhookError),
    )
)]
pub async fn call(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match handle(&state, peer, &headers, body).await {
        Ok(response) => response,
        Err(refused) => refused.into_response(),
    }
}

fn refuse(status: StatusCode, message: &str) -> Refused {
    Refused::new(status, message)
}

async fn handle(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refused> {
    let admitted = guard::admit(state, WebhookKind::Message, peer, headers, body).await?;
    let webhook = admitted.webhook;
    let request: MessageRequest = serde_json::from_slice(&admitted.body)
        .map_err(|e| Refused::new(StatusCode::BAD_REQUEST, format!("invalid request: {e}")))?;
    let channel = match webhook.channel_id {
        // The webhook's own channel: a stored instance of its tenant.
        Some(id) => match state
            .store
            .channel_instances()
            .get(webhook.tenant_id, id)
            .await
        {
            Ok(instance) => instance.name,
            Err(goclaw_core::StoreError::NotFound(_)) => {
                return Err(refuse(StatusCode::NOT_FOUND, "webhook channel not found"));
            }
            Err(error) => {
                tracing::error!(error = %error, "reading a webhook's channel instance failed");
                return Err(refuse(StatusCode::INTERNAL_SERVER_ERROR, "internal error"));
            }
        },
        None if request.channel_name.is_empty() => {
            return Err(refuse(StatusCode::BAD_REQUEST, "channel_name is required"));
        }
        None => request.channel_name.clone(),
    };
    if request.chat_id.is_empty() {
        return Err(refuse(StatusCode::BAD_REQUEST, "chat_id is required"));
    }
    if request.content.is_empty() && request.media_url.is_empty() {
        return Err(refuse(StatusCode::BAD_REQUEST, "content is required"));
    }
    if request.content.len() > MAX_CONTENT_BYTES {
        return Err(refuse(
            StatusCode::BAD_REQUEST,
            "invalid request: content exceeds 16 KB limit",
        ));
    }
    let Some(channels) = state.channels.as_ref() else {
        return Err(refuse(StatusCode::NOT_FOUND, "webhook channel not found"));
    };
    let key = idempotency::key(headers)?;
    let body_hash = secret::body_hash(&admitted.body);
    if let Some(key) = &key
        && let Some(answer) = idempotency::earlier_answer(state, &webhook, key, &body_hash).await?
    {
        return Ok(answer);
    }
    // The file first: a URL that gives none fails the call before anything is recorded.
    let media_dir = state.webhooks.media_dir().to_owned();
    let file_key = Uuid::new_v4();
    let file = match request.media_url.as_str() {
        "" => None,
        url => {
            media::prune(&media_dir).await;
            let fetched = media::fetch(
                url,
                state.webhooks.private_callbacks(),
                &media_dir,
                file_key,
            )
            .await
            .map_err(|refusal| media_refused(&webhook, refusal))?;
            Some(PostedFile {
                path: fetched.path,
                file_name: fetched.file_name,
                mime_type: fetched.mime_type,
                caption: request.media_caption.clone(),
            })
        }
    };
    let new_call = NewWebhookCall {
        tenant_id: webhook.tenant_id,
        webhook_id: webhook.id,
        agent_id: webhook.agent_id,
        idempotency_key: key.clone(),
        mode: CallMode::Sync,
        callback_url: None,
        status: CallStatus::Running,
        request_payload: json!({
            "body_hash": body_hash,
            "meta": {
                "channel_name": channel,
                "chat_id": request.chat_id,
                "has_media": !request.media_url.is_empty(),
            },
        }),
    };
    let recorded = idempotency::record(state, &webhook, new_call, &body_hash).await;
    let call = match recorded {
        Ok(Recorded::New(call)) => call,
        Ok(Recorded::Earlier(answer)) => {
            media::discard(&media_dir, file_key).await;
            return Ok(answer);
        }
        Err(refused) => {
            media::discard(&media_dir, file_key).await;
            return Err(refused);
        }
    };
    let target = ChannelTarget {
        tenant_id: webhook.tenant_id,
        channel: channel.clone(),
        chat_id: request.chat_id.clone(),
    };
    let posted = channels
        .post(
            &target,
            &request.content,
            &format!("webhook:{}", call.id),
            file.as_ref(),
        )
        .await;
    // Queued, the file waits for the outbox; otherwise it is done with.
    if !matches!(posted, Ok(PostOutcome::Queued)) {
        media::discard(&media_dir, file_key).await;
    }
    let body = |status: &str| {
        json!({
            "call_id": call.id,
            "status": status,
            "channel_name": channel,
            "chat_id": request.chat_id,
        })
    };
    let (update, answer) = match posted {
        Ok(PostOutcome::Sent) => {
            tracing::info!(webhook = %webhook.id, call = %call.id, "webhook.message.delivered");
            let sent = body("sent");
            (
                CallUpdate {
                    status: CallStatus::Done,
                    response: Some(sent.clone()),
                    last_error: None,
                    next_attempt_at: None,
                    attempted: false,
                },
                Ok((StatusCode::OK, Json(sent)).into_response()),
            )
        }
        Ok(PostOutcome::Queued) => {
            // In the outbox, which sends it when the platform takes it: the call is done.
            let queued = body("queued");
            (
                CallUpdate {
                    status: CallStatus::Done,
                    response: Some(queued.clone()),
                    last_error: None,
                    next_attempt_at: None,
                    attempted: false,
                },
                Ok((StatusCode::ACCEPTED, Json(queued)).into_response()),
            )
        }
        Err(PostError::NoChannel) => (
            failed("webhook channel not found"),
            Err(refuse(StatusCode::NOT_FOUND, "webhook channel not found")),
        ),
        Err(PostError::Failed(reason)) => {
            tracing::warn!(webhook = %webhook.id, call = %call.id, reason = %reason, "webhook message send failed");
            (
                failed(&reason),
                Err(refuse(
                    StatusCode::BAD_GATEWAY,
                    "internal error: channel send failed",
                )),
            )
        }
    };
    if let Err(error) = state.store.webhooks().update_call(call.id, update).await {
        tracing::error!(call = %call.id, error = %error, "recording a webhook call's end failed");
    }
    answer
}

fn failed(reason: &str) -> CallUpdate {
    CallUpdate {
        status: CallStatus::Failed,
        response: None,
        last_error: Some(reason.to_owned()),
        next_attempt_at: None,
        attempted: false,
    }
}

/// A `media_url` that gave no file: 400, 413 or 415, as GoClaw answers them.
fn media_refused(webhook: &goclaw_core::Webhook, refusal: media::MediaRefusal) -> Refused {
    use media::MediaRefusal;
    tracing::warn!(webhook = %webhook.id, refusal = ?refusal, "webhook.message.media_refused");
    match refusal {
        MediaRefusal::Invalid(reason) | MediaRefusal::Unavailable(reason) => refuse(
            StatusCode::BAD_REQUEST,
            &format!("invalid request: {reason}"),
        ),
        MediaRefusal::TooLarge => refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid request: media_url exceeds the 25 MB size limit",
        ),
        MediaRefusal::Unsupported(mime) => refuse(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            &format!("invalid request: media type {mime} is not allowed"),
        ),
    }
}
