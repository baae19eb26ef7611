//! Heartbeats on both engines: every field stored and read back, the upsert keeping the run
//! state, creation only for a live agent of the tenant, tenant isolation, due slots claimed
//! once by any number of claimers, run logs (counts, skips that count nothing, newest-first
//! pages) and deletion of the agent taking the heartbeat and its runs along.

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};
use goclaw_core::{
    Agent, AgentKey, HeartbeatConfig, HeartbeatStatus, MASTER_TENANT_ID, NewAgent, NewHeartbeatRun,
    Store, StoreError, TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use uuid::Uuid;

const OTHER_TENANT: &str = "0193a5b0-7000-7000-8000-0000000000c0";

fn other_tenant() -> TenantId {
    OTHER_TENANT.parse().expect("tenant id")
}

fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .expect("test time")
        .with_timezone(&Utc)
}

async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> Agent {
    let key = AgentKey::parse(key).expect("agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
}

fn enabled() -> HeartbeatConfig {
    HeartbeatConfig {
        enabled: true,
        ..HeartbeatConfig::default()
    }
}

fn run(heartbeat: Uuid, status: HeartbeatStatus, at: DateTime<Utc>) -> NewHeartbeatRun {
    NewHeartbeatRun {
        heartbeat_id: heartbeat,
        status,
        summary: None,
        error: None,
        duration_ms: Some(10),
        input_tokens: 0,
        output_tokens: 0,
        skip_reason: None,
        ran_at: at,
    }
}

store_test!(every_field_is_stored_and_read_back, |store: Arc<
    dyn Store,
>| async move {
    let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
    let heartbeats = store.heartbeats();
    assert_eq!(
        heartbeats
            .get(MASTER_TENANT_ID, alpha.id)
            .await
            .expect("get"),
        None
    );
    let config = HeartbeatConfig {
        enabled: true,
        interval_sec: 900,
        prompt: Some("Look around ✨".to_owned()),
        provider_id: Some(Uuid::now_v7()),
        model: Some("gpt-test".to_owned()),
        isolated_session: false,
        light_context: true,
        ack_max_chars: 50,
        max_retries: 7,
        active_hours_start: Some("22:00".to_owned()),
        active_hours_end: Some("06:00".to_owned()),
        timezone: Some("Asia/Tokyo".to_owned()),
        channel: Some("telegram".to_owned()),
        chat_id: Some("4242".to_owned()),
    };
    let next = utc("2030-01-07T00:15:00.123Z");
    let created = heartbeats
        .upsert(MASTER_TENANT_ID, alpha.id, &config, Some(next))
        .await
        .expect("upsert");
    assert_eq!(created.config, config);
    assert_eq!(
        (created.tenant_id, created.agent_id),
        (MASTER_TENANT_ID, alpha.id)
    );
    assert_eq!(created.next_run_at, Some(next));
    assert_eq!(
        (
            created.run_count,
            created.suppress_count,
            &created.last_status
        ),
        (0, 0, &None)
    );
    let read = heartbeats
        .get(MASTER_TENANT_ID, alpha.id)
        .await
        .expect("get")
        .expect("a heartbeat");
    assert_eq!(read, created);

    // A run, then a new setting: the run state stays, the settings and slot change.
    heartbeats
        .record_run(run(created.id, HeartbeatStatus::Suppressed, next))
        .await
        .expect("run");
    let cleared = HeartbeatConfig::default();
    let updated = heartbeats
        .upsert(MASTER_TENANT_ID, alpha.id, &cleared, None)
        .await
        .expect("update");
    assert_eq!(updated.id, created.id, "one heartbeat per agent");
    assert_eq!(updated.config, cleared);
    assert_eq!(updated.next_run_at, None);
    assert_eq!((updated.run_count, updated.suppress_count), (1, 1));
    assert_eq!(updated.last_status.as_deref(), Some("suppressed"));
    assert_eq!(updated.last_run_at, Some(next));
});

database_test!(
    heartbeats_belong_to_a_live_agent_of_their_tenant,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let theirs = agent(store.as_ref(), other_tenant(), "theirs").await;
        let heartbeats = store.heartbeats();
        // Another tenant's agent can neither be given a heartbeat nor read.
        let across = heartbeats
            .upsert(MASTER_TENANT_ID, theirs.id, &enabled(), None)
            .await;
        assert!(
            matches!(across, Err(StoreError::NotFound("agent"))),
            "{across:?}"
        );
        heartbeats
            .upsert(other_tenant(), theirs.id, &enabled(), None)
            .await
            .expect("their own");
        assert_eq!(
            heartbeats
                .get(MASTER_TENANT_ID, theirs.id)
                .await
                .expect("get"),
            None
        );
        let (runs, total) = heartbeats
            .runs(MASTER_TENANT_ID, theirs.id, 10, 0)
            .await
            .expect("runs");
        assert!(runs.is_empty() && total == 0);

        // Deleting the agent deletes its heartbeat and runs; a deleted agent gets none.
        let mine = heartbeats
            .upsert(MASTER_TENANT_ID, alpha.id, &enabled(), None)
            .await
            .expect("mine");
        heartbeats
            .record_run(run(mine.id, HeartbeatStatus::Ok, Utc::now()))
            .await
            .expect("run");
        store
            .agents()
            .delete(MASTER_TENANT_ID, &alpha.agent_key)
            .await
            .expect("delete agent");
        assert_eq!(
            heartbeats
                .get(MASTER_TENANT_ID, alpha.id)
                .await
                .expect("get"),
            None
        );
        let again = heartbeats
            .upsert(MASTER_TENANT_ID, alpha.id, &enabled(), None)
            .await;
        assert!(
            matches!(again, Err(StoreError::NotFound("agent"))),
            "{again:?}"
        );
        let gone = heartbeats
            .record_run(run(mine.id, HeartbeatStatus::Ok, Utc::now()))
            .await;
        assert!(
            matches!(gone, Err(StoreError::NotFound("heartbeat"))),
            "{gone:?}"
        );
    }
);

