//! Schema versioning: the embedded migrations, the schema's status against them, and applying,
//! reverting or forcing versions the way `goclaw migrate` and `goclaw upgrade` need.
//!
//! Versions are tracked golang-migrate style in `schema_migrations(version, dirty)`. Each
//! migration runs in its own transaction together with the version update; the row is marked
//! dirty beforehand, so an interrupted run is visible as [`SchemaState::Dirty`] and must be
//! resolved with [`Migrator::force`] before anything else runs.

mod embedded;
mod version_table;

use std::fmt;
use std::time::{Duration, Instant};

use goclaw_core::StoreBackend;
use sqlx::{Connection, PgConnection, PgPool};

use crate::open::Pool;
use embedded::Migration;
pub(crate) use version_table::{SchemaConn, VersionRow};
use version_table::{pg_lock, pg_unlock};

/// A migration's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct MigrationInfo {
    pub version: i64,
    pub name: &'static str,
}

/// Where the database schema stands relative to this binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaStatus {
    /// The recorded version; `None` when nothing has been applied.
    pub current: Option<i64>,
    /// The highest version this binary embeds.
    pub required: i64,
    /// Whether the recorded version is marked dirty.
    pub dirty: bool,
    pub state: SchemaState,
    /// Migrations this binary would apply, in order.
    pub pending: Vec<MigrationInfo>,
}

/// The verdict of a [`SchemaStatus`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SchemaState {
    UpToDate,
    /// `from` is the current version, 0 when nothing is applied.
    UpgradeNeeded {
        from: i64,
        to: i64,
    },
    /// The database is newer than this binary.
    BinaryTooOld,
    /// A migration failed or was interrupted.
    Dirty,
}

impl fmt::Display for SchemaState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaState::UpToDate => f.write_str("UP TO DATE"),
            SchemaState::UpgradeNeeded { from, to } => write!(f, "UPGRADE NEEDED ({from} -> {to})"),
            SchemaState::BinaryTooOld => f.write_str("BINARY TOO OLD"),
            SchemaState::Dirty => f.write_str("DIRTY"),
        }
    }
}

/// Why a migration command failed.
#[derive(Debug, thiserror::Error)]
pub enum MigrateError {
    #[error(
        "the database schema is marked dirty at version {version}: a migration failed or was \
         interrupted; check the schema, then run `goclaw migrate force N` with N the version \
         it is actually at, and retry"
    )]
    Dirty { version: i64 },
    #[error(
        "the database schema is at version {current}, newer than this binary knows \
         (up to {required}); run a newer goclaw"
    )]
    BinaryTooOld { current: i64, required: i64 },
    #[error("version {0} is not a known migration (use 0 for an empty schema)")]
    UnknownVersion(i64),
    #[error("migration {version} ({name}) failed: {source}")]
    Failed {
        version: i64,
        name: &'static str,
        #[source]
        source: sqlx::Error,
    },
    #[error("database error while migrating: {0}")]
    Database(#[from] sqlx::Error),
}

/// The migrations embedded for `backend`, in order.
pub fn migrations(backend: StoreBackend) -> Vec<MigrationInfo> {
    embedded::for_backend(backend)
        .iter()
        .map(Migration::info)
        .collect()
}

/// Applies, reverts and inspects the schema of one database.
///
/// Cloning is cheap and shares the connection pool. On PostgreSQL, `up`, `down` and `force`
/// hold an advisory lock, so replicas starting together migrate one after the other.
#[derive(Clone)]
pub struct Migrator {
    pool: Pool,
}

impl fmt::Debug for Migrator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Migrator")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

