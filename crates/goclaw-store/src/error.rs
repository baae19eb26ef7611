//! Errors of opening and backing up a database, and the mapping of `sqlx` errors onto
//! [`StoreError`].
//!
//! No message built here contains a DSN: PostgreSQL failures name the host, port and database
//! at most, and any text that came from the driver is scrubbed of the DSN's password first.

use std::path::PathBuf;

use goclaw_core::StoreError;
use sqlx::error::ErrorKind;

/// Why a database could not be opened.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// The directory that should hold the SQLite file could not be created.
    #[error("cannot create directory {path} for the SQLite database: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// SQLite refused to open the file.
    #[error("cannot open SQLite database {path}: {reason}")]
    Sqlite { path: PathBuf, reason: String },
    /// sqlite-vec could not be registered as an automatic extension.
    #[error("cannot register the sqlite-vec extension with SQLite (SQLite error code {code})")]
    VecRegistration { code: i32 },
    /// sqlite-vec did not answer `SELECT vec_version()`.
    #[error("the sqlite-vec extension is not available in SQLite database {path}: {reason}")]
    VecUnavailable { path: PathBuf, reason: String },
    /// The SQLite library was built without FTS5.
    #[error("SQLite full-text search (FTS5) is not available in database {path}: {reason}")]
    Fts5Unavailable { path: PathBuf, reason: String },
    /// The PostgreSQL DSN is not a URL sqlx understands.
    #[error(
        "the PostgreSQL DSN could not be parsed; expected postgres://user:password@host:port/database"
    )]
    InvalidDsn,
    /// The PostgreSQL server could not be reached or refused the connection.
    #[error("PostgreSQL connection failed{target}: {reason}")]
    PostgresConnect {
        /// ` to host:port/database`, or empty when unknown.
        target: String,
        reason: String,
    },
    /// The server runs a PostgreSQL older than 15.
    #[error("PostgreSQL {found} is too old; goclaw needs PostgreSQL 15 or newer")]
    PostgresTooOld { found: String },
    /// pgvector is not installed on the server.
    #[error(
        "PostgreSQL extension \"vector\" (pgvector) is not available on the server; install pgvector (https://github.com/pgvector/pgvector) and retry"
    )]
    VectorUnavailable,
    /// A query run to check the server failed.
    #[error("PostgreSQL server check failed{target}: {reason}")]
    PostgresCheck { target: String, reason: String },
}

/// Why a SQLite backup could not be written.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The store is not a SQLite database.
    #[error("online backup is only available for SQLite databases")]
    NotSqlite,
    /// The destination already exists; `VACUUM INTO` never overwrites.
    #[error("backup destination {0} already exists")]
    DestinationExists(PathBuf),
    /// The destination path is not valid UTF-8, which SQLite needs.
    #[error("backup destination {0} is not a UTF-8 path")]
    NonUtf8Path(PathBuf),
    /// The destination directory could not be created.
    #[error("cannot create directory {path} for the backup: {source}")]
    CreateDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// SQLite failed to write the copy.
    #[error("backup to {path} failed: {source}")]
    Vacuum {
        path: PathBuf,
        #[source]
        source: sqlx::Error,
    },
}

/// Maps a driver error onto a store error about `entity` ("agent", "session", ...):
/// a missing row is `NotFound`, a unique violation `Conflict`, anything else `Database`.
pub(crate) fn store_error(error: sqlx::Error, entity: &'static str) -> StoreError {
    match classify(&error) {
        Class::NotFound => StoreError::NotFound(entity),
        Class::Unique => StoreError::Conflict(entity.to_owned()),
        Class::ForeignKey | Class::Other => StoreError::Database(Box::new(error)),
    }
}

/// Like [`store_error`], but a foreign-key violation means the referenced `parent` is missing.
pub(crate) fn store_error_with_parent(
    error: sqlx::Error,
    entity: &'static str,
    parent: &'static str,
) -> StoreError {
    match classify(&error) {
        Class::ForeignKey => StoreError::NotFound(parent),
        _ => store_error(error, entity),
    }
}