store_test!(
    a_due_slot_is_claimed_once,
    |store: Arc<dyn Store>| async move {
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let beta = agent(store.as_ref(), MASTER_TENANT_ID, "beta").await;
        let heartbeats = store.heartbeats();
        let slot = utc("2030-01-07T00:30:00.250Z");
        let hb = heartbeats
            .upsert(MASTER_TENANT_ID, alpha.id, &enabled(), Some(slot))
            .await
            .expect("alpha");
        // Disabled ones and later ones are not due.
        let off = HeartbeatConfig::default();
        heartbeats
            .upsert(MASTER_TENANT_ID, beta.id, &off, Some(slot))
            .await
            .expect("beta");
        let early = heartbeats
            .due(slot - TimeDelta::milliseconds(1), 10)
            .await
            .expect("due");
        assert!(early.is_empty(), "{early:?}");
        let due = heartbeats.due(slot, 10).await.expect("due");
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].id, hb.id);
        assert_eq!(
            due[0].next_run_at,
            Some(slot),
            "read back to the millisecond"
        );

        // Twenty claimers of the slot: one wins.
        let next = slot + TimeDelta::minutes(30);
        let mut claimers = Vec::new();
        for _ in 0..20 {
            let store = store.clone();
            claimers.push(tokio::spawn(async move {
                store.heartbeats().claim(hb.id, slot, next).await
            }));
        }
        let mut won = 0;
        for claimer in claimers {
            if claimer.await.expect("joined").expect("claim") {
                won += 1;
            }
        }
        assert_eq!(won, 1);
        let read = heartbeats
            .get(MASTER_TENANT_ID, alpha.id)
            .await
            .expect("get")
            .expect("heartbeat");
        assert_eq!(read.next_run_at, Some(next));
        assert!(heartbeats.due(slot, 10).await.expect("due").is_empty());
        // A disabled heartbeat cannot be claimed.
        heartbeats
            .upsert(MASTER_TENANT_ID, alpha.id, &off, Some(next))
            .await
            .expect("disable");
        assert!(!heartbeats.claim(hb.id, next, next).await.expect("claim"));
    }
);

store_test!(
    runs_are_counted_and_paged,
    |store: Arc<dyn Store>| async move {
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let heartbeats = store.heartbeats();
        let hb = heartbeats
            .upsert(MASTER_TENANT_ID, alpha.id, &enabled(), None)
            .await
            .expect("heartbeat");
        let t = utc("2030-01-07T00:00:00Z");
        let statuses = [
            HeartbeatStatus::Ok,
            HeartbeatStatus::Suppressed,
            HeartbeatStatus::Skipped,
            HeartbeatStatus::Suppressed,
            HeartbeatStatus::Error,
        ];
        for (n, status) in statuses.into_iter().enumerate() {
            let mut new = run(hb.id, status, t + TimeDelta::minutes(n as i64));
            if status == HeartbeatStatus::Skipped {
                new.skip_reason = Some("active_hours".to_owned());
                new.duration_ms = None;
            }
            if status == HeartbeatStatus::Error {
                new.error = Some("provider down".to_owned());
            }
            if status == HeartbeatStatus::Ok {
                new.summary = Some("Disk almost full".to_owned());
                new.input_tokens = 120;
                new.output_tokens = 9;
            }
            let recorded = heartbeats.record_run(new.clone()).await.expect("record");
            assert_eq!(
                (recorded.status, &recorded.summary, &recorded.skip_reason),
                (new.status, &new.summary, &new.skip_reason)
            );
            assert_eq!(
                (recorded.tenant_id, recorded.agent_id, recorded.ran_at),
                (MASTER_TENANT_ID, alpha.id, new.ran_at)
            );
        }
        let read = heartbeats
            .get(MASTER_TENANT_ID, alpha.id)
            .await
            .expect("get")
            .expect("heartbeat");
        // The skip counts nothing; the last status is the error's.
        assert_eq!((read.run_count, read.suppress_count), (4, 2));
        assert_eq!(read.last_status.as_deref(), Some("error"));
        assert_eq!(read.last_error.as_deref(), Some("provider down"));
        assert_eq!(read.last_run_at, Some(t + TimeDelta::minutes(4)));

        let (page, total) = heartbeats
            .runs(MASTER_TENANT_ID, alpha.id, 2, 0)
            .await
            .expect("page");
        assert_eq!(total, 5);
        let kinds: Vec<HeartbeatStatus> = page.iter().map(|r| r.status).collect();
        assert_eq!(
            kinds,
            [HeartbeatStatus::Error, HeartbeatStatus::Suppressed],
            "newest first"
        );
        let (page, _) = heartbeats
            .runs(MASTER_TENANT_ID, alpha.id, 2, 2)
            .await
            .expect("page");
        assert_eq!(page[0].status, HeartbeatStatus::Skipped);
        assert_eq!(page[0].skip_reason.as_deref(), Some("active_hours"));
        assert_eq!(page[1].input_tokens, 0);
        let (page, _) = heartbeats
            .runs(MASTER_TENANT_ID, alpha.id, 0, 4)
            .await
            .expect("page");
        assert_eq!(page.len(), 1);
        assert_eq!((page[0].input_tokens, page[0].output_tokens), (120, 9));
    }
);
