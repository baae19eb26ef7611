//! [`Environment`]: an immutable snapshot of environment variables, and the
//! typed readers used by the overlay. Loading reads only this snapshot, so
//! tests build one from pairs and never touch the real process environment.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::OnceLock;

use serde::de::DeserializeOwned;

use crate::ConfigError;

/// The process environment as it was when the executable started.
static PROCESS_SNAPSHOT: OnceLock<Environment> = OnceLock::new();

/// Name endings of the `GOCLAW_*` variables that hold secrets (tokens, keys, passwords, DSNs).
const SECRET_SUFFIXES: &[&str] = &["_TOKEN", "_KEY", "_SECRET", "_PASSWORD", "_DSN"];

/// Whether the variable `name` holds a secret of the gateway: a `GOCLAW_*` token, key,
/// secret, password or DSN (`GOCLAW_GATEWAY_TOKEN`, `GOCLAW_ENCRYPTION_KEY`,
/// `GOCLAW_OPENAI_API_KEY`, `GOCLAW_POSTGRES_DSN`, …).
pub fn is_secret_variable(name: &str) -> bool {
    name.starts_with("GOCLAW_") && SECRET_SUFFIXES.iter().any(|suffix| name.ends_with(suffix))
}

/// A snapshot of environment variables.
#[derive(Clone, Default)]
pub struct Environment {
    vars: BTreeMap<String, String>,
}

impl Environment {
    /// The process environment: the snapshot [`Environment::capture_process`] took, else the
    /// current one (variables that are not valid UTF-8 are skipped).
    pub fn from_process() -> Self {
        match PROCESS_SNAPSHOT.get() {
            Some(snapshot) => snapshot.clone(),
            None => Self::read_process(),
        }
    }

    /// Takes the snapshot every later [`Environment::from_process`] returns, so the executable
    /// can then take its secrets out of the process environment (where child processes and
    /// `/proc/<pid>/environ` would show them) without losing them.
    pub fn capture_process() -> &'static Environment {
        PROCESS_SNAPSHOT.get_or_init(Self::read_process)
    }

    fn read_process() -> Self {
        let vars = std::env::vars_os()
            .filter_map(|(k, v)| Some((k.into_string().ok()?, v.into_string().ok()?)))
            .collect();
        Self { vars }
    }

    /// Builds a snapshot from name/value pairs.
    pub fn from_pairs<I, K, V>(pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let vars = pairs
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        Self { vars }
    }

    /// This snapshot with `pairs` added, replacing variables of the same
    /// name (what `goclaw onboard` is about to write to the env file).
    pub fn with_vars<I, K, V>(&self, pairs: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<String>,
        V: Into<String>,
    {
        let mut vars = self.vars.clone();
        vars.extend(pairs.into_iter().map(|(k, v)| (k.into(), v.into())));
        Self { vars }
    }

    /// The value of a variable. An empty value counts as unset, as in
    /// GoClaw.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.vars
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// The first of several names that is set.
    pub(crate) fn first(&self, names: &[&'static str]) -> Option<(&'static str, &str)> {
        names
            .iter()
            .find_map(|name| self.get(name).map(|value| (*name, value)))
    }

    /// Replaces a leading `~` with `$HOME`; paths without one, or when HOME
    /// is unset, are returned unchanged.
    pub fn expand_home(&self, path: &Path) -> PathBuf {
        let Some(home) = self.get("HOME").or_else(|| self.get("USERPROFILE")) else {
            return path.to_path_buf();
        };
        let Some(text) = path.to_str() else {
            return path.to_path_buf();
        };
        if text == "~" {
            return PathBuf::from(home);
        }
        match text.strip_prefix("~/") {
            Some(rest) => Path::new(home).join(rest),
            None => path.to_path_buf(),
        }
    }

    /// Parses a number-like variable; `expected` describes the valid values.
    pub(crate) fn parse<T: FromStr>(
        &self,
        var: &str,
        expected: &str,
    ) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.get(var) else {
            return Ok(None);
        };
        value.trim().parse().map(Some).map_err(|_| {
            ConfigError::invalid_env(var, format!("expected {expected}, got {value:?}"))
        })
    }

    /// Parses a positive integer.
    pub(crate) fn positive(&self, var: &str) -> Result<Option<u32>, ConfigError> {
        match self.parse::<u32>(var, "a positive integer")? {
            Some(0) => Err(ConfigError::invalid_env(
                var,
                "expected a positive integer, got \"0\"",
            )),
            other => Ok(other),
        }
    }

    /// Parses a boolean: `1/true/yes/on` or `0/false/no/off`.
    pub(crate) fn bool(&self, var: &str) -> Result<Option<bool>, ConfigError> {
        let Some(value) = self.get(var) else {
            return Ok(None);
        };
        match value.trim().to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Some(true)),
            "0" | "false" | "no" | "off" => Ok(Some(false)),
            _ => Err(ConfigError::invalid_env(
                var,
                format!("expected a boolean (1/true/yes/on or 0/false/no/off), got {value:?}"),
            )),
        }
    }

    /// Parses one of an enum's config names (`non-main`, `grpc`, ...).
    pub(crate) fn choice<T: DeserializeOwned>(&self, var: &str) -> Result<Option<T>, ConfigError> {
        let Some(value) = self.get(var) else {
            return Ok(None);
        };
        serde_json::from_value(serde_json::Value::String(value.trim().to_owned()))
            .map(Some)
            .map_err(|e| ConfigError::invalid_env(var, e.to_string()))
    }

    /// Splits a comma list, dropping blank items.
    pub(crate) fn list(&self, var: &str) -> Option<Vec<String>> {
        self.get(var).map(|value| {
            value
                .split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(str::to_owned)
                .collect()
        })
    }
}

