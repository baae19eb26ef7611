//! Rows of `hooks` and `hook_executions` for the round trip: an http hook of Acme with a
//! JSON config and sealed header values, and one execution of it, inserted with raw SQL.

use goclaw_store::testing::TestDatabase;

use super::{ACME, V, insert};

const HOOK: &str = "0193a5b0-7000-7000-8000-0000000000f1";

/// Acme's hook and one execution; `t` is their time.
pub async fn fill(db: &TestDatabase, t: &str) {
    use V::*;
    insert(
        db,
        "hooks",
        &[
            ("id", Uuid(HOOK)),
            ("tenant_id", Uuid(ACME)),
            ("event", Text("pre_tool_use")),
            ("handler_type", Text("http")),
            ("scope", Text("tenant")),
            ("name", Text("Audit ✨")),
            (
                "config",
                Json(r#"{"url": "https://hooks.example.com/a", "headers": {"X-Key": "***"}}"#),
            ),
            ("secrets", Text("aes-gcm:aG9vaw")),
            ("matcher", Text("^exec$")),
            ("timeout_ms", Int(2500)),
            ("on_timeout", Text("block")),
            ("priority", Int(7)),
            ("enabled", Bool(true)),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "hook_executions",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000f2")),
            ("tenant_id", Uuid(ACME)),
            ("hook_id", Uuid(HOOK)),
            ("session_id", Text("agent:helper:ws:alice")),
            ("event", Text("pre_tool_use")),
            ("input_hash", Text("ab")),
            ("decision", Text("block")),
            ("duration_ms", Int(12)),
            ("dedup_key", Text("f1:e1")),
            ("metadata", Json(r#"{"reason": "no"}"#)),
            ("created_at", Time(t)),
        ],
    )
    .await;
}
