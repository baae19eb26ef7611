//! Drafts of MCP servers: what a body changes, `"***"` keeping stored secrets, the checks,
//! and the answered view masking every secret.

use serde_json::{Map, Value, json};

use super::*;

fn body(value: Value) -> Map<String, Value> {
    value.as_object().cloned().expect("an object")
}

fn stored() -> Draft {
    let mut draft = Draft::new();
    draft
        .apply(&body(json!({
            "name": "github",
            "transport": "streamable-http",
            "url": "https://example.com/mcp",
            "api_key": "key-1",
            "headers": { "X-One": "one", "X-Two": "two" },
            "env": { "TOKEN": "t" },
        })))
        .expect("apply");
    draft
}

#[test]
fn masks_keep_stored_values_and_drop_unknown_ones() {
    let mut draft = stored();
    draft
        .apply(&body(json!({
            "api_key": "***",
            "headers": { "X-One": "***", "X-New": "new", "X-Ghost": "***" },
            "unknown": 1,
        })))
        .expect("apply");
    assert_eq!(draft.credentials.api_key, "key-1");
    assert_eq!(
        draft.credentials.headers.get("X-One").map(String::as_str),
        Some("one")
    );
    assert_eq!(
        draft.credentials.headers.get("X-New").map(String::as_str),
        Some("new")
    );
    assert!(
        !draft.credentials.headers.contains_key("X-Two"),
        "headers are replaced"
    );
    assert!(
        !draft.credentials.headers.contains_key("X-Ghost"),
        "nothing stored to keep"
    );
    assert_eq!(
        draft.credentials.env.get("TOKEN").map(String::as_str),
        Some("t")
    );
    draft
        .apply(&body(json!({ "api_key": "key-2" })))
        .expect("apply");
    assert_eq!(draft.credentials.api_key, "key-2");
}

#[test]
fn checks_refuse_bad_fields() {
    for bad in [
        json!({ "args": "not a list" }),
        json!({ "timeout_sec": "60" }),
        json!({ "enabled": "yes" }),
        json!({ "headers": { "X": 1 } }),
        json!({ "settings": [] }),
    ] {
        assert!(Draft::new().apply(&body(bad.clone())).is_err(), "{bad}");
    }
    let mut draft = stored();
    assert!(draft.check().is_ok());
    draft.name = "Not A Slug".into();
    assert!(draft.check().is_err());
    let mut draft = stored();
    draft.timeout_sec = 0;
    assert!(draft.check_settings().is_err());
    let mut draft = stored();
    draft
        .credentials
        .headers
        .insert("X".into(), "a\r\nB: c".into());
    assert!(draft.check_settings().is_err());
}

#[test]
fn the_view_masks_every_secret() {
    let draft = stored();
    let server = draft.as_server(goclaw_core::MASTER_TENANT_ID);
    let view = server_view(&server, &draft.credentials);
    assert_eq!(view["api_key"], "***");
    assert_eq!(view["headers"], json!({ "X-One": "***", "X-Two": "***" }));
    assert_eq!(view["env"], json!({ "TOKEN": "***" }));
    let text = view.to_string();
    for secret in ["key-1", "\"one\"", "\"two\"", "\"t\""] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    let bare = server_view(&server, &goclaw_tools::mcp::McpCredentials::default());
    assert!(bare.get("api_key").is_none());
}
