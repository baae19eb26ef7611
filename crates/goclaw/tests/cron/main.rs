//! Cron end to end, on both backends, with cron reading a hand-set clock (no test waits for
//! scheduled time to pass): an `every` job fires at each of ten periods; a `cron` expression
//! in New York fires at 08:30 local on both sides of a daylight-saving change; a run cut off by
//! a restart is marked interrupted and never run again, nor is any due time run twice; a
//! failed attempt is retried; with `deliver` the answer reaches a (fake) Telegram chat; with
//! `GOCLAW_LANE_CRON=1` three due jobs run one at a time. The methods' shapes and who may
//! see and do what (owner, two users with bound keys, a viewer) are in `access.rs`.

mod access;

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use goclaw_testkit::{
    FakeTelegram, ManualClock, Reply, StoreBackend, TestApp, WsClient, spawn_app_with_clock,
};
use serde_json::{Value, json};

/// How long a run may take to show up in the run log.
const RUN_DEADLINE: Duration = Duration::from_secs(30);

/// A Monday, far from any daylight-saving change.
pub fn t0() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2030-01-07T00:00:00Z")
        .expect("test time")
        .with_timezone(&Utc)
}

/// Fast retries, so a retried run does not wait seconds.
const FAST_RETRIES: &str = "{ cron: { retry_base_delay: '20ms', retry_max_delay: '50ms' }, gateway: { rate_limit_rpm: 0 } }";

pub async fn clocked(
    backend: StoreBackend,
    config: &str,
    env: &[(&str, &str)],
    start: DateTime<Utc>,
) -> Option<(TestApp, Arc<ManualClock>)> {
    let clock = Arc::new(ManualClock::new(start));
    let app = spawn_app_with_clock(backend, config, env, clock.clone()).await?;
    Some((app, clock))
}

