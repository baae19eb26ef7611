//! Secret values: the [`Secret`] newtype that never prints itself through
//! `Debug`, and the scan that refuses process-level secrets (database DSNs,
//! the encryption key) written into config.json.
#![forbid(unsafe_code)]

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::path::Path;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;

use crate::ConfigError;

/// A secret string (token, API key, password).
///
/// `Debug` prints `***`. `Serialize` writes the real value: it exists so that
/// [`crate::LoadedConfig::masked_json`] can serialize the effective config and
/// then mask every secret it finds through the schema; nothing else should
/// serialize a `Secret`.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps a value.
    pub fn new(value: impl Into<String>) -> Self {
        Self(SecretString::from(value.into()))
    }

    /// The real value. Call it only where the value is used (an HTTP header,
    /// a database connection), never to log or display it.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// True when the value is the empty string.
    pub fn is_empty(&self) -> bool {
        self.expose().is_empty()
    }

    /// The value in the `abcd****wxyz` form used by `goclaw config show`.
    pub fn masked(&self) -> String {
        mask_secret(self.expose())
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer).map(Self::new)
    }
}

impl JsonSchema for Secret {
    fn schema_name() -> Cow<'static, str> {
        SECRET_SCHEMA_NAME.into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A secret string: never logged, masked by `goclaw config show`."
        })
    }
}

/// A string map whose values may hold credentials: environment variables
/// passed to a child process, HTTP headers. `Debug` shows only the keys;
/// `masked_json` masks values under credential-like keys.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(transparent)]
pub struct SensitiveMap(pub BTreeMap<String, String>);

impl fmt::Debug for SensitiveMap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

impl Deref for SensitiveMap {
    type Target = BTreeMap<String, String>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl DerefMut for SensitiveMap {
    fn deref_mut(&mut self) -> &mut Self::Target {
        &mut self.0
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for SensitiveMap {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        Self(
            iter.into_iter()
                .map(|(k, v)| (k.into(), v.into()))
                .collect(),
        )
    }
}

/// The `$defs` name of the [`Secret`] schema; the masking walk looks for it.
pub(crate) const SECRET_SCHEMA_NAME: &str = "Secret";

/// Masks a secret as first 4 + `****` + last 4 characters; values of 8
/// characters or fewer become `****`, and the empty string stays empty.
pub fn mask_secret(value: &str) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.is_empty() {
        return String::new();
    }
    if chars.len() <= 8 {
        return "****".to_owned();
    }
    let head: String = chars[..4].iter().collect();
    let tail: String = chars[chars.len() - 4..].iter().collect();
    format!("{head}****{tail}")
}

/// True when a key name (of a loose map such as `env` or `headers`) looks like
/// it holds a credential, e.g. `GITHUB_TOKEN`, `Authorization`, `api_key`.
pub(crate) fn key_looks_secret(key: &str) -> bool {
    let normalized = normalize_key(key);
    [
        "apikey",
        "token",
        "secret",
        "password",
        "passwd",
        "authorization",
        "authkey",
        "dsn",
        "privatekey",
        "accesskey",
    ]
    .iter()
    .any(|needle| normalized.contains(needle))
}

/// Lower-cases a key and drops `_` and `-`, so `postgres_dsn`, `postgresDsn`
/// and `POSTGRES-DSN` compare equal.
fn normalize_key(key: &str) -> String {
    key.chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect()
}

/// The environment variable that must carry a key found in the file, if the
/// key is one of the process-level secrets.
fn env_var_for_secret_key(key: &str, under_database: bool) -> Option<&'static str> {
    match normalize_key(key).as_str() {
        "encryptionkey" | "goclawencryptionkey" => Some("GOCLAW_ENCRYPTION_KEY"),
        "postgresdsn" | "goclawpostgresdsn" | "postgresurl" | "databaseurl" => {
            Some("GOCLAW_POSTGRES_DSN")
        }
        "redisdsn" | "goclawredisdsn" | "redisurl" => Some("GOCLAW_REDIS_DSN"),
        "dsn" | "url" if under_database => Some("GOCLAW_POSTGRES_DSN"),
        _ => None,
    }
}

/// Fails when the file holds a process-level secret anywhere (any non-empty
/// value under a DSN or encryption-key name), or a tailscale auth key.
pub(crate) fn refuse_secrets_in_file(root: &Value, file: &Path) -> Result<(), ConfigError> {
    scan(root, "", false, file)?;
    let auth_key = root.get("tailscale").and_then(|t| t.get("auth_key"));
    if auth_key.is_some_and(holds_value) {
        return Err(ConfigError::SecretInFile {
            file: file.to_path_buf(),
            path: "tailscale.auth_key".to_owned(),
            env_var: "GOCLAW_TSNET_AUTH_KEY",
        });
    }
    Ok(())
}

fn scan(value: &Value, path: &str, under_database: bool, file: &Path) -> Result<(), ConfigError> {
    match value {
        Value::Object(map) => {
            for (key, child) in map {
                let child_path = join(path, key);
                if let Some(env_var) = env_var_for_secret_key(key, under_database) {
                    if holds_value(child) {
                        return Err(ConfigError::SecretInFile {
                            file: file.to_path_buf(),
                            path: child_path,
                            env_var,
                        });
                    }
                }
                let database = under_database || (path.is_empty() && key == "database");
                scan(child, &child_path, database, file)?;
            }
        }
        Value::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                scan(item, &format!("{path}[{index}]"), under_database, file)?;
            }
        }
        _ => {}
    }
    Ok(())
}

/// An empty string or null is a blank placeholder, not a leaked secret.
fn holds_value(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        _ => true,
    }
}

pub(crate) fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_owned()
    } else {
        format!("{path}.{key}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_mask(input: &str, expected: &str) {
        assert_eq!(mask_secret(input), expected, "mask_secret({input:?})");
    }

    #[test]
    fn masks_secrets() {
        check_mask("", "");
        check_mask("abc", "****");
        check_mask("12345678", "****");
        check_mask("123456789", "1234****6789");
        check_mask("sk-ant-api03-abcdefwxyz", "sk-a****wxyz");
        check_mask("ééééééééé", "éééé****éééé");
    }

    #[test]
    fn debug_never_prints_the_value() {
        let secret = Secret::new("hunter2-hunter2");
        assert_eq!(format!("{secret:?}"), "***");
        assert_eq!(format!("{:?}", Some(secret)), "Some(***)");
    }

    fn check_key(key: &str, expected: bool) {
        assert_eq!(key_looks_secret(key), expected, "key_looks_secret({key:?})");
    }

    #[test]
    fn recognizes_secret_key_names() {
        check_key("GITHUB_TOKEN", true);
        check_key("Authorization", true);
        check_key("x-api-key", true);
        check_key("DB_PASSWORD", true);
        check_key("PATH", false);
        check_key("LANG", false);
    }
}
