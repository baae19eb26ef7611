//! Engine features below the store traits: sqlite-vec and FTS5 on every SQLite connection,
//! pgvector on PostgreSQL, server versions, and the SQLite online backup.

use goclaw_core::StoreBackend;
use goclaw_store::testing::TestDatabase;
use goclaw_store::{BackupError, SchemaState, StoreOptions, backup_sqlite, database_test, open};

#[tokio::test]
async fn sqlite_vec_answers_on_every_pooled_connection() {
    let db = TestDatabase::sqlite().await;
    let pool = db.sqlite_pool().expect("sqlite pool");
    let mut conns = Vec::new();
    for _ in 0..4 {
        let mut conn = pool.acquire().await.expect("connection");
        let version: String = sqlx::query_scalar("SELECT vec_version()")
            .fetch_one(&mut *conn)
            .await
            .expect("vec_version");
        assert!(version.starts_with('v'), "{version}");
        conns.push(conn);
    }
}

#[tokio::test]
async fn sqlite_vec_finds_the_nearest_vector() {
    let db = TestDatabase::sqlite().await;
    let pool = db.sqlite_pool().expect("sqlite pool");
    // Temporary tables belong to one connection, so everything runs on this one.
    let mut conn = pool.acquire().await.expect("connection");
    sqlx::query("CREATE VIRTUAL TABLE temp.probe USING vec0(embedding float[3])")
        .execute(&mut *conn)
        .await
        .expect("vec0 table");
    for (rowid, vector) in [(1, "[1, 0, 0]"), (2, "[0, 1, 0]"), (3, "[0, 0, 1]")] {
        sqlx::query("INSERT INTO temp.probe (rowid, embedding) VALUES (?, ?)")
            .bind(rowid)
            .bind(vector)
            .execute(&mut *conn)
            .await
            .expect("insert vector");
    }
    let nearest: i64 = sqlx::query_scalar(
        "SELECT rowid FROM temp.probe WHERE embedding MATCH ? AND k = 1 ORDER BY distance",
    )
    .bind("[0.1, 0.9, 0.0]")
    .fetch_one(&mut *conn)
    .await
    .expect("knn query");
    assert_eq!(nearest, 2);
}

#[tokio::test]
async fn sqlite_full_text_search_matches_words() {
    let db = TestDatabase::sqlite().await;
    let pool = db.sqlite_pool().expect("sqlite pool");
    let mut conn = pool.acquire().await.expect("connection");
    sqlx::query("CREATE VIRTUAL TABLE temp.docs USING fts5(body)")
        .execute(&mut *conn)
        .await
        .expect("fts5 table");
    for body in [
        "the gateway routes messages",
        "agents call tools",
        "tools run in sandboxes",
    ] {
        sqlx::query("INSERT INTO temp.docs (body) VALUES (?)")
            .bind(body)
            .execute(&mut *conn)
            .await
            .expect("insert");
    }
    let hits: Vec<String> =
        sqlx::query_scalar("SELECT body FROM temp.docs WHERE docs MATCH 'tools' ORDER BY rank")
            .fetch_all(&mut *conn)
            .await
            .expect("match");
    assert_eq!(hits.len(), 2, "{hits:?}");
}

database_test!(
    server_info_names_engine_and_vector_versions,
    |db: TestDatabase| async move {
        db.migrator().up(|_, _| {}).await.expect("up");
        let info = db.opened().server_info().await.expect("server info");
        assert_eq!(info.backend, db.backend());
        assert!(!info.version.is_empty());
        let vector = info
            .vector_version
            .expect("vector extension after migrating");
        assert!(!vector.is_empty());
    }
);

database_test!(
    shared_buffers_is_the_servers_setting,
    |db: TestDatabase| async move {
        let buffers = db.opened().shared_buffers().await.expect("shared_buffers");
        match db.backend() {
            StoreBackend::Sqlite => assert_eq!(buffers, None),
            StoreBackend::Postgres => {
                let shown = buffers.expect("PostgreSQL has the setting");
                assert!(
                    shown.ends_with("kB") || shown.ends_with("MB") || shown.ends_with("GB"),
                    "{shown}"
                );
            }
        }
    }
);

database_test!(
    migrators_are_send_for_spawned_upgrades,
    |db: TestDatabase| async move {
        let migrator = db.migrator();
        let applied = tokio::spawn(async move { migrator.up(|_, _| {}).await })
            .await
            .expect("task")
            .expect("up");
        assert!(!applied.is_empty());
    }
);

#[tokio::test]
async fn postgres_hnsw_scans_continue_past_filtered_rows() {
    let Some(db) = TestDatabase::new(StoreBackend::Postgres).await else {
        return;
    };
    db.migrator().up(|_, _| {}).await.expect("up");
    let pool = db.postgres_pool().expect("PostgreSQL pool");
    let mut conn = pool.acquire().await.expect("connection");
    // Using a vector loads pgvector, which takes over the setting made when connecting.
    sqlx::query("SELECT '[1,2]'::vector <=> '[2,1]'::vector")
        .execute(&mut *conn)
        .await
        .expect("vector");
    let mode: String = sqlx::query_scalar("SHOW hnsw.iterative_scan")
        .fetch_one(&mut *conn)
        .await
        .expect("show");
    assert_eq!(mode, "strict_order");
}

#[tokio::test]
async fn sqlite_backup_is_a_migrated_copy() {
    let db = TestDatabase::migrated(StoreBackend::Sqlite)
        .await
        .expect("sqlite always available");
    let dir = tempfile::tempdir().expect("temp dir");
    let dest = dir.path().join("backups").join("goclaw-backup.db");
    backup_sqlite(db.opened(), &dest).await.expect("backup");

    let copy = open(&StoreOptions::sqlite(&dest)).await.expect("open copy");
    let status = copy.migrator().status().await.expect("status");
    assert_eq!(status.state, SchemaState::UpToDate);
    copy.store()
        .tenants()
        .get_by_slug("master")
        .await
        .expect("master tenant in the copy");

    let again = backup_sqlite(db.opened(), &dest).await;
    assert!(
        matches!(again, Err(BackupError::DestinationExists(_))),
        "{again:?}"
    );
}

database_test!(backup_refuses_postgres, |db: TestDatabase| async move {
    if db.backend() != StoreBackend::Postgres {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let result = backup_sqlite(db.opened(), &dir.path().join("x.db")).await;
    assert!(matches!(result, Err(BackupError::NotSqlite)), "{result:?}");
});

fn assert_send<T: Send>(_: &T) {}

#[tokio::test]
async fn public_futures_are_send() {
    let db = TestDatabase::sqlite().await;
    let options = StoreOptions::sqlite(std::env::temp_dir().join("never-opened.db"));
    assert_send(&open(&options));
    let dest = std::env::temp_dir().join("never-written.db");
    assert_send(&backup_sqlite(db.opened(), &dest));
    assert_send(&db.opened().server_info());
    assert_send(&db.opened().close());
    let migrator = db.migrator();
    assert_send(&migrator.status());
    assert_send(&migrator.up(|_, _| {}));
    assert_send(&migrator.down(1, |_, _| {}));
    assert_send(&migrator.force(0));
    assert_send(&TestDatabase::postgres());
}
