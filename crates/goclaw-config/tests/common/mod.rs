//! Helpers shared by the loading tests: an [`Environment`] with a fixed
//! HOME, loading JSON5 text as `config.json`, and the one-line `check_*`
//! assertions the test tables are written with.
#![forbid(unsafe_code)]
#![allow(dead_code)]

use std::path::Path;

use goclaw_config::{ConfigError, Environment, LoadedConfig, load_str};
use serde_json::Value;

pub const HOME: (&str, &str) = ("HOME", "/home/tester");

pub fn env(pairs: &[(&str, &str)]) -> Environment {
    Environment::from_pairs(pairs.iter().copied().chain([HOME]))
}

/// Loads `text` as `config.json` (no file involved).
pub fn load_text(text: &str, vars: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
    load_str(text, Path::new("config.json"), &env(vars))
}

pub fn loaded(text: &str, vars: &[(&str, &str)]) -> LoadedConfig {
    load_text(text, vars).unwrap_or_else(|e| panic!("load failed for {text:?} with {vars:?}: {e}"))
}

/// The effective value at a JSON pointer of the serialized config.
pub fn value_at(loaded: &LoadedConfig, pointer: &str) -> Value {
    let config = serde_json::to_value(&loaded.config).unwrap_or_default();
    config.pointer(pointer).cloned().unwrap_or(Value::Null)
}

/// The effective value at `pointer` after loading `text` with `vars`.
pub fn check(text: &str, vars: &[(&str, &str)], pointer: &str, expected: Value) {
    let loaded = loaded(text, vars);
    assert_eq!(
        value_at(&loaded, pointer),
        expected,
        "{pointer} for {text:?} with {vars:?}"
    );
}

/// The exact error message of loading `text` with `vars`.
pub fn check_error(text: &str, vars: &[(&str, &str)], expected: &str) {
    match load_text(text, vars) {
        Ok(_) => panic!("expected error {expected:?} for {text:?} with {vars:?}"),
        Err(e) => assert_eq!(e.to_string(), expected, "for {text:?} with {vars:?}"),
    }
}

/// The key paths of the warnings of loading `text`.
pub fn check_warnings(text: &str, expected: &[&str]) {
    let loaded = loaded(text, &[]);
    let got: Vec<&str> = loaded.warnings.iter().map(|w| w.path.as_str()).collect();
    assert_eq!(
        got, expected,
        "warnings for {text:?}: {:?}",
        loaded.warnings
    );
}