impl Migrator {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }

    /// The engine whose migrations this migrator runs.
    pub fn backend(&self) -> StoreBackend {
        self.pool.backend()
    }

    /// Every embedded migration, in order.
    pub fn migrations(&self) -> Vec<MigrationInfo> {
        migrations(self.backend())
    }

    /// Reads the schema's status; changes nothing.
    pub async fn status(&self) -> Result<SchemaStatus, MigrateError> {
        let row = match &self.pool {
            Pool::Sqlite(pool) => {
                SchemaConn::Sqlite(&mut *pool.acquire().await?)
                    .read()
                    .await?
            }
            Pool::Postgres(pool) => {
                SchemaConn::Postgres(&mut *pool.acquire().await?)
                    .read()
                    .await?
            }
        };
        Ok(status_of(self.list(), row))
    }

    /// Applies every pending migration in order, calling `on_each` after each one with how
    /// long it took. Returns what was applied (nothing when up to date). Refused while dirty.
    pub async fn up(
        &self,
        on_each: impl FnMut(&MigrationInfo, Duration),
    ) -> Result<Vec<MigrationInfo>, MigrateError> {
        let list = self.list();
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                run_up(SchemaConn::Sqlite(&mut conn), list, on_each).await
            }
            Pool::Postgres(pool) => {
                let mut conn = locked(pool).await?;
                let result = run_up(SchemaConn::Postgres(&mut conn), list, on_each).await;
                release(conn).await;
                result
            }
        }
    }

    /// Reverts the last `n` applied migrations, newest first, calling `on_each` after each.
    /// Returns what was reverted (fewer than `n` when fewer are applied). Refused while dirty.
    pub async fn down(
        &self,
        n: usize,
        on_each: impl FnMut(&MigrationInfo, Duration),
    ) -> Result<Vec<MigrationInfo>, MigrateError> {
        let list = self.list();
        match &self.pool {
            Pool::Sqlite(pool) => {
                let mut conn = pool.acquire().await?;
                run_down(SchemaConn::Sqlite(&mut conn), list, n, on_each).await
            }
            Pool::Postgres(pool) => {
                let mut conn = locked(pool).await?;
                let result = run_down(SchemaConn::Postgres(&mut conn), list, n, on_each).await;
                release(conn).await;
                result
            }
        }
    }

    /// Records `version` (0 = nothing applied) as the current, clean version without running
    /// any SQL: the way out of [`SchemaState::Dirty`] once the schema has been checked by hand.
    pub async fn force(&self, version: i64) -> Result<(), MigrateError> {
        let row = if version == 0 {
            None
        } else if self.list().iter().any(|m| m.version == version) {
            Some(VersionRow {
                version,
                dirty: false,
            })
        } else {
            return Err(MigrateError::UnknownVersion(version));
        };
        match &self.pool {
            Pool::Sqlite(pool) => {
                SchemaConn::Sqlite(&mut *pool.acquire().await?)
                    .write(row)
                    .await?
            }
            Pool::Postgres(pool) => {
                let mut conn = locked(pool).await?;
                let result = SchemaConn::Postgres(&mut conn).write(row).await;
                release(conn).await;
                result?;
            }
        }
        Ok(())
    }

    /// Records `version` without running any SQL, as an interrupted migration (`dirty`) or a
    /// newer binary (a version beyond this one's) would leave the schema.
    #[cfg(any(test, feature = "testing"))]
    pub async fn record_version(&self, version: i64, dirty: bool) -> Result<(), MigrateError> {
        let row = Some(VersionRow { version, dirty });
        match &self.pool {
            Pool::Sqlite(pool) => {
                SchemaConn::Sqlite(&mut *pool.acquire().await?)
                    .write(row)
                    .await?
            }
            Pool::Postgres(pool) => {
                SchemaConn::Postgres(&mut *pool.acquire().await?)
                    .write(row)
                    .await?
            }
        }
        Ok(())
    }

    fn list(&self) -> &'static [Migration] {
        embedded::for_backend(self.backend())
    }
}

impl Migration {
    fn info(&self) -> MigrationInfo {
        MigrationInfo {
            version: self.version,
            name: self.name,
        }
    }
}

fn status_of(list: &[Migration], row: Option<VersionRow>) -> SchemaStatus {
    let required = list.last().map_or(0, |m| m.version);
    let current = row.map(|r| r.version);
    let dirty = row.is_some_and(|r| r.dirty);
    let from = current.unwrap_or(0);
    let state = if dirty {
        SchemaState::Dirty
    } else if from == required {
        SchemaState::UpToDate
    } else if from < required {
        SchemaState::UpgradeNeeded { from, to: required }
    } else {
        SchemaState::BinaryTooOld
    };
    let pending = list
        .iter()
        .filter(|m| m.version > from)
        .map(Migration::info)
        .collect();
    SchemaStatus {
        current,
        required,
        dirty,
        state,
        pending,
    }
}

/// Creates this binary's whole schema inside the caller's transaction: every migration, then
/// the version row, with no dirty mark in between (a rollback leaves the database as empty as
/// it was). For a new, empty database only; returns what was applied.
pub(crate) async fn create_schema(
    mut conn: SchemaConn<'_>,
    backend: StoreBackend,
) -> Result<Vec<MigrationInfo>, MigrateError> {
    conn.lock_in_transaction().await?;
    let list = embedded::for_backend(backend);
    for migration in list {
        conn.execute_in_transaction(migration.up)
            .await
            .map_err(|source| MigrateError::Failed {
                version: migration.version,
                name: migration.name,
                source,
            })?;
    }
    let required = list.last().map_or(0, |m| m.version);
    conn.set_in_transaction(Some(VersionRow {
        version: required,
        dirty: false,
    }))
    .await?;
    Ok(list.iter().map(Migration::info).collect())
}

