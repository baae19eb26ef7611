//! Hooks on the wire: GoClaw's `HookConfig` JSON read from `hooks.create`/`hooks.test` and
//! merged from `hooks.update`'s `updates`, and the JSON of a stored hook, an execution and a
//! test result. Header values of `http` hooks (an `Authorization` is a secret) are answered as
//! `"***"`, and `"***"` sent back in an update keeps the stored value. They are stored sealed
//! with the secret box in `Hook::secrets` (the config keeping `"***"` under each name), so
//! storing any needs `GOCLAW_ENCRYPTION_KEY`.

use chrono::Utc;
use goclaw_agent::hooks::HandlerOutcome;
use goclaw_core::{Decision, HandlerType, Hook, HookEvent, HookExecution, HookScope, TenantId};
use goclaw_crypto::SecretBox;
use serde_json::{Map, Value, json};
use uuid::Uuid;

/// What a masked secret reads as.
pub const MASK: &str = "***";

/// A hook read from GoClaw's config JSON, and the `on_timeout` it asked for (checked later).
pub struct ParsedHook {
    pub hook: Hook,
    pub on_timeout: String,
}

fn text(value: &Value) -> Result<String, String> {
    match value {
        Value::Null => Ok(String::new()),
        Value::String(s) => Ok(s.clone()),
        _ => Err("must be a string".to_owned()),
    }
}

fn int(value: &Value, field: &str) -> Result<i64, String> {
    match value {
        Value::Null => Ok(0),
        other => other
            .as_i64()
            .ok_or_else(|| format!("{field} must be an integer")),
    }
}

fn object(value: &Value, field: &str) -> Result<Value, String> {
    match value {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => Ok(value.clone()),
        _ => Err(format!("{field} must be an object")),
    }
}

fn agent_ids(value: &Value) -> Result<Vec<Uuid>, String> {
    let Some(items) = value.as_array() else {
        return if value.is_null() {
            Ok(Vec::new())
        } else {
            Err("agent_ids must be a list of ids".to_owned())
        };
    };
    items
        .iter()
        .map(|item| {
            item.as_str()
                .and_then(|s| Uuid::parse_str(s).ok())
                .ok_or_else(|| format!("invalid agent id {item}"))
        })
        .collect()
}

fn parse_enum<T>(value: &Value, field: &str, parse: fn(&str) -> Option<T>) -> Result<T, String> {
    let raw = value.as_str().unwrap_or_default();
    if raw.is_empty() {
        return Err("handler_type, event, and scope are required".to_owned());
    }
    parse(raw).ok_or_else(|| format!("hook: unknown {field} {raw:?}"))
}

/// Reads a new hook of `tenant` from GoClaw's config JSON. `id`, `tenant_id`, `source`,
/// `version` and `created_by` are the gateway's to set, never the caller's.
pub fn parse_config(raw: &Value, tenant: TenantId, created_by: &str) -> Result<ParsedHook, String> {
    if !raw.is_object() {
        return Err("missing config payload".to_owned());
    }
    let mut ids = agent_ids(&raw["agent_ids"])?;
    if ids.is_empty()
        && let Some(single) = raw["agent_id"]
            .as_str()
            .and_then(|s| Uuid::parse_str(s).ok())
        && !single.is_nil()
    {
        ids.push(single);
    }
    let now = Utc::now();
    let hook = Hook {
        id: Uuid::nil(),
        tenant_id: tenant,
        agent_ids: ids,
        event: parse_enum(&raw["event"], "event", HookEvent::parse)?,
        handler_type: parse_enum(&raw["handler_type"], "handler_type", HandlerType::parse)?,
        scope: parse_enum(&raw["scope"], "scope", HookScope::parse)?,
        name: text(&raw["name"]).map_err(|e| format!("name {e}"))?,
        config: object(&raw["config"], "config")?,
        secrets: String::new(),
        matcher: text(&raw["matcher"]).map_err(|e| format!("matcher {e}"))?,
        if_expr: text(&raw["if_expr"]).map_err(|e| format!("if_expr {e}"))?,
        timeout_ms: int(&raw["timeout_ms"], "timeout_ms")?,
        on_timeout: Decision::Allow,
        priority: int(&raw["priority"], "priority")?,
        enabled: raw["enabled"].as_bool().unwrap_or(false),
        version: 1,
        source: String::new(),
        metadata: object(&raw["metadata"], "metadata")?,
        created_by: created_by.to_owned(),
        created_at: now,
        updated_at: now,
    };
    let on_timeout = text(&raw["on_timeout"]).map_err(|e| format!("on_timeout {e}"))?;
    Ok(ParsedHook { hook, on_timeout })
}

/// `current` with GoClaw's patch applied (the columns it exposes; `id`, `tenant_id`,
/// `version`, `source` and `created_by` are ignored). Masked header values keep the stored
/// ones.
pub fn apply_patch(current: &Hook, updates: &Map<String, Value>) -> Result<ParsedHook, String> {
    let mut hook = current.clone();
    let mut on_timeout = current.on_timeout.as_str().to_owned();
    for (key, value) in updates {
        match key.as_str() {
            "name" => hook.name = text(value).map_err(|e| format!("name {e}"))?,
            "agent_ids" => hook.agent_ids = agent_ids(value)?,
            "event" => hook.event = parse_enum(value, "event", HookEvent::parse)?,
            "scope" => hook.scope = parse_enum(value, "scope", HookScope::parse)?,
            "handler_type" => {
                hook.handler_type = parse_enum(value, "handler_type", HandlerType::parse)?;
            }
            "matcher" => hook.matcher = text(value).map_err(|e| format!("matcher {e}"))?,
            "if_expr" => hook.if_expr = text(value).map_err(|e| format!("if_expr {e}"))?,
            "timeout_ms" => hook.timeout_ms = int(value, "timeout_ms")?,
            "on_timeout" => on_timeout = text(value).map_err(|e| format!("on_timeout {e}"))?,
            "priority" => hook.priority = int(value, "priority")?,
            "enabled" => {
                hook.enabled = value.as_bool().ok_or("enabled must be a boolean")?;
            }
            "config" => hook.config = keep_masked(object(value, "config")?, &current.config),
            "metadata" => hook.metadata = object(value, "metadata")?,
            _ => {}
        }
    }
    Ok(ParsedHook { hook, on_timeout })
}

