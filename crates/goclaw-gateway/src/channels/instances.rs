//! Channel instances stored in the database, as GoClaw serves them: `/v1/channels/instances`
//! (reads for every role, writes for admins) and the `channels.instances.*` methods share
//! what is here. An instance's credentials are encrypted with the secret box (without an
//! encryption key none are accepted) and shown only as `"***"` per key; credential keys sent
//! inside `config` are moved to the credentials, so a token never comes back. A change tells
//! the channels to reload, which starts, restarts or stops the instance.
//!
//! Everything is the caller's tenant's: another tenant's instance is not found. A channel's
//! name is how sessions, pairings and queues know it, so it never changes, and a name another
//! tenant's enabled instance uses is refused.

use std::collections::{BTreeMap, HashMap};

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use goclaw_core::channel_instances::{
    CHANNEL_TYPES, ChannelInstance, ChannelInstancePatch, ChannelInstanceQuery, NewChannelInstance,
    is_default_instance,
};
use goclaw_core::{Agent, StoreError, TenantId};
use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use crate::http::{ApiError, ApiJson, ApiPath, Caller, ErrorResponse};
use crate::routes::AppState;

/// Keys that are credentials wherever they are sent.
const CREDENTIAL_KEYS: &[&str] = &[
    "token",
    "bot_token",
    "app_token",
    "user_token",
    "webhook_secret",
    "app_secret",
    "encrypt_key",
    "verification_token",
    "api_key",
];
/// The longest name and display name.
const MAX_NAME_CHARS: usize = 64;
const MAX_DISPLAY_NAME_CHARS: usize = 200;
/// GoClaw's page size, and its largest.
const DEFAULT_LIMIT: u32 = 50;
const MAX_LIMIT: u32 = 200;
/// The farthest a listing may skip.
const MAX_OFFSET: u32 = 1_000_000;

/// The fields of a new instance (HTTP body and `channels.instances.create` params).
#[derive(Debug, Default, Deserialize)]
pub struct CreateRequest {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub display_name: Option<String>,
    #[serde(default)]
    pub channel_type: Option<String>,
    #[serde(default)]
    pub agent_id: Option<String>,
    #[serde(default)]
    pub credentials: Option<Value>,
    #[serde(default)]
    pub config: Option<Value>,
    #[serde(default)]
    pub enabled: Option<bool>,
}

/// An instance as the API shows it: credentials only as their keys with `"***"`. Reads add
/// its `status`.
pub fn instance_json(instance: &ChannelInstance) -> Value {
    let credentials: Map<String, Value> = instance
        .credential_keys
        .iter()
        .map(|key| (key.clone(), json!("***")))
        .collect();
    json!({
        "id": instance.id,
        "name": instance.name,
        "display_name": instance.display_name,
        "channel_type": instance.channel_type,
        "agent_id": instance.agent_id,
        "config": instance.config,
        "enabled": instance.enabled,
        "is_default": is_default_instance(&instance.name),
        "has_credentials": !instance.credential_keys.is_empty(),
        "credentials": credentials,
        "created_by": instance.created_by,
        "created_at": instance.created_at,
        "updated_at": instance.updated_at,
    })
}

/// [`instance_json`] with `status`: what the instance is doing (`running`, `starting`,
/// `failing`, `stopped`, `disabled`).
fn shown(state: &AppState, instance: &ChannelInstance) -> Value {
    let mut body = instance_json(instance);
    let status = if instance.enabled {
        state
            .channels
            .as_ref()
            .and_then(|channels| {
                channels
                    .runs()
                    .into_iter()
                    .find(|run| run.name == instance.name && run.tenant_id == instance.tenant_id)
            })
            .map(|run| run.state)
            .unwrap_or_else(|| "stopped".to_owned())
    } else {
        "disabled".to_owned()
    };
    body["status"] = json!(status);
    body
}

