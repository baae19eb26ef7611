//! Rows of `webhooks` and `webhook_calls` for the round trip: text lists, a NULL uuid,
//! booleans, JSON payloads and every timestamp kind, inserted with raw SQL.

use goclaw_store::testing::TestDatabase;

use super::{ACME, ACME_AGENT, V, insert};

const WEBHOOK: &str = "0193a5b0-7000-7000-8000-0000000000e5";

/// One revoked webhook of Acme's agent and one finished call of it; `t` is their time.
pub async fn fill(db: &TestDatabase, t: &str) {
    use V::*;
    insert(
        db,
        "webhooks",
        &[
            ("id", Uuid(WEBHOOK)),
            ("tenant_id", Uuid(ACME)),
            ("agent_id", Uuid(ACME_AGENT)),
            ("name", Text("CI ✨")),
            ("kind", Text("llm")),
            ("secret_prefix", Text("wh_ab12c")),
            ("secret_hash", Text(&"c".repeat(64))),
            ("encrypted_secret", Text("aes-gcm:d2ViaG9vaw==")),
            ("scopes", List(&["webhooks.llm"])),
            ("channel_id", Null),
            ("rate_limit_per_min", Int(0)),
            ("ip_allowlist", List(&["10.0.0.0/8", "::1"])),
            ("require_hmac", Bool(true)),
            ("revoked", Bool(true)),
            ("last_used_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "webhook_calls",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000e6")),
            ("tenant_id", Uuid(ACME)),
            ("webhook_id", Uuid(WEBHOOK)),
            ("agent_id", Uuid(ACME_AGENT)),
            ("idempotency_key", Text("req-1")),
            ("mode", Text("async")),
            ("callback_url", Text("https://example.com/hook?a=1&b=2")),
            ("status", Text("dead")),
            ("attempts", Int(5)),
            ("delivery_id", Uuid("0193a5b0-7000-4000-8000-0000000000e7")),
            ("next_attempt_at", Null),
            ("completed_at", Time(t)),
            (
                "request_payload",
                Json(r#"{"body_hash": "ab", "meta": {"n": 1}}"#),
            ),
            ("response", Json(r#"{"output": "héllo"}"#)),
            ("last_error", Text("502 Bad Gateway")),
        ],
    )
    .await;
}
