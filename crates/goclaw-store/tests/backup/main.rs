//! Portable backups on both engines: every table filled, backed up, wiped and restored to the
//! same contents, also into a database with no schema (which the restore creates); SQLite and
//! PostgreSQL restoring each other's backups; and every refusal (newer format, other schema,
//! damaged file, non-empty database) leaving the database as it was.

use std::path::{Path, PathBuf};

use goclaw_core::StoreBackend;
use goclaw_store::archive::{self, ArchiveError, NoProgress, RestoreOptions};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{SchemaState, database_test, migrations};
use serde_json::{Value, json};

mod rows;

use rows::{ACME, TRACE, assert_memory_searchable, contents, fill, total_rows, wipe};

async fn backup(db: &TestDatabase, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    archive::create(db.opened(), &path, &mut NoProgress)
        .await
        .expect("backup");
    path
}

async fn restore(db: &TestDatabase, path: &Path, replace: bool) -> Result<u64, ArchiveError> {
    archive::restore(
        db.opened(),
        path,
        RestoreOptions { replace },
        &mut NoProgress,
    )
    .await
    .map(|summary| summary.total_rows())
}

async fn migrated(db: TestDatabase) -> TestDatabase {
    db.migrator().up(|_, _| {}).await.expect("migrate");
    db
}

database_test!(
    round_trip_restores_every_row,
    |db: TestDatabase| async move {
        let db = migrated(db).await;
        fill(&db).await;
        let before = contents(&db).await;
        assert!(
            before.iter().all(|(_, rows)| !rows.is_empty()),
            "{before:#?}"
        );
        let dir = tempfile::tempdir().expect("dir");
        let path = backup(&db, dir.path(), "b.jsonl").await;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path)
                .expect("metadata")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .expect("ls")
            .flatten()
            .collect();
        assert_eq!(names.len(), 1, "only the finished backup is left");

        wipe(&db).await;
        assert_eq!(total_rows(&contents(&db).await), 0);
        let restored = restore(&db, &path, false).await.expect("restore");
        assert_eq!(restored as usize, total_rows(&before));
        assert_eq!(contents(&db).await, before);
        assert_memory_searchable(&db).await;

        // A freshly migrated database (it holds the master tenant only) counts as empty.
        let fresh = migrated(TestDatabase::new(db.backend()).await.expect("db")).await;
        restore(&fresh, &path, false)
            .await
            .expect("restore into fresh");
        assert_eq!(contents(&fresh).await, before);

        // A database with no schema at all gets every migration, in the restore's transaction.
        let new = TestDatabase::new(db.backend()).await.expect("db");
        assert_eq!(new.migrator().status().await.expect("status").current, None);
        let summary = archive::restore(
            new.opened(),
            &path,
            RestoreOptions::default(),
            &mut NoProgress,
        )
        .await
        .expect("restore into a database with no schema");
        let every: Vec<i64> = migrations(db.backend()).iter().map(|m| m.version).collect();
        let applied: Vec<i64> = summary.created_schema.iter().map(|m| m.version).collect();
        assert_eq!(applied, every);
        let status = new.migrator().status().await.expect("status");
        assert_eq!(status.state, SchemaState::UpToDate);
        assert_eq!(contents(&new).await, before);

        // Restoring again into that (now populated) database creates nothing.
        let summary = archive::restore(
            new.opened(),
            &path,
            RestoreOptions { replace: true },
            &mut NoProgress,
        )
        .await
        .expect("restore again");
        assert!(summary.created_schema.is_empty());
    }
);

database_test!(
    a_failed_restore_leaves_a_new_database_without_schema,
    |db: TestDatabase| async move {
        let source = migrated(TestDatabase::new(db.backend()).await.expect("db")).await;
        fill(&source).await;
        let dir = tempfile::tempdir().expect("dir");
        let path = backup(&source, dir.path(), "b.jsonl").await;

        // Cut before the trailer: the rows go in, then the restore fails and rolls back.
        let cut = edited(&path, "cut.jsonl", |lines| {
            lines.pop();
        });
        let error = restore(&db, &cut, false).await.expect_err("cut file");
        assert!(matches!(error, ArchiveError::Damaged(_)), "{error}");
        // Another schema version than this binary creates.
        let newer = edited(&path, "newer.jsonl", |lines| {
            lines[0]["schema_version"] = serde_json::json!(9999);
        });
        let error = restore(&db, &newer, false).await.expect_err("newer schema");
        assert!(
            matches!(
                error,
                ArchiveError::NewDatabaseMismatch { backup: 9999, .. }
            ),
            "{error}"
        );
        assert!(error.to_string().contains("newer goclaw"), "{error}");

        let status = db.migrator().status().await.expect("status");
        assert_eq!(status.current, None, "no schema was left behind");
        let tables = match db.backend() {
            StoreBackend::Sqlite => {
                let pool = db.sqlite_pool().expect("SQLite");
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' \
                     AND name NOT LIKE 'sqlite_%'",
                )
                .fetch_one(pool)
                .await
                .expect("count tables")
            }
            StoreBackend::Postgres => {
                let pool = db.postgres_pool().expect("PostgreSQL");
                sqlx::query_scalar::<_, i64>(
                    "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'",
                )
                .fetch_one(pool)
                .await
                .expect("count tables")
            }
        };
        assert_eq!(tables, 0, "the database is as empty as it was");

        restore(&db, &path, false)
            .await
            .expect("the intact backup restores");
        assert_eq!(contents(&db).await, contents(&source).await);
    }
);

