//! Loading: resolve the config path, parse JSON5, refuse secrets, collect
//! unknown-key warnings, deserialize with exact error paths, apply the
//! environment overlay, expand `~`, validate, and read the environment-only
//! runtime settings. Precedence: defaults → file → environment.
#![forbid(unsafe_code)]

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::overlay::{self, FileChoices};
use crate::secrets::{join, refuse_secrets_in_file};
use crate::{Config, ConfigError, ConfigWarning, Environment, RuntimeSettings, validate};

/// The effective configuration and where it came from.
#[derive(Debug, Clone)]
pub struct LoadedConfig {
    /// File values over defaults, with the environment applied.
    pub config: Config,
    /// Settings read only from the environment.
    pub runtime: RuntimeSettings,
    /// The config file path that was used (whether or not it exists).
    pub path: PathBuf,
    /// Whether the file existed.
    pub file_found: bool,
    /// Accepted but questionable findings (unknown keys, ignored keys).
    pub warnings: Vec<ConfigWarning>,
    /// The environment the configuration was loaded with; an edit over the API applies it
    /// again. Its `Debug` shows variable names only.
    pub env: Environment,
}

/// The config path: the explicit `--config` value, else `GOCLAW_CONFIG`,
/// else `./config.json`.
pub fn config_path(explicit: Option<&Path>, env: &Environment) -> PathBuf {
    if let Some(path) = explicit {
        return path.to_path_buf();
    }
    env.get("GOCLAW_CONFIG")
        .map_or_else(|| PathBuf::from("config.json"), PathBuf::from)
}

/// Loads the configuration. A missing file is fine (defaults + environment)
/// unless its path was given explicitly.
pub fn load(explicit: Option<&Path>, env: &Environment) -> Result<LoadedConfig, ConfigError> {
    let path = config_path(explicit, env);
    let text = match fs::read_to_string(&path) {
        Ok(text) => Some(text),
        Err(e) if e.kind() == ErrorKind::NotFound && explicit.is_none() => None,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Err(ConfigError::NotFound { file: path });
        }
        Err(source) => return Err(ConfigError::Read { file: path, source }),
    };
    build(text.as_deref(), path, env)
}

/// Loads the configuration from JSON5 text; `file` names it in messages.
pub fn load_str(text: &str, file: &Path, env: &Environment) -> Result<LoadedConfig, ConfigError> {
    build(Some(text), file.to_path_buf(), env)
}

fn build(
    text: Option<&str>,
    path: PathBuf,
    env: &Environment,
) -> Result<LoadedConfig, ConfigError> {
    let file_found = text.is_some();
    let mut warnings = Vec::new();
    let mut raw = match text {
        Some(text) => parse_json5(text, &path)?,
        None => Map::new(),
    };
    refuse_secrets_in_file(&Value::Object(raw.clone()), &path)?;
    strip_database(&mut raw, &mut warnings);
    strip_blank_tailscale_auth_key(&mut raw);

    let choices = FileChoices {
        provider: non_empty_string(&raw, "/agents/defaults/provider"),
        model: non_empty_string(&raw, "/agents/defaults/model"),
    };
    if non_empty_string(&raw, "/gateway/token") {
        warnings.push(ConfigWarning {
            path: "gateway.token".to_owned(),
            message: "stored in the config file; prefer GOCLAW_GATEWAY_TOKEN in the environment"
                .to_owned(),
        });
    }

    let mut config = deserialize(Value::Object(raw), &path, &mut warnings)?;
    overlay::apply(&mut config, env, choices)?;
    expand_paths(&mut config, env);
    validate(&config).map_err(|e| e.in_file(&path))?;
    let runtime = RuntimeSettings::from_env(env, &config.data_dir)?;
    Ok(LoadedConfig {
        config,
        runtime,
        path,
        file_found,
        warnings,
        env: env.clone(),
    })
}

pub(crate) fn parse_json5(text: &str, path: &Path) -> Result<Map<String, Value>, ConfigError> {
    if text.trim().is_empty() {
        return Ok(Map::new());
    }
    let value: Value = json5::from_str(text).map_err(|e| syntax_error(e, path))?;
    match value {
        Value::Object(map) => Ok(map),
        other => Err(ConfigError::Invalid {
            file: Some(path.to_path_buf()),
            path: "(root)".to_owned(),
            message: format!("expected an object, found {}", kind(&other)),
        }),
    }
}