fn not_found() -> ApiError {
    ApiError::not_found("channel instance not found")
}

fn store_error(error: StoreError) -> ApiError {
    match error {
        StoreError::NotFound(_) => not_found(),
        StoreError::Conflict(_) => ApiError::new(
            StatusCode::CONFLICT,
            "a channel instance with this name already exists",
        ),
        other => other.into(),
    }
}

pub fn parse_id(raw: &str) -> Result<Uuid, ApiError> {
    Uuid::try_parse(raw.trim()).map_err(|_| ApiError::bad_request("invalid instance ID"))
}

/// A name sessions and queues can carry: 1–64 of letters, digits and `._/-`, starting with a
/// letter or digit.
fn check_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    let valid = !name.is_empty()
        && name.chars().count() <= MAX_NAME_CHARS
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '/' | '-'));
    if !valid {
        return Err(ApiError::bad_request(
            "name must be 1 to 64 of letters, digits and ._/- starting with a letter or digit",
        ));
    }
    Ok(name.to_owned())
}

fn check_display_name(raw: &str) -> Result<String, ApiError> {
    let name = raw.trim();
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(ApiError::bad_request(
            "display_name must be 200 characters or less",
        ));
    }
    Ok(name.to_owned())
}

/// The agent `raw` names (its UUID or its key) in `tenant`.
async fn find_agent(state: &AppState, tenant: TenantId, raw: &str) -> Result<Agent, ApiError> {
    let agents = state.store.agents().list(tenant).await?;
    crate::agents::named(&agents, raw)
        .cloned()
        .ok_or_else(|| ApiError::not_found(format!("agent not found: {}", raw.trim())))
}

/// A JSON object (or nothing for `null`); `what` names it in the error.
fn object(value: Option<Value>, what: &str) -> Result<Map<String, Value>, ApiError> {
    match value {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(map)) => Ok(map),
        Some(_) => Err(ApiError::bad_request(format!("{what} must be an object"))),
    }
}

/// `config` without credential keys, and those keys' values to add to the credentials.
fn split_config(mut config: Map<String, Value>) -> (Map<String, Value>, Map<String, Value>) {
    let mut secrets = Map::new();
    for key in CREDENTIAL_KEYS {
        if let Some(value) = config.remove(*key) {
            secrets.insert((*key).to_owned(), value);
        }
    }
    (config, secrets)
}

/// Credentials as stored: the secret box's encryption of their JSON and their keys. Blank
/// values are dropped; values must be strings.
fn seal(
    state: &AppState,
    credentials: &Map<String, Value>,
) -> Result<(Option<String>, Vec<String>), ApiError> {
    let mut kept = BTreeMap::new();
    for (key, value) in credentials {
        match value {
            Value::String(s) if s.trim().is_empty() => {}
            Value::String(s) => {
                kept.insert(key.clone(), s.clone());
            }
            Value::Null => {}
            _ => {
                return Err(ApiError::bad_request(format!(
                    "credential {key} must be a string"
                )));
            }
        }
    }
    if kept.is_empty() {
        return Ok((None, Vec::new()));
    }
    let secrets = state.secrets.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "channel credentials are stored encrypted; set GOCLAW_ENCRYPTION_KEY to add them",
        )
    })?;
    let plain = serde_json::to_string(&kept).map_err(ApiError::internal)?;
    Ok((Some(secrets.encrypt(&plain)), kept.into_keys().collect()))
}

/// The stored credentials of `instance`, opened (empty without any).
fn open(state: &AppState, instance: &ChannelInstance) -> Result<Map<String, Value>, ApiError> {
    let Some(sealed) = &instance.encrypted_credentials else {
        return Ok(Map::new());
    };
    let secrets = state.secrets.as_deref().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the stored credentials need GOCLAW_ENCRYPTION_KEY to be changed",
        )
    })?;
    let plain = secrets.decrypt(sealed).map_err(ApiError::internal)?;
    serde_json::from_str(&plain).map_err(ApiError::internal)
}

