//! `heartbeat.*`: agents' periodic check-ins in GoClaw's shapes — `heartbeat.get`
//! (`{heartbeat}`, `null` when none), `heartbeat.set` (an upsert, `{heartbeat}`),
//! `heartbeat.toggle` (`{agentId, enabled}`), `heartbeat.test` (`{ok}`, the run going on in
//! the background), `heartbeat.logs` (`{logs, total}`), `heartbeat.checklist.get`
//! (`{content}` of the agent's `HEARTBEAT.md`), `heartbeat.checklist.set` (`{ok, length}`)
//! and `heartbeat.targets` (`{targets}`: the tenant's known chats).
//!
//! Reads are for every role of the tenant, changes for admins (the access table); `agentId`
//! is the agent's id or key, in the caller's tenant only.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use goclaw_core::cron::to_millis;
use goclaw_core::heartbeat::{
    CHECKLIST_FILE, MAX_RETRIES_LIMIT, MIN_INTERVAL_SEC, next_run_at, parse_hhmm,
};
use goclaw_core::{Agent, HeartbeatConfig, ProviderName, SessionFilter, SessionKey, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::parse;
use super::sessions::store_error;
use crate::heartbeat::wire;
use crate::quotas::{MAX_CONTEXT_FILE_BYTES, admit_write, check_size};
use crate::ws::frames::ErrorShape;

/// Runs `heartbeat.logs` answers at most per page.
const MAX_LOGS_PAGE: u32 = 200;
/// Channel sessions `heartbeat.targets` looks through.
const TARGET_SESSIONS: u32 = 1_000;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct AgentParams {
    #[serde(default)]
    agent_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SetParams {
    #[serde(default)]
    agent_id: String,
    enabled: Option<bool>,
    interval_sec: Option<i64>,
    prompt: Option<String>,
    provider_name: Option<String>,
    model: Option<String>,
    isolated_session: Option<bool>,
    light_context: Option<bool>,
    ack_max_chars: Option<i64>,
    max_retries: Option<i64>,
    active_hours_start: Option<String>,
    active_hours_end: Option<String>,
    timezone: Option<String>,
    channel: Option<String>,
    chat_id: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ToggleParams {
    #[serde(default)]
    agent_id: String,
    #[serde(default)]
    enabled: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogsParams {
    #[serde(default)]
    agent_id: String,
    #[serde(default)]
    limit: u32,
    #[serde(default)]
    offset: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChecklistParams {
    #[serde(default)]
    agent_id: String,
    #[serde(default)]
    content: String,
}

fn now(ctx: &Ctx<'_>) -> DateTime<Utc> {
    to_millis(ctx.state.cron.clock.now())
}

/// The agent `raw` names (its id or its key) in the caller's tenant.
async fn agent_of(ctx: &Ctx<'_>, raw: &str) -> Result<Agent, ErrorShape> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Err(ErrorShape::invalid("agentId is required"));
    }
    let agents = ctx
        .state
        .store
        .agents()
        .list(ctx.principal.tenant_id)
        .await
        .map_err(|e| store_error(&e))?;
    agents
        .into_iter()
        .find(|a| a.id.to_string() == raw || a.agent_key.as_str() == raw)
        .ok_or_else(|| ErrorShape::invalid("invalid agentId"))
}

async fn current(
    ctx: &Ctx<'_>,
    agent: &Agent,
) -> Result<Option<goclaw_core::Heartbeat>, ErrorShape> {
    ctx.state
        .store
        .heartbeats()
        .get(ctx.principal.tenant_id, agent.id)
        .await
        .map_err(|e| store_error(&e))
}

/// `heartbeat.get {agentId}` → `{heartbeat}` (`null` when the agent has none).
pub async fn get(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: AgentParams = parse(params)?;
    let agent = agent_of(ctx, &params.agent_id).await?;
    let heartbeat = current(ctx, &agent).await?;
    Ok(json!({ "heartbeat": heartbeat.as_ref().map(wire::heartbeat) }))
}

/// An optional text param: empty clears it.
fn text(value: String) -> Option<String> {
    let value = value.trim().to_owned();
    (!value.is_empty()).then_some(value)
}

fn time_of_day(value: String, name: &str) -> Result<Option<String>, ErrorShape> {
    let Some(value) = text(value) else {
        return Ok(None);
    };
    if parse_hhmm(&value).is_none() {
        return Err(ErrorShape::invalid(format!(
            "{name} must be a time of day as HH:MM"
        )));
    }
    Ok(Some(value))
}

/// The settings `params` make of `config`, checked.
async fn apply(
    ctx: &Ctx<'_>,
    mut config: HeartbeatConfig,
    params: SetParams,
) -> Result<HeartbeatConfig, ErrorShape> {
    if let Some(enabled) = params.enabled {
        config.enabled = enabled;
    }
    if let Some(interval) = params.interval_sec {
        if interval < MIN_INTERVAL_SEC {
            return Err(ErrorShape::invalid(format!(
                "minimum interval is {MIN_INTERVAL_SEC} seconds"
            )));
        }
        config.interval_sec = interval;
    }
    if let Some(prompt) = params.prompt {
        config.prompt = (!prompt.trim().is_empty()).then_some(prompt);
    }
    if let Some(name) = params.provider_name {
        config.provider_id = match text(name) {
            None => None,
            Some(name) => Some(provider_id(ctx, &name).await?),
        };
    }
    if let Some(model) = params.model {
        config.model = text(model);
    }
    if let Some(isolated) = params.isolated_session {
        config.isolated_session = isolated;
    }
    if let Some(light) = params.light_context {
        config.light_context = light;
    }
    if let Some(chars) = params.ack_max_chars {
        if chars < 0 {
            return Err(ErrorShape::invalid("ackMaxChars must be >= 0"));
        }
        config.ack_max_chars = chars;
    }
    if let Some(retries) = params.max_retries {
        if !(0..=MAX_RETRIES_LIMIT).contains(&retries) {
            return Err(ErrorShape::invalid(format!(
                "maxRetries must be 0-{MAX_RETRIES_LIMIT}"
            )));
        }
        config.max_retries = retries;
    }
    if let Some(start) = params.active_hours_start {
        config.active_hours_start = time_of_day(start, "activeHoursStart")?;
    }
    if let Some(end) = params.active_hours_end {
        config.active_hours_end = time_of_day(end, "activeHoursEnd")?;
    }
    if let Some(zone) = params.timezone {
        let zone = text(zone);
        if let Some(zone) = &zone
            && zone.parse::<chrono_tz::Tz>().is_err()
        {
            return Err(ErrorShape::invalid(format!("invalid timezone: {zone}")));
        }
        config.timezone = zone;
    }
    if let Some(channel) = params.channel {
        config.channel = text(channel);
    }
    if let Some(chat) = params.chat_id {
        config.chat_id = text(chat);
    }
    Ok(config)
}

/// The id of the tenant's stored provider `name`.
async fn provider_id(ctx: &Ctx<'_>, name: &str) -> Result<uuid::Uuid, ErrorShape> {
    let not_found = || ErrorShape::invalid(format!("provider not found: {name}"));
    let parsed = ProviderName::parse(name).map_err(|_| not_found())?;
    match ctx
        .state
        .store
        .llm_providers()
        .get(ctx.principal.tenant_id, &parsed)
        .await
    {
        Ok(provider) => Ok(provider.id),
        Err(StoreError::NotFound(_)) => Err(not_found()),
        Err(other) => Err(store_error(&other)),
    }
}

/// The next slot of a heartbeat that is now `config`, was `before`: kept while it stays
/// valid, computed when the heartbeat is enabled without one, its interval changed, or it
/// comes back on after its slot passed.
fn next_slot(
    agent: &Agent,
    config: &HeartbeatConfig,
    before: Option<&goclaw_core::Heartbeat>,
    now: DateTime<Utc>,
) -> Option<DateTime<Utc>> {
    let kept = before.and_then(|hb| hb.next_run_at);
    if !config.enabled {
        return kept;
    }
    let stale = match (before, kept) {
        (None, _) | (_, None) => true,
        (Some(hb), Some(next)) => {
            hb.config.interval_sec != config.interval_sec || (!hb.config.enabled && next <= now)
        }
    };
    if !stale {
        return kept;
    }
    let anchor = before.and_then(|hb| hb.last_run_at);
    Some(next_run_at(now, agent.id, config.interval_sec, anchor))
}

/// `heartbeat.set {agentId, …}` → `{heartbeat}`: creates the agent's heartbeat or changes the
/// settings given, leaving the others.
pub async fn set(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: SetParams = parse(params)?;
    let agent = agent_of(ctx, &params.agent_id).await?;
    let before = current(ctx, &agent).await?;
    let base = before
        .as_ref()
        .map(|hb| hb.config.clone())
        .unwrap_or_default();
    let config = apply(ctx, base, params).await?;
    admit_write(
        ctx.state,
        ctx.principal,
        &format!("conn:{}", ctx.conn_id),
        &ctx.remote.to_string(),
        "heartbeat.set",
    )?;
    let next = next_slot(&agent, &config, before.as_ref(), now(ctx));
    let heartbeat = ctx
        .state
        .store
        .heartbeats()
        .upsert(ctx.principal.tenant_id, agent.id, &config, next)
        .await
        .map_err(|e| store_error(&e))?;
    tracing::info!(agent = %agent.agent_key, user_id = %ctx.principal.user_id, "heartbeat.set");
    Ok(json!({ "heartbeat": wire::heartbeat(&heartbeat) }))
}

/// `heartbeat.toggle {agentId, enabled}` → `{agentId, enabled}`.
pub async fn toggle(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ToggleParams = parse(params)?;
    let agent = agent_of(ctx, &params.agent_id).await?;
    let Some(before) = current(ctx, &agent).await? else {
        return Err(ErrorShape::not_found("heartbeat not configured"));
    };
    let config = HeartbeatConfig {
        enabled: params.enabled,
        ..before.config.clone()
    };
    let next = next_slot(&agent, &config, Some(&before), now(ctx));
    ctx.state
        .store
        .heartbeats()
        .upsert(ctx.principal.tenant_id, agent.id, &config, next)
        .await
        .map_err(|e| store_error(&e))?;
    tracing::info!(agent = %agent.agent_key, enabled = params.enabled, "heartbeat.toggled");
    Ok(json!({ "agentId": params.agent_id, "enabled": params.enabled }))
}

/// `heartbeat.test {agentId}` → `{ok: true}`: runs the heartbeat now, in the background.
pub async fn test(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: AgentParams = parse(params)?;
    let agent = agent_of(ctx, &params.agent_id).await?;
    let Some(heartbeat) = current(ctx, &agent).await? else {
        return Err(ErrorShape::not_found("heartbeat not configured"));
    };
    tracing::info!(agent = %agent.agent_key, user_id = %ctx.principal.user_id, "heartbeat.test");
    let state = ctx.state.clone();
    tokio::spawn(async move { crate::heartbeat::execute(&state, heartbeat).await });
    Ok(json!({ "ok": true }))
}

/// `heartbeat.logs {agentId, limit, offset}` → `{logs, total}`, newest first.
pub async fn logs(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: LogsParams = parse(params)?;
    let agent = agent_of(ctx, &params.agent_id).await?;
    let (runs, total) = ctx
        .state
        .store
        .heartbeats()
        .runs(
            ctx.principal.tenant_id,
            agent.id,
            params.limit.min(MAX_LOGS_PAGE),
            params.offset,
        )
        .await
        .map_err(|e| store_error(&e))?;
    let logs: Vec<Value> = runs.iter().map(wire::run).collect();
    Ok(json!({ "logs": logs, "total": total }))
}

/// `heartbeat.checklist.get {agentId}` → `{content}` (empty when there is no checklist).
pub async fn checklist_get(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: AgentParams = parse(params)?;
    let agent = agent_of(ctx, &params.agent_id).await?;
    let file = ctx
        .state
        .store
        .context_files()
        .get(agent.id, CHECKLIST_FILE)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "content": file.map(|f| f.content).unwrap_or_default() }))
}

/// `heartbeat.checklist.set {agentId, content}` → `{ok: true, length}` (in characters): the
/// agent's shared `HEARTBEAT.md`.
pub async fn checklist_set(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ChecklistParams = parse(params)?;
    let agent = agent_of(ctx, &params.agent_id).await?;
    check_size(
        ctx.principal,
        "content",
        params.content.len(),
        MAX_CONTEXT_FILE_BYTES,
        "bytes",
    )?;
    admit_write(
        ctx.state,
        ctx.principal,
        &format!("conn:{}", ctx.conn_id),
        &ctx.remote.to_string(),
        "heartbeat.checklist.set",
    )?;
    ctx.state
        .store
        .context_files()
        .set(
            ctx.principal.tenant_id,
            agent.id,
            CHECKLIST_FILE,
            &params.content,
        )
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "ok": true, "length": params.content.chars().count() }))
}

