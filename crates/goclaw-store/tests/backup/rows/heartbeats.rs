//! Rows of `agent_heartbeats` and `heartbeat_run_logs` for the round trip: every optional
//! column set on one heartbeat, a JSON `metadata`, a suppressed and a skipped run, inserted
//! with raw SQL.

use goclaw_store::testing::TestDatabase;

use super::{ACME, ACME_AGENT, V, insert};

const HEARTBEAT: &str = "0193a5b0-7000-7000-8000-0000000000d1";

/// Acme's agent's heartbeat and two of its runs; `t` is their time.
pub async fn fill(db: &TestDatabase, t: &str) {
    use V::*;
    insert(
        db,
        "agent_heartbeats",
        &[
            ("id", Uuid(HEARTBEAT)),
            ("tenant_id", Uuid(ACME)),
            ("agent_id", Uuid(ACME_AGENT)),
            ("enabled", Bool(true)),
            ("interval_sec", Int(900)),
            ("prompt", Text("Check the queue ✨")),
            ("provider_id", Uuid("0193a5b0-7000-7000-8000-0000000000d9")),
            ("model", Text("gpt-test")),
            ("isolated_session", Bool(false)),
            ("light_context", Bool(true)),
            ("ack_max_chars", Int(120)),
            ("max_retries", Int(4)),
            ("active_hours_start", Text("22:00")),
            ("active_hours_end", Text("06:00")),
            ("timezone", Text("Asia/Tokyo")),
            ("channel", Text("telegram")),
            ("chat_id", Text("4711")),
            ("next_run_at", Time(t)),
            ("last_run_at", Time(t)),
            ("last_status", Text("suppressed")),
            ("last_error", Null),
            ("run_count", Int(7)),
            ("suppress_count", Int(5)),
            ("metadata", Json(r#"{"note": "kept"}"#)),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
    for (id, status, skip_reason) in [
        ("0193a5b0-7000-7000-8000-0000000000d2", "suppressed", Null),
        (
            "0193a5b0-7000-7000-8000-0000000000d3",
            "skipped",
            Text("active_hours"),
        ),
    ] {
        insert(
            db,
            "heartbeat_run_logs",
            &[
                ("id", Uuid(id)),
                ("heartbeat_id", Uuid(HEARTBEAT)),
                ("tenant_id", Uuid(ACME)),
                ("agent_id", Uuid(ACME_AGENT)),
                ("status", Text(status)),
                ("summary", Text("HEARTBEAT_OK")),
                ("duration_ms", Int(1_250)),
                ("input_tokens", Int(80)),
                ("output_tokens", Int(4)),
                ("skip_reason", skip_reason),
                ("ran_at", Time(t)),
                ("created_at", Time(t)),
            ],
        )
        .await;
    }
}
