//! Finding secrets in the effective config: the masked view shown by
//! `goclaw config show` and the list of raw values the logger must hide.
//! Secrets are found through the JSON schema (every field typed [`Secret`]),
//! plus string values under credential-like names inside free-form maps
//! (`env`, `headers`), so a new secret field needs no list to be updated.
#![forbid(unsafe_code)]

use std::sync::OnceLock;

use serde_json::{Map, Value, json};

use crate::secrets::{SECRET_SCHEMA_NAME, key_looks_secret, mask_secret};
use crate::{Config, LoadedConfig, Secret};

impl LoadedConfig {
    /// Every configured secret value, non-empty, longest first, without
    /// duplicates: gateway token, provider keys, channel credentials, the
    /// encryption key, the database DSNs and their passwords.
    pub fn secret_values(&self) -> Vec<String> {
        let mut values = Vec::new();
        let mut config = config_value(&self.config);
        visit_secrets(&mut config, &mut |s| values.push(s.clone()));

        let runtime = &self.runtime;
        let db = &runtime.database;
        let secrets = [
            &runtime.encryption_key,
            &runtime.tailscale_auth_key,
            &runtime.file_signing_secret,
            &db.postgres_dsn,
            &db.redis_dsn,
        ];
        for secret in secrets.into_iter().flatten() {
            values.push(secret.expose().to_owned());
        }
        for dsn in [&db.postgres_dsn, &db.redis_dsn].into_iter().flatten() {
            values.extend(dsn_password(dsn.expose()));
        }

        values.retain(|v| !v.is_empty());
        values.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        values.dedup();
        values
    }

    /// The effective config (defaults, file, environment) as JSON, plus a
    /// `database` section, with every secret shown as `abcd****wxyz`.
    pub fn masked_json(&self) -> Value {
        let mut value = config_value(&self.config);
        visit_secrets(&mut value, &mut |s| *s = mask_secret(s));
        let db = &self.runtime.database;
        if let Value::Object(map) = &mut value {
            map.insert(
                "database".to_owned(),
                json!({
                    "backend": db.backend,
                    "postgres_dsn": db.postgres_dsn.as_ref().map(Secret::masked),
                    "redis_dsn": db.redis_dsn.as_ref().map(Secret::masked),
                    "sqlite_path": db.sqlite_path,
                    "pg_max_open_conns": db.pg_max_open_conns,
                    "pg_max_idle_conns": db.pg_max_idle_conns,
                }),
            );
        }
        value
    }
}

pub(crate) fn config_value(config: &Config) -> Value {
    // Serializing plain structs into a Value fails only for non-UTF-8 paths.
    serde_json::to_value(config).unwrap_or_else(|e| json!({ "error": e.to_string() }))
}

fn schema() -> &'static Value {
    static SCHEMA: OnceLock<Value> = OnceLock::new();
    SCHEMA.get_or_init(Config::json_schema)
}

/// Calls `f` on every secret string of a serialized [`Config`].
pub(crate) fn visit_secrets(value: &mut Value, f: &mut dyn FnMut(&mut String)) {
    let root = schema();
    let walk = SchemaWalk {
        defs: root.get("$defs").and_then(Value::as_object),
    };
    walk.visit(value, Some(root), None, f);
}

struct SchemaWalk<'a> {
    defs: Option<&'a Map<String, Value>>,
}

impl<'a> SchemaWalk<'a> {
    fn visit(
        &self,
        value: &mut Value,
        schema: Option<&'a Value>,
        key: Option<&str>,
        f: &mut dyn FnMut(&mut String),
    ) {
        match value {
            Value::String(s) => {
                let typed_secret = schema.is_some_and(|s| self.is_secret(s));
                if typed_secret || key.is_some_and(key_looks_secret) {
                    f(s);
                }
            }
            Value::Object(map) => {
                for (k, child) in map.iter_mut() {
                    let child_schema = schema.and_then(|s| self.property(s, k));
                    self.visit(child, child_schema, Some(k), f);
                }
            }
            Value::Array(items) => {
                let item_schema = schema
                    .and_then(|s| self.concrete(s))
                    .and_then(|s| s.get("items"));
                for item in items {
                    self.visit(item, item_schema, key, f);
                }
            }
            _ => {}
        }
    }

