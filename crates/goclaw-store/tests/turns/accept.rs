//! Accepting user messages with their turns: the next `seq`, idempotency keys unique per
//! tenant and user, refusals that store nothing, and concurrent accepts on one session.

use std::sync::Arc;

use goclaw_core::{
    MASTER_TENANT_ID, MAX_IDEMPOTENCY_KEY_BYTES, Message, NewMessage, Role, SessionId, Store,
    StoreError, TenantId, Turn, TurnStatus,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use uuid::Uuid;

use super::{accept, acme, new_turn, session, transcript, with_acme};

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
