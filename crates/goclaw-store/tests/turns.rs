//! Turns on both engines: a user message and its turn stored together, idempotency keys unique
//! per tenant and user, runs and single messages ended together with their final message, the
//! turns a restart must look at, and turns going away with their session.

use std::sync::Arc;
use std::time::Duration;

use goclaw_core::{
    MASTER_TENANT_ID, MAX_IDEMPOTENCY_KEY_BYTES, Message, NewMessage, NewTurn, Role, SessionId,
    SessionKey, Store, StoreBackend, StoreError, TenantId, Turn, TurnEnd, TurnStatus,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use uuid::Uuid;

/// Longer than the millisecond resolution of SQLite's timestamps.
const TICK: Duration = Duration::from_millis(15);

const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";

fn acme() -> TenantId {
    ACME.parse().expect("tenant id")
}

/// Runs raw SQL on the database, independently of the code under test.
async fn execute(db: &TestDatabase, sql: &str) {
    match (db.sqlite_pool(), db.postgres_pool()) {
        (Some(pool), _) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        (_, Some(pool)) => sqlx::raw_sql(sql).execute(pool).await.map(|_| ()),
        _ => unreachable!("one of the pools"),
    }
    .expect(sql);
}

/// A migrated database with a second tenant, `acme`, beside the master tenant.
async fn with_acme(db: TestDatabase) -> TestDatabase {
    db.migrator().up(|_, _| {}).await.expect("migrate");
    execute(
        &db,
        &format!("INSERT INTO tenants (id, slug, name) VALUES ('{ACME}', 'acme', 'Acme')"),
    )
    .await;
    db
}

async fn session(store: &dyn Store, tenant: TenantId, key: &str) -> SessionId {
    let key = SessionKey::parse(key).expect("valid session key");
    store
        .sessions()
        .get_or_create(tenant, &key, None, "alice", "ws")
        .await
        .expect("session")
        .id
}

fn new_turn(tenant: TenantId, run: Uuid, user: &str, key: Option<&str>) -> NewTurn {
    NewTurn {
        tenant_id: tenant,
        run_id: run,
        user_id: user.to_owned(),
        idempotency_key: key.map(str::to_owned),
    }
}

async fn accept(store: &dyn Store, session: SessionId, text: &str, turn: NewTurn) -> Turn {
    let (message, turn) = store
        .turns()
        .accept(session, NewMessage::text(Role::User, text), turn)
        .await
        .expect("accept");
    assert_eq!(
        (message.id.as_uuid(), message.seq),
        (turn.message_id, turn.seq)
    );
    turn
}

fn end(status: TurnStatus, error: Option<&str>, reply: Option<&str>) -> TurnEnd {
    TurnEnd {
        status,
        error: error.map(str::to_owned),
        message: reply.map(|text| NewMessage::text(Role::Assistant, text)),
    }
}

async fn transcript(store: &dyn Store, session: SessionId) -> Vec<(i64, String)> {
    store
        .messages()
        .list(session, 0, 1000)
        .await
        .expect("messages")
        .into_iter()
        .map(|m| (m.seq, m.content))
        .collect()
}

/// `(seq, status, error)` of each turn of `run`.
async fn statuses(store: &dyn Store, run: Uuid) -> Vec<(i64, TurnStatus, Option<String>)> {
    store
        .turns()
        .of_run(run)
        .await
        .expect("of_run")
        .into_iter()
        .map(|t| (t.seq, t.status, t.error))
        .collect()
}

store_test!(accept_stores_the_message_and_its_turn, |store: Arc<
    dyn Store,
>| async move {
    let id = session(
        store.as_ref(),
        MASTER_TENANT_ID,
        "agent:default:ws:direct:a",
    )
    .await;
    store
        .messages()
        .append(id, NewMessage::text(Role::System, "earlier"))
        .await
        .expect("append");
    let run = Uuid::now_v7();
    let (message, turn) = store
        .turns()
        .accept(
            id,
            NewMessage::text(Role::User, "hello"),
            new_turn(MASTER_TENANT_ID, run, "alice", Some("req-1")),
        )
        .await
        .expect("accept");
    assert_eq!(
        (message.seq, message.role, message.content.as_str()),
        (2, Role::User, "hello")
    );
    assert_eq!(turn.message_id, message.id.as_uuid());
    assert_eq!(
        (turn.tenant_id, turn.session_id, turn.session_key.as_str()),
        (MASTER_TENANT_ID, id, "agent:default:ws:direct:a")
    );
    assert_eq!((turn.seq, turn.run_id), (2, run));
    assert_eq!(
        (turn.user_id.as_str(), turn.idempotency_key.as_deref()),
        ("alice", Some("req-1"))
    );
    assert_eq!(
        (turn.status, turn.error.as_deref()),
        (TurnStatus::Queued, None)
    );
    assert_eq!(turn.created_at, turn.updated_at);

    // What was returned is what is stored.
    let turns = store.turns();
    assert_eq!(turns.of_run(run).await.expect("of_run"), vec![turn.clone()]);
    let found = turns
        .by_idempotency_key(MASTER_TENANT_ID, "alice", "req-1")
        .await;
    assert_eq!(found.expect("by key"), Some(turn));
    assert_eq!(
        transcript(store.as_ref(), id).await,
        vec![(1, "earlier".to_owned()), (2, "hello".to_owned())]
    );

    // Without a key, a turn is stored all the same and found by its run.
    let other_run = Uuid::now_v7();
    let keyless = accept(
        store.as_ref(),
        id,
        "again",
        new_turn(MASTER_TENANT_ID, other_run, "alice", None),
    )
    .await;
    assert_eq!((keyless.seq, keyless.idempotency_key.as_deref()), (3, None));
    assert_eq!(
        turns.of_run(other_run).await.expect("of_run"),
        vec![keyless]
    );
});

store_test!(a_taken_idempotency_key_stores_nothing, |store: Arc<
    dyn Store,
>| async move {
    let id = session(
        store.as_ref(),
        MASTER_TENANT_ID,
        "agent:default:ws:direct:k",
    )
    .await;
    let other = session(
        store.as_ref(),
        MASTER_TENANT_ID,
        "agent:default:ws:direct:k2",
    )
    .await;
    let first = accept(
        store.as_ref(),
        id,
        "first",
        new_turn(MASTER_TENANT_ID, Uuid::now_v7(), "alice", Some("k")),
    )
    .await;
    for target in [id, other] {
        let again = store
            .turns()
            .accept(
                target,
                NewMessage::text(Role::User, "retry"),
                new_turn(MASTER_TENANT_ID, Uuid::now_v7(), "alice", Some("k")),
            )
            .await;
        match again {
            Err(StoreError::Conflict(what)) => assert!(what.starts_with("turn"), "{what}"),
            other => panic!("expected a conflict, got {other:?}"),
        }
    }
    assert_eq!(
        transcript(store.as_ref(), id).await,
        vec![(1, "first".to_owned())]
    );
    assert!(transcript(store.as_ref(), other).await.is_empty());
    let found = store
        .turns()
        .by_idempotency_key(MASTER_TENANT_ID, "alice", "k")
        .await;
    assert_eq!(found.expect("by key"), Some(first));

    // The refused message gave back its seq: the next one follows without a gap.
    let next = accept(
        store.as_ref(),
        id,
        "next",
        new_turn(MASTER_TENANT_ID, Uuid::now_v7(), "alice", Some("k-next")),
    )
    .await;
    assert_eq!(next.seq, 2);
    let plain = store
        .messages()
        .append(other, NewMessage::text(Role::User, "plain"))
        .await
        .expect("append");
    assert_eq!(plain.seq, 1);
});

database_test!(
    idempotency_keys_are_per_tenant_and_user,
    |db: TestDatabase| async move {
        let db = with_acme(db).await;
        let store = db.store();
        let master = session(
            store.as_ref(),
            MASTER_TENANT_ID,
            "agent:default:ws:direct:m",
        )
        .await;
        let acme_session = session(store.as_ref(), acme(), "agent:default:ws:direct:m").await;
        let alice = accept(
            store.as_ref(),
            master,
            "a",
            new_turn(MASTER_TENANT_ID, Uuid::now_v7(), "alice", Some("same")),
        )
        .await;
        let bob = accept(
            store.as_ref(),
            master,
            "b",
            new_turn(MASTER_TENANT_ID, Uuid::now_v7(), "bob", Some("same")),
        )
        .await;
        let acme_alice = accept(
            store.as_ref(),
            acme_session,
            "c",
            new_turn(acme(), Uuid::now_v7(), "alice", Some("same")),
        )
        .await;
        assert_eq!((alice.seq, bob.seq, acme_alice.seq), (1, 2, 1));

        let turns = store.turns();
        for (tenant, user, expected) in [
            (MASTER_TENANT_ID, "alice", Some(&alice)),
            (MASTER_TENANT_ID, "bob", Some(&bob)),
            (acme(), "alice", Some(&acme_alice)),
            (acme(), "bob", None),
            (TenantId::generate(), "alice", None),
        ] {
            let found = turns
                .by_idempotency_key(tenant, user, "same")
                .await
                .expect("by key");
            assert_eq!(found.as_ref(), expected, "{tenant} {user}");
        }
        let missing = turns
            .by_idempotency_key(MASTER_TENANT_ID, "alice", "other")
            .await;
        assert_eq!(missing.expect("by key"), None);
    }
);

database_test!(
    accept_refuses_a_session_of_another_tenant,
    |db: TestDatabase| async move {
        let db = with_acme(db).await;
        let store = db.store();
        let master = session(
            store.as_ref(),
            MASTER_TENANT_ID,
            "agent:default:ws:direct:x",
        )
        .await;
        let run = Uuid::now_v7();
        for (target, tenant) in [(master, acme()), (SessionId::generate(), MASTER_TENANT_ID)] {
            let refused = store
                .turns()
                .accept(
                    target,
                    NewMessage::text(Role::User, "hi"),
                    new_turn(tenant, run, "alice", None),
                )
                .await;
            assert!(
                matches!(refused, Err(StoreError::NotFound("session"))),
                "{refused:?}"
            );
        }
        assert!(transcript(store.as_ref(), master).await.is_empty());
        assert!(store.turns().of_run(run).await.expect("of_run").is_empty());
    }
);

store_test!(an_overlong_idempotency_key_is_refused, |store: Arc<
    dyn Store,
>| async move {
    let id = session(
        store.as_ref(),
        MASTER_TENANT_ID,
        "agent:default:ws:direct:long",
    )
    .await;
    let longest = "k".repeat(MAX_IDEMPOTENCY_KEY_BYTES);
    let turn = new_turn(MASTER_TENANT_ID, Uuid::now_v7(), "alice", Some(&longest));
    assert_eq!(accept(store.as_ref(), id, "fits", turn).await.seq, 1);
    let overlong = format!("{longest}k");
    let refused = store
        .turns()
        .accept(
            id,
            NewMessage::text(Role::User, "too long"),
            new_turn(MASTER_TENANT_ID, Uuid::now_v7(), "alice", Some(&overlong)),
        )
        .await;
    match refused {
        Err(StoreError::Database(e)) => assert!(e.to_string().contains("idempotency key"), "{e}"),
        other => panic!("expected a refusal, got {other:?}"),
    }
    assert_eq!(transcript(store.as_ref(), id).await.len(), 1);
});

store_test!(finish_run_ends_the_queued_turns_of_the_run, |store: Arc<
    dyn Store,
>| async move {
    let id = session(
        store.as_ref(),
        MASTER_TENANT_ID,
        "agent:default:ws:direct:run",
    )
    .await;
    let (run, other_run) = (Uuid::now_v7(), Uuid::now_v7());
    let turn = |run| new_turn(MASTER_TENANT_ID, run, "alice", None);
    let dropped = accept(store.as_ref(), id, "m1", turn(run)).await;
    let turns = store.turns();
    let none = turns
        .finish_message(
            id,
            dropped.seq,
            end(TurnStatus::Dropped, Some("queue full"), None),
        )
        .await
        .expect("drop m1");
    assert_eq!(none, None);
    accept(store.as_ref(), id, "m2", turn(run)).await;
    accept(store.as_ref(), id, "m3", turn(run)).await;
    accept(store.as_ref(), id, "m4", turn(other_run)).await;

    let reply = turns
        .finish_run(id, run, end(TurnStatus::Completed, None, Some("answer")))
        .await
        .expect("finish")
        .expect("the appended reply");
    assert_eq!(
        (reply.seq, reply.role, reply.content.as_str()),
        (5, Role::Assistant, "answer")
    );
    assert_eq!(
        statuses(store.as_ref(), run).await,
        vec![
            (1, TurnStatus::Dropped, Some("queue full".to_owned())),
            (2, TurnStatus::Completed, None),
            (3, TurnStatus::Completed, None),
        ]
    );
    assert_eq!(
        statuses(store.as_ref(), other_run).await,
        vec![(4, TurnStatus::Queued, None)]
    );
    let ended = turns.of_run(run).await.expect("of_run");
    assert!(ended[1].updated_at >= ended[1].created_at);

    // A second end changes no ended turn, but its message is still appended.
    let late = turns
        .finish_run(
            id,
            run,
            end(TurnStatus::Failed, Some("late"), Some("late note")),
        )
        .await
        .expect("finish again");
    assert_eq!(late.map(|m| m.seq), Some(6));
    assert_eq!(turns.of_run(run).await.expect("of_run"), ended);
    let quiet = turns
        .finish_run(id, other_run, end(TurnStatus::Cancelled, None, None))
        .await
        .expect("cancel");
    assert_eq!(quiet, None);
    assert_eq!(
        statuses(store.as_ref(), other_run).await,
        vec![(4, TurnStatus::Cancelled, None)]
    );
    assert_eq!(transcript(store.as_ref(), id).await.len(), 6);
});

store_test!(finish_run_only_touches_its_session, |store: Arc<
    dyn Store,
>| async move {
    let a = session(
        store.as_ref(),
        MASTER_TENANT_ID,
        "agent:default:ws:direct:sa",
    )
    .await;
    let b = session(
        store.as_ref(),
        MASTER_TENANT_ID,
        "agent:default:ws:direct:sb",
    )
    .await;
    let run = Uuid::now_v7();
    accept(
        store.as_ref(),
        a,
        "in a",
        new_turn(MASTER_TENANT_ID, run, "alice", None),
    )
    .await;
    let reply = store
        .turns()
        .finish_run(b, run, end(TurnStatus::Completed, None, Some("in b")))
        .await
        .expect("finish");
    assert_eq!(reply.map(|m| (m.session_id, m.seq)), Some((b, 1)));
    assert_eq!(
        statuses(store.as_ref(), run).await,
        vec![(1, TurnStatus::Queued, None)]
    );

    let missing = store
        .turns()
        .finish_run(
            SessionId::generate(),
            run,
            end(TurnStatus::Failed, None, Some("x")),
        )
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("session"))),
        "{missing:?}"
    );
});

