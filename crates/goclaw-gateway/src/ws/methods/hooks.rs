//! `hooks.*` in GoClaw's shapes: `hooks.list` (`{event?, scope?, agentId?, enabled?}` →
//! `{hooks}`), `hooks.create` (the config object → `{hookId}`), `hooks.update` (`{hookId,
//! updates}` → `{hookId}`), `hooks.delete` (`{hookId}` → `{hookId}`), `hooks.toggle`
//! (`{hookId, enabled}` → `{hookId, enabled}`), `hooks.test` (`{config, sampleEvent}` →
//! `{result}`) and `hooks.history` (`{hookId?, limit?, cursor?}` → `{executions,
//! nextCursor}`). Everything is the caller's tenant's: `global` hooks are the master tenant's
//! and only its admins make them. A `command` hook runs a command on the host, so only the
//! gateway's owner creates, changes or tests one (GoClaw offers them on its Lite edition only).

use serde::Deserialize;
use serde_json::{Map, Value, json};
use uuid::Uuid;

use super::Ctx;
use super::params::parse;
use super::sessions::store_error;
use crate::auth::Role;
use crate::hooks::{
    ParsedHook, apply_patch, execution_json, hook_json, open_headers, parse_config, seal_headers,
};
use crate::ws::frames::ErrorShape;
use goclaw_agent::hooks::{HookEngine, HookInput, validate_hook};
use goclaw_core::{HandlerType, Hook, HookEvent, HookFilter, HookScope, MASTER_TENANT_ID};

const DEFAULT_HISTORY: i64 = 50;
const MAX_HISTORY: i64 = 200;

fn engine<'a>(ctx: &'a Ctx<'_>) -> Result<&'a HookEngine, ErrorShape> {
    ctx.state
        .runtime
        .hooks()
        .ok_or_else(|| ErrorShape::not_found("hooks are not available"))
}

fn hook_id(raw: &str) -> Result<Uuid, ErrorShape> {
    Uuid::parse_str(raw.trim()).map_err(|_| ErrorShape::invalid("invalid hook id"))
}

/// Who may hold `hook`: global scope only in the master tenant, command handlers only for
/// the owner, agents only of the caller's tenant.
async fn authorize(ctx: &Ctx<'_>, hook: &Hook) -> Result<(), ErrorShape> {
    let principal = ctx.principal;
    if hook.scope == HookScope::Global && principal.tenant_id != MASTER_TENANT_ID {
        return Err(ErrorShape::unauthorized(
            "global hooks can only be managed from the master tenant",
        ));
    }
    if hook.handler_type == HandlerType::Command && principal.role < Role::Owner {
        tracing::warn!(user_id = %principal.user_id, "security.hook.command_refused");
        return Err(ErrorShape::unauthorized(
            "hook: command handler not allowed: only the gateway owner may run commands on the host",
        ));
    }
    if hook.scope == HookScope::Agent {
        let agents = ctx
            .state
            .store
            .agents()
            .list(principal.tenant_id)
            .await
            .map_err(|e| store_error(&e))?;
        for id in &hook.agent_ids {
            if !agents.iter().any(|a| a.id.as_uuid() == *id) {
                return Err(ErrorShape::invalid(format!("agent {id} not found")));
            }
        }
    }
    Ok(())
}

/// Checks and completes a parsed hook.
async fn checked(ctx: &Ctx<'_>, parsed: ParsedHook) -> Result<Hook, ErrorShape> {
    let ParsedHook {
        mut hook,
        on_timeout,
    } = parsed;
    hook.tenant_id = ctx.principal.tenant_id;
    authorize(ctx, &hook).await?;
    let allow_private = engine(ctx)?.allows_private_urls();
    validate_hook(&mut hook, &on_timeout, allow_private)
        .await
        .map_err(ErrorShape::invalid)?;
    Ok(hook)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListParams {
    #[serde(default)]
    event: String,
    #[serde(default)]
    scope: String,
    #[serde(default)]
    agent_id: String,
    enabled: Option<bool>,
}

pub async fn list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ListParams = parse(params)?;
    engine(ctx)?;
    let filter = HookFilter {
        event: HookEvent::parse(&params.event),
        scope: HookScope::parse(&params.scope),
        agent_id: Uuid::parse_str(&params.agent_id).ok(),
        enabled: params.enabled,
    };
    let hooks = ctx
        .state
        .store
        .hooks()
        .list(ctx.principal.tenant_id, &filter)
        .await
        .map_err(|e| store_error(&e))?;
    let hooks: Vec<Value> = hooks.iter().map(hook_json).collect();
    Ok(json!({ "hooks": hooks }))
}