/// A `Corrupt` error for a value in `table` that could not be decoded.
pub(crate) fn corrupt(table: &'static str, reason: impl std::fmt::Display) -> StoreError {
    StoreError::Corrupt {
        table,
        reason: reason.to_string(),
    }
}

enum Class {
    NotFound,
    Unique,
    ForeignKey,
    Other,
}

fn classify(error: &sqlx::Error) -> Class {
    match error {
        sqlx::Error::RowNotFound => Class::NotFound,
        sqlx::Error::Database(db) => match db.kind() {
            ErrorKind::UniqueViolation => Class::Unique,
            ErrorKind::ForeignKeyViolation => Class::ForeignKey,
            _ => Class::Other,
        },
        _ => Class::Other,
    }
}

/// Describes a driver error in words that never include connection strings, for messages
/// about connecting.
pub(crate) fn describe_connect_error(error: &sqlx::Error) -> String {
    match error {
        sqlx::Error::Io(io) => io.to_string(),
        sqlx::Error::Tls(tls) => format!("TLS error: {tls}"),
        sqlx::Error::Database(db) => db.message().to_owned(),
        sqlx::Error::Protocol(text) => format!("protocol error: {text}"),
        sqlx::Error::PoolTimedOut => "timed out waiting for a connection".to_owned(),
        sqlx::Error::PoolClosed => "the connection pool was closed".to_owned(),
        sqlx::Error::Configuration(_) => "invalid connection settings".to_owned(),
        other => other.to_string(),
    }
}

/// Removes the password and the whole DSN from `message`, in case a driver echoed them.
pub(crate) fn scrub_dsn(message: &str, dsn: &str) -> String {
    let mut scrubbed = message.replace(dsn, "[DSN]");
    if let Some(password) = dsn_password(dsn) {
        scrubbed = scrubbed.replace(password, "[REDACTED]");
    }
    scrubbed
}

/// The password part of `scheme://user:password@host/...`, if any.
fn dsn_password(dsn: &str) -> Option<&str> {
    let rest = dsn.split_once("://")?.1;
    let authority = rest.split(['/', '?']).next()?;
    let userinfo = authority.rsplit_once('@')?.0;
    let password = userinfo.split_once(':')?.1;
    (!password.is_empty()).then_some(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_scrub(message: &str, dsn: &str, expected: &str) {
        assert_eq!(scrub_dsn(message, dsn), expected, "message {message:?}");
    }

    #[test]
    fn scrubbing_removes_passwords_and_dsns() {
        let dsn = "postgres://app:s3cret@db:5432/goclaw?sslmode=require";
        check_scrub("bad password s3cret", dsn, "bad password [REDACTED]");
        check_scrub(&format!("cannot use {dsn}"), dsn, "cannot use [DSN]");
        check_scrub("refused", dsn, "refused");
        check_scrub("x s3cret", "postgres://app@db/goclaw", "x s3cret");
        check_scrub("x", "postgres://app:@db/goclaw", "x");
        check_scrub("p@ss", "postgres://u:p@ss@db/g", "[REDACTED]");
    }

    #[test]
    fn vector_error_names_the_extension_and_how_to_install_it() {
        assert_eq!(
            OpenError::VectorUnavailable.to_string(),
            "PostgreSQL extension \"vector\" (pgvector) is not available on the server; \
             install pgvector (https://github.com/pgvector/pgvector) and retry"
        );
    }

    #[test]
    fn connect_error_names_the_target_without_the_dsn() {
        let error = OpenError::PostgresConnect {
            target: " to db:5432/goclaw".to_owned(),
            reason: "Connection refused (os error 111)".to_owned(),
        };
        assert_eq!(
            error.to_string(),
            "PostgreSQL connection failed to db:5432/goclaw: Connection refused (os error 111)"
        );
    }
}
