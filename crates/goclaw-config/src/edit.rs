//! Changing the configuration over the API (`config.get/apply/patch`): the
//! view with every secret shown as `"***"`, the file layer an edit starts
//! from, the edit itself (JSON5 text replacing or merged over the file layer,
//! `"***"` keeping the stored secret, unknown keys and bad values refused,
//! then the environment applied again exactly as at start-up), the key paths
//! an edit changed, and which of them the running gateway applies without a
//! restart ([`LIVE_KEYS`]).
//!
//! **Architecture Invariant:** a secret that came from the environment never
//! reaches the file an edit writes: the edit starts from the file layer
//! (defaults and the file, no environment), and a `"***"` sent back restores
//! only what that layer holds.
#![forbid(unsafe_code)]

use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::load::{expand_paths, file_config, non_empty_string, parse_json5};
use crate::mask::{config_value, visit_secrets};
use crate::overlay::{self, FileChoices};
use crate::secrets::refuse_secrets_in_file;
use crate::{Config, ConfigError, Environment, validate};

/// How a secret is shown by `config.get` and in the answers of `config.apply`/`config.patch`;
/// sent back unchanged, it keeps the stored value.
pub const MASK: &str = "***";

/// Keys the running gateway applies at once; a change to any other key is written to the
/// file and takes effect at the next start (`restart: true`). A key covers the keys below it.
pub const LIVE_KEYS: &[(&str, &str)] = &[(
    "gateway.owner_ids",
    "who holds the owner role; read on every `connect` and HTTP request",
)];

/// GoClaw's per-tenant `system_configs` keys that mirror a config key, with that key: an
/// accepted edit writes them for the master tenant (whose values every tenant reads unless it
/// has its own), as GoClaw does.
pub const SYSTEM_CONFIG_KEYS: &[(&str, &str)] = &[
    ("agent.default_provider", "agents.defaults.provider"),
    ("agent.default_model", "agents.defaults.model"),
    ("agent.context_window", "agents.defaults.context_window"),
    (
        "agent.max_tool_iterations",
        "agents.defaults.max_tool_iterations",
    ),
    ("gateway.rate_limit_rpm", "gateway.rate_limit_rpm"),
    ("gateway.max_message_chars", "gateway.max_message_chars"),
    ("gateway.injection_action", "gateway.injection_action"),
    ("gateway.inbound_debounce_ms", "gateway.inbound_debounce_ms"),
    ("gateway.block_reply", "gateway.block_reply"),
    ("gateway.tool_status", "gateway.tool_status"),
    (
        "gateway.task_recovery_interval_sec",
        "gateway.task_recovery_interval_sec",
    ),
    ("background.provider", "gateway.background_provider"),
    ("background.model", "gateway.background_model"),
    ("tools.profile", "tools.profile"),
    ("tools.rate_limit_per_hour", "tools.rate_limit_per_hour"),
    ("tools.scrub_credentials", "tools.scrub_credentials"),
    ("tools.browser.enabled", "tools.browser.enabled"),
    ("tools.browser.headless", "tools.browser.headless"),
    ("tools.browser.remote_url", "tools.browser.remote_url"),
    (
        "tools.browser.action_timeout_ms",
        "tools.browser.action_timeout_ms",
    ),
    (
        "tools.browser.idle_timeout_ms",
        "tools.browser.idle_timeout_ms",
    ),
    ("tools.browser.max_pages", "tools.browser.max_pages"),
    (
        "tools.browser.cookie_sync_enabled",
        "tools.browser.cookie_sync_enabled",
    ),
    ("skills.max_upload_size_mb", "skills.max_upload_size_mb"),
    (
        "skills.slash_commands.enabled",
        "skills.slash_commands.enabled",
    ),
    (
        "skills.slash_commands.suggest_not_found",
        "skills.slash_commands.suggest_not_found",
    ),
    (
        "skills.slash_commands.partial_matching",
        "skills.slash_commands.partial_matching",
    ),
    (
        "skills.slash_commands.prefix",
        "skills.slash_commands.prefix",
    ),
    ("tts.provider", "tts.provider"),
    ("tts.auto", "tts.auto"),
    ("tts.mode", "tts.mode"),
    ("tts.max_length", "tts.max_length"),
    ("tts.timeout_ms", "tts.timeout_ms"),
    ("cron.max_retries", "cron.max_retries"),
    ("cron.default_timezone", "cron.default_timezone"),
];

/// The `system_configs` values of `config` ([`SYSTEM_CONFIG_KEYS`]) as text; empty strings,
/// zero numbers and unset values are left out, as GoClaw skips them.
pub fn system_config_values(config: &Config) -> Vec<(&'static str, String)> {
    let value = config_value(config);
    SYSTEM_CONFIG_KEYS
        .iter()
        .filter_map(|(key, path)| {
            let pointer = format!("/{}", path.replace('.', "/"));
            let text = match value.pointer(&pointer)? {
                Value::String(s) if !s.is_empty() => s.clone(),
                Value::Bool(b) => b.to_string(),
                Value::Number(n) if n.as_f64() != Some(0.0) => n.to_string(),
                _ => return None,
            };
            Some((*key, text))
        })
        .collect()
}

