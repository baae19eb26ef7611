//! The admin routes of webhooks (`/v1/webhooks…`, admin role): register one (201, its secret
//! shown once), list (a bare array, newest first, revoked ones too), read, change, rotate its
//! secret (the old one stops working at once), revoke (`DELETE`), and read its calls. An admin
//! sees their own tenant's webhooks; another tenant's are not found.
//!
//! Bodies are GoClaw's: `hmac_signing_key` in the create and rotate answers is the secret
//! itself (the HMAC key), and absent optional fields are left out rather than `null`.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use goclaw_core::{
    Agent, AgentId, NewWebhook, TenantId, Webhook, WebhookCall, WebhookKind, WebhookPatch,
    WebhookSecret,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::{net, secret};
use crate::auth::Role;
use crate::http::{ApiError, ApiJson, ApiPath, Caller, ErrorResponse};
use crate::routes::AppState;

/// The longest name.
const MAX_NAME_CHARS: usize = 100;
/// Calls a minute a webhook gets when it is registered without a limit.
const DEFAULT_CALLS_PER_MIN: i64 = 60;
/// The highest per-webhook limit.
const MAX_CALLS_PER_MIN: i64 = 100_000;
/// Calls one page of the call listing holds at most.
const MAX_CALLS_LISTED: u32 = 200;
/// The farthest a call listing may skip.
const MAX_CALLS_OFFSET: u32 = 1_000_000;
/// Entries an IP allowlist may have.
const MAX_ALLOWLIST: usize = 256;

/// The body of `POST /v1/webhooks`.
#[derive(Debug, Deserialize)]
pub struct CreateRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    agent_id: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default)]
    channel_id: Option<String>,
    #[serde(default)]
    rate_limit_per_min: Option<i64>,
    #[serde(default)]
    ip_allowlist: Option<Vec<String>>,
    #[serde(default)]
    require_hmac: Option<bool>,
    #[serde(default)]
    localhost_only: Option<bool>,
}

/// The body of `PATCH /v1/webhooks/{id}`; `channel_id: null` clears the channel.
#[derive(Debug, Deserialize)]
pub struct UpdateRequest {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    scopes: Option<Vec<String>>,
    #[serde(default, deserialize_with = "present")]
    channel_id: Option<Option<String>>,
    #[serde(default)]
    rate_limit_per_min: Option<i64>,
    #[serde(default)]
    ip_allowlist: Option<Vec<String>>,
    #[serde(default)]
    require_hmac: Option<bool>,
    #[serde(default)]
    localhost_only: Option<bool>,
}

/// Tells a field given as `null` (`Some(None)`) from one left out (`None`).
fn present<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A query parameter read as `T`, when given; 400 when it does not parse.
fn query_param<T: std::str::FromStr>(
    query: &HashMap<String, String>,
    name: &str,
    what: &str,
) -> Result<Option<T>, ApiError> {
    query
        .get(name)
        .map(|raw| {
            raw.trim()
                .parse::<T>()
                .map_err(|_| ApiError::bad_request(format!("invalid {what}")))
        })
        .transpose()
}

/// The tenant a caller manages: its own, or every tenant for the owner.
fn scope(caller: &Caller) -> Option<TenantId> {
    (caller.0.role != Role::Owner).then_some(caller.0.tenant_id)
}

fn require_encryption(state: &AppState) -> Result<&goclaw_crypto::SecretBox, ApiError> {
    state.secrets.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "webhook encryption key not configured; set GOCLAW_ENCRYPTION_KEY to enable webhooks",
        )
    })
}

fn parse_id(raw: &str, what: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(raw.trim()).map_err(|_| ApiError::bad_request(format!("invalid {what} ID")))
}

fn not_found(id: &str) -> ApiError {
    ApiError::not_found(format!("webhook not found: {id}"))
}

fn store_error(error: goclaw_core::StoreError, id: &str) -> ApiError {
    match error {
        goclaw_core::StoreError::NotFound(_) => not_found(id),
        other => other.into(),
    }
}

fn check_name(name: &str) -> Result<String, ApiError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(ApiError::bad_request("name is required"));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(ApiError::bad_request(
            "invalid request: name must be 100 characters or less",
        ));
    }
    Ok(name.to_owned())
}

fn check_rate(rate: i64) -> Result<i64, ApiError> {
    if !(0..=MAX_CALLS_PER_MIN).contains(&rate) {
        return Err(ApiError::bad_request(format!(
            "invalid request: rate_limit_per_min must be between 0 (unlimited) and {MAX_CALLS_PER_MIN}"
        )));
    }
    Ok(rate)
}