fn syntax_error(error: json5::Error, path: &Path) -> ConfigError {
    let json5::Error::Message { msg, location } = error;
    // pest renders a multi-line caret diagram; keep its one-line summary.
    let message = msg
        .lines()
        .find_map(|line| line.trim().strip_prefix("= "))
        .unwrap_or(msg.trim())
        .to_owned();
    ConfigError::Syntax {
        file: path.to_path_buf(),
        line: location.as_ref().map(|l| l.line),
        column: location.as_ref().map(|l| l.column),
        message,
    }
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The file layer of a parsed file: its values over the defaults, without the environment.
/// Refuses what loading refuses; drops what loading ignores.
pub(crate) fn file_config(mut raw: Map<String, Value>, path: &Path) -> Result<Config, ConfigError> {
    refuse_secrets_in_file(&Value::Object(raw.clone()), path)?;
    let mut ignored = Vec::new();
    strip_database(&mut raw, &mut ignored);
    strip_blank_tailscale_auth_key(&mut raw);
    deserialize(Value::Object(raw), path, &mut ignored)
}

/// `database.*` is configured only from the environment; remaining
/// (non-secret) keys are dropped with a warning naming the variable to use.
fn strip_database(raw: &mut Map<String, Value>, warnings: &mut Vec<ConfigWarning>) {
    let Some(database) = raw.remove("database") else {
        return;
    };
    let Value::Object(keys) = database else {
        warnings.push(ConfigWarning {
            path: "database".to_owned(),
            message:
                "ignored; the database is configured only through GOCLAW_* environment variables"
                    .to_owned(),
        });
        return;
    };
    for key in keys.keys() {
        let var = match key.as_str() {
            "backend" | "storage_backend" => "GOCLAW_STORAGE_BACKEND",
            "sqlite_path" => "GOCLAW_SQLITE_PATH",
            "mode" => "GOCLAW_STORAGE_BACKEND",
            _ => "the GOCLAW_* database variables",
        };
        warnings.push(ConfigWarning {
            path: join("database", key),
            message: format!("ignored; set {var} in the environment instead"),
        });
    }
}

/// A blank `tailscale.auth_key` placeholder is harmless; drop it silently.
fn strip_blank_tailscale_auth_key(raw: &mut Map<String, Value>) {
    if let Some(Value::Object(tailscale)) = raw.get_mut("tailscale") {
        tailscale.remove("auth_key");
    }
}

pub(crate) fn non_empty_string(raw: &Map<String, Value>, pointer: &str) -> bool {
    let mut current: Option<&Value> = None;
    for (i, part) in pointer.trim_start_matches('/').split('/').enumerate() {
        current = if i == 0 {
            raw.get(part)
        } else {
            current.and_then(|v| v.get(part))
        };
    }
    current
        .and_then(Value::as_str)
        .is_some_and(|s| !s.is_empty())
}

/// Deserializes with `serde_ignored` (unknown keys → warnings) inside
/// `serde_path_to_error` (bad values → errors with their key path).
fn deserialize(
    value: Value,
    path: &Path,
    warnings: &mut Vec<ConfigWarning>,
) -> Result<Config, ConfigError> {
    let mut unknown = Vec::new();
    let mut track = serde_path_to_error::Track::new();
    let result = {
        let mut record = |p: serde_ignored::Path<'_>| unknown.push(p.to_string());
        let ignored = serde_ignored::Deserializer::new(value, &mut record);
        Config::deserialize(serde_path_to_error::Deserializer::new(ignored, &mut track))
    };
    let config = result.map_err(|e| ConfigError::Invalid {
        file: Some(path.to_path_buf()),
        path: track.path().to_string(),
        message: e.to_string(),
    })?;
    warnings.extend(unknown.into_iter().map(|key| ConfigWarning {
        path: key,
        message: "unknown key; ignored".to_owned(),
    }));
    Ok(config)
}

pub(crate) fn expand_paths(config: &mut Config, env: &Environment) {
    config.data_dir = env.expand_home(&config.data_dir);
    let defaults = &mut config.agents.defaults;
    defaults.workspace = env.expand_home(&defaults.workspace);
    for spec in config.agents.list.values_mut() {
        if let Some(workspace) = &spec.workspace {
            spec.workspace = Some(env.expand_home(workspace));
        }
    }
}