store_test!(
    finish_message_ends_one_turn,
    |store: Arc<dyn Store>| async move {
        let id = session(
            store.as_ref(),
            MASTER_TENANT_ID,
            "agent:default:ws:direct:one",
        )
        .await;
        let run = Uuid::now_v7();
        let first = accept(
            store.as_ref(),
            id,
            "m1",
            new_turn(MASTER_TENANT_ID, run, "alice", None),
        )
        .await;
        accept(
            store.as_ref(),
            id,
            "m2",
            new_turn(MASTER_TENANT_ID, run, "alice", None),
        )
        .await;
        let notice = store
            .turns()
            .finish_message(
                id,
                first.seq,
                end(
                    TurnStatus::Dropped,
                    Some("session queue full"),
                    Some("dropped: queue full"),
                ),
            )
            .await
            .expect("finish message")
            .expect("the appended notice");
        assert_eq!(
            (notice.seq, notice.content.as_str()),
            (3, "dropped: queue full")
        );
        let expected = vec![
            (
                1,
                TurnStatus::Dropped,
                Some("session queue full".to_owned()),
            ),
            (2, TurnStatus::Queued, None),
        ];
        assert_eq!(statuses(store.as_ref(), run).await, expected);

        // An ended turn stays as it ended.
        store
            .turns()
            .finish_message(id, first.seq, end(TurnStatus::Completed, None, None))
            .await
            .expect("finish again");
        assert_eq!(statuses(store.as_ref(), run).await, expected);
    }
);

