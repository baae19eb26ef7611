//! Heartbeats end to end, on both backends, with the loop reading a hand-set clock (no test
//! waits for scheduled time to pass): a heartbeat fires at its slots, an answer with
//! `HEARTBEAT_OK` is suppressed and any other reported; a reported answer reaches a (fake)
//! Telegram chat and a suppressed one does not; runs outside active hours and of an empty
//! checklist are skipped without asking the agent; with `GOCLAW_LANE_CRON=1` a heartbeat
//! waits for a cron job's run (both take the `cron` lane); a cron job with `wakeHeartbeat`
//! runs the heartbeat after it. The methods' shapes and who may see and do what are in
//! `access.rs`.

mod access;
#[path = "../support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use goclaw_testkit::{
    FakeTelegram, ManualClock, Reply, StoreBackend, TestApp, WsClient, spawn_app_with_clock,
};
use serde_json::{Value, json};

/// How long a run may take to show up in the run log.
const RUN_DEADLINE: Duration = Duration::from_secs(30);
pub const TOKEN: &str = "heartbeat-test-token-3f9a1c";

/// A Monday, far from any daylight-saving change.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-07T00:00:00Z")
        .expect("test time")
        .with_timezone(&Utc)
}

pub async fn clocked(
    backend: StoreBackend,
    config: &str,
    env: &[(&str, &str)],
) -> Option<(TestApp, Arc<ManualClock>)> {
    let clock = Arc::new(ManualClock::new(t0()));
    let mut env = env.to_vec();
    env.push(("GOCLAW_GATEWAY_TOKEN", TOKEN));
    let app = spawn_app_with_clock(backend, config, &env, clock.clone()).await?;
    Some((app, clock))
}

/// A connection of the owner (the gateway token).
pub async fn owner(app: &TestApp) -> WsClient {
    let mut ws = WsClient::open(&app.ws_url()).await;
    let hello = ws
        .call_ok("connect", json!({ "token": TOKEN, "user_id": "system" }))
        .await;
    assert_eq!(hello["role"], "owner", "{hello}");
    ws
}

/// Runs `body` on SQLite and PostgreSQL.
macro_rules! heartbeat_test {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                ($body)(goclaw_testkit::StoreBackend::Sqlite).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                ($body)(goclaw_testkit::StoreBackend::Postgres).await;
            }
        }
    };
}
pub(crate) use heartbeat_test;

/// Gives the default agent `checklist` and an enabled heartbeat with `settings`; returns it.
pub async fn configure(ws: &mut WsClient, checklist: &str, settings: Value) -> Value {
    ws.call_ok(
        "heartbeat.checklist.set",
        json!({ "agentId": "default", "content": checklist }),
    )
    .await;
    let mut params = json!({ "agentId": "default", "enabled": true, "intervalSec": 300 });
    if let (Some(params), Value::Object(extra)) = (params.as_object_mut(), settings) {
        params.extend(extra);
    }
    ws.call_ok("heartbeat.set", params).await["heartbeat"].clone()
}

pub fn next_run(heartbeat: &Value) -> DateTime<Utc> {
    heartbeat["nextRunAt"]
        .as_str()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| panic!("no nextRunAt in {heartbeat}"))
}

/// Waits until the default agent's run log holds `count` runs; returns them, newest first.
pub async fn runs(ws: &mut WsClient, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + RUN_DEADLINE;
    loop {
        let logs = ws
            .call_ok(
                "heartbeat.logs",
                json!({ "agentId": "default", "limit": 50 }),
            )
            .await;
        let entries = logs["logs"].as_array().cloned().unwrap_or_default();
        if entries.len() >= count {
            return entries;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} runs expected, got {logs}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn heartbeat_of(ws: &mut WsClient) -> Value {
    ws.call_ok("heartbeat.get", json!({ "agentId": "default" }))
        .await["heartbeat"]
        .clone()
}

/// The `heartbeat` events `ws` was sent, after waiting for one with `action` `last`.
async fn events_until(ws: &mut WsClient, last: &str) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + RUN_DEADLINE;
    let heartbeats = |ws: &WsClient| -> Vec<Value> {
        ws.events
            .iter()
            .filter(|e| e["event"] == "heartbeat")
            .map(|e| e["payload"].clone())
            .collect()
    };
    while !heartbeats(ws).iter().any(|p| p["action"] == last) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {last}: {:?}",
            ws.events
        );
        ws.pump().await;
    }
    heartbeats(ws)
}