fn check_allowlist(list: Vec<String>) -> Result<Vec<String>, ApiError> {
    if list.len() > MAX_ALLOWLIST {
        return Err(ApiError::bad_request(format!(
            "invalid request: ip_allowlist may have at most {MAX_ALLOWLIST} entries"
        )));
    }
    let list: Vec<String> = list.into_iter().map(|e| e.trim().to_owned()).collect();
    // As GoClaw: an entry that is not an address or block is kept but never matches (a list of
    // only such entries lets nobody in).
    for bad in list.iter().filter(|e| !net::is_valid_entry(e)) {
        tracing::warn!(entry = %bad, "security.webhook.ip_allowlist_invalid_entry");
    }
    Ok(list)
}

fn check_scopes(scopes: Vec<String>) -> Result<Vec<String>, ApiError> {
    if scopes.len() > 32 {
        return Err(ApiError::bad_request(
            "invalid request: scopes may have at most 32 names",
        ));
    }
    Ok(scopes)
}

/// A channel id: a hyphenated UUID, or empty for none.
fn parse_channel(raw: &str) -> Result<Option<Uuid>, ApiError> {
    if raw.is_empty() {
        return Ok(None);
    }
    match Uuid::try_parse(raw) {
        Ok(id) if raw.len() == 36 => Ok(Some(id)),
        _ => Err(ApiError::bad_request("invalid channel_id ID")),
    }
}

/// The agent `raw` names (its UUID or its key) in `tenant`.
async fn find_agent(state: &AppState, tenant: TenantId, raw: &str) -> Result<Agent, ApiError> {
    let agents = state.store.agents().list(tenant).await?;
    crate::agents::named(&agents, raw)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("agent not found: {}", raw.trim())))
}

/// A webhook as the API shows it (never its secret or the secret's hash).
pub fn webhook_json(webhook: &Webhook) -> Value {
    let mut body = Map::new();
    body.insert("id".into(), json!(webhook.id));
    body.insert("tenant_id".into(), json!(webhook.tenant_id));
    if let Some(agent) = webhook.agent_id {
        body.insert("agent_id".into(), json!(agent));
    }
    body.insert("name".into(), json!(webhook.name));
    body.insert("kind".into(), json!(webhook.kind.as_str()));
    body.insert("secret_prefix".into(), json!(webhook.secret_prefix));
    body.insert("scopes".into(), json!(webhook.scopes));
    if let Some(channel) = webhook.channel_id {
        body.insert("channel_id".into(), json!(channel));
    }
    body.insert(
        "rate_limit_per_min".into(),
        json!(webhook.rate_limit_per_min),
    );
    body.insert("ip_allowlist".into(), json!(webhook.ip_allowlist));
    body.insert("require_hmac".into(), json!(webhook.require_hmac));
    body.insert("localhost_only".into(), json!(webhook.localhost_only));
    body.insert("revoked".into(), json!(webhook.revoked));
    body.insert("created_by".into(), json!(webhook.created_by));
    body.insert("created_at".into(), json!(webhook.created_at));
    body.insert("updated_at".into(), json!(webhook.updated_at));
    if let Some(used) = webhook.last_used_at {
        body.insert("last_used_at".into(), json!(used));
    }
    Value::Object(body)
}

/// A new secret: what is stored, and the secret to show once.
fn new_secret(secrets: &goclaw_crypto::SecretBox) -> (WebhookSecret, zeroize::Zeroizing<String>) {
    let raw = secret::new_secret();
    let stored = WebhookSecret {
        secret_prefix: secret::shown_prefix(&raw),
        secret_hash: secret::secret_hash(&raw),
        encrypted_secret: secrets.encrypt(&raw),
    };
    (stored, raw)
}

/// Lists the webhooks of the caller's tenant, newest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks",
    tag = "webhooks",
    operation_id = "list_webhooks",
    params(("agent_id" = Option<uuid::Uuid>, Query, description = "Only this agent's webhooks")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhooks, newest first (revoked ones too)", body = Vec<super::schemas::WebhookView>),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let agent = query_param::<Uuid>(&query, "agent_id", "agent_id ID")?.map(AgentId::from_uuid);
    let webhooks = state.store.webhooks().list(scope(&caller), agent).await?;
    Ok(Json(webhooks.iter().map(webhook_json).collect()))
}