store_test!(queued_is_not_an_end, |store: Arc<dyn Store>| async move {
    let id = session(
        store.as_ref(),
        MASTER_TENANT_ID,
        "agent:default:ws:direct:q",
    )
    .await;
    let run = Uuid::now_v7();
    let turn = accept(
        store.as_ref(),
        id,
        "m1",
        new_turn(MASTER_TENANT_ID, run, "alice", None),
    )
    .await;
    let turns = store.turns();
    for refused in [
        turns
            .finish_run(id, run, end(TurnStatus::Queued, None, Some("no")))
            .await,
        turns
            .finish_message(id, turn.seq, end(TurnStatus::Queued, None, Some("no")))
            .await,
        turns
            .finish_run(id, run, end(TurnStatus::Queued, None, None))
            .await,
    ] {
        match refused {
            Err(StoreError::Database(e)) => assert!(e.to_string().contains("queued"), "{e}"),
            other => panic!("expected a refusal, got {other:?}"),
        }
    }
    assert_eq!(
        statuses(store.as_ref(), run).await,
        vec![(1, TurnStatus::Queued, None)]
    );
    assert_eq!(transcript(store.as_ref(), id).await.len(), 1);
});

database_test!(
    a_failed_end_appends_nothing,
    |db: TestDatabase| async move {
        let db = with_acme(db).await;
        // Make the turns' UPDATE fail after the reply was appended in the same transaction.
        let trigger = match db.backend() {
            StoreBackend::Sqlite => {
                "CREATE TRIGGER turns_refuse BEFORE UPDATE ON turns WHEN NEW.error = 'refuse' \
                 BEGIN SELECT RAISE(ABORT, 'refused by test'); END;"
            }
            StoreBackend::Postgres => {
                "CREATE FUNCTION turns_refuse() RETURNS trigger LANGUAGE plpgsql AS $$ \
                 BEGIN IF NEW.error = 'refuse' THEN RAISE EXCEPTION 'refused by test'; END IF; \
                 RETURN NEW; END $$; \
                 CREATE TRIGGER turns_refuse BEFORE UPDATE ON turns FOR EACH ROW \
                 EXECUTE FUNCTION turns_refuse();"
            }
        };
        execute(&db, trigger).await;
        let store = db.store();
        let id = session(
            store.as_ref(),
            MASTER_TENANT_ID,
            "agent:default:ws:direct:f",
        )
        .await;
        let run = Uuid::now_v7();
        let turn = accept(
            store.as_ref(),
            id,
            "m1",
            new_turn(MASTER_TENANT_ID, run, "alice", None),
        )
        .await;
        let turns = store.turns();
        let failed = turns
            .finish_run(
                id,
                run,
                end(TurnStatus::Failed, Some("refuse"), Some("reply")),
            )
            .await;
        assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
        let failed = turns
            .finish_message(
                id,
                turn.seq,
                end(TurnStatus::Dropped, Some("refuse"), Some("reply")),
            )
            .await;
        assert!(matches!(failed, Err(StoreError::Database(_))), "{failed:?}");
        assert_eq!(
            transcript(store.as_ref(), id).await,
            vec![(1, "m1".to_owned())]
        );
        assert_eq!(
            statuses(store.as_ref(), run).await,
            vec![(1, TurnStatus::Queued, None)]
        );

        // The seq the rolled-back reply took is handed out again.
        let reply = turns
            .finish_run(id, run, end(TurnStatus::Completed, None, Some("reply")))
            .await
            .expect("finish");
        assert_eq!(reply.map(|m| m.seq), Some(2));
    }
);