heartbeat_test!(
    a_heartbeat_fires_at_its_slots_and_ok_answers_are_suppressed,
    |backend| async move {
        let Some((app, clock)) = clocked(backend, "{}", &[]).await else {
            return;
        };
        let mut ws = owner(&app).await;
        let created = configure(&mut ws, "- Check the disk\n- Check the queue", json!({})).await;
        // The first slot: an interval and a stagger under a tenth of it.
        let first = next_run(&created);
        let stagger = first - (t0() + TimeDelta::seconds(300));
        assert!(
            (TimeDelta::zero()..TimeDelta::seconds(30)).contains(&stagger),
            "{created}"
        );

        app.llm.push(Reply::text("All checks passed. HEARTBEAT_OK"));
        clock.set(first - TimeDelta::milliseconds(1));
        // Nothing is due a millisecond early.
        let logs = ws
            .call_ok("heartbeat.logs", json!({ "agentId": "default" }))
            .await;
        assert_eq!(logs["total"], 0, "{logs}");
        clock.set(first);
        let logged = runs(&mut ws, 1).await;
        assert_eq!(logged[0]["status"], "suppressed", "{logged:?}");
        assert_eq!(logged[0]["summary"], "All checks passed. HEARTBEAT_OK");
        // The agent was given the default prompt and its checklist with the rule.
        let asked = app
            .llm
            .requests()
            .last()
            .map(|r| r.body.to_string())
            .unwrap_or_default();
        for part in [
            "Execute your heartbeat checklist now.",
            "Check the queue",
            "HEARTBEAT_OK",
        ] {
            assert!(asked.contains(part), "{part} not in {asked}");
        }
        let hb = heartbeat_of(&mut ws).await;
        assert_eq!(
            (&hb["runCount"], &hb["suppressCount"], &hb["lastStatus"]),
            (&json!(1), &json!(1), &json!("suppressed")),
            "{hb}"
        );
        let second = next_run(&hb);
        assert_eq!(second, first + TimeDelta::seconds(300), "{hb}");

        // Something to report: `ok` (no chat is set, so it stays in the log).
        app.llm.push(Reply::text("The disk is 95% full."));
        clock.set(second);
        let logged = runs(&mut ws, 2).await;
        assert_eq!(logged[0]["status"], "ok", "{logged:?}");
        let hb = heartbeat_of(&mut ws).await;
        assert_eq!(
            (&hb["runCount"], &hb["suppressCount"]),
            (&json!(2), &json!(1))
        );

        let events = events_until(&mut ws, "ok").await;
        let actions: Vec<&str> = events.iter().filter_map(|e| e["action"].as_str()).collect();
        assert_eq!(
            actions,
            ["running", "suppressed", "running", "ok"],
            "{events:?}"
        );
        let agent_id = hb["agentId"].as_str().expect("agent id");
        assert_eq!(
            events[1],
            json!({ "action": "suppressed", "agentId": agent_id, "agentKey": "default", "status": "suppressed" })
        );
        // Isolated runs leave no session behind.
        let sessions = ws.call_ok("sessions.list", json!({})).await;
        assert!(!sessions.to_string().contains(":heartbeat"), "{sessions}");
    }
);

heartbeat_test!(
    a_reported_answer_reaches_the_chat_and_a_suppressed_one_does_not,
    |backend| async move {
        const BOT: &str = "123456:heartbeat-delivery-token-9c";
        let telegram = FakeTelegram::start(BOT).await.expect("fake Telegram");
        let config = format!(
            "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1 }} }} }}",
            telegram.api_server()
        );
        let Some((app, _clock)) =
            clocked(backend, &config, &[("GOCLAW_TELEGRAM_TOKEN", BOT)]).await
        else {
            return;
        };
        let mut ws = owner(&app).await;
        configure(
            &mut ws,
            "- Look at last night's backup",
            json!({ "channel": "telegram", "chatId": "4242", "isolatedSession": false }),
        )
        .await;
        app.llm.push(Reply::text("HEARTBEAT_OK"));
        ws.call_ok("heartbeat.test", json!({ "agentId": "default" }))
            .await;
        assert_eq!(runs(&mut ws, 1).await[0]["status"], "suppressed");
        app.llm.push(Reply::text("Last night's backup failed."));
        let answer = ws
            .call_ok("heartbeat.test", json!({ "agentId": "default" }))
            .await;
        assert_eq!(answer, json!({ "ok": true }));
        let sent = telegram
            .wait_for_sent(RUN_DEADLINE, |sent| {
                sent.iter().any(|m| m.text.contains("backup failed"))
            })
            .await
            .unwrap_or_else(|sent| panic!("no report in {sent:?}"));
        assert_eq!(sent.len(), 1, "only the report was posted: {sent:?}");
        assert_eq!(sent[0].chat_id, "4242");
        assert_eq!(runs(&mut ws, 2).await[0]["status"], "ok");
        // The agent was told where its answer goes; a shared session keeps the runs.
        let asked = app
            .llm
            .requests()
            .last()
            .map(|r| r.body.to_string())
            .unwrap_or_default();
        assert!(
            asked.contains("4242") && asked.contains("telegram"),
            "{asked}"
        );
        let sessions = ws.call_ok("sessions.list", json!({})).await;
        assert!(
            sessions.to_string().contains("agent:default:heartbeat"),
            "{sessions}"
        );
    }
);

