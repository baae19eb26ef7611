//! Ending turns: a run's queued turns or one message's turn, each with its final message in
//! the same transaction; the turns left queued; and turns going with their session.

use std::sync::Arc;

use goclaw_core::{
    MASTER_TENANT_ID, Role, SessionId, SessionKey, Store, StoreBackend, StoreError, Turn,
    TurnStatus,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use uuid::Uuid;

use super::{TICK, accept, acme, end, new_turn, session, statuses, transcript, with_acme};

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
        db.execute(trigger).await;
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
