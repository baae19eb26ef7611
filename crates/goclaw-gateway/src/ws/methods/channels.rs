//! `channels.*`: the caller's tenant's channels — `channels.list` (names), `channels.status`
//! (`{channels: {name: {enabled, running, type, state, reason?}}}`), `channels.toggle` (stop a
//! channel or start it again) — and `channels.instances.*`, the stored instances, in GoClaw's
//! shapes (`{instances}`, the masked instance, `{status: "updated"|"deleted"}`).

use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Ctx;
use super::params::parse;
use crate::channels::instances::{self, CreateRequest, instance_json};
use crate::channels::{ChannelRun, Toggle};
use crate::http::ApiError;
use crate::ws::frames::{ErrorCode, ErrorShape};

/// Instances `channels.instances.list` answers at most (GoClaw lists them all).
const LIST_ALL: u32 = 10_000;

#[derive(Deserialize)]
struct ToggleParams {
    #[serde(default)]
    channel: String,
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
struct IdParams {
    #[serde(default)]
    id: String,
}

#[derive(Deserialize)]
struct UpdateParams {
    #[serde(default)]
    id: String,
    #[serde(default)]
    updates: Option<Value>,
}

/// An HTTP-side refusal as a protocol error.
fn refusal(error: ApiError) -> ErrorShape {
    let code = match error.status {
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => ErrorCode::InvalidRequest,
        StatusCode::NOT_FOUND => ErrorCode::NotFound,
        StatusCode::CONFLICT => ErrorCode::AlreadyExists,
        StatusCode::FORBIDDEN | StatusCode::UNAUTHORIZED => ErrorCode::Unauthorized,
        StatusCode::SERVICE_UNAVAILABLE => ErrorCode::Unavailable,
        _ => ErrorCode::Internal,
    };
    ErrorShape::new(code, error.message)
}

/// The channels of the caller's tenant.
fn own_runs(ctx: &Ctx<'_>) -> Vec<ChannelRun> {
    ctx.state
        .channels
        .as_ref()
        .map(|channels| channels.runs())
        .unwrap_or_default()
        .into_iter()
        .filter(|run| run.tenant_id == ctx.principal.tenant_id)
        .collect()
}

/// `channels.list` → `{channels: [name]}`.
pub async fn list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let names: Vec<String> = own_runs(ctx).into_iter().map(|run| run.name).collect();
    Ok(json!({ "channels": names }))
}

/// `channels.status` → `{channels: {name: {enabled, running, type, state, reason?}}}`.
pub async fn status(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let channels: Map<String, Value> = own_runs(ctx)
        .into_iter()
        .map(|run| {
            let mut entry = json!({
                "enabled": run.state != "stopped",
                "running": run.running,
                "type": run.kind,
                "state": run.state,
            });
            if let Some(reason) = run.reason {
                entry["reason"] = json!(reason);
            }
            (run.name, entry)
        })
        .collect();
    Ok(json!({ "channels": channels }))
}

/// `channels.toggle {channel, enabled}` → `{channel, enabled, status}`.
pub async fn toggle(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ToggleParams = parse(params)?;
    if params.channel.trim().is_empty() {
        return Err(ErrorShape::invalid("channel is required"));
    }
    let Some(channels) = &ctx.state.channels else {
        return Err(ErrorShape::not_found("channel not found"));
    };
    let status = match channels
        .toggle(ctx.principal.tenant_id, &params.channel, params.enabled)
        .await
    {
        Toggle::NotFound => return Err(ErrorShape::not_found("channel not found")),
        Toggle::Changed => "ok",
        Toggle::AlreadyRunning => "already_running",
        Toggle::AlreadyStopped => "already_stopped",
    };
    Ok(json!({"channel": params.channel, "enabled": params.enabled, "status": status}))
}

/// `channels.instances.list` → `{instances}`.
pub async fn instances_list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let page = instances::list_page(ctx.state, ctx.principal.tenant_id, None, LIST_ALL, 0)
        .await
        .map_err(refusal)?;
    Ok(json!({ "instances": page["instances"] }))
}

/// `channels.instances.get {id}` → the instance.
pub async fn instances_get(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: IdParams = parse(params)?;
    let id = instances::parse_id(&params.id).map_err(refusal)?;
    let instance = ctx
        .state
        .store
        .channel_instances()
        .get(ctx.principal.tenant_id, id)
        .await
        .map_err(|_| ErrorShape::not_found("channel instance not found"))?;
    Ok(instance_json(&instance))
}

/// `channels.instances.create {name, channel_type, agent_id, ...}` → the instance.
pub async fn instances_create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let request: CreateRequest = parse(params)?;
    let instance = instances::create_instance(
        ctx.state,
        ctx.principal.tenant_id,
        &ctx.principal.user_id,
        request,
    )
    .await
    .map_err(refusal)?;
    Ok(instance_json(&instance))
}

/// `channels.instances.update {id, updates}` → `{status: "updated"}`.
pub async fn instances_update(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: UpdateParams = parse(params)?;
    let id = instances::parse_id(&params.id).map_err(refusal)?;
    let Some(Value::Object(updates)) = params.updates else {
        return Err(ErrorShape::invalid("updates must be an object"));
    };
    instances::update_instance(ctx.state, ctx.principal.tenant_id, id, updates)
        .await
        .map_err(refusal)?;
    Ok(json!({"status": "updated"}))
}

/// `channels.instances.delete {id}` → `{status: "deleted"}`.
pub async fn instances_delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: IdParams = parse(params)?;
    let id = instances::parse_id(&params.id).map_err(refusal)?;
    instances::delete_instance(ctx.state, ctx.principal.tenant_id, id)
        .await
        .map_err(refusal)?;
    Ok(json!({"status": "deleted"}))
}