heartbeat_test!(
    runs_outside_active_hours_or_without_a_checklist_are_skipped,
    |backend| async move {
        let Some((app, clock)) = clocked(backend, "{}", &[]).await else {
            return;
        };
        let mut ws = owner(&app).await;
        // 09:00–17:00 in Tokyo is 00:00–08:00 UTC; 18:00–23:00 there is outside.
        let created = configure(
            &mut ws,
            "- Say hello",
            json!({ "activeHoursStart": "18:00", "activeHoursEnd": "23:00", "timezone": "Asia/Tokyo" }),
        )
        .await;
        let first = next_run(&created);
        clock.set(first);
        let logged = runs(&mut ws, 1).await;
        assert_eq!(logged[0]["status"], "skipped", "{logged:?}");
        assert_eq!(logged[0]["skipReason"], "active_hours");
        // The slot moved on all the same.
        let hb = heartbeat_of(&mut ws).await;
        let second = next_run(&hb);
        assert_eq!(second, first + TimeDelta::seconds(300), "{hb}");

        // Inside the hours (they wrap midnight) but with an empty checklist.
        ws.call_ok(
            "heartbeat.set",
            json!({ "agentId": "default", "activeHoursStart": "08:00", "activeHoursEnd": "02:00" }),
        )
        .await;
        ws.call_ok(
            "heartbeat.checklist.set",
            json!({ "agentId": "default", "content": "  \n" }),
        )
        .await;
        clock.set(second);
        let logged = runs(&mut ws, 2).await;
        assert_eq!(logged[0]["status"], "skipped", "{logged:?}");
        assert_eq!(logged[0]["skipReason"], "empty_checklist");
        let events = events_until(&mut ws, "skipped").await;
        assert_eq!(events[0]["reason"], "active_hours", "{events:?}");
        // Skips ask the agent nothing and count no run.
        assert!(app.llm.requests().is_empty());
        let hb = heartbeat_of(&mut ws).await;
        assert_eq!(hb["runCount"], 0, "{hb}");
        assert!(hb.get("lastStatus").is_none(), "{hb}");
    }
);

heartbeat_test!(a_heartbeat_takes_the_cron_lane, |backend| async move {
    let Some((app, clock)) = clocked(backend, "{}", &[("GOCLAW_LANE_CRON", "1")]).await else {
        return;
    };
    let mut ws = owner(&app).await;
    let created = configure(&mut ws, "- Check in", json!({})).await;
    let due = next_run(&created);
    ws.call_ok(
        "cron.create",
        json!({
            "name": "report",
            "agentId": "default",
            "schedule": { "kind": "at", "atMs": due.timestamp_millis() },
            "message": "write the report",
        }),
    )
    .await;
    for n in 0..2 {
        app.llm.push(
            Reply::text_in_chunks(format!("slow answer {n}"), 4)
                .chunk_delay(Duration::from_millis(150)),
        );
    }
    clock.set(due);
    // The runs' own events, in the order the gateway sent them: one at a time.
    let mut order = Vec::new();
    while order.iter().filter(|e: &&&str| **e == "end").count() < 2 {
        ws.pump().await;
        for frame in ws.events.drain(..) {
            match frame["payload"]["type"].as_str() {
                Some("run.started") => order.push("start"),
                Some("run.completed") | Some("run.failed") => order.push("end"),
                _ => {}
            }
        }
    }
    assert_eq!(order, ["start", "end", "start", "end"], "runs overlapped");
    let logged = runs(&mut ws, 1).await;
    assert_eq!(logged[0]["status"], "ok", "{logged:?}");
});

heartbeat_test!(
    a_cron_job_with_wake_heartbeat_runs_the_heartbeat,
    |backend| async move {
        let Some((app, _clock)) = clocked(backend, "{}", &[]).await else {
            return;
        };
        let mut ws = owner(&app).await;
        configure(&mut ws, "- Check in", json!({})).await;
        let job = ws
            .call_ok(
                "cron.create",
                json!({
                    "name": "nudge",
                    "agentId": "default",
                    "schedule": { "kind": "every", "everyMs": 3_600_000 },
                    "message": "nudge",
                    "wakeHeartbeat": true,
                }),
            )
            .await;
        app.llm.push(Reply::text("nudged"));
        app.llm.push(Reply::text("HEARTBEAT_OK"));
        ws.call_ok(
            "cron.run",
            json!({ "jobId": job["job"]["id"], "mode": "force" }),
        )
        .await;
        let logged = runs(&mut ws, 1).await;
        assert_eq!(logged[0]["status"], "suppressed", "{logged:?}");
    }
);
