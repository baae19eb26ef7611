//! `device.pair.*`: pairing codes for senders the gateway does not know yet, in GoClaw's
//! shapes. An operator (or a key with the pairing scope) asks for a code for a sender; admins
//! list, approve, deny and revoke, and are sent `device.pair.requested` when a new code waits
//! and `device.pair.resolved` when one is answered. Everything is the caller's tenant's: another
//! tenant's code is "not found". Times are epoch milliseconds, lists newest first.

use goclaw_core::pairing::{DEFAULT_PAIRING_ACCOUNT, MAX_PENDING_PER_ACCOUNT, is_valid_sender_id};
use goclaw_core::{NewPairingRequest, PairedDevice, PairingAsked, PairingRequest};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::parse;
use super::sessions::store_error;
use crate::scopes::Event;
use crate::ws::frames::{ErrorCode, ErrorShape};

/// The longest channel name and chat id accepted.
const CHANNEL_MAX_LEN: usize = 64;
const CHAT_ID_MAX_LEN: usize = 255;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RequestParams {
    sender_id: String,
    channel: String,
    #[serde(default)]
    chat_id: String,
    #[serde(default)]
    account_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CodeParams {
    #[serde(default)]
    code: String,
    #[serde(default)]
    approved_by: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RevokeParams {
    #[serde(default)]
    sender_id: String,
    #[serde(default)]
    channel: String,
}

/// `device.pair.request {senderId, channel, chatId?, accountId?}` → `{code}`.
pub async fn request(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: RequestParams = parse(params)?;
    if !is_valid_sender_id(&params.sender_id) {
        return Err(ErrorShape::invalid(
            "senderId must be 1 to 128 of letters, digits and ._:@- starting with a letter or digit",
        ));
    }
    let channel_ok = !params.channel.is_empty()
        && params.channel.len() <= CHANNEL_MAX_LEN
        && params
            .channel
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.'));
    if !channel_ok {
        return Err(ErrorShape::invalid(
            "channel must be 1 to 64 of letters, digits and _-.",
        ));
    }
    if params.chat_id.len() > CHAT_ID_MAX_LEN || params.chat_id.chars().any(char::is_control) {
        return Err(ErrorShape::invalid(
            "chatId must be at most 255 bytes without control characters",
        ));
    }
    let account = if params.account_id.is_empty() {
        DEFAULT_PAIRING_ACCOUNT.to_owned()
    } else if is_valid_sender_id(&params.account_id) {
        params.account_id
    } else {
        return Err(ErrorShape::invalid("accountId has characters it may not"));
    };
    let tenant = ctx.principal.tenant_id;
    let asked = ctx
        .state
        .store
        .pairing()
        .request(NewPairingRequest {
            tenant_id: tenant,
            sender_id: params.sender_id,
            channel: params.channel,
            chat_id: params.chat_id,
            account_id: account,
        })
        .await
        .map_err(|e| store_error(&e))?;
    let code = match asked {
        PairingAsked::Created(created) => {
            let payload = json!({
                "code": created.code,
                "sender_id": created.sender_id,
                "channel": created.channel,
                "chat_id": created.chat_id,
            });
            ctx.state
                .tenant_events
                .publish(tenant, Event::DevicePairRequested, payload);
            created.code
        }
        PairingAsked::Waiting(waiting) => waiting.code,
        PairingAsked::TooManyPending => {
            return Err(ErrorShape::new(
                ErrorCode::ResourceExhausted,
                format!("max pending pairing requests ({MAX_PENDING_PER_ACCOUNT}) exceeded"),
            ));
        }
    };
    Ok(json!({ "code": code }))
}

/// `device.pair.approve {code, approvedBy?}` → `{paired}`.
pub async fn approve(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: CodeParams = parse(params)?;
    let code = required_code(&params.code)?;
    let approved_by = match params.approved_by.as_deref().map(str::trim) {
        Some(by) if !by.is_empty() && by.len() <= 255 && !by.chars().any(char::is_control) => {
            by.to_owned()
        }
        Some(by) if !by.is_empty() => {
            return Err(ErrorShape::invalid(
                "approvedBy must be at most 255 bytes without control characters",
            ));
        }
        _ => approver(ctx),
    };
    let tenant = ctx.principal.tenant_id;
    let paired = ctx
        .state
        .store
        .pairing()
        .approve(tenant, code, &approved_by)
        .await
        .map_err(|e| store_error(&e))?
        .ok_or_else(|| not_found(code))?;
    tracing::info!(channel = %paired.channel, by = %approved_by, "security.pairing_approved");
    if let Some(channels) = ctx.state.channels.as_ref() {
        channels.paired(&paired).await;
    }
    ctx.state.tenant_events.publish(
        tenant,
        Event::DevicePairResolved,
        json!({ "action": "approved" }),
    );
    Ok(json!({ "paired": device_view(&paired) }))
}

/// `device.pair.deny {code}` → `{denied: true}`.
pub async fn deny(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: CodeParams = parse(params)?;
    let code = required_code(&params.code)?;
    let tenant = ctx.principal.tenant_id;
    let denied = ctx
        .state
        .store
        .pairing()
        .deny(tenant, code)
        .await
        .map_err(|e| store_error(&e))?;
    if !denied {
        return Err(not_found(code));
    }
    ctx.state.tenant_events.publish(
        tenant,
        Event::DevicePairResolved,
        json!({ "action": "denied" }),
    );
    Ok(json!({ "denied": true }))
}

/// `device.pair.list` → `{pending: [...], paired: [...]}`.
pub async fn list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let pairing = ctx.state.store.pairing();
    let tenant = ctx.principal.tenant_id;
    let pending = pairing
        .list_pending(tenant)
        .await
        .map_err(|e| store_error(&e))?;
    let paired = pairing
        .list_paired(tenant)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({
        "pending": pending.iter().map(request_view).collect::<Vec<_>>(),
        "paired": paired.iter().map(device_view).collect::<Vec<_>>(),
    }))
}

