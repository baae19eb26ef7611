//! Claims on both engines: each due time claimed once, a disabled job never, a missed job
//! once and then on from now, an `at` job once; twenty claimers of one due time, and
//! gateways with their own pools, racing with one winner; a claimed run found by a gateway
//! opened after the claimer stopped.

use std::sync::Arc;

use chrono::{TimeDelta, Utc};
use goclaw_core::cron::{claim_due, to_millis};
use goclaw_core::{CronClaim, CronRunStatus, CronSchedule, MASTER_TENANT_ID, NewCronJob, Store};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use tokio::sync::Barrier;
use uuid::Uuid;

use super::{OTHER_TENANT, agent, create, every_minute};

store_test!(due_jobs_are_claimed_once_per_due_time, |store: Arc<
    dyn Store,
>| async move {
    let cron = store.cron();
    let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
    let t0 = to_millis(Utc::now()) - TimeDelta::hours(1);
    let a = create(
        store.as_ref(),
        every_minute(MASTER_TENANT_ID, alpha.id, "a", t0),
    )
    .await;
    let b = create(
        store.as_ref(),
        every_minute(MASTER_TENANT_ID, alpha.id, "b", t0 + TimeDelta::seconds(30)),
    )
    .await;
    let mut disabled = every_minute(MASTER_TENANT_ID, alpha.id, "off", t0);
    disabled.enabled = false;
    let off = create(store.as_ref(), disabled).await;

    // Before anything is due, nothing is claimed.
    assert!(
        claim_due(cron, t0 + TimeDelta::seconds(59), 10, "UTC")
            .await
            .expect("claim")
            .is_empty()
    );
    // At t0 + 60 s only `a` is due.
    let now = t0 + TimeDelta::seconds(60);
    let claimed = claim_due(cron, now, 10, "UTC").await.expect("claim");
    let ids: Vec<Uuid> = claimed.iter().map(|(job, _)| job.id).collect();
    assert_eq!(ids, [a.id]);
    let (_, run) = &claimed[0];
    assert_eq!(
        (run.status, run.due_at, run.started_at),
        (CronRunStatus::Running, now, now)
    );
    assert_eq!(
        (run.job_id, run.agent_id, run.tenant_id),
        (a.id, alpha.id, MASTER_TENANT_ID)
    );
    let a_now = cron.get(MASTER_TENANT_ID, a.id).await.expect("get");
    assert_eq!(a_now.next_run_at, Some(t0 + TimeDelta::seconds(120)));
    assert_eq!(a_now.last_run_at, Some(now));
    // The same instant again claims nothing more.
    assert!(
        claim_due(cron, now, 10, "UTC")
            .await
            .expect("claim")
            .is_empty()
    );
    // A stale claim of the old due time loses.
    let stale = cron
        .claim(CronClaim {
            job_id: a.id,
            due_at: now,
            next_run_at: None,
            now,
        })
        .await
        .expect("claim");
    assert!(stale.is_none());

    // Ten hours missed: each job fires once, then continues from now on its periods.
    let late = t0 + TimeDelta::hours(10) + TimeDelta::seconds(5);
    let claimed = claim_due(cron, late, 10, "UTC").await.expect("claim");
    let mut ids: Vec<Uuid> = claimed.iter().map(|(job, _)| job.id).collect();
    ids.sort();
    let mut expected = vec![a.id, b.id];
    expected.sort();
    assert_eq!(ids, expected);
    assert!(
        claim_due(cron, late, 10, "UTC")
            .await
            .expect("claim")
            .is_empty()
    );
    let a_now = cron.get(MASTER_TENANT_ID, a.id).await.expect("get");
    assert_eq!(
        a_now.next_run_at,
        Some(t0 + TimeDelta::hours(10) + TimeDelta::seconds(60))
    );
    let b_now = cron.get(MASTER_TENANT_ID, b.id).await.expect("get");
    assert_eq!(
        b_now.next_run_at,
        Some(t0 + TimeDelta::hours(10) + TimeDelta::seconds(30))
    );

    // The disabled job, long due, is never claimed, not even directly.
    let direct = cron
        .claim(CronClaim {
            job_id: off.id,
            due_at: off.next_run_at.expect("due"),
            next_run_at: None,
            now: late,
        })
        .await
        .expect("claim");
    assert!(direct.is_none());
    let (runs, total) = cron
        .runs(MASTER_TENANT_ID, off.id, 10, 0)
        .await
        .expect("runs");
    assert_eq!((runs.len(), total), (0, 0));
    // `limit` bounds one pass.
    let after = t0 + TimeDelta::hours(20);
    assert_eq!(
        claim_due(cron, after, 1, "UTC").await.expect("claim").len(),
        1
    );
    assert_eq!(
        claim_due(cron, after, 1, "UTC").await.expect("claim").len(),
        1
    );
    assert!(
        claim_due(cron, after, 1, "UTC")
            .await
            .expect("claim")
            .is_empty()
    );

    // An `at` job fires once and is not due again.
    let at = create(
        store.as_ref(),
        NewCronJob::new(
            MASTER_TENANT_ID,
            alpha.id,
            "once",
            CronSchedule::At {
                at_ms: (after + TimeDelta::seconds(1)).timestamp_millis(),
            },
            "m",
            after,
            "",
        )
        .expect("valid"),
    )
    .await;
    let later = after + TimeDelta::minutes(5);
    let claimed = claim_due(cron, later, 10, "UTC").await.expect("claim");
    assert!(claimed.iter().any(|(job, _)| job.id == at.id));
    let at_now = cron.get(MASTER_TENANT_ID, at.id).await.expect("get");
    assert_eq!(at_now.next_run_at, None);
    assert!(
        claim_due(cron, later + TimeDelta::days(1), 10, "UTC")
            .await
            .expect("claim")
            .iter()
            .all(|(job, _)| job.id != at.id)
    );
});

