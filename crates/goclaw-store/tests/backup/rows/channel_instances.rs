//! Rows of `channel_instances` for the round trip: a text list, a NULL agent and credentials,
//! JSON settings, booleans and timestamps, inserted with raw SQL.

use goclaw_store::testing::TestDatabase;

use super::{ACME, ACME_AGENT, V, insert};

/// One enabled instance of Acme's agent with credentials, one disabled without either;
/// `t` is their time.
pub async fn fill(db: &TestDatabase, t: &str) {
    use V::*;
    insert(
        db,
        "channel_instances",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000f1")),
            ("tenant_id", Uuid(ACME)),
            ("name", Text("support-bot")),
            ("display_name", Text("Support ✨")),
            ("channel_type", Text("telegram")),
            ("agent_id", Uuid(ACME_AGENT)),
            ("encrypted_credentials", Text("aes-gcm:Y3JlZGVudGlhbHM=")),
            ("credential_keys", List(&["token", "webhook_secret"])),
            (
                "config",
                Json(r#"{"dm_policy": "pairing", "allow_from": ["42"]}"#),
            ),
            ("enabled", Bool(true)),
            ("created_by", Text("admin")),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "channel_instances",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000f2")),
            ("tenant_id", Uuid(ACME)),
            ("name", Text("slack/default")),
            ("channel_type", Text("slack")),
            ("agent_id", Null),
            ("encrypted_credentials", Null),
            ("credential_keys", List(&[])),
            ("enabled", Bool(false)),
        ],
    )
    .await;
}