database_test!(
    unfinished_lists_queued_turns_oldest_first,
    |db: TestDatabase| async move {
        let db = with_acme(db).await;
        let store = db.store();
        let master = session(
            store.as_ref(),
            MASTER_TENANT_ID,
            "agent:default:ws:direct:u",
        )
        .await;
        let acme_session = session(store.as_ref(), acme(), "agent:default:ws:direct:u").await;
        let turns = store.turns();
        assert!(turns.unfinished(10).await.expect("unfinished").is_empty());

        let mut accepted = Vec::new();
        for (i, (target, tenant)) in [
            (master, MASTER_TENANT_ID),
            (acme_session, acme()),
            (master, MASTER_TENANT_ID),
            (acme_session, acme()),
            (master, MASTER_TENANT_ID),
        ]
        .into_iter()
        .enumerate()
        {
            let turn = new_turn(tenant, Uuid::now_v7(), "alice", None);
            accepted.push(accept(store.as_ref(), target, &format!("m{i}"), turn).await);
            tokio::time::sleep(TICK).await;
        }
        // The second turn ends; the others stay queued.
        turns
            .finish_run(
                acme_session,
                accepted[1].run_id,
                end(TurnStatus::Completed, None, None),
            )
            .await
            .expect("finish");
        let queued: Vec<Turn> = [0, 2, 3, 4].iter().map(|&i| accepted[i].clone()).collect();
        assert_eq!(turns.unfinished(100).await.expect("unfinished"), queued);
        assert_eq!(
            turns.unfinished(2).await.expect("unfinished"),
            queued[..2].to_vec()
        );
        assert!(turns.unfinished(0).await.expect("unfinished").is_empty());
    }
);