/// More rows than a backup reads per page: a three-column text key with mixed case (so the
/// engine's collation decides the order) and random UUID keys.
async fn fill_many(db: &TestDatabase) {
    let allowlist = "INSERT INTO exec_allowlist (tenant_id, agent_key, \"binary\") \
                     SELECT {acme}, 'agent' || (i % 7), \
                     CASE WHEN i % 2 = 0 THEN 'bin' ELSE 'Bin' END || i FROM {n}";
    let spans = "INSERT INTO spans (id, trace_id, span_type, start_time) \
                 SELECT {uuid}, {trace}, 'tool_call', {now} FROM {n}";
    if let Some(pool) = db.sqlite_pool() {
        let n = "(WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2345) \
                 SELECT i FROM n)";
        let uuid = "lower(hex(randomblob(4))) || '-0000-7000-8000-' || printf('%012x', i)";
        for sql in [
            allowlist.replace("{acme}", &format!("'{ACME}'")),
            spans
                .replace("{uuid}", uuid)
                .replace("{trace}", &format!("'{TRACE}'"))
                .replace("{now}", "'2026-01-01T00:00:00.000Z'"),
        ] {
            let sql = sql.replace("{n}", n);
            sqlx::query(&sql).execute(pool).await.expect(&sql);
        }
        return;
    }
    let pool = db.postgres_pool().expect("a PostgreSQL pool");
    for sql in [
        allowlist.replace("{acme}", &format!("'{ACME}'::uuid")),
        spans
            .replace("{uuid}", "gen_random_uuid()")
            .replace("{trace}", &format!("'{TRACE}'::uuid"))
            .replace("{now}", "now()"),
    ] {
        let sql = sql.replace("{n}", "generate_series(1, 2345) AS i");
        sqlx::query(&sql).execute(pool).await.expect(&sql);
    }
}

database_test!(
    large_tables_are_read_page_by_page,
    |db: TestDatabase| async move {
        let db = migrated(db).await;
        fill(&db).await;
        fill_many(&db).await;
        let before = contents(&db).await;
        let dir = tempfile::tempdir().expect("dir");
        let path = backup(&db, dir.path(), "b.jsonl").await;
        wipe(&db).await;
        restore(&db, &path, false).await.expect("restore");
        assert_eq!(contents(&db).await, before);
    }
);

/// Reads an archive's lines as JSON.
fn lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .expect("read backup")
        .lines()
        .map(|l| serde_json::from_str(l).expect("JSON line"))
        .collect()
}

fn write_lines(path: &Path, lines: &[Value]) {
    let text: String = lines.iter().map(|l| format!("{l}\n")).collect();
    std::fs::write(path, text).expect("write backup");
}

/// `path` with `edit` applied to its lines, as a new file.
fn edited(path: &Path, name: &str, edit: impl FnOnce(&mut Vec<Value>)) -> PathBuf {
    let mut all = lines(path);
    edit(&mut all);
    let out = path.with_file_name(name);
    write_lines(&out, &all);
    out
}

