//! Opening a database: the entry point of the crate, and the handle it returns.
//!
//! [`open`] connects (checking that the engine has what the gateway needs: sqlite-vec and FTS5,
//! or PostgreSQL 15+ with pgvector) but never migrates; the caller decides what to do with the
//! [`Migrator`]'s status first.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use goclaw_core::{Store, StoreBackend, StoreError};

use crate::error::{BackupError, OpenError, store_error};
use crate::migrate::Migrator;
use crate::options::StoreOptions;
/// The pool of either engine, as `migrate/`, `archive/` and `testing` reach it.
pub(crate) use crate::sql::Pool;
use crate::tables::SqlStore;
use crate::{postgres, sqlite};

/// Opens the database described by `options`.
///
/// The schema is left as it is: check [`Migrator::status`] and run [`Migrator::up`] as the
/// situation calls for.
pub async fn open(options: &StoreOptions) -> Result<OpenedStore, OpenError> {
    let pool = match options {
        StoreOptions::Sqlite(sqlite) => Pool::Sqlite(sqlite::connect(sqlite).await?),
        StoreOptions::Postgres(pg) => Pool::Postgres(postgres::connect(pg).await?),
    };
    Ok(OpenedStore::from_pool(pool))
}

/// An open database: the store the gateway uses, and the migrator for its schema.
///
/// Cloning is cheap and shares the connection pool.
#[derive(Clone)]
pub struct OpenedStore {
    pool: Pool,
    store: Arc<dyn Store>,
}

impl fmt::Debug for OpenedStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenedStore")
            .field("backend", &self.backend())
            .finish_non_exhaustive()
    }
}

/// Versions of the database engine and its extensions, for diagnostics (`goclaw doctor`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerInfo {
    pub backend: StoreBackend,
    /// `sqlite_version()`, or PostgreSQL's `server_version`.
    pub version: String,
    /// `vec_version()` on SQLite; the installed `vector` extension's version on PostgreSQL
    /// (`None` until the first migration has created it).
    pub vector_version: Option<String>,
}

impl OpenedStore {
    pub(crate) fn from_pool(pool: Pool) -> Self {
        let store: Arc<dyn Store> = Arc::new(SqlStore::new(pool.clone()));
        Self { pool, store }
    }

    /// The engine behind this database.
    pub fn backend(&self) -> StoreBackend {
        self.pool.backend()
    }

    /// The store implementing every `goclaw-core` storage trait.
    pub fn store(&self) -> Arc<dyn Store> {
        Arc::clone(&self.store)
    }

    /// The migrator for this database's schema.
    pub fn migrator(&self) -> Migrator {
        Migrator::new(self.pool.clone())
    }

    /// Engine and extension versions.
    pub async fn server_info(&self) -> Result<ServerInfo, StoreError> {
        let (version, vector_version) = match &self.pool {
            Pool::Sqlite(p) => sqlite::server_versions(p).await,
            Pool::Postgres(p) => postgres::server_versions(p).await,
        }
        .map_err(|e| store_error(e, "server version"))?;
        Ok(ServerInfo {
            backend: self.backend(),
            version,
            vector_version,
        })
    }

    /// PostgreSQL's `max_connections` setting, for sizing the pool against it (`goclaw doctor
    /// --production`); `None` on SQLite, which has no server.
    pub async fn max_connections(&self) -> Result<Option<u32>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let (value,): (String,) = sqlx::query_as("SHOW max_connections")
            .fetch_one(pool)
            .await
            .map_err(|e| store_error(e, "max_connections"))?;
        Ok(value.trim().parse().ok())
    }

    /// PostgreSQL's `shared_buffers` setting as the server shows it (e.g. `128MB`), which
    /// decides how much of the memory tables and their indexes a search finds in the server's
    /// own cache; `None` on SQLite.
    pub async fn shared_buffers(&self) -> Result<Option<String>, StoreError> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(None);
        };
        let (value,): (String,) = sqlx::query_as("SHOW shared_buffers")
            .fetch_one(pool)
            .await
            .map_err(|e| store_error(e, "shared_buffers"))?;
        Ok(Some(value))
    }

    /// Which of `tables` the live schema lacks (`goclaw doctor --production` checks the tables
    /// the checklist names against the database itself, not against the recorded version).
    pub async fn missing_tables(&self, tables: &[&str]) -> Result<Vec<String>, StoreError> {
        let mut missing = Vec::new();
        for table in tables {
            let found: Option<(String,)> = match &self.pool {
                Pool::Sqlite(p) => {
                    sqlx::query_as(
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name = ?",
                    )
                    .bind(table)
                    .fetch_optional(p)
                    .await
                }
                Pool::Postgres(p) => {
                    sqlx::query_as(
                        "SELECT table_name::text FROM information_schema.tables \
                         WHERE table_schema = current_schema() AND table_name = $1",
                    )
                    .bind(table)
                    .fetch_optional(p)
                    .await
                }
            }
            .map_err(|e| store_error(e, "table"))?;
            if found.is_none() {
                missing.push((*table).to_owned());
            }
        }
        Ok(missing)
    }

    /// Closes every pooled connection, waiting for borrowed ones to come back.
    pub async fn close(&self) {
        match &self.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
    }

    pub(crate) fn pool(&self) -> &Pool {
        &self.pool
    }
}

/// Writes a consistent copy of a SQLite database to `dest` while it stays in use
/// (`VACUUM INTO`). `dest` must not exist; its parent directories are created.
pub async fn backup_sqlite(store: &OpenedStore, dest: &Path) -> Result<(), BackupError> {
    let Pool::Sqlite(pool) = &store.pool else {
        return Err(BackupError::NotSqlite);
    };
    if dest.exists() {
        return Err(BackupError::DestinationExists(dest.to_owned()));
    }
    let Some(dest_text) = dest.to_str() else {
        return Err(BackupError::NonUtf8Path(dest.to_owned()));
    };
    if let Some(parent) = dest.parent().filter(|p| !p.as_os_str().is_empty()) {
        tokio::fs::create_dir_all(parent)
            .await
            .map_err(|source| BackupError::CreateDir {
                path: parent.to_owned(),
                source,
            })?;
    }
    sqlx::query("VACUUM INTO ?")
        .bind(dest_text)
        .execute(pool)
        .await
        .map_err(|source| BackupError::Vacuum {
            path: dest.to_owned(),
            source,
        })?;
    Ok(())
}