pub async fn create(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let parsed = parse_config(&params, ctx.principal.tenant_id, &ctx.principal.user_id)
        .map_err(ErrorShape::invalid)?;
    let mut hook = checked(ctx, parsed).await?;
    seal_headers(&mut hook, ctx.state.secrets.as_deref()).map_err(ErrorShape::invalid)?;
    let stored = ctx
        .state
        .store
        .hooks()
        .create(&hook)
        .await
        .map_err(|e| store_error(&e))?;
    tracing::info!(hook_id = %stored.id, event = stored.event.as_str(), user_id = %ctx.principal.user_id, "hook created");
    Ok(json!({ "hookId": stored.id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UpdateParams {
    #[serde(default)]
    hook_id: String,
    #[serde(default)]
    updates: Map<String, Value>,
}

pub async fn update(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let UpdateParams {
        hook_id: raw,
        updates,
    } = parse(params)?;
    let id = hook_id(&raw)?;
    if updates.is_empty() {
        return Err(ErrorShape::invalid("invalid updates"));
    }
    let store = ctx.state.store.hooks();
    let tenant = ctx.principal.tenant_id;
    let mut current = store.get(tenant, id).await.map_err(|e| store_error(&e))?;
    // Changing a command hook is running a command: the owner's, whatever it becomes.
    authorize(ctx, &current).await?;
    let secrets = ctx.state.secrets.as_deref();
    open_headers(&mut current, secrets).map_err(ErrorShape::invalid)?;
    let merged = apply_patch(&current, &updates).map_err(ErrorShape::invalid)?;
    let mut hook = checked(ctx, merged).await?;
    seal_headers(&mut hook, secrets).map_err(ErrorShape::invalid)?;
    store
        .update(tenant, &hook)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "hookId": id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct IdParams {
    #[serde(default)]
    hook_id: String,
    #[serde(default)]
    enabled: bool,
}

pub async fn delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let IdParams { hook_id: raw, .. } = parse(params)?;
    let id = hook_id(&raw)?;
    ctx.state
        .store
        .hooks()
        .delete(ctx.principal.tenant_id, id)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "hookId": id }))
}

pub async fn toggle(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let IdParams {
        hook_id: raw,
        enabled,
    } = parse(params)?;
    let id = hook_id(&raw)?;
    ctx.state
        .store
        .hooks()
        .set_enabled(ctx.principal.tenant_id, id, enabled)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "hookId": id, "enabled": enabled }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TestParams {
    #[serde(default)]
    config: Value,
    #[serde(default)]
    sample_event: Value,
}

pub async fn test(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let TestParams {
        config,
        sample_event,
    } = parse(params)?;
    let parsed = parse_config(&config, ctx.principal.tenant_id, &ctx.principal.user_id)
        .map_err(ErrorShape::invalid)?;
    let hook = checked(ctx, parsed).await?;
    if !sample_event.is_null() && !sample_event.is_object() {
        return Err(ErrorShape::invalid("invalid sampleEvent"));
    }
    let input = HookInput {
        event_id: format!("test-{}", Uuid::now_v7()),
        tenant_id: hook.tenant_id,
        agent_id: hook.agent_ids.first().copied().unwrap_or_default(),
        tool_name: sample_event["toolName"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        tool_input: sample_event["toolInput"].clone(),
        raw_input: sample_event["rawInput"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        ..Default::default()
    };
    let outcome = engine(ctx)?.test(&hook, &input).await;
    Ok(json!({ "result": crate::hooks::test_result_json(&outcome) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct HistoryParams {
    #[serde(default)]
    hook_id: String,
    limit: Option<i64>,
    #[serde(default)]
    cursor: String,
}

pub async fn history(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: HistoryParams = parse(params)?;
    let hook = match params.hook_id.trim() {
        "" => None,
        raw => Some(hook_id(raw)?),
    };
    let before = match params.cursor.trim() {
        "" => None,
        raw => Some(Uuid::parse_str(raw).map_err(|_| ErrorShape::invalid("invalid cursor"))?),
    };
    let limit = params
        .limit
        .unwrap_or(DEFAULT_HISTORY)
        .clamp(1, MAX_HISTORY);
    let executions = ctx
        .state
        .store
        .hooks()
        .executions(ctx.principal.tenant_id, hook, before, limit)
        .await
        .map_err(|e| store_error(&e))?;
    let next = match executions.last() {
        Some(last) if executions.len() as i64 == limit => last.id.to_string(),
        _ => String::new(),
    };
    let executions: Vec<Value> = executions.iter().map(execution_json).collect();
    Ok(json!({ "executions": executions, "nextCursor": next }))
}