    fn is_secret(&self, schema: &Value) -> bool {
        let is_ref = |s: &Value| {
            s.get("$ref").and_then(Value::as_str) == Some(&format!("#/$defs/{SECRET_SCHEMA_NAME}"))
        };
        is_ref(schema) || branches(schema).any(is_ref)
    }

    /// The schema of an object's member `key`: a declared property, else the
    /// map's value schema.
    fn property(&self, schema: &'a Value, key: &str) -> Option<&'a Value> {
        let object = self.concrete(schema)?;
        object
            .get("properties")
            .and_then(|p| p.get(key))
            .or_else(|| object.get("additionalProperties").filter(|a| a.is_object()))
    }

    /// Follows `$ref` and picks the non-null branch of an `Option`.
    fn concrete(&self, schema: &'a Value) -> Option<&'a Value> {
        let schema = match branches(schema)
            .find(|b| b.get("type").and_then(Value::as_str) != Some("null"))
        {
            Some(branch) => branch,
            None => schema,
        };
        match schema.get("$ref").and_then(Value::as_str) {
            Some(reference) => {
                let name = reference.strip_prefix("#/$defs/")?;
                self.defs?.get(name)
            }
            None => Some(schema),
        }
    }
}

fn branches(schema: &Value) -> impl Iterator<Item = &Value> {
    ["anyOf", "oneOf"]
        .into_iter()
        .filter_map(|k| schema.get(k).and_then(Value::as_array))
        .flatten()
}

/// The password inside a DSN: `scheme://user:password@host/...` or the
/// key/value form `... password=secret ...`. Both the raw and the
/// percent-decoded forms are returned, since either may reach a log line.
pub(crate) fn dsn_password(dsn: &str) -> Vec<String> {
    let raw = match dsn.split_once("://") {
        Some((_, rest)) => url_password(rest),
        None => keyword_password(dsn),
    };
    let Some(raw) = raw.filter(|p| !p.is_empty()) else {
        return Vec::new();
    };
    let decoded = percent_decode(&raw);
    if decoded == raw {
        vec![raw]
    } else {
        vec![raw, decoded]
    }
}

fn url_password(rest: &str) -> Option<String> {
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let head = &rest[..authority_end];
    // A password may contain '/', in which case the authority ends later:
    // the last '@' before the query marks the end of the user info.
    let userinfo_end = head.rfind('@').or_else(|| {
        let query = rest.find(['?', '#']).unwrap_or(rest.len());
        rest[..query].rfind('@')
    })?;
    let userinfo = &rest[..userinfo_end];
    userinfo
        .split_once(':')
        .map(|(_, password)| password.to_owned())
}

fn keyword_password(dsn: &str) -> Option<String> {
    let start = dsn.find("password=")? + "password=".len();
    let rest = &dsn[start..];
    if let Some(quoted) = rest.strip_prefix('\'') {
        return quoted.split_once('\'').map(|(p, _)| p.to_owned());
    }
    Some(
        rest.split_whitespace()
            .next()
            .unwrap_or_default()
            .to_owned(),
    )
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_dsn(dsn: &str, expected: &[&str]) {
        assert_eq!(dsn_password(dsn), expected, "dsn_password({dsn:?})");
    }

    #[test]
    fn finds_dsn_passwords() {
        check_dsn(
            "postgres://goclaw:s3cret-pw@db:5432/goclaw?sslmode=disable",
            &["s3cret-pw"],
        );
        check_dsn("postgresql://u:p%40ss%2Fw@h/db", &["p%40ss%2Fw", "p@ss/w"]);
        check_dsn("postgres://u:pa/ss@h/db", &["pa/ss"]);
        check_dsn("postgres://u@h/db", &[]);
        check_dsn("postgres://h/db?x=a@b", &[]);
        check_dsn("host=db user=u password=kv-secret dbname=g", &["kv-secret"]);
        check_dsn("host=db password='with space' dbname=g", &["with space"]);
        check_dsn("redis://:redispw@cache:6379/0", &["redispw"]);
    }
}
