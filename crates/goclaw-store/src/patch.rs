//! Partial updates applied in Rust, shared by both engines.
//!
//! A store reads the row inside a transaction, applies the patch here and writes every patched
//! column back, so SQLite and PostgreSQL merge JSON objects identically (neither engine's JSON
//! functions are involved). The JSON columns the runtime treats as objects (`other_config`,
//! `metadata`) only ever hold objects: SQL `NULL` or JSON `null` become `{}`, anything else is
//! refused.

use goclaw_core::{Agent, AgentPatch, Session, SessionPatch, StoreError};
use serde_json::{Map, Value};

/// A JSON value that must be an object was something else.
#[derive(Debug, thiserror::Error)]
#[error("{field} must be a JSON object, not {found}")]
pub(crate) struct NotAnObject {
    field: &'static str,
    found: &'static str,
}

/// `value` as a JSON object to store in `field`; `null` is the empty object.
pub(crate) fn object_or_empty(field: &'static str, value: Value) -> Result<Value, StoreError> {
    match value {
        Value::Null => Ok(Value::Object(Map::new())),
        Value::Object(_) => Ok(value),
        other => Err(not_an_object(field, &other)),
    }
}

/// Merges the keys of `patch` into `stored`: a `null` value removes the key, any other value
/// replaces it. A stored value that is not an object counts as empty; a `null` patch changes
/// nothing.
pub(crate) fn merge_object(
    field: &'static str,
    stored: Value,
    patch: Value,
) -> Result<Value, StoreError> {
    let mut merged = match stored {
        Value::Object(map) => map,
        _ => Map::new(),
    };
    let patch = match patch {
        Value::Null => Map::new(),
        Value::Object(map) => map,
        other => return Err(not_an_object(field, &other)),
    };
    for (key, value) in patch {
        if value.is_null() {
            merged.remove(&key);
        } else {
            merged.insert(key, value);
        }
    }
    Ok(Value::Object(merged))
}

/// Applies every `Some` field of `patch` to `agent`.
pub(crate) fn apply_agent_patch(agent: &mut Agent, patch: AgentPatch) -> Result<(), StoreError> {
    let AgentPatch {
        display_name,
        provider,
        model,
        is_default,
        agent_type,
        status,
        context_window,
        max_tool_iterations,
        workspace,
        restrict_to_workspace,
        other_config,
    } = patch;
    set(&mut agent.display_name, display_name);
    set(&mut agent.provider, provider);
    set(&mut agent.model, model);
    set(&mut agent.is_default, is_default);
    set(&mut agent.agent_type, agent_type);
    set(&mut agent.status, status);
    set(&mut agent.context_window, context_window);
    set(&mut agent.max_tool_iterations, max_tool_iterations);
    set(&mut agent.workspace, workspace);
    set(&mut agent.restrict_to_workspace, restrict_to_workspace);
    if let Some(patch) = other_config {
        let stored = std::mem::take(&mut agent.other_config);
        agent.other_config = merge_object("other_config", stored, patch)?;
    }
    Ok(())
}

/// Applies every `Some` field of `patch` to `session`.
pub(crate) fn apply_session_patch(
    session: &mut Session,
    patch: SessionPatch,
) -> Result<(), StoreError> {
    let SessionPatch {
        label,
        model,
        metadata,
    } = patch;
    set(&mut session.label, label);
    set(&mut session.model, model);
    if let Some(patch) = metadata {
        let stored = std::mem::take(&mut session.metadata);
        session.metadata = merge_object("metadata", stored, patch)?;
    }
    Ok(())
}

/// Converts a token count for a signed 64-bit column, saturating.
pub(crate) fn tokens(count: u64) -> i64 {
    i64::try_from(count).unwrap_or(i64::MAX)
}

fn set<T>(field: &mut T, value: Option<T>) {
    if let Some(value) = value {
        *field = value;
    }
}

fn not_an_object(field: &'static str, value: &Value) -> StoreError {
    let found = match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    };
    StoreError::Database(Box::new(NotAnObject { field, found }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(stored: Value, patch: Value, expected: Value) {
        let merged = merge_object("metadata", stored.clone(), patch.clone())
            .unwrap_or_else(|e| panic!("merging {patch} into {stored}: {e}"));
        assert_eq!(merged, expected, "merging {patch} into {stored}");
    }

    #[test]
    fn patches_merge_keys_and_null_removes() {
        check(json!({}), json!({"a": 1}), json!({"a": 1}));
        check(
            json!({"a": 1, "b": 2}),
            json!({"a": 3}),
            json!({"a": 3, "b": 2}),
        );
        check(json!({"a": 1, "b": 2}), json!({"a": null}), json!({"b": 2}));
        check(json!({"a": 1}), json!({"missing": null}), json!({"a": 1}));
        check(
            json!({"a": {"x": 1}}),
            json!({"a": {"y": 2}}),
            json!({"a": {"y": 2}}),
        );
        check(json!({"a": 1}), json!(null), json!({"a": 1}));
        check(json!({"a": 1}), json!({}), json!({"a": 1}));
        check(json!(null), json!({"a": 1}), json!({"a": 1}));
        check(json!([1, 2]), json!({"a": 1}), json!({"a": 1}));
    }

    #[test]
    fn non_object_patches_are_refused() {
        for patch in [json!([1]), json!("x"), json!(3), json!(true)] {
            let refused = merge_object("metadata", json!({}), patch.clone());
            assert!(refused.is_err(), "{patch} was accepted");
        }
        let message = object_or_empty("other_config", json!([]))
            .map(|_| String::new())
            .unwrap_or_else(|e| e.to_string());
        assert!(
            message.contains("other_config must be a JSON object, not an array"),
            "{message}"
        );
        assert_eq!(
            object_or_empty("other_config", Value::Null).ok(),
            Some(json!({}))
        );
    }
}
