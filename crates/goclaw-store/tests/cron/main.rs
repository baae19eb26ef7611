//! Cron jobs on both engines: every field stored and read back, names unique per agent,
//! creation inside a tenant and its live agents, tenant isolation, patches and schedule
//! changes, run logs (finishing, unfinished runs found, newest-first pages) and deletion
//! taking the runs along. Claims and their races are in `claims.rs`.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use goclaw_core::cron::{claim_due, to_millis};
use goclaw_core::{
    Agent, AgentId, AgentKey, CronClaim, CronJob, CronJobPatch, CronPayload, CronRunEnd,
    CronRunStatus, CronSchedule, MASTER_TENANT_ID, NewAgent, NewCronJob, ScheduleChange, Store,
    StoreError, TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use uuid::Uuid;

mod claims;

pub const OTHER_TENANT: &str = "0193a5b0-7000-7000-8000-0000000000c0";

fn other_tenant() -> TenantId {
    OTHER_TENANT.parse().expect("tenant id")
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test time")
        .with_timezone(&Utc)
}

/// Creates agent `key` in `tenant`.
pub async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> Agent {
    let key = AgentKey::parse(key).expect("agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
}

/// A job running every minute from `now`.
pub fn every_minute(
    tenant: TenantId,
    agent: AgentId,
    name: &str,
    now: DateTime<Utc>,
) -> NewCronJob {
    NewCronJob::new(
        tenant,
        agent,
        name,
        CronSchedule::Every { every_ms: 60_000 },
        "tick",
        now,
        "UTC",
    )
    .expect("valid schedule")
}

pub async fn create(store: &dyn Store, job: NewCronJob) -> CronJob {
    store.cron().create(job).await.expect("create")
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, entity: &str) {
    assert!(
        matches!(&result, Err(StoreError::NotFound(e)) if *e == entity),
        "expected {entity} not found: {result:?}"
    );
}

fn end(status: CronRunStatus, at: DateTime<Utc>) -> CronRunEnd {
    CronRunEnd {
        status,
        ended_at: at,
        summary: None,
        error: None,
        input_tokens: 0,
        output_tokens: 0,
        run_id: None,
        session_key: None,
    }
}

store_test!(every_field_is_stored_and_read_back, |store: Arc<
    dyn Store,
>| async move {
    let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
    let now = utc("2026-03-07T12:00:00.123Z");
    let mut new = NewCronJob::new(
        MASTER_TENANT_ID,
        alpha.id,
        "morning ✨",
        CronSchedule::Cron {
            expr: "30 2 * * *".to_owned(),
            tz: Some("America/New_York".to_owned()),
        },
        "good morning",
        now,
        "UTC",
    )
    .expect("valid");
    assert_eq!(new.next_run_at, Some(utc("2026-03-08T07:00:00Z")));
    new.user_id = Some("user-1".to_owned());
    new.enabled = false;
    new.payload = CronPayload {
        message: "good morning".to_owned(),
        command: Some("/report".to_owned()),
        credential_user_id: Some("cred-7".to_owned()),
    };
    new.delete_after_run = true;
    new.deliver = true;
    new.deliver_channel = "telegram".to_owned();
    new.deliver_to = "12345".to_owned();
    new.wake_heartbeat = true;
    new.stateless = false;
    let created = create(store.as_ref(), new.clone()).await;
    let read = store
        .cron()
        .get(MASTER_TENANT_ID, created.id)
        .await
        .expect("get");
    assert_eq!(read, created);
    assert_eq!(
        (read.tenant_id, read.agent_id, &read.user_id, &read.name),
        (new.tenant_id, new.agent_id, &new.user_id, &new.name)
    );
    assert_eq!((read.enabled, &read.schedule), (false, &new.schedule));
    assert_eq!(
        (read.anchor_at, read.next_run_at),
        (new.anchor_at, new.next_run_at)
    );
    assert_eq!(read.payload, new.payload);
    assert_eq!(
        (
            read.delete_after_run,
            read.deliver,
            read.wake_heartbeat,
            read.stateless
        ),
        (true, true, true, false)
    );
    assert_eq!(
        (&read.deliver_channel[..], &read.deliver_to[..]),
        ("telegram", "12345")
    );
    assert_eq!(
        (read.last_run_at, read.last_status, &read.last_error),
        (None, None, &None)
    );

    // The other two kinds.
    for (name, schedule) in [
        (
            "once",
            CronSchedule::At {
                at_ms: utc("2026-04-01T00:00:00.5Z").timestamp_millis(),
            },
        ),
        ("often", CronSchedule::Every { every_ms: 1_500 }),
    ] {
        let new = NewCronJob::new(MASTER_TENANT_ID, alpha.id, name, schedule, "m", now, "")
            .expect("valid");
        let created = create(store.as_ref(), new.clone()).await;
        assert_eq!(created.schedule, new.schedule);
        assert_eq!(created.next_run_at, new.next_run_at);
    }
    let listed = store
        .cron()
        .list(MASTER_TENANT_ID, None)
        .await
        .expect("list");
    let names: Vec<&str> = listed.iter().map(|j| j.name.as_str()).collect();
    assert_eq!(names, ["morning ✨", "often", "once"]);
});

database_test!(
    names_are_unique_per_agent_and_creation_needs_a_live_agent,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let now = Utc::now();
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let beta = agent(store.as_ref(), MASTER_TENANT_ID, "beta").await;
        create(
            store.as_ref(),
            every_minute(MASTER_TENANT_ID, alpha.id, "job", now),
        )
        .await;
        let again = store
            .cron()
            .create(every_minute(MASTER_TENANT_ID, alpha.id, "job", now))
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        // Another agent may use the name.
        create(
            store.as_ref(),
            every_minute(MASTER_TENANT_ID, beta.id, "job", now),
        )
        .await;
        // A rename onto a taken name conflicts.
        let other = create(
            store.as_ref(),
            every_minute(MASTER_TENANT_ID, alpha.id, "other", now),
        )
        .await;
        let renamed = store
            .cron()
            .update(
                MASTER_TENANT_ID,
                other.id,
                CronJobPatch {
                    name: Some("job".to_owned()),
                    ..CronJobPatch::default()
                },
            )
            .await;
        assert!(
            matches!(renamed, Err(StoreError::Conflict(_))),
            "{renamed:?}"
        );

        assert_not_found(
            store
                .cron()
                .create(every_minute(TenantId::generate(), alpha.id, "x", now))
                .await,
            "tenant",
        );
        assert_not_found(
            store
                .cron()
                .create(every_minute(
                    MASTER_TENANT_ID,
                    AgentId::generate(),
                    "x",
                    now,
                ))
                .await,
            "agent",
        );
        // Another tenant's agent is not found.
        assert_not_found(
            store
                .cron()
                .create(every_minute(other_tenant(), alpha.id, "x", now))
                .await,
            "agent",
        );
        // Deleting an agent deletes its jobs, and a deleted agent gets none.
        store
            .agents()
            .delete(MASTER_TENANT_ID, &beta.agent_key)
            .await
            .expect("delete agent");
        assert_not_found(
            store
                .cron()
                .create(every_minute(MASTER_TENANT_ID, beta.id, "late", now))
                .await,
            "agent",
        );
        let left = store
            .cron()
            .list(MASTER_TENANT_ID, None)
            .await
            .expect("list");
        assert!(left.iter().all(|j| j.agent_id == alpha.id), "{left:?}");
        assert_eq!(left.len(), 2);
        let by_agent = store
            .cron()
            .list(MASTER_TENANT_ID, Some(alpha.id))
            .await
            .expect("list");
        assert_eq!(by_agent.len(), 2);
        let none = store
            .cron()
            .list(MASTER_TENANT_ID, Some(beta.id))
            .await
            .expect("list");
        assert!(none.is_empty());
    }
);

database_test!(
    tenants_see_and_change_only_their_own_jobs,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let cron = store.cron();
        let now = Utc::now();
        let mine = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let theirs = agent(store.as_ref(), other_tenant(), "alpha").await;
        let job = create(
            store.as_ref(),
            every_minute(MASTER_TENANT_ID, mine.id, "job", now),
        )
        .await;
        create(
            store.as_ref(),
            every_minute(other_tenant(), theirs.id, "job", now),
        )
        .await;

        assert_not_found(cron.get(other_tenant(), job.id).await, "cron job");
        let listed = cron.list(other_tenant(), None).await.expect("list");
        assert!(listed.iter().all(|j| j.tenant_id == other_tenant()));
        assert_eq!(listed.len(), 1);
        assert!(
            cron.list(other_tenant(), Some(mine.id))
                .await
                .expect("list")
                .is_empty()
        );
        let patch = CronJobPatch {
            name: Some("stolen".to_owned()),
            ..CronJobPatch::default()
        };
        assert_not_found(cron.update(other_tenant(), job.id, patch).await, "cron job");
        assert_not_found(
            cron.set_enabled(other_tenant(), job.id, false, None).await,
            "cron job",
        );
        assert_not_found(cron.delete(other_tenant(), job.id).await, "cron job");
        // The job is untouched, and its runs are not another tenant's to read.
        let run = cron
            .claim(CronClaim {
                job_id: job.id,
                due_at: job.next_run_at.expect("due"),
                next_run_at: None,
                now,
            })
            .await
            .expect("claim")
            .expect("won");
        assert_eq!(run.tenant_id, MASTER_TENANT_ID);
        let (runs, total) = cron
            .runs(other_tenant(), job.id, 10, 0)
            .await
            .expect("runs");
        assert_eq!((runs.len(), total), (0, 0));
        let (runs, total) = cron
            .runs(MASTER_TENANT_ID, job.id, 10, 0)
            .await
            .expect("runs");
        assert_eq!((runs.len(), total), (1, 1));
        let kept = cron.get(MASTER_TENANT_ID, job.id).await.expect("get");
        assert_eq!((kept.name.as_str(), kept.enabled), ("job", true));
    }
);