store_test!(
    twenty_claimers_of_one_due_time_have_one_winner,
    |store: Arc<dyn Store>| async move {
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let t0 = to_millis(Utc::now()) - TimeDelta::days(1);
        let job = create(
            store.as_ref(),
            every_minute(MASTER_TENANT_ID, alpha.id, "race", t0),
        )
        .await;
        for round in 1..=20i64 {
            let now = t0 + TimeDelta::minutes(round);
            // Half the claimers go through `claim_due`, half claim the due time they read
            // directly; all start together.
            let start = Arc::new(Barrier::new(20));
            let mut racers = Vec::new();
            for racer in 0..20 {
                let store = Arc::clone(&store);
                let start = Arc::clone(&start);
                racers.push(tokio::spawn(async move {
                    start.wait().await;
                    if racer % 2 == 0 {
                        return claim_due(store.cron(), now, 10, "UTC")
                            .await
                            .expect("claim")
                            .len();
                    }
                    let claim = CronClaim {
                        job_id: job.id,
                        due_at: now,
                        next_run_at: Some(now + TimeDelta::minutes(1)),
                        now,
                    };
                    let won = store.cron().claim(claim).await.expect("claim");
                    usize::from(won.is_some())
                }));
            }
            let mut won = 0;
            for racer in racers {
                won += racer.await.expect("racer");
            }
            assert_eq!(won, 1, "round {round}");
            let after = store
                .cron()
                .get(MASTER_TENANT_ID, job.id)
                .await
                .expect("get");
            assert_eq!(
                after.next_run_at,
                Some(now + TimeDelta::minutes(1)),
                "round {round}"
            );
        }
        let (_, total) = store
            .cron()
            .runs(MASTER_TENANT_ID, job.id, 1, 0)
            .await
            .expect("runs");
        assert_eq!(total, 20);
    }
);

database_test!(
    gateways_on_one_database_claim_each_due_time_once,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let t0 = to_millis(Utc::now()) - TimeDelta::days(1);
        let job = create(
            store.as_ref(),
            every_minute(MASTER_TENANT_ID, alpha.id, "shared", t0),
        )
        .await;
        // Two more stores with their own connections, as two more gateways would open them.
        let mut gateways = vec![store];
        for _ in 0..2 {
            let opened = goclaw_store::open(db.options())
                .await
                .expect("opening the database again");
            gateways.push(opened.store());
        }
        for round in 1..=10i64 {
            let now = t0 + TimeDelta::minutes(round);
            let start = Arc::new(Barrier::new(12));
            let mut racers = Vec::new();
            for racer in 0..12 {
                let store = Arc::clone(&gateways[racer % gateways.len()]);
                let start = Arc::clone(&start);
                racers.push(tokio::spawn(async move {
                    start.wait().await;
                    claim_due(store.cron(), now, 10, "UTC")
                        .await
                        .expect("claim")
                        .len()
                }));
            }
            let mut won = 0;
            for racer in racers {
                won += racer.await.expect("racer");
            }
            assert_eq!(won, 1, "round {round}");
        }
        // A gateway that claimed and stopped leaves its run for the next one to find.
        let now = t0 + TimeDelta::minutes(11);
        let opened = goclaw_store::open(db.options()).await.expect("open");
        let claimed = claim_due(opened.store().cron(), now, 10, "UTC")
            .await
            .expect("claim");
        assert_eq!(claimed.len(), 1);
        opened.close().await;
        let restarted = goclaw_store::open(db.options()).await.expect("open");
        let running = restarted
            .store()
            .cron()
            .running(now + TimeDelta::seconds(1))
            .await
            .expect("running");
        let ids: Vec<Uuid> = running.iter().map(|r| r.id).collect();
        assert!(ids.contains(&claimed[0].1.id), "{ids:?}");
        assert!(running.iter().all(|r| r.job_id == job.id));
        assert_eq!(running.len(), 11);
    }
);
