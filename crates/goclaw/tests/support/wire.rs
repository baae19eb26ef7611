//! GoClaw's wire shapes as test fixtures: a fixture is the JSON GoClaw answers for one method or
//! route (written from its JSON tags and the reference), and a response matches it when every
//! field the fixture names is present with the same kind of value.
//!
//! Fixtures live in `tests/fixtures/goclaw_wire/<name>.json` as `{"source": "...", "shape": ...}`,
//! where `source` says where the shape was read. Matching rules, applied recursively:
//! - an object needs every key of the fixture's object (extra keys are allowed: GoClaw's clients
//!   ignore fields they do not know);
//! - an array needs to be an array, and each of its elements must match the fixture's first
//!   element (an empty fixture array only requires an array);
//! - a string, a boolean or an integer needs the same kind; a fixture number with a fraction
//!   accepts any number;
//! - `null` in a fixture means the key must be present and may hold anything.

use std::path::PathBuf;

use serde_json::Value;

/// Where the fixtures live.
pub fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/goclaw_wire")
}

/// The `shape` of fixture `name`.
///
/// # Panics
/// When the fixture is missing or is not `{"source": string, "shape": ...}`.
pub fn fixture(name: &str) -> Value {
    let path = fixtures_dir().join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    let mut document: Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("fixture {}: {e}", path.display()));
    assert!(
        document.get("source").is_some_and(Value::is_string),
        "fixture {} names no source",
        path.display()
    );
    document
        .get_mut("shape")
        .map(Value::take)
        .unwrap_or_else(|| panic!("fixture {} has no shape", path.display()))
}

/// Every way `actual` differs from `expected`, one line each, with the JSON path.
pub fn shape_mismatches(expected: &Value, actual: &Value) -> Vec<String> {
    let mut found = Vec::new();
    compare(expected, actual, "$", &mut found);
    found
}

/// Panics, listing every mismatch, unless `actual` matches fixture `name`.
pub fn assert_goclaw_shape(name: &str, actual: &Value) {
    let mismatches = shape_mismatches(&fixture(name), actual);
    assert!(
        mismatches.is_empty(),
        "response differs from GoClaw's {name} shape:\n  {}\nresponse: {actual:#}",
        mismatches.join("\n  ")
    );
}

fn compare(expected: &Value, actual: &Value, path: &str, found: &mut Vec<String>) {
    match (expected, actual) {
        (Value::Null, _) => {}
        (Value::Object(want), Value::Object(have)) => {
            for (key, value) in want {
                let at = format!("{path}.{key}");
                match have.get(key) {
                    Some(inner) => compare(value, inner, &at, found),
                    None => found.push(format!("{at}: missing")),
                }
            }
        }
        (Value::Array(want), Value::Array(have)) => {
            if let Some(first) = want.first() {
                for (index, element) in have.iter().enumerate() {
                    compare(first, element, &format!("{path}[{index}]"), found);
                }
            }
        }
        (Value::String(_), Value::String(_)) | (Value::Bool(_), Value::Bool(_)) => {}
        (Value::Number(want), Value::Number(have)) => {
            if (want.is_i64() || want.is_u64()) && !(have.is_i64() || have.is_u64()) {
                found.push(format!("{path}: expected an integer, got {have}"));
            }
        }
        _ => found.push(format!(
            "{path}: expected {}, got {}",
            kind(expected),
            kind(actual)
        )),
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
