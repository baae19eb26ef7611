//! `Idempotency-Key` on webhook calls: the first call with a key reserves it (its call record
//! holds the key and the body's hash); a call repeating the key gets the first call's answer
//! (200 with `X-Idempotency-Replayed: true`), or 202 with its status while it has none yet,
//! or 409 when its body differs. Keys are per webhook and live as long as the call record.

use axum::Json;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use goclaw_core::{
    CallMode, CallStatus, CallUpdate, NewWebhookCall, StoreError, Webhook, WebhookCall,
};
use serde_json::{Value, json};

use super::guard::Refused;
use crate::routes::AppState;

/// The longest key.
pub const MAX_KEY_BYTES: usize = 255;
/// A sync call still `running` after this long was lost with its process.
const SYNC_RESERVATION_TTL: chrono::TimeDelta = chrono::TimeDelta::minutes(10);

/// The call's `Idempotency-Key`, if it sent one.
pub fn key(headers: &HeaderMap) -> Result<Option<String>, Refused> {
    let Some(raw) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    let key = raw
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| k.len() <= MAX_KEY_BYTES && !k.chars().any(char::is_control))
        .ok_or_else(|| {
            Refused::new(
                StatusCode::BAD_REQUEST,
                "invalid request: Idempotency-Key must be at most 255 bytes of visible characters",
            )
        })?;
    Ok((!key.is_empty()).then(|| key.to_owned()))
}

/// The answer to a call repeating `key`, when an earlier call reserved it.
pub async fn earlier_answer(
    state: &AppState,
    webhook: &Webhook,
    key: &str,
    body_hash: &str,
) -> Result<Option<Response>, Refused> {
    let earlier = state
        .store
        .webhooks()
        .call_by_key(webhook.id, key)
        .await
        .map_err(internal)?;
    match earlier {
        Some(call) => Ok(Some(answer_repeat(state, call, body_hash).await?)),
        None => Ok(None),
    }
}

/// What a call repeating the key of `call` is told.
pub async fn answer_repeat(
    state: &AppState,
    call: WebhookCall,
    body_hash: &str,
) -> Result<Response, Refused> {
    if call
        .request_payload
        .get("body_hash")
        .and_then(Value::as_str)
        != Some(body_hash)
    {
        return Err(Refused::new(
            StatusCode::CONFLICT,
            "idempotency key conflict: request body mismatch",
        ));
    }
    let mut call = call;
    if call.mode == CallMode::Sync
        && call.status == CallStatus::Running
        && call
            .started_at
            .is_some_and(|at| Utc::now() - at > SYNC_RESERVATION_TTL)
    {
        let response = json!({
            "call_id": call.id,
            "status": "failed",
            "error": "sync idempotency reservation expired",
        });
        state
            .store
            .webhooks()
            .update_call(
                call.id,
                CallUpdate {
                    status: CallStatus::Failed,
                    response: Some(response.clone()),
                    last_error: Some("sync idempotency reservation expired".to_owned()),
                    next_attempt_at: None,
                    attempted: false,
                },
            )
            .await
            .map_err(internal)?;
        call.response = Some(response);
    }
    Ok(match call.response {
        Some(response) if call.mode == CallMode::Sync || call.status.is_terminal() => {
            replayed(response)
        }
        _ => (
            StatusCode::ACCEPTED,
            Json(json!({ "status": call.status.as_str(), "call_id": call.id })),
        )
            .into_response(),
    })
}

fn replayed(response: Value) -> Response {
    let mut response = (StatusCode::OK, Json(response)).into_response();
    response
        .headers_mut()
        .insert("x-idempotency-replayed", HeaderValue::from_static("true"));
    response
}

/// How recording a call went.
pub enum Recorded {
    /// The call is new; here is its record.
    New(WebhookCall),
    /// Another call with the same key got in first: what this one is told.
    Earlier(Response),
}

/// Records `call`; when its key was taken meanwhile, answers as a repeat of that call.
pub async fn record(
    state: &AppState,
    webhook: &Webhook,
    call: NewWebhookCall,
    body_hash: &str,
) -> Result<Recorded, Refused> {
    let key = call.idempotency_key.clone();
    match state.store.webhooks().record_call(call).await {
        Ok(call) => Ok(Recorded::New(call)),
        Err(StoreError::Conflict(what)) => {
            let key = key.ok_or_else(|| internal(StoreError::Conflict(what.clone())))?;
            earlier_answer(state, webhook, &key, body_hash)
                .await?
                .map(Recorded::Earlier)
                .ok_or_else(|| internal(StoreError::Conflict(what)))
        }
        Err(error) => Err(internal(error)),
    }
}

/// A store failure behind a webhook call: logged, answered with a bare 500.
pub fn internal(error: StoreError) -> Refused {
    tracing::error!(error = %error, "a webhook call's record failed");
    Refused::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
}
