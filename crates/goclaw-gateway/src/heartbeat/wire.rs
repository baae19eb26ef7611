//! Heartbeats, run logs and events in GoClaw's JSON shapes (camelCase, RFC 3339 times,
//! optional fields left out when empty): a heartbeat `{id, agentId, enabled, intervalSec,
//! prompt?, providerId?, model?, isolatedSession, lightContext, ackMaxChars, maxRetries,
//! activeHoursStart?, activeHoursEnd?, timezone?, channel?, chatId?, nextRunAt?, lastRunAt?,
//! lastStatus?, lastError?, runCount, suppressCount, metadata?, createdAt, updatedAt}`; a
//! run-log entry `{id, heartbeatId, agentId, status, summary?, error?, durationMs?,
//! inputTokens, outputTokens, skipReason?, ranAt, createdAt}`; the `heartbeat` event
//! `{action, agentId, agentKey, status?, error?, reason?}`.

use chrono::{DateTime, SecondsFormat, Utc};
use goclaw_core::{Heartbeat, HeartbeatRun};
use serde_json::{Map, Value, json};

fn time(at: DateTime<Utc>) -> Value {
    at.to_rfc3339_opts(SecondsFormat::Millis, true).into()
}

fn put(object: &mut Map<String, Value>, key: &str, value: Option<&str>) {
    if let Some(value) = value.filter(|v| !v.is_empty()) {
        object.insert(key.to_owned(), value.into());
    }
}

/// A heartbeat as `heartbeat.get` and `heartbeat.set` return it.
pub fn heartbeat(hb: &Heartbeat) -> Value {
    let config = &hb.config;
    let mut value = json!({
        "id": hb.id,
        "agentId": hb.agent_id.to_string(),
        "enabled": config.enabled,
        "intervalSec": config.interval_sec,
        "isolatedSession": config.isolated_session,
        "lightContext": config.light_context,
        "ackMaxChars": config.ack_max_chars,
        "maxRetries": config.max_retries,
        "runCount": hb.run_count,
        "suppressCount": hb.suppress_count,
        "createdAt": time(hb.created_at),
        "updatedAt": time(hb.updated_at),
    });
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    put(object, "prompt", config.prompt.as_deref());
    if let Some(provider) = config.provider_id {
        object.insert("providerId".into(), provider.to_string().into());
    }
    put(object, "model", config.model.as_deref());
    put(
        object,
        "activeHoursStart",
        config.active_hours_start.as_deref(),
    );
    put(object, "activeHoursEnd", config.active_hours_end.as_deref());
    put(object, "timezone", config.timezone.as_deref());
    put(object, "channel", config.channel.as_deref());
    put(object, "chatId", config.chat_id.as_deref());
    if let Some(next) = hb.next_run_at {
        object.insert("nextRunAt".into(), time(next));
    }
    if let Some(last) = hb.last_run_at {
        object.insert("lastRunAt".into(), time(last));
    }
    put(object, "lastStatus", hb.last_status.as_deref());
    put(object, "lastError", hb.last_error.as_deref());
    if hb.metadata.as_object().is_some_and(|m| !m.is_empty()) {
        object.insert("metadata".into(), hb.metadata.clone());
    }
    value
}

/// A run-log entry as `heartbeat.logs` returns it.
pub fn run(run: &HeartbeatRun) -> Value {
    let mut value = json!({
        "id": run.id,
        "heartbeatId": run.heartbeat_id,
        "agentId": run.agent_id.to_string(),
        "status": run.status.as_str(),
        "inputTokens": run.input_tokens,
        "outputTokens": run.output_tokens,
        "ranAt": time(run.ran_at),
        "createdAt": time(run.created_at),
    });
    let Some(object) = value.as_object_mut() else {
        return value;
    };
    put(object, "summary", run.summary.as_deref());
    put(object, "error", run.error.as_deref());
    if let Some(duration) = run.duration_ms {
        object.insert("durationMs".into(), duration.into());
    }
    put(object, "skipReason", run.skip_reason.as_deref());
    value
}

/// What a `heartbeat` event says besides its action.
#[derive(Debug, Default, Clone, Copy)]
pub struct EventDetail<'a> {
    pub status: Option<&'a str>,
    pub error: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// The payload of a `heartbeat` event: `running` when a run starts; `ok`, `suppressed`,
/// `error` or `skipped` when it ends.
pub fn event(action: &str, agent_id: &str, agent_key: &str, detail: EventDetail<'_>) -> Value {
    let mut value = json!({
        "action": action,
        "agentId": agent_id,
        "agentKey": agent_key,
    });
    if let Some(object) = value.as_object_mut() {
        put(object, "status", detail.status);
        put(object, "error", detail.error);
        put(object, "reason", detail.reason);
    }
    value
}
