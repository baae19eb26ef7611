//! Restarts: a run a stopped gateway left `running` (claimed in the store as a gateway that
//! died mid-run would have) is marked interrupted at the next start and never run again; no
//! due time that ran before the restart runs again after it; a job that missed several periods
//! while the gateway was down fires once.

use chrono::TimeDelta;
use goclaw_core::{CronClaim, MASTER_TENANT_ID};
use goclaw_testkit::Reply;
use serde_json::json;

use super::{clocked, create, finished_runs, t0};

cron_test!(
    a_restart_interrupts_the_cut_off_run_and_repeats_nothing,
    |backend| async move {
        let Some((mut app, clock)) = clocked(backend, "{}", &[], t0()).await else {
            return;
        };
        let mut ws = app.ws_connect("planner").await;
        let every_minute = create(
            &mut ws,
            json!({ "name": "a", "schedule": { "kind": "every", "everyMs": 60_000 }, "message": "a" }),
        )
        .await;
        let every_two = create(
            &mut ws,
            json!({ "name": "b", "schedule": { "kind": "every", "everyMs": 120_000 }, "message": "b" }),
        )
        .await;
        let a = every_minute["id"].as_str().expect("id").to_owned();
        let b = every_two["id"].as_str().expect("id").to_owned();

        app.llm.push(Reply::text("a at one minute"));
        clock.set(t0() + TimeDelta::minutes(1));
        finished_runs(&mut ws, &a, 1).await;

        // A gateway that died during b's run at two minutes left this behind.
        let store = app.db.store();
        let b_id = b.parse().expect("uuid");
        let job = store
            .cron()
            .get(MASTER_TENANT_ID, b_id)
            .await
            .expect("job b");
        let due_at = job.next_run_at.expect("b is due");
        assert_eq!(due_at, t0() + TimeDelta::minutes(2));
        let cut_off = store
            .cron()
            .claim(CronClaim {
                job_id: b_id,
                due_at,
                next_run_at: Some(t0() + TimeDelta::minutes(4)),
                now: t0() + TimeDelta::seconds(30),
            })
            .await
            .expect("claim")
            .expect("the claim is won");

        drop(ws);
        app.restart().await;
        let mut ws = app.ws_connect("planner").await;
        let runs = finished_runs(&mut ws, &b, 1).await;
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0]["id"], cut_off.id.to_string());
        assert_eq!(runs[0]["status"], "interrupted", "{runs:?}");
        assert!(
            runs[0]["error"]
                .as_str()
                .is_some_and(|e| e.contains("stopped")),
            "{runs:?}"
        );

        // Four minutes: a missed two periods and fires once; b fires for its next due time.
        app.llm.push(Reply::text("after the restart"));
        app.llm.push(Reply::text("after the restart"));
        clock.set(t0() + TimeDelta::minutes(4));
        let a_runs = finished_runs(&mut ws, &a, 2).await;
        let b_runs = finished_runs(&mut ws, &b, 2).await;
        assert_eq!(
            a_runs.len(),
            2,
            "a ran once before and once after: {a_runs:?}"
        );
        assert_eq!(
            b_runs.len(),
            2,
            "b's cut-off run never ran again: {b_runs:?}"
        );
        assert_eq!(b_runs[0]["status"], "ok");
        assert_eq!(b_runs[1]["status"], "interrupted");
        let listed = ws
            .call_ok("cron.list", json!({ "includeDisabled": true }))
            .await;
        for job in listed["jobs"].as_array().expect("jobs") {
            let next = job["state"]["nextRunAtMs"].as_i64().expect("next run");
            assert!(
                next > (t0() + TimeDelta::minutes(4)).timestamp_millis(),
                "continues from now: {job}"
            );
        }
        // Nothing more runs while the clock stands still.
        app.restart().await;
        let mut ws = app.ws_connect("planner").await;
        let status = ws.call_ok("cron.status", json!({})).await;
        assert_eq!(status["jobs"], 2);
        assert_eq!(finished_runs(&mut ws, &a, 2).await.len(), 2);
        assert_eq!(finished_runs(&mut ws, &b, 2).await.len(), 2);
    }
);
