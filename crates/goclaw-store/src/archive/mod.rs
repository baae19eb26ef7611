//! Portable backups: a whole database written to one engine-neutral file ([`create`]) and read
//! back into an empty — or deliberately wiped — database of either engine ([`restore`]). A
//! database with no schema at all (a new data dir, a new PostgreSQL database) gets this binary's
//! migrations in the restore's own transaction, so disaster recovery onto a new machine is one
//! command and still all or nothing.
//!
//! The file is JSON lines. The first line is the header,
//! `{"format":"goclaw-backup","version":1,"schema_version":N,"created_at":…,"source_backend":…,
//! "tables":[{"name":…,"rows":N,"columns":[{"name":…,"type":…}]}]}`; then one line per row,
//! `{"table":…,"row":{column: value}}`, tables in foreign-key order; and last the trailer,
//! `{"end":"goclaw-backup","rows":{table: N},"total_rows":N,"sha256":…}`, whose checksum covers
//! every byte before it. Value types are described in [`ColumnType`].
//!
//! A backup is one read snapshot (PostgreSQL `REPEATABLE READ READ ONLY`, a SQLite read
//! transaction) written to a private temporary file (mode 0600: the rows hold encrypted secrets
//! and API key hashes) renamed into place when complete. A restore is one transaction that
//! commits only after the trailer's checksum and counts matched; on any error the database is
//! left as it was.

mod catalog;
mod read;
mod value;
mod write;

use std::path::PathBuf;

pub use catalog::ColumnType;
pub use read::{RestoreOptions, restore};
pub use write::create;

/// The `format` of the header line.
pub const FORMAT: &str = "goclaw-backup";

/// The archive format version this build writes, and the newest it reads.
pub const FORMAT_VERSION: u64 = 1;

/// The id of the tenant every migrated database starts with; a database holding only it is
/// empty as far as [`restore`] is concerned.
const MASTER_TENANT_ID: &str = "0193a5b0-7000-7000-8000-000000000001";

/// Reports how a backup or restore advances, table by table.
pub trait Progress {
    /// `table` starts; it has `rows` rows.
    fn table(&mut self, table: &str, rows: u64) {
        let _ = (table, rows);
    }
    /// `done` rows of the current table are through.
    fn rows(&mut self, done: u64) {
        let _ = done;
    }
    /// The current table is complete.
    fn table_done(&mut self) {}
}

/// A [`Progress`] that reports nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoProgress;

impl Progress for NoProgress {}

/// What a backup wrote or a restore read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchiveSummary {
    /// Each table with its row count, in archive order.
    pub tables: Vec<(String, u64)>,
    /// The schema version of the rows.
    pub schema_version: i64,
    /// The migrations a restore applied to create the schema of a new, empty database before
    /// the rows went in, in the same transaction; empty otherwise (and for a backup).
    pub created_schema: Vec<crate::MigrationInfo>,
}

impl ArchiveSummary {
    /// Rows over every table.
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|(_, rows)| rows).sum()
    }
}

/// Why a backup or a restore failed. Nothing was written under the backup's name, and a
/// restore changed nothing.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("{action} {path}: {source}")]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{0} already exists; choose another name or remove it first")]
    Exists(PathBuf),
    #[error("not a goclaw backup: {0}")]
    NotAnArchive(String),
    #[error(
        "the backup has format version {found}, newer than this goclaw reads \
         (up to {FORMAT_VERSION}); restore it with a newer goclaw"
    )]
    NewerFormat { found: u64 },
    #[error(
        "the database schema is at version {current}, but this goclaw works with version \
         {required}; run `goclaw upgrade` first"
    )]
    SchemaNotCurrent { current: i64, required: i64 },
    #[error(
        "the database schema is at version {current}, newer than this goclaw knows \
         (up to {required}); use a newer goclaw"
    )]
    BinaryTooOld { current: i64, required: i64 },
    #[error("the database schema is marked dirty at version {0}; see `goclaw migrate force`")]
    Dirty(i64),
    #[error(
        "the backup holds schema version {backup}, but the database is at version {database}; \
         {fix}"
    )]
    SchemaMismatch {
        backup: i64,
        database: i64,
        fix: &'static str,
    },
    #[error(
        "the backup holds schema version {backup}, but this goclaw creates schema version \
         {binary} in a new database; {fix}"
    )]
    NewDatabaseMismatch {
        backup: i64,
        binary: i64,
        fix: &'static str,
    },
    #[error("cannot create the schema of the new database: {0}")]
    CreateSchema(#[from] crate::MigrateError),
    #[error("{0}")]
    UnknownSchema(String),
    #[error("the database already holds data ({rows} rows in {tables} tables)")]
    NotEmpty { rows: u64, tables: usize },
    #[error("the backup is damaged: {0}")]
    Damaged(String),
    #[error("table {table}, column {column}: {reason}")]
    Value {
        table: String,
        column: String,
        reason: String,
    },
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
}

impl ArchiveError {
    fn value(table: &str, column: &str, reason: String) -> Self {
        ArchiveError::Value {
            table: table.to_owned(),
            column: column.to_owned(),
            reason,
        }
    }
}

/// Lowercase hexadecimal of `bytes`.
fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::new(), |mut out, b| {
        let _ = write!(out, "{b:02x}");
        out
    })
}