database_test!(
    refusals_leave_the_database_unchanged,
    |db: TestDatabase| async move {
        let db = migrated(db).await;
        fill(&db).await;
        let dir = tempfile::tempdir().expect("dir");
        let good = backup(&db, dir.path(), "good.jsonl").await;
        let before = contents(&db).await;

        let newer = edited(&good, "newer.jsonl", |l| l[0]["version"] = json!(2));
        let error = restore(&db, &newer, true).await.expect_err("newer format");
        assert!(
            matches!(error, ArchiveError::NewerFormat { found: 2 }),
            "{error}"
        );

        let schema = edited(&good, "schema.jsonl", |l| {
            let v = l[0]["schema_version"].as_i64().expect("schema version");
            l[0]["schema_version"] = json!(v - 1);
        });
        let error = restore(&db, &schema, true).await.expect_err("older schema");
        assert!(
            matches!(error, ArchiveError::SchemaMismatch { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("goclaw upgrade"), "{error}");

        let tampered = edited(&good, "tampered.jsonl", |l| {
            let row = l
                .iter_mut()
                .find(|l| l["table"] == "config_secrets")
                .expect("a secret");
            row["row"]["value"] = json!("aes-gcm:forged");
        });
        let error = restore(&db, &tampered, true)
            .await
            .expect_err("bad checksum");
        assert!(error.to_string().contains("SHA-256"), "{error}");

        let cut = edited(&good, "cut.jsonl", |l| {
            l.pop();
        });
        let error = restore(&db, &cut, true).await.expect_err("truncated");
        assert!(matches!(error, ArchiveError::Damaged(_)), "{error}");

        let miscounted = edited(&good, "miscounted.jsonl", |l| {
            let last = l.len() - 1;
            l[last]["rows"]["spans"] = json!(7);
        });
        let error = restore(&db, &miscounted, true).await.expect_err("counts");
        assert!(matches!(error, ArchiveError::Damaged(_)), "{error}");

        let error = restore(&db, &good, false).await.expect_err("not empty");
        assert!(matches!(error, ArchiveError::NotEmpty { .. }), "{error}");

        assert_eq!(
            contents(&db).await,
            before,
            "every refusal left the rows alone"
        );

        // The same backup with replacing allowed goes through.
        restore(&db, &good, true)
            .await
            .expect("restore with replace");
        assert_eq!(contents(&db).await, before);
    }
);

database_test!(
    backup_refuses_an_outdated_schema,
    |db: TestDatabase| async move {
        let db = migrated(db).await;
        db.migrator().down(1, |_, _| {}).await.expect("down");
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("b.jsonl");
        let error = archive::create(db.opened(), &path, &mut NoProgress)
            .await
            .expect_err("outdated schema");
        assert!(
            matches!(error, ArchiveError::SchemaNotCurrent { .. }),
            "{error}"
        );
        assert!(error.to_string().contains("goclaw upgrade"), "{error}");
        let left = std::fs::read_dir(dir.path()).expect("ls").count();
        assert_eq!(left, 0, "nothing written on failure");
    }
);

/// Row payloads of an archive with engine differences evened out: timestamps compared as
/// instants, JSON text compared as JSON.
fn normalized_rows(path: &Path) -> Vec<Value> {
    fn normalize(value: &Value) -> Value {
        let Value::String(text) = value else {
            return value.clone();
        };
        if let Ok(at) = chrono::DateTime::parse_from_rfc3339(text) {
            return json!(at.with_timezone(&chrono::Utc).timestamp_micros());
        }
        if text.starts_with(['{', '['])
            && let Ok(parsed) = serde_json::from_str::<Value>(text)
        {
            return parsed;
        }
        value.clone()
    }
    lines(path)
        .into_iter()
        .filter(|l| l.get("table").is_some())
        .map(|mut l| {
            if let Some(row) = l["row"].as_object_mut() {
                for value in row.values_mut() {
                    *value = normalize(value);
                }
            }
            l
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_and_postgres_restore_each_others_backups() {
    let Some(pg) = TestDatabase::new(StoreBackend::Postgres).await else {
        return;
    };
    let pg = migrated(pg).await;
    let sqlite = migrated(TestDatabase::sqlite().await).await;
    fill(&sqlite).await;
    let dir = tempfile::tempdir().expect("dir");
    let from_sqlite = backup(&sqlite, dir.path(), "sqlite.jsonl").await;

    restore(&pg, &from_sqlite, false)
        .await
        .expect("SQLite backup into PostgreSQL");
    let from_pg = backup(&pg, dir.path(), "pg.jsonl").await;
    assert_eq!(normalized_rows(&from_pg), normalized_rows(&from_sqlite));

    let back = migrated(TestDatabase::sqlite().await).await;
    restore(&back, &from_pg, false)
        .await
        .expect("PostgreSQL backup into SQLite");
    let pool = back.sqlite_pool().expect("SQLite");
    let ms = "'[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9].[0-9][0-9][0-9]Z'";
    for (table, column) in [
        ("messages", "created_at"),
        ("traces", "start_time"),
        ("turns", "created_at"),
    ] {
        let sql = format!("SELECT count(*) FROM {table} WHERE NOT {column} GLOB {ms}");
        let odd: i64 = sqlx::query_scalar(&sql).fetch_one(pool).await.expect(&sql);
        assert_eq!(odd, 0, "{table}.{column} in SQLite's millisecond format");
    }
    let again = backup(&back, dir.path(), "again.jsonl").await;
    assert_eq!(normalized_rows(&again), normalized_rows(&from_sqlite));
    assert_eq!(lines(&from_pg)[0]["source_backend"], "postgres");
}