/// Registers a webhook; the answer is the only time its secret is shown.
#[utoipa::path(
    post,
    path = "/v1/webhooks",
    tag = "webhooks",
    operation_id = "create_webhook",
    request_body(content = super::schemas::WebhookCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The webhook and its secret, shown once", body = super::schemas::CreatedWebhook),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "The agent is not found", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let secrets = require_encryption(&state)?;
    let tenant = caller.0.tenant_id;
    let name = check_name(request.name.as_deref().unwrap_or_default())?;
    let kind = WebhookKind::parse(request.kind.as_deref().unwrap_or_default())
        .ok_or_else(|| ApiError::bad_request("invalid request: kind must be 'llm' or 'message'"))?;
    let agent = match request.agent_id.as_deref().filter(|a| !a.trim().is_empty()) {
        Some(raw) => Some(find_agent(&state, tenant, raw).await?),
        // An `llm` webhook without an agent runs the tenant's default one.
        None if kind == WebhookKind::Llm => Some(
            state
                .store
                .agents()
                .get_default(tenant)
                .await?
                .ok_or_else(|| ApiError::not_found("the tenant has no default agent"))?,
        ),
        None => None,
    };
    let channel_id = match request.channel_id.as_deref() {
        Some(raw) => parse_channel(raw)?,
        None => None,
    };
    let (stored, raw) = new_secret(secrets);
    let webhook = state
        .store
        .webhooks()
        .create(NewWebhook {
            tenant_id: tenant,
            agent_id: agent.map(|a| a.id),
            name,
            kind,
            secret_prefix: stored.secret_prefix,
            secret_hash: stored.secret_hash,
            encrypted_secret: stored.encrypted_secret,
            scopes: check_scopes(request.scopes.unwrap_or_default())?,
            channel_id,
            rate_limit_per_min: check_rate(
                request.rate_limit_per_min.unwrap_or(DEFAULT_CALLS_PER_MIN),
            )?,
            ip_allowlist: check_allowlist(request.ip_allowlist.unwrap_or_default())?,
            require_hmac: request.require_hmac.unwrap_or(false),
            localhost_only: request.localhost_only.unwrap_or(false),
            created_by: caller.0.user_id.clone(),
        })
        .await?;
    tracing::info!(webhook = %webhook.id, tenant = %tenant, kind = kind.as_str(), "webhook.created");
    let mut body = webhook_json(&webhook);
    body["secret"] = json!(raw.as_str());
    body["hmac_signing_key"] = json!(raw.as_str());
    Ok((StatusCode::CREATED, Json(body)))
}

/// One webhook.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}",
    tag = "webhooks",
    operation_id = "get_webhook",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The webhook", body = super::schemas::WebhookView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&raw, "webhook")?;
    let webhook = state
        .store
        .webhooks()
        .get(scope(&caller), id)
        .await
        .map_err(|e| store_error(e, &raw))?;
    Ok(Json(webhook_json(&webhook)))
}

/// Changes a webhook (not its kind or agent).
#[utoipa::path(
    patch,
    path = "/v1/webhooks/{id}",
    tag = "webhooks",
    operation_id = "update_webhook",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    request_body(content = super::schemas::WebhookUpdate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The changed webhook", body = super::schemas::WebhookView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    ApiJson(request): ApiJson<UpdateRequest>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&raw, "webhook")?;
    let patch = WebhookPatch {
        name: request.name.as_deref().map(check_name).transpose()?,
        scopes: request.scopes.map(check_scopes).transpose()?,
        channel_id: match request.channel_id {
            Some(Some(raw)) => Some(parse_channel(&raw)?),
            Some(None) => Some(None),
            None => None,
        },
        rate_limit_per_min: request.rate_limit_per_min.map(check_rate).transpose()?,
        ip_allowlist: request.ip_allowlist.map(check_allowlist).transpose()?,
        require_hmac: request.require_hmac,
        localhost_only: request.localhost_only,
    };
    let store = state.store.webhooks();
    let webhook = if patch.is_empty() {
        store.get(scope(&caller), id).await
    } else {
        store.update(scope(&caller), id, patch).await
    }
    .map_err(|e| store_error(e, &raw))?;
    tracing::info!(webhook = %webhook.id, "webhook.updated");
    Ok(Json(webhook_json(&webhook)))
}

/// Gives a webhook a new secret; the old one stops working at once.
#[utoipa::path(
    post,
    path = "/v1/webhooks/{id}/rotate",
    tag = "webhooks",
    operation_id = "rotate_webhook",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The new secret, shown once", body = super::schemas::RotatedWebhook),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn rotate(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let secrets = require_encryption(&state)?;
    let id = parse_id(&raw, "webhook")?;
    let (stored, secret) = new_secret(secrets);
    let webhook = state
        .store
        .webhooks()
        .rotate(scope(&caller), id, stored)
        .await
        .map_err(|e| store_error(e, &raw))?;
    tracing::info!(webhook = %webhook.id, "webhook.rotated");
    Ok(Json(json!({
        "id": webhook.id,
        "secret": secret.as_str(),
        "hmac_signing_key": secret.as_str(),
        "secret_prefix": webhook.secret_prefix,
    })))
}

