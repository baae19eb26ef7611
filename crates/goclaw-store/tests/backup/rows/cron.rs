//! Rows of `cron_jobs` and `cron_run_logs` for the round trip: each schedule kind's columns,
//! a JSON payload, booleans, NULL times and a finished run, inserted with raw SQL.

use goclaw_store::testing::TestDatabase;

use super::{ACME, ACME_AGENT, V, insert};

const JOB: &str = "0193a5b0-7000-7000-8000-0000000000c1";

/// A cron job and an `every` job of Acme's agent, and one finished run of the first; `t` is
/// their time.
pub async fn fill(db: &TestDatabase, t: &str) {
    use V::*;
    insert(
        db,
        "cron_jobs",
        &[
            ("id", Uuid(JOB)),
            ("tenant_id", Uuid(ACME)),
            ("agent_id", Uuid(ACME_AGENT)),
            ("user_id", Text("user-1")),
            ("name", Text("morning ✨")),
            ("enabled", Bool(true)),
            ("schedule_kind", Text("cron")),
            ("cron_expression", Text("30 2 * * *")),
            ("timezone", Text("America/New_York")),
            ("anchor_at", Time(t)),
            (
                "payload",
                Json(r#"{"kind": "agent_turn", "message": "good morning"}"#),
            ),
            ("deliver", Bool(true)),
            ("deliver_channel", Text("telegram")),
            ("deliver_to", Text("4711")),
            ("next_run_at", Time(t)),
            ("last_run_at", Time(t)),
            ("last_status", Text("ok")),
            ("created_at", Time(t)),
            ("updated_at", Time(t)),
        ],
    )
    .await;
    insert(
        db,
        "cron_jobs",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000c2")),
            ("tenant_id", Uuid(ACME)),
            ("agent_id", Uuid(ACME_AGENT)),
            ("user_id", Null),
            ("name", Text("often")),
            ("enabled", Bool(false)),
            ("schedule_kind", Text("every")),
            ("interval_ms", Int(90_000)),
            ("anchor_at", Time(t)),
            (
                "payload",
                Json(r#"{"kind": "agent_turn", "message": "tick"}"#),
            ),
            ("next_run_at", Null),
        ],
    )
    .await;
    insert(
        db,
        "cron_run_logs",
        &[
            ("id", Uuid("0193a5b0-7000-7000-8000-0000000000c3")),
            ("job_id", Uuid(JOB)),
            ("tenant_id", Uuid(ACME)),
            ("agent_id", Uuid(ACME_AGENT)),
            ("status", Text("ok")),
            ("due_at", Time(t)),
            ("started_at", Time(t)),
            ("ended_at", Time(t)),
            ("duration_ms", Int(2_500)),
            ("summary", Text("done")),
            ("input_tokens", Int(120)),
            ("output_tokens", Int(30)),
            ("run_id", Text("cron:job")),
            ("session_key", Text("agent:acme:cron:job")),
        ],
    )
    .await;
}
