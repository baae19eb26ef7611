//! A PostgreSQL database the bench keeps between runs (`--keep-postgres NAME`): created and
//! migrated the first time, opened as it is afterwards.

use anyhow::{Context, Result};
use goclaw_store::testing::dsn_with_database;
use goclaw_store::{OpenedStore, PostgresOptions, StoreOptions, open};
use sqlx::{Connection, PgConnection};

/// Opens (creating it when missing) `goclaw_bench_memory_<name>` on the server of `admin_dsn`,
/// with every migration applied.
pub async fn open_kept(admin_dsn: &str, name: &str) -> Result<OpenedStore> {
    let database = format!("goclaw_bench_memory_{name}");
    let mut admin = PgConnection::connect(admin_dsn)
        .await
        .context("connecting to the PostgreSQL admin DSN")?;
    let exists: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
            .bind(&database)
            .fetch_one(&mut admin)
            .await
            .context("looking for the kept database")?;
    if exists {
        eprintln!("  reusing database {database}");
    } else {
        sqlx::query(&format!("CREATE DATABASE \"{database}\""))
            .execute(&mut admin)
            .await
            .with_context(|| format!("creating database {database}"))?;
        eprintln!("  created database {database}; it is kept after this run");
    }
    let _ = admin.close().await;
    let dsn =
        dsn_with_database(admin_dsn, &database).context("the DSN must be a postgres:// URL")?;
    let opened = open(&StoreOptions::Postgres(PostgresOptions::new(&dsn)))
        .await
        .with_context(|| format!("opening database {database}"))?;
    opened
        .migrator()
        .up(|_, _| {})
        .await
        .with_context(|| format!("migrating database {database}"))?;
    Ok(opened)
}