store_test!(
    patches_change_each_field_and_schedules_reanchor,
    |store: Arc<dyn Store>| async move {
        let cron = store.cron();
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let created_at = utc("2026-01-01T00:00:00Z");
        let job = create(
            store.as_ref(),
            every_minute(MASTER_TENANT_ID, alpha.id, "job", created_at),
        )
        .await;
        // 07:59 in Berlin: due at 09:00 there, 08:00Z.
        let changed_at = utc("2026-01-02T06:59:00.777Z");
        let change = ScheduleChange::new(
            CronSchedule::Cron {
                expr: "0 9 * * *".to_owned(),
                tz: Some("Europe/Berlin".to_owned()),
            },
            changed_at,
            "UTC",
        )
        .expect("valid");
        let patch = CronJobPatch {
            name: Some("renamed".to_owned()),
            enabled: Some(false),
            schedule: Some(change.clone()),
            payload: Some(CronPayload {
                message: "new".to_owned(),
                ..CronPayload::default()
            }),
            delete_after_run: Some(true),
            deliver: Some(true),
            deliver_channel: Some("discord".to_owned()),
            deliver_to: Some("room".to_owned()),
            wake_heartbeat: Some(true),
            stateless: Some(false),
        };
        let updated = cron
            .update(MASTER_TENANT_ID, job.id, patch)
            .await
            .expect("update");
        assert_eq!(updated.name, "renamed");
        assert!(!updated.enabled);
        assert_eq!(updated.schedule, change.schedule);
        assert_eq!(updated.anchor_at, changed_at);
        assert_eq!(updated.next_run_at, Some(utc("2026-01-02T08:00:00Z")));
        assert_eq!(updated.payload.message, "new");
        assert!(updated.delete_after_run && updated.deliver && updated.wake_heartbeat);
        assert!(!updated.stateless);
        assert_eq!(
            (&updated.deliver_channel[..], &updated.deliver_to[..]),
            ("discord", "room")
        );
        assert_eq!(updated.created_at, job.created_at);
        // An empty patch changes nothing.
        let same = cron
            .update(MASTER_TENANT_ID, job.id, CronJobPatch::default())
            .await
            .expect("update");
        assert_eq!(
            (same.name, same.schedule, same.next_run_at),
            (updated.name, updated.schedule, updated.next_run_at)
        );
        // Enabling again sets the next due time given.
        let next = utc("2026-01-03T08:00:00Z");
        let enabled = cron
            .set_enabled(MASTER_TENANT_ID, job.id, true, Some(next))
            .await
            .expect("enable");
        assert!(enabled.enabled);
        assert_eq!(enabled.next_run_at, Some(next));
        assert_not_found(
            cron.update(MASTER_TENANT_ID, Uuid::now_v7(), CronJobPatch::default())
                .await,
            "cron job",
        );
    }
);

