//! `goclaw backup` and `goclaw restore` run as the real executable on the embedded SQLite
//! database: summaries, file mode, refusals with one-line errors and non-zero exits, and a
//! restore that puts back exactly what was backed up — also from PostgreSQL into a new SQLite data
//! dir and into a new PostgreSQL database, whose schema the restore creates.

mod support;

use std::path::Path;

use goclaw_core::{AgentKey, MASTER_TENANT_ID, NewAgent, Store, StoreBackend};
use goclaw_store::{StoreOptions, open};
use support::{Goclaw, default_db, home};

/// Agent keys of the master tenant of the SQLite database in `home`.
async fn agent_keys(home: &Path) -> Vec<String> {
    let opened = open(&StoreOptions::sqlite(default_db(home)))
        .await
        .expect("open database");
    let keys = keys_in(opened.store().as_ref()).await;
    opened.close().await;
    keys
}

/// Agent keys of the master tenant, read straight from the database, sorted.
async fn keys_in(store: &dyn Store) -> Vec<String> {
    let mut keys: Vec<String> = store
        .agents()
        .list(MASTER_TENANT_ID)
        .await
        .expect("list agents")
        .into_iter()
        .map(|a| a.agent_key.to_string())
        .collect();
    keys.sort();
    keys
}

async fn create_agent(home: &Path, key: &str) {
    let opened = open(&StoreOptions::sqlite(default_db(home)))
        .await
        .expect("open database");
    let key = AgentKey::parse(key).expect("agent key");
    opened
        .store()
        .agents()
        .create(NewAgent::new(MASTER_TENANT_ID, key, "Agent"))
        .await
        .expect("create agent");
    opened.close().await;
}

fn assert_one_line_error(out: &support::Finished, needle: &str) {
    assert!(!out.success, "{out:?}");
    assert_eq!(out.code, Some(1), "{out:?}");
    assert_eq!(out.stderr.trim().lines().count(), 1, "{}", out.stderr);
    assert!(out.stderr.starts_with("goclaw: "), "{}", out.stderr);
    assert!(out.stderr.contains(needle), "{}", out.stderr);
}