store_test!(
    turns_go_with_their_session,
    |store: Arc<dyn Store>| async move {
        let key = SessionKey::parse("agent:default:ws:direct:gone").expect("session key");
        let id = session(store.as_ref(), MASTER_TENANT_ID, key.as_str()).await;
        let (run, again) = (Uuid::now_v7(), Uuid::now_v7());
        let turn = |run| new_turn(MASTER_TENANT_ID, run, "alice", Some("gone"));
        accept(store.as_ref(), id, "m1", turn(run)).await;
        let turns = store.turns();

        store
            .sessions()
            .reset(MASTER_TENANT_ID, &key)
            .await
            .expect("reset");
        assert!(turns.of_run(run).await.expect("of_run").is_empty());
        assert!(turns.unfinished(10).await.expect("unfinished").is_empty());
        let found = turns
            .by_idempotency_key(MASTER_TENANT_ID, "alice", "gone")
            .await;
        assert_eq!(found.expect("by key"), None);

        // The key is free again, and the emptied session numbers from 1.
        let reused = accept(store.as_ref(), id, "m1 again", turn(again)).await;
        assert_eq!(reused.seq, 1);
        store
            .sessions()
            .delete(MASTER_TENANT_ID, &key)
            .await
            .expect("delete");
        assert!(turns.of_run(again).await.expect("of_run").is_empty());
        assert!(turns.unfinished(10).await.expect("unfinished").is_empty());
    }
);