/// `device.pair.revoke {senderId, channel}` → `{revoked: true}`.
pub async fn revoke(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: RevokeParams = parse(params)?;
    if params.sender_id.is_empty() || params.channel.is_empty() {
        return Err(ErrorShape::invalid("senderId and channel are required"));
    }
    let tenant = ctx.principal.tenant_id;
    let revoked = ctx
        .state
        .store
        .pairing()
        .revoke(tenant, &params.sender_id, &params.channel)
        .await
        .map_err(|e| store_error(&e))?;
    if !revoked {
        return Err(ErrorShape::not_found(format!(
            "paired device not found: {}/{}",
            params.channel, params.sender_id
        )));
    }
    tracing::info!(channel = %params.channel, "security.pairing_revoked");
    if params.channel == super::browser_pairing::BROWSER_CHANNEL {
        let credential =
            crate::ws::clients::Credential::BrowserPairing(tenant, params.sender_id.clone());
        ctx.state.clients.close(&credential);
    }
    ctx.state.tenant_events.publish(
        tenant,
        Event::DevicePairResolved,
        json!({ "action": "revoked" }),
    );
    Ok(json!({ "revoked": true }))
}

fn required_code(code: &str) -> Result<&str, ErrorShape> {
    if code.is_empty() {
        return Err(ErrorShape::invalid("code is required"));
    }
    Ok(code)
}

fn not_found(code: &str) -> ErrorShape {
    // The code is echoed only when it could be one, so nothing odd reaches the answer.
    if goclaw_core::pairing::is_pairing_code(code) {
        ErrorShape::not_found(format!("pairing code {code} not found or expired"))
    } else {
        ErrorShape::not_found("pairing code not found or expired")
    }
}

/// Who approves when the request does not say: the caller's user, else `operator`.
fn approver(ctx: &Ctx<'_>) -> String {
    if ctx.principal.user_id.is_empty() {
        "operator".to_owned()
    } else {
        ctx.principal.user_id.clone()
    }
}

fn request_view(request: &PairingRequest) -> Value {
    json!({
        "code": request.code,
        "sender_id": request.sender_id,
        "channel": request.channel,
        "chat_id": request.chat_id,
        "account_id": request.account_id,
        "created_at": request.created_at.timestamp_millis(),
        "expires_at": request.expires_at.timestamp_millis(),
    })
}

fn device_view(device: &PairedDevice) -> Value {
    json!({
        "sender_id": device.sender_id,
        "channel": device.channel,
        "chat_id": device.chat_id,
        "paired_at": device.paired_at.timestamp_millis(),
        "paired_by": device.paired_by,
    })
}