/// Whether a change to the dotted key `path` takes effect without a restart.
pub fn applies_live(path: &str) -> bool {
    LIVE_KEYS.iter().any(|(key, _)| {
        path == *key
            || path
                .strip_prefix(key)
                .is_some_and(|rest| rest.starts_with('.'))
    })
}

/// Whether an edit replaces the whole file or is merged over it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EditMode {
    /// `config.apply`: the text is the whole configuration.
    Replace,
    /// `config.patch`: objects in the text merge into the current ones, other values
    /// (arrays included) replace them.
    Patch,
}

/// The result of an accepted edit.
#[derive(Debug, Clone)]
pub struct ConfigEdit {
    /// The new effective configuration (file layer plus the environment).
    pub config: Config,
    /// The new file layer: what to write to the config file.
    pub file: Value,
    /// Dotted key paths whose effective value changed, sorted.
    pub changed: Vec<String>,
    /// Whether some changed key takes effect only after a restart.
    pub restart: bool,
}

/// The configuration as `config.get` shows it: every non-empty secret as `"***"`.
pub fn masked_for_api(config: &Config) -> Value {
    let mut value = config_value(config);
    visit_secrets(&mut value, &mut |s| {
        if !s.is_empty() {
            *s = MASK.to_owned();
        }
    });
    value
}

/// `config.defaults`: the built-in defaults of the per-agent settings an agent may override
/// (context pruning and subagent limits), in the config file's key names.
pub fn defaults_for_api() -> Value {
    let defaults = Config::default().agents.defaults;
    let mut subagents = serde_json::to_value(&defaults.subagents).unwrap_or_default();
    if let Value::Object(map) = &mut subagents {
        map.remove("model");
    }
    serde_json::json!({
        "agents": {
            "contextPruning": serde_json::to_value(&defaults.context_pruning).unwrap_or_default(),
            "subagents": subagents,
        }
    })
}

/// The file layer of a config file's text (`None`: no file): its values over the defaults,
/// without the environment, as JSON. Keys the loader ignores (unknown keys, `database`) are
/// dropped.
pub fn file_layer(text: Option<&str>, file: &Path) -> Result<Value, ConfigError> {
    let raw = match text {
        Some(text) => parse_json5(text, file)?,
        None => Map::new(),
    };
    Ok(config_value(&file_config(raw, file)?))
}

/// Applies `raw` (JSON5) to the file layer `base` and the environment `env`, checking it as
/// start-up does, plus: unknown keys are errors. `current` is the effective configuration
/// the changed keys are measured against.
pub fn edit(
    current: &Config,
    base: &Value,
    raw: &str,
    mode: EditMode,
    env: &Environment,
    file: &Path,
) -> Result<ConfigEdit, ConfigError> {
    let input = parse_json5(raw, file)?;
    let mut merged = match mode {
        EditMode::Replace => Value::Object(input),
        EditMode::Patch => {
            let mut merged = base.clone();
            merge(&mut merged, Value::Object(input));
            merged
        }
    };
    restore_masked(&mut merged, base, "");
    refuse_secrets_in_file(&merged, file)?;
    if let Value::Object(map) = &mut merged
        && let Some(Value::Object(tailscale)) = map.get_mut("tailscale")
    {
        tailscale.remove("auth_key");
    }
    let Value::Object(raw_map) = &merged else {
        return Err(ConfigError::invalid("(root)", "expected an object"));
    };
    let choices = FileChoices {
        provider: non_empty_string(raw_map, "/agents/defaults/provider"),
        model: non_empty_string(raw_map, "/agents/defaults/model"),
    };
    let layer = strict(merged.clone(), file)?;
    let file_value = config_value(&layer);
    let mut config = layer;
    overlay::apply(&mut config, env, choices)?;
    expand_paths(&mut config, env);
    validate(&config).map_err(|e| e.in_file(file))?;
    let mut changed = Vec::new();
    diff(
        &config_value(current),
        &config_value(&config),
        "",
        &mut changed,
    );
    changed.sort();
    let restart = changed.iter().any(|path| !applies_live(path));
    Ok(ConfigEdit {
        config,
        file: file_value,
        changed,
        restart,
    })
}