impl fmt::Debug for Environment {
    /// Lists variable names only: values may be secrets.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Environment")
            .field("names", &self.vars.keys().collect::<Vec<_>>())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Environment {
        Environment::from_pairs(pairs.iter().copied())
    }

    fn check_bool(value: &str, expected: Result<bool, ()>) {
        let got = env(&[("B", value)])
            .bool("B")
            .map(|b| b.unwrap_or(false))
            .map_err(|_| ());
        assert_eq!(got, expected, "bool({value:?})");
    }

    #[test]
    fn secret_variables_are_the_gateways_tokens_keys_and_dsns() {
        for secret in [
            "GOCLAW_GATEWAY_TOKEN",
            "GOCLAW_ENCRYPTION_KEY",
            "GOCLAW_OPENAI_API_KEY",
            "GOCLAW_POSTGRES_DSN",
            "GOCLAW_LARK_APP_SECRET",
            "GOCLAW_SLACK_BOT_TOKEN",
        ] {
            assert!(is_secret_variable(secret), "{secret}");
        }
        for plain in [
            "GOCLAW_PORT",
            "GOCLAW_HOST",
            "GOCLAW_DATA_DIR",
            "PATH",
            "API_KEY",
        ] {
            assert!(!is_secret_variable(plain), "{plain}");
        }
    }

    #[test]
    fn parses_booleans() {
        for yes in ["1", "true", "TRUE", "yes", "on"] {
            check_bool(yes, Ok(true));
        }
        for no in ["0", "false", "no", "off", "Off"] {
            check_bool(no, Ok(false));
        }
        check_bool("sometimes", Err(()));
    }

    fn check_home(home: Option<&str>, path: &str, expected: &str) {
        let e = match home {
            Some(h) => env(&[("HOME", h)]),
            None => env(&[]),
        };
        assert_eq!(
            e.expand_home(Path::new(path)),
            PathBuf::from(expected),
            "expand_home({path:?})"
        );
    }

    #[test]
    fn expands_home() {
        check_home(Some("/home/u"), "~/.goclaw/data", "/home/u/.goclaw/data");
        check_home(Some("/home/u"), "~", "/home/u");
        check_home(Some("/home/u"), "/srv/data", "/srv/data");
        check_home(Some("/home/u"), "~other/x", "~other/x");
        check_home(None, "~/x", "~/x");
    }

    #[test]
    fn empty_counts_as_unset_and_debug_hides_values() {
        let e = env(&[("A", ""), ("SECRET", "hunter2")]);
        assert_eq!(e.get("A"), None);
        assert!(!format!("{e:?}").contains("hunter2"));
        assert_eq!(e.list("MISSING"), None);
        assert_eq!(
            env(&[("L", " a, ,b ,")]).list("L"),
            Some(vec!["a".to_owned(), "b".to_owned()])
        );
    }
}
