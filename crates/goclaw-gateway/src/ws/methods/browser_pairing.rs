//! Browser pairing, as GoClaw's dashboard uses it: a browser that `connect`s without a token
//! (where one is required) gets a pairing code instead of a refusal —
//! `{status: "pending_pairing", pairing_code, sender_id}` — and stays signed out; it may then
//! only ask `browser.pairing.status` about its own sender id until an admin approves the code
//! (`device.pair.approve`). Connecting again with that `sender_id` signs it in as an operator of
//! the master tenant for as long as the pairing lives (30 days), and so does an HTTP request
//! carrying it as `X-GoClaw-Sender-Id`; `device.pair.revoke` of the `browser` channel closes
//! its connections at once. The sender id is a random UUID (it becomes the browser's
//! credential), and a waiting browser's status questions share the gateway's rate limit
//! (`gateway.rate_limit_rpm`) per address.

use goclaw_core::pairing::{DEFAULT_PAIRING_ACCOUNT, is_valid_sender_id};
use goclaw_core::{MASTER_TENANT_ID, NewPairingRequest, PairingAsked};
use serde::Deserialize;
use serde_json::{Value, json};

use super::params::parse;
use super::sessions::store_error;
use super::{Connection, Ctx};
use crate::auth::{Principal, Role};
use crate::ratelimit::RateDecision;
use crate::ws::frames::{ErrorCode, ErrorShape};

/// The channel browser pairings are stored under.
pub const BROWSER_CHANNEL: &str = "browser";

#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusParams {
    sender_id: String,
}

/// The operator a paired browser signs in as, if `sender_id` is paired.
pub async fn paired_operator(
    conn: &Connection,
    sender_id: &str,
    user_id: &str,
) -> Result<Option<Principal>, ErrorShape> {
    operator_of(&conn.state, sender_id, user_id)
        .await
        .map_err(|e| store_error(&e))
}

/// The operator a paired browser acts as (WebSocket `connect` or HTTP `X-GoClaw-Sender-Id`),
/// if `sender_id` is a live pairing of the browser channel.
pub async fn operator_of(
    state: &crate::routes::AppState,
    sender_id: &str,
    user_id: &str,
) -> Result<Option<Principal>, goclaw_core::StoreError> {
    if !is_valid_sender_id(sender_id) {
        return Ok(None);
    }
    let paired = state
        .store
        .pairing()
        .paired(MASTER_TENANT_ID, sender_id, BROWSER_CHANNEL)
        .await?;
    Ok(paired.map(|_| Principal {
        role: Role::Operator,
        user_id: if user_id.is_empty() {
            sender_id.to_owned()
        } else {
            user_id.to_owned()
        },
        tenant_id: MASTER_TENANT_ID,
        scopes: None,
    }))
}

/// Asks for a pairing code for this browser: its earlier sender id when that one's code still
/// waits, else the connection's id. The answer `connect` gives.
pub async fn request(conn: &mut Connection, sender_id: &str) -> Result<Value, ErrorShape> {
    let pairing = conn.state.store.pairing();
    let waiting = if is_valid_sender_id(sender_id) {
        pairing
            .pending_for(MASTER_TENANT_ID, sender_id, BROWSER_CHANNEL)
            .await
            .map_err(|e| store_error(&e))?
    } else {
        None
    };
    let code = match waiting {
        Some(request) => request,
        None => {
            let asked = pairing
                .request(NewPairingRequest {
                    tenant_id: MASTER_TENANT_ID,
                    sender_id: uuid::Uuid::new_v4().to_string(),
                    channel: BROWSER_CHANNEL.to_owned(),
                    chat_id: String::new(),
                    account_id: DEFAULT_PAIRING_ACCOUNT.to_owned(),
                })
                .await
                .map_err(|e| store_error(&e))?;
            match asked {
                PairingAsked::Created(request) => {
                    tracing::info!(remote = %conn.remote, sender_id = %request.sender_id, "browser pairing requested");
                    conn.state.tenant_events.publish(
                        MASTER_TENANT_ID,
                        crate::scopes::Event::DevicePairRequested,
                        json!({
                            "code": request.code,
                            "sender_id": request.sender_id,
                            "channel": BROWSER_CHANNEL,
                            "chat_id": "",
                        }),
                    );
                    request
                }
                PairingAsked::Waiting(request) => request,
                PairingAsked::TooManyPending => {
                    tracing::warn!(remote = %conn.remote, "security.ws_connect_rejected");
                    return Err(ErrorShape::new(
                        ErrorCode::ResourceExhausted,
                        "too many pairing requests are waiting; ask an admin to approve or deny them",
                    ));
                }
            }
        }
    };
    conn.pending_sender = Some(code.sender_id.clone());
    Ok(json!({
        "protocol": goclaw_core::PROTOCOL_VERSION,
        "status": "pending_pairing",
        "pairing_code": code.code,
        "sender_id": code.sender_id,
        "server": { "name": "goclaw", "version": conn.state.version },
    }))
}

/// `browser.pairing.status {sender_id}` from a browser waiting for approval: only its own.
pub async fn status_while_pending(conn: &Connection, params: Value) -> Result<Value, ErrorShape> {
    let key = format!("pairing:{}", conn.remote.ip());
    if let RateDecision::Limited { .. } = conn.state.rate_limiter.check(&key) {
        tracing::warn!(remote = %conn.remote, "security.rate_limited");
        return Err(ErrorShape::new(
            ErrorCode::ResourceExhausted,
            "rate limited",
        ));
    }
    let params: StatusParams = parse(params)?;
    if conn.pending_sender.as_deref() != Some(params.sender_id.as_str()) {
        tracing::warn!(remote = %conn.remote, "security.permission_denied");
        return Err(ErrorShape::unauthorized(
            "permission denied: only this browser's own pairing",
        ));
    }
    status_of(&conn.state, &params.sender_id).await
}

/// `browser.pairing.status {sender_id}` from a signed-in caller (pairing scope).
pub async fn status(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: StatusParams = parse(params)?;
    if ctx.principal.tenant_id != MASTER_TENANT_ID {
        return Ok(json!({ "status": "expired" }));
    }
    status_of(ctx.state, &params.sender_id).await
}

/// `approved`, `pending`, or `expired` (no live code or pairing).
async fn status_of(state: &crate::routes::AppState, sender_id: &str) -> Result<Value, ErrorShape> {
    if !is_valid_sender_id(sender_id) {
        return Err(ErrorShape::invalid("sender_id is required"));
    }
    let pairing = state.store.pairing();
    let status = if pairing
        .paired(MASTER_TENANT_ID, sender_id, BROWSER_CHANNEL)
        .await
        .map_err(|e| store_error(&e))?
        .is_some()
    {
        "approved"
    } else if pairing
        .pending_for(MASTER_TENANT_ID, sender_id, BROWSER_CHANNEL)
        .await
        .map_err(|e| store_error(&e))?
        .is_some()
    {
        "pending"
    } else {
        "expired"
    };
    Ok(json!({ "status": status }))
}