store_test!(concurrent_accepts_never_share_a_seq, |store: Arc<
    dyn Store,
>| async move {
    let id = session(
        store.as_ref(),
        MASTER_TENANT_ID,
        "agent:default:ws:direct:burst",
    )
    .await;
    let run = Uuid::now_v7();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            let store = Arc::clone(&store);
            let key = format!("burst-{i}");
            tokio::spawn(async move {
                let turn = new_turn(MASTER_TENANT_ID, run, "alice", Some(&key));
                accept(store.as_ref(), id, &format!("burst {i}"), turn)
                    .await
                    .seq
            })
        })
        .collect();
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await.expect("task"));
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let stored: Vec<i64> = store
        .turns()
        .of_run(run)
        .await
        .expect("of_run")
        .iter()
        .map(|t| t.seq)
        .collect();
    assert_eq!(stored, seqs);
    assert_eq!(transcript(store.as_ref(), id).await.len(), 20);
});

store_test!(
    concurrent_accepts_with_one_key_store_one_message,
    |store: Arc<dyn Store>| async move {
        let id = session(
            store.as_ref(),
            MASTER_TENANT_ID,
            "agent:default:ws:direct:dup",
        )
        .await;
        let tasks: Vec<_> = (0..10)
            .map(|i| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let turn = new_turn(MASTER_TENANT_ID, Uuid::now_v7(), "alice", Some("once"));
                    store
                        .turns()
                        .accept(id, NewMessage::text(Role::User, format!("try {i}")), turn)
                        .await
                })
            })
            .collect();
        let mut accepted: Vec<(Message, Turn)> = Vec::new();
        for task in tasks {
            match task.await.expect("task") {
                Ok(pair) => accepted.push(pair),
                Err(StoreError::Conflict(_)) => {}
                Err(other) => panic!("unexpected error {other}"),
            }
        }
        assert_eq!(accepted.len(), 1);
        let (message, turn) = &accepted[0];
        assert_eq!(
            transcript(store.as_ref(), id).await,
            vec![(1, message.content.clone())]
        );
        let found = store
            .turns()
            .by_idempotency_key(MASTER_TENANT_ID, "alice", "once")
            .await;
        assert_eq!(found.expect("by key").as_ref(), Some(turn));
    }
);