/// The clean current version, or why nothing may run.
async fn clean_version(conn: &mut SchemaConn<'_>, list: &[Migration]) -> Result<i64, MigrateError> {
    let status = status_of(list, conn.read().await?);
    let current = status.current.unwrap_or(0);
    match status.state {
        SchemaState::Dirty => Err(MigrateError::Dirty { version: current }),
        SchemaState::BinaryTooOld => Err(MigrateError::BinaryTooOld {
            current,
            required: status.required,
        }),
        SchemaState::UpToDate | SchemaState::UpgradeNeeded { .. } => Ok(current),
    }
}

async fn run_up(
    mut conn: SchemaConn<'_>,
    list: &'static [Migration],
    mut on_each: impl FnMut(&MigrationInfo, Duration),
) -> Result<Vec<MigrationInfo>, MigrateError> {
    let current = clean_version(&mut conn, list).await?;
    let mut applied = Vec::new();
    for migration in list.iter().filter(|m| m.version > current) {
        let started = Instant::now();
        let version = migration.version;
        conn.write(Some(VersionRow {
            version,
            dirty: true,
        }))
        .await?;
        let clean = Some(VersionRow {
            version,
            dirty: false,
        });
        conn.apply(migration.up, clean)
            .await
            .map_err(|source| MigrateError::Failed {
                version,
                name: migration.name,
                source,
            })?;
        let info = migration.info();
        on_each(&info, started.elapsed());
        applied.push(info);
    }
    Ok(applied)
}

async fn run_down(
    mut conn: SchemaConn<'_>,
    list: &'static [Migration],
    n: usize,
    mut on_each: impl FnMut(&MigrationInfo, Duration),
) -> Result<Vec<MigrationInfo>, MigrateError> {
    let current = clean_version(&mut conn, list).await?;
    let applied_count = list.iter().filter(|m| m.version <= current).count();
    let mut reverted = Vec::new();
    for index in (0..applied_count).rev().take(n) {
        let migration = &list[index];
        let started = Instant::now();
        conn.write(Some(VersionRow {
            version: migration.version,
            dirty: true,
        }))
        .await?;
        let previous = index.checked_sub(1).map(|i| VersionRow {
            version: list[i].version,
            dirty: false,
        });
        conn.apply(migration.down, previous)
            .await
            .map_err(|source| MigrateError::Failed {
                version: migration.version,
                name: migration.name,
                source,
            })?;
        let info = migration.info();
        on_each(&info, started.elapsed());
        reverted.push(info);
    }
    Ok(reverted)
}

/// A connection of its own (outside the pool) holding the PostgreSQL migration lock. Being
/// unpooled, it can never go back to the pool still holding the lock: if the migrating future
/// is dropped, the connection closes and the server releases the lock.
async fn locked(pool: &PgPool) -> Result<PgConnection, MigrateError> {
    let mut conn = pool.acquire().await?.detach();
    pg_lock(&mut conn).await?;
    Ok(conn)
}

/// Releases the lock taken by [`locked`] and closes the connection.
async fn release(mut conn: PgConnection) {
    // Closing the session releases the lock even if the unlock itself fails.
    let _ = pg_unlock(&mut conn).await;
    let _ = conn.close().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(row: Option<(i64, bool)>, expected: SchemaState, pending: &[i64]) {
        let list = embedded::for_backend(StoreBackend::Sqlite);
        let row = row.map(|(version, dirty)| VersionRow { version, dirty });
        let status = status_of(list, row);
        assert_eq!(status.state, expected, "row {row:?}");
        let versions: Vec<i64> = status.pending.iter().map(|m| m.version).collect();
        assert_eq!(versions, pending, "row {row:?}");
    }

    #[test]
    fn states_follow_the_recorded_row() {
        let from = |first: i64| (first..=30).collect::<Vec<_>>();
        check(
            None,
            SchemaState::UpgradeNeeded { from: 0, to: 30 },
            &from(1),
        );
        check(
            Some((2, false)),
            SchemaState::UpgradeNeeded { from: 2, to: 30 },
            &from(3),
        );
        check(Some((30, false)), SchemaState::UpToDate, &[]);
        check(Some((31, false)), SchemaState::BinaryTooOld, &[]);
        check(Some((3, true)), SchemaState::Dirty, &from(4));
    }

    #[test]
    fn states_print_like_goclaw_upgrade_status() {
        assert_eq!(
            SchemaState::UpgradeNeeded { from: 0, to: 4 }.to_string(),
            "UPGRADE NEEDED (0 -> 4)"
        );
        assert_eq!(SchemaState::UpToDate.to_string(), "UP TO DATE");
        assert_eq!(SchemaState::BinaryTooOld.to_string(), "BINARY TOO OLD");
        assert_eq!(SchemaState::Dirty.to_string(), "DIRTY");
    }
}