/// Moves the header values of `hook`'s config into `hook.secrets`, sealed, leaving `"***"`
/// under each name; a hook without header values keeps no secrets. Storing some needs a key.
pub fn seal_headers(hook: &mut Hook, secrets: Option<&SecretBox>) -> Result<(), String> {
    hook.secrets.clear();
    let Some(headers) = hook
        .config
        .get_mut("headers")
        .and_then(Value::as_object_mut)
        .filter(|headers| !headers.is_empty())
    else {
        return Ok(());
    };
    let secrets = secrets.ok_or(
        "set GOCLAW_ENCRYPTION_KEY to store an http hook's header values: they are stored encrypted",
    )?;
    hook.secrets = secrets.encrypt(&Value::Object(headers.clone()).to_string());
    for value in headers.values_mut() {
        *value = json!(MASK);
    }
    Ok(())
}

/// Puts `hook`'s sealed header values back into its config (so an update can merge into
/// them); a hook stored without any is left as it is.
pub fn open_headers(hook: &mut Hook, secrets: Option<&SecretBox>) -> Result<(), String> {
    if hook.secrets.is_empty() {
        return Ok(());
    }
    let headers = secrets
        .and_then(|secrets| secrets.decrypt(&hook.secrets).ok())
        .and_then(|opened| serde_json::from_str::<Map<String, Value>>(&opened).ok())
        .ok_or(
            "the hook's stored header values cannot be decrypted: check GOCLAW_ENCRYPTION_KEY",
        )?;
    if let Some(config) = hook.config.as_object_mut() {
        config.insert("headers".to_owned(), Value::Object(headers));
    }
    hook.secrets.clear();
    Ok(())
}

/// `config` with every masked header value replaced by the stored one.
fn keep_masked(mut config: Value, stored: &Value) -> Value {
    if let Some(headers) = config.get_mut("headers").and_then(Value::as_object_mut) {
        for (name, value) in headers.iter_mut() {
            if value.as_str() == Some(MASK) {
                *value = stored["headers"][name.as_str()].clone();
            }
        }
    }
    config
}

/// A hook's config as answered: header values masked.
fn masked_config(config: &Value) -> Value {
    let mut config = config.clone();
    // `get_mut`: indexing mutably would add a `headers: null` to configs without any.
    if let Some(headers) = config.get_mut("headers").and_then(Value::as_object_mut) {
        for value in headers.values_mut() {
            *value = json!(MASK);
        }
    }
    config
}

/// GoClaw's `HookConfig` JSON (its `omitempty` fields left out when empty).
pub fn hook_json(hook: &Hook) -> Value {
    let mut out = json!({
        "id": hook.id,
        "tenant_id": hook.tenant_id,
        "event": hook.event.as_str(),
        "handler_type": hook.handler_type.as_str(),
        "scope": hook.scope.as_str(),
        "config": masked_config(&hook.config),
        "timeout_ms": hook.timeout_ms,
        "on_timeout": hook.on_timeout.as_str(),
        "priority": hook.priority,
        "enabled": hook.enabled,
        "version": hook.version,
        "source": hook.source,
        "metadata": hook.metadata,
        "created_at": hook.created_at,
        "updated_at": hook.updated_at,
    });
    if !hook.agent_ids.is_empty() {
        out["agent_ids"] = json!(hook.agent_ids);
    }
    for (key, value) in [
        ("name", &hook.name),
        ("matcher", &hook.matcher),
        ("if_expr", &hook.if_expr),
        ("created_by", &hook.created_by),
    ] {
        if !value.is_empty() {
            out[key] = json!(value);
        }
    }
    out
}

/// GoClaw's `HookExecution` JSON (`error_detail` is never kept here).
pub fn execution_json(execution: &HookExecution) -> Value {
    let mut out = json!({
        "id": execution.id,
        "session_id": execution.session_id,
        "event": execution.event.as_str(),
        "input_hash": execution.input_hash,
        "decision": execution.decision.as_str(),
        "duration_ms": execution.duration_ms,
        "retry": execution.retry,
        "dedup_key": execution.dedup_key,
        "error": execution.error,
        "error_detail": null,
        "metadata": execution.metadata,
        "created_at": execution.created_at,
    });
    if let Some(hook) = execution.hook_id {
        out["hook_id"] = json!(hook);
    }
    out
}

/// GoClaw's `HookTestResult` JSON (its `omitempty` fields left out when empty).
pub fn test_result_json(outcome: &HandlerOutcome) -> Value {
    let mut out = json!({
        "decision": outcome.decision.as_str(),
        "durationMs": outcome.duration_ms,
    });
    for (key, value) in [
        ("reason", &outcome.reason),
        ("stdout", &outcome.stdout),
        ("stderr", &outcome.stderr),
        ("error", &outcome.error),
    ] {
        if !value.is_empty() {
            out[key] = json!(value);
        }
    }
    if outcome.status_code != 0 {
        out["statusCode"] = json!(outcome.status_code);
    }
    out
}