#[tokio::test]
async fn backup_then_restore_on_sqlite() {
    let home = home();
    let dir = home.path();

    let out = Goclaw::new(dir).args(&["backup"]).run().await;
    assert_one_line_error(&out, "run `goclaw upgrade` first");
    let partials = std::fs::read_dir(dir)
        .expect("ls")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().contains("backup"))
        .count();
    assert_eq!(partials, 0, "a failed backup leaves no file");

    let out = Goclaw::new(dir).args(&["upgrade"]).run().await;
    assert!(out.success, "{out:?}");
    create_agent(dir, "alpha").await;

    let out = Goclaw::new(dir)
        .args(&["backup", "--output", "b.jsonl"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    // The master tenant and the agent.
    assert_eq!(
        out.stdout.trim(),
        "backed up 2 rows from 53 tables to b.jsonl"
    );
    assert_eq!(out.stderr, "", "no progress bars without a terminal");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.join("b.jsonl"))
            .expect("backup written")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    let out = Goclaw::new(dir)
        .args(&["backup", "--output", "b.jsonl"])
        .run()
        .await;
    assert_one_line_error(&out, "already exists");

    let out = Goclaw::new(dir)
        .args(&["backup", "--output", "."])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert!(
        out.stdout.contains("to ./goclaw-backup-") && out.stdout.trim().ends_with("Z.jsonl"),
        "{}",
        out.stdout
    );

    create_agent(dir, "beta").await;
    let out = Goclaw::new(dir).args(&["restore", "b.jsonl"]).run().await;
    assert_one_line_error(&out, "--yes");
    assert_eq!(agent_keys(dir).await, ["alpha", "beta"]);

    let text = std::fs::read_to_string(dir.join("b.jsonl")).expect("read backup");
    std::fs::write(dir.join("bad.jsonl"), text.replace("alpha", "gamma")).expect("write");
    let out = Goclaw::new(dir)
        .args(&["restore", "bad.jsonl", "--yes"])
        .run()
        .await;
    assert_one_line_error(&out, "SHA-256");
    assert_eq!(agent_keys(dir).await, ["alpha", "beta"]);

    let out = Goclaw::new(dir)
        .args(&["restore", "b.jsonl", "--yes"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert_eq!(
        out.stdout.trim(),
        "restored 2 rows into 53 tables from b.jsonl"
    );
    assert_eq!(agent_keys(dir).await, ["alpha"]);
}

#[tokio::test]
async fn postgres_backup_restores_into_sqlite() {
    let Some(pg) = goclaw_store::testing::TestDatabase::migrated(StoreBackend::Postgres).await
    else {
        return;
    };
    let StoreOptions::Postgres(options) = pg.options() else {
        panic!("a PostgreSQL test database");
    };
    let dsn = options.expose_dsn().to_owned();
    let key = AgentKey::parse("alpha").expect("agent key");
    pg.store()
        .agents()
        .create(NewAgent::new(MASTER_TENANT_ID, key, "Agent"))
        .await
        .expect("create agent");
    let home = home();
    let dir = home.path();

    let out = Goclaw::new(dir)
        .env("GOCLAW_POSTGRES_DSN", &dsn)
        .args(&["backup", "--output", "pg.jsonl"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert_eq!(
        out.stdout.trim(),
        "backed up 2 rows from 53 tables to pg.jsonl"
    );
    let out = Goclaw::new(dir)
        .env("GOCLAW_POSTGRES_DSN", &dsn)
        .args(&["restore", "pg.jsonl"])
        .run()
        .await;
    assert_one_line_error(
        &out,
        "PostgreSQL database (GOCLAW_POSTGRES_DSN) already holds data",
    );
    assert!(!out.stderr.contains(&dsn), "{}", out.stderr);

    // A new machine: an empty data dir, no `upgrade` — the restore creates the schema.
    let out = Goclaw::new(dir).args(&["restore", "pg.jsonl"]).run().await;
    assert!(out.success, "{out:?}");
    let created = created_schema_line(StoreBackend::Sqlite);
    let db_path = default_db(dir);
    assert_eq!(
        out.stdout.trim(),
        format!(
            "the SQLite database {} {created}\nrestored 2 rows into 53 tables from pg.jsonl",
            db_path.display()
        )
    );
    assert_eq!(agent_keys(dir).await, ["alpha"]);
    let out = Goclaw::new(dir).args(&["upgrade", "--status"]).run().await;
    assert!(out.success && out.stdout.contains("UP TO DATE"), "{out:?}");

    // And a new, empty PostgreSQL database.
    let Some(empty) = goclaw_store::testing::TestDatabase::new(StoreBackend::Postgres).await else {
        return;
    };
    let StoreOptions::Postgres(options) = empty.options() else {
        panic!("a PostgreSQL test database");
    };
    let empty_dsn = options.expose_dsn().to_owned();
    let out = Goclaw::new(dir)
        .env("GOCLAW_POSTGRES_DSN", &empty_dsn)
        .args(&["restore", "pg.jsonl"])
        .run()
        .await;
    assert!(out.success, "{out:?}");
    assert_eq!(
        out.stdout.trim(),
        format!(
            "the PostgreSQL database (GOCLAW_POSTGRES_DSN) {}\n\
             restored 2 rows into 53 tables from pg.jsonl",
            created_schema_line(StoreBackend::Postgres)
        )
    );
    assert!(!out.stdout.contains(&empty_dsn), "{}", out.stdout);
    assert_eq!(keys_in(empty.store().as_ref()).await, ["alpha"]);
}

/// What `restore` prints after the database's name when it had to create the schema.
fn created_schema_line(backend: StoreBackend) -> String {
    let all = goclaw_store::migrations(backend);
    let (first, last) = (
        all.first().expect("migrations"),
        all.last().expect("migrations"),
    );
    format!(
        "had no schema: applied migrations {}–{} ({} in all, schema version {}) in the \
         restore's transaction",
        first.version,
        last.version,
        all.len(),
        last.version
    )
}
