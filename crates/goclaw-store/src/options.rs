//! Where the store lives and how its connection pool is sized.
//!
//! The PostgreSQL DSN usually carries a password, so it is held as a `SecretString`: printing
//! the options with `{:?}` shows `[REDACTED]` in its place.

use std::path::PathBuf;
use std::time::Duration;

use goclaw_core::StoreBackend;
use secrecy::{ExposeSecret, SecretString};

/// Which database to open, and how.
#[derive(Debug, Clone)]
pub enum StoreOptions {
    /// An embedded SQLite file.
    Sqlite(SqliteOptions),
    /// A PostgreSQL server.
    Postgres(PostgresOptions),
}

impl StoreOptions {
    /// A SQLite database at `path` with default pool settings.
    pub fn sqlite(path: impl Into<PathBuf>) -> Self {
        Self::Sqlite(SqliteOptions::new(path))
    }

    /// A PostgreSQL database at `dsn` (`postgres://user:password@host:port/database`) with
    /// default pool settings.
    pub fn postgres(dsn: &str) -> Self {
        Self::Postgres(PostgresOptions::new(dsn))
    }

    /// The engine these options open.
    pub fn backend(&self) -> StoreBackend {
        match self {
            Self::Sqlite(_) => StoreBackend::Sqlite,
            Self::Postgres(_) => StoreBackend::Postgres,
        }
    }
}

/// An embedded SQLite database file.
#[derive(Debug, Clone)]
pub struct SqliteOptions {
    /// Path of the database file; missing parent directories are created.
    pub path: PathBuf,
    /// Connections in the pool. SQLite serializes writers anyway; a few connections let reads
    /// proceed while one connection writes.
    pub max_connections: u32,
}

impl SqliteOptions {
    /// Default number of pooled connections.
    pub const DEFAULT_MAX_CONNECTIONS: u32 = 4;

    /// Options for the file at `path`.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            path: path.into(),
            max_connections: Self::DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// A PostgreSQL server.
#[derive(Debug, Clone)]
pub struct PostgresOptions {
    dsn: SecretString,
    /// Most connections open at once (`SetMaxOpenConns` in GoClaw).
    pub max_open: u32,
    /// Connections kept open while idle. Connections above this number are closed once they
    /// have been idle for [`PostgresOptions::IDLE_TIMEOUT`], which is how the pool honours a
    /// "max idle" setting.
    pub max_idle: u32,
    /// How long to wait for a connection to be established (or handed out by the pool).
    pub connect_timeout: Duration,
}

impl PostgresOptions {
    /// Default `max_open`.
    pub const DEFAULT_MAX_OPEN: u32 = 25;
    /// Default `max_idle`.
    pub const DEFAULT_MAX_IDLE: u32 = 10;
    /// Default `connect_timeout`.
    pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
    /// How long a connection above `max_idle` may stay idle before the pool closes it.
    pub const IDLE_TIMEOUT: Duration = Duration::from_secs(60);

    /// Options for the server at `dsn` with default pool settings.
    pub fn new(dsn: &str) -> Self {
        Self {
            dsn: SecretString::from(dsn.to_owned()),
            max_open: Self::DEFAULT_MAX_OPEN,
            max_idle: Self::DEFAULT_MAX_IDLE,
            connect_timeout: Self::DEFAULT_CONNECT_TIMEOUT,
        }
    }

    /// The DSN in clear text, for handing to another component that connects to the same
    /// database. Never log it.
    pub fn expose_dsn(&self) -> &str {
        self.dsn.expose_secret()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_hides_the_dsn() {
        let options = StoreOptions::postgres("postgres://app:hunter2@db.internal/goclaw");
        let shown = format!("{options:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("db.internal"), "{shown}");
    }

    #[test]
    fn defaults_match_goclaw_pools() {
        let StoreOptions::Postgres(pg) = StoreOptions::postgres("postgres://h/db") else {
            panic!("postgres options expected");
        };
        assert_eq!((pg.max_open, pg.max_idle), (25, 10));
        let StoreOptions::Sqlite(lite) = StoreOptions::sqlite("/tmp/x.db") else {
            panic!("sqlite options expected");
        };
        assert_eq!(lite.max_connections, 4);
    }
}