/// A chat a channel session of the tenant lives in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Target {
    channel: String,
    chat_id: String,
    kind: &'static str,
}

/// The channel, chat and kind of a channel session's key (`agent:{a}:{channel}:direct:{peer}`,
/// `…:group:{chat}`, `…:group:{chat}:topic:{topic}`); `None` for any other key.
fn target_of(session_key: &SessionKey) -> Option<Target> {
    let chat = session_key.channel_chat()?;
    Some(Target {
        channel: chat.channel.to_owned(),
        chat_id: chat.chat_id.to_owned(),
        kind: if chat.group { "group" } else { "dm" },
    })
}

/// `heartbeat.targets {agentId}` → `{targets: [{channel, chatId, title?, kind}]}`: the chats
/// of the tenant's channel sessions (every agent's, as in GoClaw), each once.
pub async fn targets(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: AgentParams = parse(params)?;
    agent_of(ctx, &params.agent_id).await?;
    let filter = SessionFilter {
        limit: TARGET_SESSIONS,
        ..SessionFilter::default()
    };
    let (sessions, _) = ctx
        .state
        .store
        .sessions()
        .list(ctx.principal.tenant_id, &filter)
        .await
        .map_err(|e| store_error(&e))?;
    let mut seen = BTreeSet::new();
    let mut targets = Vec::new();
    for session in sessions {
        let Some(target) = target_of(&session.session_key) else {
            continue;
        };
        if !seen.insert(target.clone()) {
            continue;
        }
        let mut entry = json!({
            "channel": target.channel,
            "chatId": target.chat_id,
            "kind": target.kind,
        });
        if !session.label.trim().is_empty() {
            entry["title"] = session.label.clone().into();
        }
        targets.push(entry);
    }
    Ok(json!({ "targets": targets }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_come_from_channel_session_keys() {
        let check = |key: &str, expected: Option<(&str, &str, &str)>| {
            let key = SessionKey::parse(key).expect("session key");
            let got = target_of(&key);
            let got = got
                .as_ref()
                .map(|t| (t.channel.as_str(), t.chat_id.as_str(), t.kind));
            assert_eq!(got, expected, "{key}");
        };
        check(
            "agent:ops:telegram:direct:4242",
            Some(("telegram", "4242", "dm")),
        );
        check(
            "agent:ops:discord:group:777",
            Some(("discord", "777", "group")),
        );
        check(
            "agent:ops:telegram:group:-100:topic:5",
            Some(("telegram", "-100", "group")),
        );
        check("agent:ops:ws:main", None);
        check("agent:ops:heartbeat", None);
        check("agent:ops:cron:0193", None);
    }
}