/// Refuses a name another tenant's enabled instance runs under.
async fn check_name_free(state: &AppState, tenant: TenantId, name: &str) -> Result<(), ApiError> {
    let taken = state
        .store
        .channel_instances()
        .list_enabled()
        .await?
        .iter()
        .any(|i| i.name == name && i.tenant_id != tenant);
    if taken {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "a channel instance with this name already exists",
        ));
    }
    Ok(())
}

async fn reload(state: &AppState) {
    if let Some(channels) = &state.channels {
        channels.reload().await;
    }
}

/// Stores a new instance of the caller's tenant and starts it (when enabled).
pub async fn create_instance(
    state: &AppState,
    tenant: TenantId,
    created_by: &str,
    request: CreateRequest,
) -> Result<ChannelInstance, ApiError> {
    let name = check_name(request.name.as_deref().unwrap_or_default())?;
    let channel_type = request.channel_type.unwrap_or_default();
    if !CHANNEL_TYPES.contains(&channel_type.trim()) {
        return Err(ApiError::bad_request(format!(
            "invalid channel_type: one of {}",
            CHANNEL_TYPES.join(", ")
        )));
    }
    let agent_raw = request.agent_id.unwrap_or_default();
    if agent_raw.trim().is_empty() {
        return Err(ApiError::bad_request(
            "name, channel_type, and agent_id are required",
        ));
    }
    let agent = find_agent(state, tenant, &agent_raw).await?;
    let display_name = check_display_name(request.display_name.as_deref().unwrap_or_default())?;
    let (config, mut credentials) = split_config(object(request.config, "config")?);
    credentials.extend(object(request.credentials, "credentials")?);
    let (encrypted_credentials, credential_keys) = seal(state, &credentials)?;
    check_name_free(state, tenant, &name).await?;
    let instance = state
        .store
        .channel_instances()
        .create(NewChannelInstance {
            tenant_id: tenant,
            name,
            display_name,
            channel_type: channel_type.trim().to_owned(),
            agent_id: Some(agent.id),
            encrypted_credentials,
            credential_keys,
            config: Value::Object(config),
            enabled: request.enabled.unwrap_or(true),
            created_by: created_by.to_owned(),
        })
        .await
        .map_err(store_error)?;
    tracing::info!(channel = %instance.name, channel_type = %instance.channel_type, "channel instance created");
    reload(state).await;
    Ok(instance)
}

/// Applies GoClaw's allowed fields of `updates` (`display_name`, `agent_id`, `credentials` —
/// merged into the stored ones —, `config`, `enabled`; others are ignored) and restarts the
/// instance.
pub async fn update_instance(
    state: &AppState,
    tenant: TenantId,
    id: Uuid,
    updates: Map<String, Value>,
) -> Result<ChannelInstance, ApiError> {
    let store = state.store.channel_instances();
    let current = store.get(tenant, id).await.map_err(store_error)?;
    let mut patch = ChannelInstancePatch::default();
    let mut new_credentials = Map::new();
    for (key, value) in updates {
        // `null` leaves a field as it is.
        if value.is_null() {
            continue;
        }
        match key.as_str() {
            "display_name" => {
                let raw = value
                    .as_str()
                    .ok_or_else(|| ApiError::bad_request("display_name must be a string"))?;
                patch.display_name = Some(check_display_name(raw)?);
            }
            "agent_id" => {
                let raw = value
                    .as_str()
                    .ok_or_else(|| ApiError::bad_request("agent_id must be a string"))?;
                patch.agent_id = Some(find_agent(state, tenant, raw).await?.id);
            }
            "config" => {
                let (config, secrets) = split_config(object(Some(value), "config")?);
                new_credentials.extend(secrets);
                patch.config = Some(Value::Object(config));
            }
            "credentials" => new_credentials.extend(object(Some(value), "credentials")?),
            "enabled" => {
                patch.enabled = Some(
                    value
                        .as_bool()
                        .ok_or_else(|| ApiError::bad_request("enabled must be a boolean"))?,
                );
            }
            other => {
                tracing::warn!(field = %other, handler = "channels.instances.update", "security.filtered_unknown_field");
            }
        }
    }
    if !new_credentials.is_empty() {
        let mut merged = open(state, &current)?;
        merged.extend(new_credentials);
        patch.credentials = Some(seal(state, &merged)?);
    }
    if patch.enabled == Some(true) && !current.enabled {
        check_name_free(state, tenant, &current.name).await?;
    }
    let updated = if patch.is_empty() {
        current
    } else {
        store.update(tenant, id, patch).await.map_err(store_error)?
    };
    reload(state).await;
    Ok(updated)
}

