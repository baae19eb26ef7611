//! The logical schema a backup archive carries: every table but `schema_migrations`, in
//! foreign-key order (parents first), each column with the engine-neutral type that decides how
//! its values are read, written to the archive and restored on either engine.
//!
//! SQLite declares only `TEXT`, `INTEGER` and `REAL`, so whether a column holds a boolean, JSON
//! or a timestamp is written down here rather than read from the database. [`check_live`]
//! compares this list with the database's actual tables and columns before every backup and
//! restore, so a migration that adds a table or column without updating this file fails loudly
//! instead of producing an incomplete backup.

use std::collections::BTreeSet;

use sqlx::{PgConnection, SqliteConnection};

use super::ArchiveError;

/// How a column's values are represented in the archive.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnType {
    /// A JSON string.
    Text,
    /// A hyphenated UUID, as a JSON string (`UUID` on PostgreSQL, text on SQLite).
    Uuid,
    /// A 64-bit integer, as a JSON number.
    Integer,
    /// A double, as a JSON number; NaN and the infinities as `{"float":"NaN"}` and so on.
    Real,
    /// A JSON boolean (`BOOLEAN` on PostgreSQL, 0/1 on SQLite).
    Boolean,
    /// JSON text, as a JSON string holding it verbatim (`JSONB` on PostgreSQL).
    Json,
    /// An RFC 3339 UTC timestamp, as a JSON string (`TIMESTAMPTZ` on PostgreSQL).
    Timestamp,
    /// A list of strings, as a JSON array (`TEXT[]` on PostgreSQL, JSON text on SQLite).
    TextList,
    /// A list of ids, as a JSON array of hyphenated UUIDs (`UUID[]` on PostgreSQL, JSON text on
    /// SQLite).
    UuidList,
    /// An embedding, as a JSON array of numbers (pgvector's `vector` on PostgreSQL, a float32
    /// blob on SQLite).
    Vector,
}

impl ColumnType {
    /// The name written in the archive header.
    pub fn name(self) -> &'static str {
        match self {
            ColumnType::Text => "text",
            ColumnType::Uuid => "uuid",
            ColumnType::Integer => "integer",
            ColumnType::Real => "real",
            ColumnType::Boolean => "boolean",
            ColumnType::Json => "json",
            ColumnType::Timestamp => "timestamp",
            ColumnType::TextList => "text_list",
            ColumnType::UuidList => "uuid_list",
            ColumnType::Vector => "vector",
        }
    }
}

/// One column of a [`Table`].
#[derive(Debug, Clone, Copy)]
pub struct Column {
    pub name: &'static str,
    pub ty: ColumnType,
}

/// One table of the archive.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    pub name: &'static str,
    pub columns: &'static [Column],
    /// The columns rows are read in order of: the primary key, or a unique key.
    pub order_by: &'static [&'static str],
}

impl Table {
    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|c| c.name == name)
    }
}

mod hooks;
mod skills;
mod tables;
mod work;

/// A column of the catalog.
const fn col(name: &'static str, ty: ColumnType) -> Column {
    Column { name, ty }
}

pub use tables::TABLES;

/// The table named `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Quotes an identifier for either engine (`binary` is a keyword on some).
pub fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// Tables the archive never carries.
const SKIPPED: &[&str] = &["schema_migrations"];

/// Retrieval indexes derived from other rows, never carried: SQLite's FTS5 and sqlite-vec
/// tables over `memory_chunks`, `vault_documents` and `episodic_summaries` (with their shadow
/// tables, named after them), which their triggers fill as a restore inserts the rows.
const DERIVED_TABLE_PREFIXES: &[&str] = &[
    "memory_chunks_fts",
    "memory_chunks_vec",
    "vault_documents_fts",
    "vault_documents_vec",
    "episodic_summaries_fts",
    "episodic_summaries_vec",
];

/// Generated columns, never carried: the engine recomputes them (PostgreSQL's `tsv`).
const DERIVED_COLUMNS: &[(&str, &str)] = &[
    ("memory_chunks", "tsv"),
    ("vault_documents", "tsv"),
    ("episodic_summaries", "tsv"),
];

/// Fails unless the SQLite database has exactly the tables and columns of [`TABLES`].
pub async fn check_live_sqlite(conn: &mut SqliteConnection) -> Result<(), ArchiveError> {
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut live = Vec::new();
    for table in tables {
        let columns: Vec<String> =
            sqlx::query_scalar("SELECT name FROM pragma_table_info(?) ORDER BY cid")
                .bind(&table)
                .fetch_all(&mut *conn)
                .await?;
        live.push((table, columns));
    }
    compare(live)
}

/// Fails unless the PostgreSQL schema has exactly the tables and columns of [`TABLES`].
pub async fn check_live_postgres(conn: &mut PgConnection) -> Result<(), ArchiveError> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.table_name::text, c.column_name::text \
         FROM information_schema.columns c \
         JOIN information_schema.tables t \
           ON t.table_schema = c.table_schema AND t.table_name = c.table_name \
         WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
         ORDER BY c.table_name, c.ordinal_position",
    )
    .fetch_all(&mut *conn)
    .await?;
    let mut live: Vec<(String, Vec<String>)> = Vec::new();
    for (table, column) in rows {
        match live.last_mut() {
            Some((name, columns)) if *name == table => columns.push(column),
            _ => live.push((table, vec![column])),
        }
    }
    compare(live)
}

fn compare(live: Vec<(String, Vec<String>)>) -> Result<(), ArchiveError> {
    let mut seen = BTreeSet::new();
    for (name, columns) in live {
        if SKIPPED.contains(&name.as_str())
            || DERIVED_TABLE_PREFIXES.iter().any(|p| name.starts_with(p))
        {
            continue;
        }
        let Some(known) = table(&name) else {
            return Err(ArchiveError::UnknownSchema(format!(
                "the database has table {name}, which this goclaw's backup format does not know"
            )));
        };
        let live_columns: BTreeSet<&str> = columns
            .iter()
            .map(String::as_str)
            .filter(|column| !DERIVED_COLUMNS.contains(&(name.as_str(), column)))
            .collect();
        let known_columns: BTreeSet<&str> = known.columns.iter().map(|c| c.name).collect();
        if live_columns != known_columns {
            let differing: Vec<&str> = live_columns
                .symmetric_difference(&known_columns)
                .copied()
                .collect();
            return Err(ArchiveError::UnknownSchema(format!(
                "the columns of table {name} differ from this goclaw's backup format ({})",
                differing.join(", ")
            )));
        }
        seen.insert(known.name);
    }
    if let Some(missing) = TABLES.iter().find(|t| !seen.contains(t.name)) {
        return Err(ArchiveError::UnknownSchema(format!(
            "the database has no table {}, which this goclaw's backup format expects",
            missing.name
        )));
    }
    Ok(())
}