store_test!(
    runs_are_finished_found_paged_and_deleted_with_their_job,
    |store: Arc<dyn Store>| async move {
        let cron = store.cron();
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let t0 = to_millis(Utc::now()) - TimeDelta::days(1);
        let job = create(
            store.as_ref(),
            every_minute(MASTER_TENANT_ID, alpha.id, "job", t0),
        )
        .await;
        let mut run_ids = Vec::new();
        for k in 1..=5i64 {
            let now = t0 + TimeDelta::minutes(k);
            let claimed = claim_due(cron, now, 10, "UTC").await.expect("claim");
            assert_eq!(claimed.len(), 1);
            run_ids.push(claimed[0].1.id);
        }
        // Every claimed run has its `running` row; those before a time are found.
        let running = cron
            .running(t0 + TimeDelta::minutes(3))
            .await
            .expect("running");
        let found: Vec<Uuid> = running.iter().map(|r| r.id).collect();
        assert_eq!(found, run_ids[..2]);
        assert_eq!(
            cron.running(t0 + TimeDelta::hours(1))
                .await
                .expect("running")
                .len(),
            5
        );

        let first = cron
            .finish_run(
                run_ids[0],
                CronRunEnd {
                    status: CronRunStatus::Ok,
                    ended_at: t0 + TimeDelta::minutes(1) + TimeDelta::milliseconds(2_500),
                    summary: Some("done".to_owned()),
                    error: None,
                    input_tokens: 120,
                    output_tokens: 30,
                    run_id: Some(format!("cron:{}", job.id)),
                    session_key: Some(format!("agent:alpha:cron:{}", job.id)),
                },
            )
            .await
            .expect("finish");
        assert_eq!(first.status, CronRunStatus::Ok);
        assert_eq!(first.duration_ms, Some(2_500));
        assert_eq!((first.input_tokens, first.output_tokens), (120, 30));
        assert_eq!(first.summary.as_deref(), Some("done"));
        assert_eq!(
            first.session_key,
            Some(format!("agent:alpha:cron:{}", job.id))
        );
        // A finished run cannot be finished again.
        assert_not_found(
            cron.finish_run(run_ids[0], end(CronRunStatus::Error, t0))
                .await,
            "cron run",
        );
        let failed = CronRunEnd {
            error: Some("provider down".to_owned()),
            ..end(
                CronRunStatus::Error,
                t0 + TimeDelta::minutes(2) + TimeDelta::seconds(1),
            )
        };
        cron.finish_run(run_ids[1], failed).await.expect("finish");
        let recorded = cron.get(MASTER_TENANT_ID, job.id).await.expect("get");
        assert_eq!(recorded.last_status, Some(CronRunStatus::Error));
        assert_eq!(recorded.last_error.as_deref(), Some("provider down"));
        assert_eq!(
            cron.running(t0 + TimeDelta::hours(1))
                .await
                .expect("running")
                .len(),
            3
        );

        // Pages, newest first.
        let mut pages = Vec::new();
        for offset in [0, 2, 4, 6] {
            let (page, total) = cron
                .runs(MASTER_TENANT_ID, job.id, 2, offset)
                .await
                .expect("runs");
            assert_eq!(total, 5);
            pages.push(page.into_iter().map(|r| r.id).collect::<Vec<_>>());
        }
        let mut newest_first = run_ids.clone();
        newest_first.reverse();
        assert_eq!(pages[0], newest_first[0..2]);
        assert_eq!(pages[1], newest_first[2..4]);
        assert_eq!(pages[2], newest_first[4..5]);
        assert!(pages[3].is_empty());
        let (all, _) = cron
            .runs(MASTER_TENANT_ID, job.id, 0, 0)
            .await
            .expect("runs");
        assert_eq!(all.len(), 5);

        // Deleting the job deletes its runs.
        cron.delete(MASTER_TENANT_ID, job.id).await.expect("delete");
        assert_not_found(cron.get(MASTER_TENANT_ID, job.id).await, "cron job");
        assert_not_found(cron.delete(MASTER_TENANT_ID, job.id).await, "cron job");
        let (runs, total) = cron
            .runs(MASTER_TENANT_ID, job.id, 10, 0)
            .await
            .expect("runs");
        assert_eq!((runs.len(), total), (0, 0));
        assert!(
            cron.running(t0 + TimeDelta::hours(1))
                .await
                .expect("running")
                .is_empty()
        );
        assert_not_found(
            cron.finish_run(run_ids[4], end(CronRunStatus::Ok, t0))
                .await,
            "cron run",
        );
    }
);