/// Deserializes with unknown keys refused.
fn strict(value: Value, file: &Path) -> Result<Config, ConfigError> {
    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let result = {
        let mut record = |p: serde_ignored::Path<'_>| unknown.push(p.to_string());
        let ignored = serde_ignored::Deserializer::new(value, &mut record);
        Config::deserialize(serde_path_to_error::Deserializer::new(ignored, &mut track))
    };
    let config = result.map_err(|e| ConfigError::Invalid {
        file: Some(file.to_path_buf()),
        path: track.path().to_string(),
        message: e.to_string(),
    })?;
    if let Some(key) = unknown.into_iter().next() {
        return Err(ConfigError::Invalid {
            file: Some(file.to_path_buf()),
            path: key,
            message: "unknown key".to_owned(),
        });
    }
    Ok(config)
}

/// Merges `patch` into `target`: objects key by key, anything else replaces.
fn merge(target: &mut Value, patch: Value) {
    match (target, patch) {
        (Value::Object(target), Value::Object(patch)) => {
            for (key, value) in patch {
                match target.get_mut(&key) {
                    Some(slot) => merge(slot, value),
                    None => {
                        target.insert(key, value);
                    }
                }
            }
        }
        (target, patch) => *target = patch,
    }
}

/// Replaces every `"***"` with the value the file layer holds at the same place, and drops
/// it where the layer holds none (the secret then comes from the environment, or stays
/// unset).
fn restore_masked(value: &mut Value, base: &Value, pointer: &str) {
    match value {
        Value::Object(map) => {
            let mut drop = Vec::new();
            for (key, child) in map.iter_mut() {
                let child_pointer = format!("{pointer}/{}", escape(key));
                if child.as_str() == Some(MASK) {
                    match base.pointer(&child_pointer) {
                        Some(stored) if stored.is_string() => *child = stored.clone(),
                        _ => drop.push(key.clone()),
                    }
                } else {
                    restore_masked(child, base, &child_pointer);
                }
            }
            for key in drop {
                map.remove(&key);
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                let item_pointer = format!("{pointer}/{index}");
                if item.as_str() == Some(MASK) {
                    if let Some(stored) = base.pointer(&item_pointer).filter(|v| v.is_string()) {
                        *item = stored.clone();
                    }
                } else {
                    restore_masked(item, base, &item_pointer);
                }
            }
        }
        _ => {}
    }
}

fn escape(key: &str) -> String {
    key.replace('~', "~0").replace('/', "~1")
}

/// Collects the dotted paths where `old` and `new` differ: object members one by one,
/// anything else (arrays included) as a whole.
fn diff(old: &Value, new: &Value, path: &str, out: &mut Vec<String>) {
    match (old, new) {
        (Value::Object(a), Value::Object(b)) => {
            let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for key in keys {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => diff(x, y, &child, out),
                    (None, None) => {}
                    _ => out.push(child),
                }
            }
        }
        (a, b) if a != b => out.push(if path.is_empty() {
            "(root)".to_owned()
        } else {
            path.to_owned()
        }),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_live(path: &str, expected: bool) {
        assert_eq!(applies_live(path), expected, "applies_live({path:?})");
    }

    #[test]
    fn live_keys_cover_their_children_only() {
        check_live("gateway.owner_ids", true);
        check_live("gateway.owner_ids.0", true);
        check_live("gateway.owner_idsx", false);
        check_live("gateway.port", false);
    }

    fn check_diff(old: Value, new: Value, expected: &[&str]) {
        let mut out = Vec::new();
        diff(&old, &new, "", &mut out);
        assert_eq!(out, expected, "diff({old}, {new})");
    }

    #[test]
    fn diff_names_changed_leaves() {
        use serde_json::json;
        check_diff(json!({"a": {"b": 1}}), json!({"a": {"b": 2}}), &["a.b"]);
        check_diff(json!({"a": [1]}), json!({"a": [1, 2]}), &["a"]);
        check_diff(json!({"a": 1}), json!({"a": 1, "c": 2}), &["c"]);
        check_diff(json!({"a": 1}), json!({"a": 1}), &[]);
    }

    #[test]
    fn every_system_config_key_names_a_config_key() {
        let value = config_value(&Config::default());
        for (key, path) in SYSTEM_CONFIG_KEYS {
            let pointer = format!("/{}", path.replace('.', "/"));
            assert!(
                value.pointer(&pointer).is_some(),
                "{key}: {path} is not a config key"
            );
        }
        let values = system_config_values(&Config::default());
        assert!(
            values.contains(&("gateway.rate_limit_rpm", "20".to_owned())),
            "{values:?}"
        );
        assert!(
            !values.iter().any(|(k, _)| *k == "background.provider"),
            "{values:?}"
        );
    }

    #[test]
    fn merge_keeps_siblings_and_replaces_arrays() {
        use serde_json::json;
        let mut target = json!({"a": {"b": 1, "c": [1, 2]}, "d": 4});
        merge(&mut target, json!({"a": {"c": [3]}}));
        assert_eq!(target, json!({"a": {"b": 1, "c": [3]}, "d": 4}));
    }
}
