//! Opening the configured database and deciding what to do about its schema before serving.
//!
//! On PostgreSQL the gateway refuses to start on an outdated schema unless
//! `GOCLAW_AUTO_UPGRADE=true`: upgrades of a shared production database are the operator's call.
//! The embedded SQLite database belongs to this one process, so it is upgraded automatically —
//! after a consistent copy of it has been written next to it.

use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use goclaw_config::{RuntimeSettings, StorageBackend};
use goclaw_core::StoreBackend;
use goclaw_store::{MigrationInfo, OpenedStore, SchemaState, SchemaStatus, StoreOptions};

/// Store options for the configured backend.
pub fn store_options(runtime: &RuntimeSettings) -> anyhow::Result<StoreOptions> {
    let db = &runtime.database;
    match db.backend {
        StorageBackend::Sqlite => Ok(StoreOptions::sqlite(&db.sqlite_path)),
        StorageBackend::Postgres => {
            let Some(dsn) = db.postgres_dsn.as_ref() else {
                bail!("GOCLAW_STORAGE_BACKEND=postgres needs GOCLAW_POSTGRES_DSN");
            };
            let mut options = goclaw_store::PostgresOptions::new(dsn.expose());
            options.max_open = db.pg_max_open_conns;
            options.max_idle = db.pg_max_idle_conns;
            Ok(StoreOptions::Postgres(options))
        }
    }
}

/// Connects to the configured database without touching its schema.
pub async fn open(runtime: &RuntimeSettings) -> anyhow::Result<OpenedStore> {
    let options = store_options(runtime)?;
    let what = describe(runtime);
    goclaw_store::open(&options)
        .await
        .with_context(|| format!("cannot open the {what}"))
}

/// A short description of the configured database, without secrets.
pub fn describe(runtime: &RuntimeSettings) -> String {
    match runtime.database.backend {
        StorageBackend::Sqlite => {
            format!("SQLite database {}", runtime.database.sqlite_path.display())
        }
        StorageBackend::Postgres => "PostgreSQL database (GOCLAW_POSTGRES_DSN)".to_owned(),
    }
}

/// Brings the schema to what this binary needs, or explains why the gateway cannot start.
pub async fn prepare_for_serve(
    opened: &OpenedStore,
    runtime: &RuntimeSettings,
) -> anyhow::Result<()> {
    let migrator = opened.migrator();
    let status = migrator
        .status()
        .await
        .context("cannot read the schema version")?;
    match status.state {
        SchemaState::UpToDate => Ok(()),
        SchemaState::Dirty => bail!(
            "database schema is DIRTY at version {}: a migration failed part-way; check the \
             database, then run `goclaw migrate force <version>` and `goclaw upgrade`",
            status.current.unwrap_or(0)
        ),
        SchemaState::BinaryTooOld => bail!(
            "database schema version {} is newer than this binary supports ({}): upgrade the \
             goclaw binary",
            status.current.unwrap_or(0),
            status.required
        ),
        SchemaState::UpgradeNeeded { .. } => match opened.backend() {
            StoreBackend::Postgres if !runtime.auto_upgrade => bail!(
                "database schema is out of date ({}): run `goclaw upgrade` (or set \
                 GOCLAW_AUTO_UPGRADE=true to migrate at start-up)",
                transition(&status)
            ),
            StoreBackend::Postgres => {
                tracing::info!(transition = %transition(&status), "GOCLAW_AUTO_UPGRADE=true: applying migrations");
                apply(opened, &status).await
            }
            StoreBackend::Sqlite => {
                if status.current.is_some() {
                    let backup = backup_path(&runtime.database.sqlite_path);
                    goclaw_store::backup_sqlite(opened, &backup)
                        .await
                        .with_context(|| {
                            format!(
                                "cannot back up the database to {} before upgrading",
                                backup.display()
                            )
                        })?;
                    tracing::info!(backup = %backup.display(), "database backed up before upgrade");
                }
                apply(opened, &status).await
            }
        },
    }
}

async fn apply(opened: &OpenedStore, status: &SchemaStatus) -> anyhow::Result<()> {
    let pending = status.pending.len();
    opened
        .migrator()
        .up(|migration: &MigrationInfo, took| {
            tracing::info!(
                version = migration.version,
                name = %migration.name,
                took_ms = took.as_millis() as u64,
                "migration applied"
            );
        })
        .await
        .context("schema upgrade failed")?;
    tracing::info!(applied = pending, "schema up to date");
    Ok(())
}

/// `a -> b`, with `0` for an empty database.
pub fn transition(status: &SchemaStatus) -> String {
    format!("{} -> {}", status.current.unwrap_or(0), status.required)
}

/// `goclaw.db` → `goclaw.db.backup-20261124T130501.123Z`.
pub fn backup_path(db: &Path) -> PathBuf {
    let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ");
    let mut name = db
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "goclaw.db".into());
    name.push(format!(".backup-{stamp}"));
    db.with_file_name(name)
}
