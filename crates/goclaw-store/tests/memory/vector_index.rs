//! Nearest-neighbour search kept in step with every writer, on both engines. On SQLite the
//! vector index lives in the store's process and catches up with the database before each
//! search; these tests write through a second store on the same database (as another process
//! would) and check that the first store's searches see every addition and removal, that
//! removed chunks never crowd out live ones, and that a pruned removal log makes the index
//! reload rather than keep what it missed.

use std::sync::Arc;

use goclaw_core::{MASTER_TENANT_ID, MemoryScope, Store, StoreBackend};
use goclaw_store::database_test;
use goclaw_store::testing::TestDatabase;

use super::{agent, document, vector};

/// A second store on the same database, as another process would open it.
async fn second_store(db: &TestDatabase) -> Arc<dyn Store> {
    goclaw_store::open(db.options())
        .await
        .expect("opening the database a second time")
        .store()
}

/// Writes `path` with one chunk per text, all embedded as `embedding`.
async fn put(
    store: &dyn Store,
    owner: &MemoryScope,
    path: &str,
    texts: &[&str],
    embedding: &[f32],
) {
    let mut new = document(owner, path, texts);
    for chunk in &mut new.chunks {
        chunk.embedding = Some(embedding.to_vec());
    }
    store.memory().put_document(new).await.expect("put");
}

async fn nearest(store: &dyn Store, owner: &MemoryScope, limit: u32) -> Vec<String> {
    store
        .memory()
        .search_vector(owner, &vector(0, 1, 0.0), limit)
        .await
        .expect("search")
        .into_iter()
        .map(|found| found.chunk.text)
        .collect()
}

database_test!(
    searches_follow_writes_of_another_store,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("migrate");
        let (searcher, writer) = (db.store(), second_store(&db).await);
        let keeper = agent(searcher.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let owner = MemoryScope::user(MASTER_TENANT_ID, keeper, "alice");
        put(
            searcher.as_ref(),
            &owner,
            "MEMORY.md",
            &["first"],
            &vector(0, 1, 0.2),
        )
        .await;
        assert_eq!(nearest(searcher.as_ref(), &owner, 5).await, ["first"]);

        put(
            writer.as_ref(),
            &owner,
            "notes.md",
            &["nearer"],
            &vector(0, 1, 0.1),
        )
        .await;
        assert_eq!(
            nearest(searcher.as_ref(), &owner, 5).await,
            ["nearer", "first"]
        );

        assert!(
            writer
                .memory()
                .delete_document(&owner, "notes.md")
                .await
                .expect("delete")
        );
        assert_eq!(nearest(searcher.as_ref(), &owner, 5).await, ["first"]);

        // Rewritten many times, a document's old chunks never take the candidates' places:
        // each version's chunk is nearer the probe than the live far one.
        for round in 0..45 {
            let texts = [format!("version {round}")];
            let texts: Vec<&str> = texts.iter().map(String::as_str).collect();
            put(
                writer.as_ref(),
                &owner,
                "log.md",
                &texts,
                &vector(0, 1, 0.0),
            )
            .await;
        }
        put(
            writer.as_ref(),
            &owner,
            "far.md",
            &["far"],
            &vector(0, 1, 3.0),
        )
        .await;
        assert_eq!(
            nearest(searcher.as_ref(), &owner, 3).await,
            ["version 44", "first", "far"]
        );
    }
);

database_test!(
    a_pruned_removal_log_reloads_the_index,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("migrate");
        let (searcher, writer) = (db.store(), second_store(&db).await);
        let keeper = agent(searcher.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let owner = MemoryScope::shared(MASTER_TENANT_ID, keeper);
        let crowd: Vec<String> = (0..60).map(|i| format!("crowd {i}")).collect();
        let crowd: Vec<&str> = crowd.iter().map(String::as_str).collect();
        put(
            writer.as_ref(),
            &owner,
            "crowd.md",
            &crowd,
            &vector(0, 1, 0.0),
        )
        .await;
        put(
            writer.as_ref(),
            &owner,
            "live.md",
            &["live"],
            &vector(0, 1, 0.5),
        )
        .await;
        assert_eq!(nearest(searcher.as_ref(), &owner, 1).await, ["crowd 0"]);

        writer
            .memory()
            .delete_document(&owner, "crowd.md")
            .await
            .expect("delete");
        put(
            writer.as_ref(),
            &owner,
            "other.md",
            &["other"],
            &vector(5, 6, 0.0),
        )
        .await;
        writer
            .memory()
            .delete_document(&owner, "other.md")
            .await
            .expect("delete");
        if db.backend() == StoreBackend::Sqlite {
            // What pruning leaves: the newest removal only, past the ones the searcher needs.
            db.execute(
                "DELETE FROM memory_chunks_vec_removed \
                 WHERE seq < (SELECT max(seq) FROM memory_chunks_vec_removed)",
            )
            .await;
        }
        // 60 removed chunks nearer than `live` would fill the 40 candidates of a search for
        // one result, had the index kept them.
        assert_eq!(nearest(searcher.as_ref(), &owner, 1).await, ["live"]);
    }
);

database_test!(
    the_removal_log_keeps_its_newest_rows,
    |db: TestDatabase| async move {
        if db.backend() != StoreBackend::Sqlite {
            return; // PostgreSQL keeps no removal log: its index is in the database.
        }
        db.migrator().up(|_, _| {}).await.expect("migrate");
        db.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 102500) \
             INSERT INTO memory_chunks_vec_removed (agent_id, vec_seq) SELECT 'a', i FROM n",
        )
        .await;
        let pool = db.sqlite_pool().expect("a SQLite pool");
        let (count, oldest): (i64, i64) =
            sqlx::query_as("SELECT count(*), min(seq) FROM memory_chunks_vec_removed")
                .fetch_one(pool)
                .await
                .expect("count");
        assert_eq!((count, oldest), (100_500, 2_001));
    }
);