/// Deletes an instance (not one the configuration's channels became) and stops it.
pub async fn delete_instance(state: &AppState, tenant: TenantId, id: Uuid) -> Result<(), ApiError> {
    let store = state.store.channel_instances();
    let instance = store.get(tenant, id).await.map_err(store_error)?;
    if is_default_instance(&instance.name) {
        return Err(ApiError::forbidden(
            "cannot delete a default channel instance",
        ));
    }
    store.delete(tenant, id).await.map_err(store_error)?;
    tracing::info!(channel = %instance.name, "channel instance deleted");
    reload(state).await;
    Ok(())
}

/// A page of the caller's tenant's instances: `{instances, total, limit, offset}`.
pub async fn list_page(
    state: &AppState,
    tenant: TenantId,
    search: Option<String>,
    limit: u32,
    offset: u32,
) -> Result<Value, ApiError> {
    let query = ChannelInstanceQuery {
        search: search.filter(|s| !s.trim().is_empty()),
        limit,
        offset,
    };
    let (instances, total) = state.store.channel_instances().list(tenant, &query).await?;
    Ok(json!({
        "instances": instances.iter().map(|i| shown(state, i)).collect::<Vec<_>>(),
        "total": total,
        "limit": limit,
        "offset": offset,
    }))
}

/// Lists the caller's tenant's channel instances, by name.
#[utoipa::path(
    get,
    path = "/v1/channels/instances",
    tag = "channels",
    operation_id = "list_channel_instances",
    params(
        ("search" = Option<String>, Query, description = "Only names or display names containing this"),
        ("limit" = Option<u32>, Query, description = "At most this many (1–200; 50 when left out or out of range)"),
        ("offset" = Option<u32>, Query, description = "Skip this many (at most 1000000)", minimum = 0, maximum = 1_000_000),
    ),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "A page of instances", body = super::schemas::InstancePage),
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
) -> Result<Json<Value>, ApiError> {
    // As GoClaw: a limit out of range is the default, not an error.
    let limit = match query.get("limit").map(|raw| raw.trim().parse::<u32>()) {
        None => DEFAULT_LIMIT,
        Some(Ok(n)) if (1..=MAX_LIMIT).contains(&n) => n,
        // Beyond what the documented 32-bit integer holds is not a limit at all.
        Some(Ok(n)) if n <= i32::MAX.unsigned_abs() => DEFAULT_LIMIT,
        Some(_) => return Err(ApiError::bad_request("invalid limit")),
    };
    let offset = match query.get("offset").map(|raw| raw.trim().parse::<u32>()) {
        None => 0,
        Some(Ok(n)) if n <= MAX_OFFSET => n,
        Some(_) => return Err(ApiError::bad_request("invalid offset")),
    };
    let search = query.get("search").cloned();
    Ok(Json(
        list_page(&state, caller.0.tenant_id, search, limit, offset).await?,
    ))
}