/// Runs `body` on SQLite and PostgreSQL.
macro_rules! cron_test {
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
pub(crate) use cron_test;

/// Creates a job on `ws` and returns it.
pub async fn create(ws: &mut WsClient, params: Value) -> Value {
    let created = ws.call_ok("cron.create", params).await;
    created["job"].clone()
}

/// Waits until the job's run log has `count` finished runs and returns its entries, newest
/// first.
pub async fn finished_runs(ws: &mut WsClient, job: &str, count: usize) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + RUN_DEADLINE;
    loop {
        let runs = ws
            .call_ok("cron.runs", json!({ "jobId": job, "limit": 100 }))
            .await;
        let entries = runs["entries"].as_array().cloned().unwrap_or_default();
        let finished = entries.iter().filter(|e| e["status"] != "running").count();
        if finished >= count {
            return entries;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{count} finished runs of {job} expected, got {runs}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn next_wake(status: &Value) -> Option<DateTime<Utc>> {
    status["nextWakeAtMs"]
        .as_i64()
        .and_then(DateTime::from_timestamp_millis)
}

cron_test!(
    an_every_job_fires_at_each_of_ten_periods,
    |backend| async move {
        let Some((app, clock)) = clocked(backend, "{}", &[], t0()).await else {
            return;
        };
        let mut ws = app.ws_connect("planner").await;
        let job = create(
            &mut ws,
            json!({
                "name": "minutely",
                "schedule": { "kind": "every", "everyMs": 60_000 },
                "message": "report for {{job_name}}",
            }),
        )
        .await;
        let id = job["id"].as_str().expect("job id").to_owned();
        for k in 1..=10i64 {
            let due = t0() + TimeDelta::minutes(k);
            let status = ws.call_ok("cron.status", json!({})).await;
            assert_eq!(next_wake(&status), Some(due), "period {k}: {status}");
            app.llm.push(Reply::text(format!("answer {k}")));
            // A millisecond early nothing is due; at the due time the run starts.
            clock.set(due - TimeDelta::milliseconds(1));
            let listed = ws.call_ok("cron.list", json!({})).await;
            assert_eq!(
                listed["jobs"][0]["state"]["nextRunAtMs"],
                due.timestamp_millis()
            );
            clock.set(due);
            let runs = finished_runs(&mut ws, &id, k as usize).await;
            assert_eq!(
                runs.len(),
                k as usize,
                "exactly one run per period: {runs:?}"
            );
            assert_eq!(runs[0]["status"], "ok", "{runs:?}");
            assert_eq!(runs[0]["summary"], format!("answer {k}"));
            assert_eq!(runs[0]["ts"], due.timestamp_millis());
        }
        // The agent was asked each time, with the job's name filled in.
        let asked = app
            .llm
            .requests()
            .iter()
            .filter(|r| r.body.to_string().contains("report for minutely"))
            .count();
        assert_eq!(asked, 10);
        let listed = ws.call_ok("cron.list", json!({})).await;
        assert_eq!(listed["jobs"][0]["state"]["lastStatus"], "ok");
    }
);

/// The instant `local` (`YYYY-MM-DDTHH:MM`) in New York.
fn new_york(local: &str) -> DateTime<Utc> {
    let naive = chrono::NaiveDateTime::parse_from_str(local, "%Y-%m-%dT%H:%M").expect("local time");
    naive
        .and_local_timezone(chrono_tz::America::New_York)
        .single()
        .expect("an unambiguous local time")
        .with_timezone(&Utc)
}

cron_test!(
    a_cron_expression_keeps_local_time_across_a_dst_change,
    |backend| async move {
        // Daylight saving time starts in New York on 2030-03-10 at 02:00.
        let start = new_york("2030-03-08T00:00");
        let Some((app, clock)) = clocked(backend, "{}", &[], start).await else {
            return;
        };
        let mut ws = app.ws_connect("planner").await;
        let job = create(
            &mut ws,
            json!({
                "name": "morning",
                "schedule": { "kind": "cron", "expr": "30 8 * * *", "tz": "America/New_York" },
                "message": "good morning",
            }),
        )
        .await;
        let id = job["id"].as_str().expect("job id").to_owned();
        let expected = [
            ("2030-03-08T13:30:00Z", "2030-03-08T08:30"),
            ("2030-03-09T13:30:00Z", "2030-03-09T08:30"),
            ("2030-03-10T12:30:00Z", "2030-03-10T08:30"),
            ("2030-03-11T12:30:00Z", "2030-03-11T08:30"),
        ];
        for (n, (utc, local)) in expected.iter().enumerate() {
            let due = new_york(local);
            assert_eq!(due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true), *utc);
            let status = ws.call_ok("cron.status", json!({})).await;
            assert_eq!(next_wake(&status), Some(due), "{local}: {status}");
            app.llm.push(Reply::text(format!("morning {n}")));
            clock.set(due);
            let runs = finished_runs(&mut ws, &id, n + 1).await;
            assert_eq!(runs[0]["ts"], due.timestamp_millis(), "{runs:?}");
        }
    }
);

cron_test!(a_failed_attempt_is_retried, |backend| async move {
    let Some((app, clock)) = clocked(backend, FAST_RETRIES, &[], t0()).await else {
        return;
    };
    let mut ws = app.ws_connect("planner").await;
    let job = create(
        &mut ws,
        json!({
            "name": "flaky",
            "schedule": { "kind": "every", "everyMs": 3_600_000 },
            "message": "try it",
        }),
    )
    .await;
    let id = job["id"].as_str().expect("job id").to_owned();
    app.llm
        .push(Reply::http_error(400, "{\"error\":\"bad request\"}"));
    app.llm.push(Reply::text("second time lucky"));
    clock.set(t0() + TimeDelta::hours(1));
    let runs = finished_runs(&mut ws, &id, 1).await;
    assert_eq!(runs.len(), 1, "one run with two attempts: {runs:?}");
    assert_eq!(runs[0]["status"], "ok", "{runs:?}");
    assert_eq!(runs[0]["summary"], "second time lucky");

    // Every attempt failing ends the run in error, with the last attempt's reason.
    for _ in 0..4 {
        app.llm
            .push(Reply::http_error(400, "{\"error\":\"still bad\"}"));
    }
    clock.set(t0() + TimeDelta::hours(2));
    let runs = finished_runs(&mut ws, &id, 2).await;
    assert_eq!(runs[0]["status"], "error", "{runs:?}");
    assert!(
        runs[0]["error"].as_str().is_some_and(|e| !e.is_empty()),
        "{runs:?}"
    );
    let listed = ws.call_ok("cron.list", json!({})).await;
    assert_eq!(listed["jobs"][0]["state"]["lastStatus"], "error");
});

cron_test!(a_delivered_answer_reaches_the_chat, |backend| async move {
    const BOT: &str = "123456:cron-delivery-token-77aa";
    let telegram = FakeTelegram::start(BOT).await.expect("fake Telegram");
    let config = format!(
        "{{ channels: {{ telegram: {{ api_server: '{}', poll_timeout: 1 }} }} }}",
        telegram.api_server()
    );
    let Some((app, clock)) =
        clocked(backend, &config, &[("GOCLAW_TELEGRAM_TOKEN", BOT)], t0()).await
    else {
        return;
    };
    let mut ws = app.ws_connect("planner").await;
    let job = create(
        &mut ws,
        json!({
            "name": "digest",
            "schedule": { "kind": "at", "atMs": (t0() + TimeDelta::minutes(5)).timestamp_millis() },
            "message": "write the digest",
            "deliver": true,
            "deliverChannel": "telegram",
            "deliverTo": "4242",
        }),
    )
    .await;
    assert_eq!(
        job["deleteAfterRun"], true,
        "a one-off deletes itself: {job}"
    );
    app.llm.push(Reply::text("Today's digest: all quiet."));
    clock.set(t0() + TimeDelta::minutes(5));
    let sent = telegram
        .wait_for_sent(RUN_DEADLINE, |sent| {
            sent.iter().any(|m| m.text.contains("all quiet"))
        })
        .await
        .unwrap_or_else(|sent| panic!("no digest in {sent:?}"));
    let digest = sent
        .iter()
        .find(|m| m.text.contains("all quiet"))
        .expect("the digest");
    assert_eq!(digest.chat_id, "4242");
    // The agent was told where its answer goes.
    let prompt = app
        .llm
        .requests()
        .last()
        .map(|r| r.body.to_string())
        .unwrap_or_default();
    assert!(
        prompt.contains("telegram") && prompt.contains("4242"),
        "{prompt}"
    );
    // Once run, the one-off job is gone.
    let deadline = tokio::time::Instant::now() + RUN_DEADLINE;
    loop {
        let listed = ws
            .call_ok("cron.list", json!({ "includeDisabled": true }))
            .await;
        if listed["jobs"].as_array().is_some_and(Vec::is_empty) {
            break;
        }
        assert!(tokio::time::Instant::now() < deadline, "{listed}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
});

cron_test!(
    one_cron_lane_slot_runs_due_jobs_one_at_a_time,
    |backend| async move {
        let Some((app, clock)) = clocked(backend, "{}", &[("GOCLAW_LANE_CRON", "1")], t0()).await
        else {
            return;
        };
        let mut ws = app.ws_connect("planner").await;
        let mut ids = Vec::new();
        for name in ["first", "second", "third"] {
            let job = create(
                &mut ws,
                json!({
                    "name": name,
                    "schedule": { "kind": "every", "everyMs": 600_000 },
                    "message": format!("job {name}"),
                }),
            )
            .await;
            ids.push(job["id"].as_str().expect("id").to_owned());
        }
        for n in 0..3 {
            app.llm.push(
                Reply::text_in_chunks(format!("slow answer {n}"), 4)
                    .chunk_delay(Duration::from_millis(150)),
            );
        }
        clock.set(t0() + TimeDelta::minutes(10));
        // The runs' own events, in the order the gateway sent them.
        let mut order = Vec::new();
        while order
            .iter()
            .filter(|e: &&String| e.as_str() == "end")
            .count()
            < 3
        {
            ws.pump().await;
            if let Some(frame) = ws.events.pop() {
                match frame["payload"]["type"].as_str() {
                    Some("run.started") => order.push("start".to_owned()),
                    Some("run.completed") | Some("run.failed") => order.push("end".to_owned()),
                    _ => {}
                }
            }
        }
        assert_eq!(
            order,
            ["start", "end", "start", "end", "start", "end"],
            "runs overlapped"
        );
        for id in &ids {
            let runs = finished_runs(&mut ws, id, 1).await;
            assert_eq!(runs[0]["status"], "ok", "{runs:?}");
        }
        // `/metrics` counts the three waits on the cron lane, none on the main lane.
        let metrics = app.get("/metrics").await.text().await.unwrap_or_default();
        let count = |lane: &str| {
            let prefix = format!("goclaw_lane_wait_seconds_count{{lane=\"{lane}\"}} ");
            metrics
                .lines()
                .find_map(|l| l.strip_prefix(&prefix))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        assert_eq!(count("cron"), 3.0, "{metrics}");
        assert_eq!(count("main"), 0.0);
    }
);

mod restart;