store_test!(
    a_manual_run_leaves_the_schedule_and_stays_in_its_tenant,
    |store: Arc<dyn Store>| async move {
        let cron = store.cron();
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let t0 = to_millis(Utc::now());
        let job = create(
            store.as_ref(),
            every_minute(MASTER_TENANT_ID, alpha.id, "job", t0),
        )
        .await;
        let at = t0 + TimeDelta::seconds(7);
        let run = cron
            .start_run(MASTER_TENANT_ID, job.id, at)
            .await
            .expect("manual run");
        assert_eq!(run.status, CronRunStatus::Running);
        assert_eq!((run.due_at, run.started_at), (at, at));
        assert_eq!((run.job_id, run.agent_id), (job.id, alpha.id));
        let after = cron.get(MASTER_TENANT_ID, job.id).await.expect("get");
        assert_eq!(after.next_run_at, job.next_run_at);
        assert_eq!(after.last_run_at, job.last_run_at);
        let (runs, total) = cron
            .runs(MASTER_TENANT_ID, job.id, 10, 0)
            .await
            .expect("runs");
        assert_eq!((runs[0].id, total), (run.id, 1));
        // Another tenant cannot start it, nor a job that does not exist.
        assert_not_found(cron.start_run(other_tenant(), job.id, at).await, "cron job");
        assert_not_found(
            cron.start_run(MASTER_TENANT_ID, Uuid::now_v7(), at).await,
            "cron job",
        );
        let (_, total) = cron
            .runs(MASTER_TENANT_ID, job.id, 10, 0)
            .await
            .expect("runs");
        assert_eq!(total, 1);
    }
);