/// Stores a channel instance and starts it.
#[utoipa::path(
    post,
    path = "/v1/channels/instances",
    tag = "channels",
    operation_id = "create_channel_instance",
    request_body(content = super::schemas::InstanceCreate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 201, description = "The instance (credentials masked)", body = super::schemas::InstanceView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "The agent is not found", body = ErrorResponse),
        (status = 409, description = "The name is taken", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
        (status = 503, description = "Credentials given without an encryption key", body = ErrorResponse),
    )
)]
pub async fn create(
    State(state): State<AppState>,
    caller: Caller,
    ApiJson(request): ApiJson<CreateRequest>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let instance = create_instance(&state, caller.0.tenant_id, &caller.0.user_id, request).await?;
    Ok((StatusCode::CREATED, Json(instance_json(&instance))))
}

/// Reads one channel instance.
#[utoipa::path(
    get,
    path = "/v1/channels/instances/{id}",
    tag = "channels",
    operation_id = "get_channel_instance",
    params(("id" = uuid::Uuid, Path, description = "The instance")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The instance (credentials masked)", body = super::schemas::InstanceView),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such instance in the caller's tenant", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    let instance = state
        .store
        .channel_instances()
        .get(caller.0.tenant_id, id)
        .await
        .map_err(store_error)?;
    Ok(Json(shown(&state, &instance)))
}

/// Changes a channel instance (GoClaw's allowed fields) and restarts it.
#[utoipa::path(
    put,
    path = "/v1/channels/instances/{id}",
    tag = "channels",
    operation_id = "update_channel_instance",
    params(("id" = uuid::Uuid, Path, description = "The instance")),
    request_body(content = super::schemas::InstanceUpdate, content_type = "application/json"),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Updated", body = super::schemas::StatusAnswer),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such instance or agent in the caller's tenant", body = ErrorResponse),
        (status = 409, description = "Enabling it would run a name another tenant uses", body = ErrorResponse),
        (status = 415, description = "The body is not `application/json`", body = ErrorResponse),
        (status = 422, description = "The body does not have the documented shape", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
        (status = 503, description = "Credentials given without an encryption key", body = ErrorResponse),
    )
)]
pub async fn update(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(updates): ApiJson<Map<String, Value>>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    update_instance(&state, caller.0.tenant_id, id, updates).await?;
    Ok(Json(json!({"status": "updated"})))
}

/// Deletes a channel instance and stops it.
#[utoipa::path(
    delete,
    path = "/v1/channels/instances/{id}",
    tag = "channels",
    operation_id = "delete_channel_instance",
    params(("id" = uuid::Uuid, Path, description = "The instance")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "Deleted", body = super::schemas::StatusAnswer),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "Not allowed, or a default instance", body = ErrorResponse),
        (status = 404, description = "No such instance in the caller's tenant", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn delete(
    State(state): State<AppState>,
    caller: Caller,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<Value>, ApiError> {
    let id = parse_id(&id)?;
    delete_instance(&state, caller.0.tenant_id, id).await?;
    Ok(Json(json!({"status": "deleted"})))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::{check_name, split_config};

    #[test]
    fn names_are_what_sessions_and_queues_can_carry() {
        for good in ["telegram", "slack/default", "support-bot.2", "A_1"] {
            assert_eq!(check_name(good).ok().as_deref(), Some(good), "{good}");
        }
        for bad in ["", " ", "-x", "a:b", "a b", "b\tot", &"x".repeat(65), "é"] {
            assert!(check_name(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn credential_keys_in_config_move_to_the_credentials() {
        let config = json!({"dm_policy": "open", "token": "1:abc", "bot_token": "xoxb"});
        let serde_json::Value::Object(config) = config else {
            unreachable!()
        };
        let (config, secrets) = split_config(config);
        assert_eq!(
            serde_json::Value::Object(config),
            json!({"dm_policy": "open"})
        );
        assert_eq!(
            serde_json::Value::Object(secrets),
            json!({"token": "1:abc", "bot_token": "xoxb"})
        );
    }
}