/// Revokes a webhook: its secret stops working; the record stays.
#[utoipa::path(
    delete,
    path = "/v1/webhooks/{id}",
    tag = "webhooks",
    operation_id = "delete_webhook",
    params(("id" = uuid::Uuid, Path, description = "Webhook id")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Revoked", body = super::schemas::RevokedWebhook),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&raw, "webhook")?;
    state
        .store
        .webhooks()
        .revoke(scope(&caller), id)
        .await
        .map_err(|e| store_error(e, &raw))?;
    tracing::info!(webhook = %id, "webhook.revoked");
    Ok(Json(json!({ "status": "revoked" })))
}

fn time(value: Option<chrono::DateTime<chrono::Utc>>) -> Option<Value> {
    value.map(|t| json!(t))
}

/// A call as listings show it; `response` is the stored answer as a JSON string.
fn call_json(call: &WebhookCall, full: bool) -> Value {
    let mut body = Map::new();
    body.insert("id".into(), json!(call.id));
    if full {
        body.insert("webhook_id".into(), json!(call.webhook_id));
        if let Some(agent) = call.agent_id {
            body.insert("agent_id".into(), json!(agent));
        }
    }
    body.insert("delivery_id".into(), json!(call.delivery_id));
    if full && let Some(key) = &call.idempotency_key {
        body.insert("idempotency_key".into(), json!(key));
    }
    body.insert("mode".into(), json!(call.mode.as_str()));
    body.insert("status".into(), json!(call.status.as_str()));
    if full && let Some(url) = &call.callback_url {
        body.insert("callback_url".into(), json!(url));
    }
    body.insert("attempts".into(), json!(call.attempts));
    for (name, value) in [
        ("next_attempt_at", time(call.next_attempt_at)),
        ("started_at", time(call.started_at)),
        ("completed_at", time(call.completed_at)),
    ] {
        if let Some(value) = value {
            body.insert(name.into(), value);
        }
    }
    body.insert("created_at".into(), json!(call.created_at));
    if let Some(error) = &call.last_error {
        body.insert("last_error".into(), json!(error));
    }
    if full {
        body.insert(
            "request_payload".into(),
            json!(call.request_payload.to_string()),
        );
    }
    if let Some(response) = &call.response {
        body.insert("response".into(), json!(response.to_string()));
    }
    Value::Object(body)
}

/// The calls of a webhook, newest first.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/calls",
    tag = "webhooks",
    operation_id = "list_webhook_calls",
    params(
        ("id" = uuid::Uuid, Path, description = "Webhook id"),
        ("limit" = Option<u32>, Query, description = "At most this many (default 50, at most 200)", minimum = 0, maximum = 200),
        ("offset" = Option<u32>, Query, description = "Skip this many (at most 1000000)", minimum = 0, maximum = 1_000_000),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The calls, newest first", body = Vec<super::schemas::CallView>),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list_calls(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(raw): ApiPath<String>,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<Vec<Value>>, ApiError> {
    let limit = query_param::<u32>(&query, "limit", "limit")?.unwrap_or(50);
    let offset = query_param::<u32>(&query, "offset", "offset")?.unwrap_or(0);
    if limit > MAX_CALLS_LISTED || offset > MAX_CALLS_OFFSET {
        return Err(ApiError::bad_request(format!(
            "invalid request: limit is at most {MAX_CALLS_LISTED}, offset at most {MAX_CALLS_OFFSET}"
        )));
    }
    let id = parse_id(&raw, "webhook")?;
    let store = state.store.webhooks();
    store
        .get(scope(&caller), id)
        .await
        .map_err(|e| store_error(e, &raw))?;
    let calls = store.list_calls(id, limit, offset).await?;
    Ok(Json(calls.iter().map(|c| call_json(c, false)).collect()))
}

/// One call of a webhook.
#[utoipa::path(
    get,
    path = "/v1/webhooks/{id}/calls/{callId}",
    tag = "webhooks",
    operation_id = "get_webhook_call",
    params(
        ("id" = uuid::Uuid, Path, description = "Webhook id"),
        ("callId" = uuid::Uuid, Path, description = "Call id"),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The call", body = super::schemas::CallDetail),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "Not found", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn get_call(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath((raw, raw_call)): ApiPath<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&raw, "webhook")?;
    let call_id = parse_id(&raw_call, "call")?;
    let call = match state
        .store
        .webhooks()
        .get_call(scope(&caller), call_id)
        .await
    {
        Ok(call) if call.webhook_id == id => call,
        Ok(_) | Err(goclaw_core::StoreError::NotFound(_)) => {
            return Err(ApiError::not_found(format!(
                "webhook call not found: {raw_call}"
            )));
        }
        Err(error) => return Err(error.into()),
    };
    Ok(Json(call_json(&call, true)))
}
