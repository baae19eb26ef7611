//! Restoring a backup: the header checked against this binary and the database, then — in one
//! write transaction — the schema created when the database is new, the tables emptied, every
//! row inserted, and the trailer's checksum and counts compared before anything commits.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Sqlite, Transaction};
use tokio::fs::File;
use tokio::io::{AsyncBufReadExt, BufReader};

use super::catalog::{self, TABLES, Table, quote};
use super::write::current_version;
use super::{
    ArchiveError, ArchiveSummary, FORMAT, FORMAT_VERSION, MASTER_TENANT_ID, Progress, hex, value,
};
use goclaw_core::StoreBackend;

use crate::migrate::{self, MigrationInfo, SchemaConn, VersionRow, migrations};
use crate::open::{OpenedStore, Pool};

/// How many rows pass between two progress reports.
const REPORT_EVERY: u64 = 256;

/// How a restore treats a database that already holds data.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RestoreOptions {
    /// Delete every row first instead of refusing. A database holding only the tenant every
    /// migration creates counts as empty either way.
    pub replace: bool,
}

/// Restores the backup at `path` into the database, in one transaction: either every row of
/// the backup is in the database afterwards and nothing else, or nothing changed.
pub async fn restore(
    store: &OpenedStore,
    path: &Path,
    options: RestoreOptions,
    progress: &mut dyn Progress,
) -> Result<ArchiveSummary, ArchiveError> {
    let file = File::open(path).await.map_err(|source| ArchiveError::Io {
        action: "cannot open",
        path: path.to_owned(),
        source,
    })?;
    let mut input = Input {
        reader: BufReader::with_capacity(256 * 1024, file),
        line: Vec::new(),
        number: 0,
        hasher: Sha256::new(),
        path,
    };
    if !input.next().await? {
        return Err(ArchiveError::NotAnArchive("the file is empty".to_owned()));
    }
    input.hash();
    let header = Header::parse(&input.line)?;

    let required = migrations(store.backend()).last().map_or(0, |m| m.version);
    let mut target = match store.pool() {
        Pool::Sqlite(pool) => Target::Sqlite(pool.begin_with("BEGIN IMMEDIATE").await?),
        Pool::Postgres(pool) => Target::Postgres(pool.begin().await?),
    };
    match load(
        &mut target,
        &header,
        &mut input,
        required,
        options,
        progress,
    )
    .await
    {
        Ok(summary) => {
            target.commit().await?;
            Ok(summary)
        }
        Err(error) => {
            let _ = target.rollback().await;
            Err(error)
        }
    }
}

async fn load(
    target: &mut Target,
    header: &Header,
    input: &mut Input<'_>,
    required: i64,
    options: RestoreOptions,
    progress: &mut dyn Progress,
) -> Result<ArchiveSummary, ArchiveError> {
    let created_schema = if is_new_database(target.version().await?) {
        if header.schema_version != required {
            return Err(ArchiveError::NewDatabaseMismatch {
                backup: header.schema_version,
                binary: required,
                fix: if header.schema_version > required {
                    "it was written by a newer goclaw: restore it with that release or a newer one"
                } else {
                    "restore it with the goclaw release that wrote it, then run `goclaw upgrade`"
                },
            });
        }
        target.create_schema().await?
    } else {
        Vec::new()
    };
    target.lock().await?;
    let database = current_version(target.version().await?, required)?;
    if header.schema_version != database {
        let fix = if header.schema_version > database {
            "it was written by a newer goclaw: restore it with that release or a newer one"
        } else {
            "restore it with the goclaw release that wrote it, then run `goclaw upgrade`"
        };
        return Err(ArchiveError::SchemaMismatch {
            backup: header.schema_version,
            database,
            fix,
        });
    }
    header.check_tables()?;
    target.check_live().await?;
    let (rows, tables) = target.occupancy().await?;
    if rows > 0 && !options.replace {
        return Err(ArchiveError::NotEmpty { rows, tables });
    }
    target.wipe().await?;

    let full_batch: BTreeMap<&'static str, String> = TABLES
        .iter()
        .map(|t| (t.name, target.insert_sql(t, value::BATCH)))
        .collect();
    let mut counts: BTreeMap<&'static str, u64> = TABLES.iter().map(|t| (t.name, 0)).collect();
    let mut current: Option<&'static Table> = None;
    let mut batch: Vec<Map<String, Value>> = Vec::with_capacity(value::BATCH);
    let trailer = loop {
        if !input.next().await? {
            return Err(ArchiveError::Damaged(
                "the file ends before its trailer (was it cut short?)".to_owned(),
            ));
        }
        let mut line: Value = serde_json::from_slice(&input.line)
            .map_err(|e| input.damaged(format!("not JSON ({e})")))?;
        if line.get("end").is_some() {
            break line;
        }
        input.hash();
        let (Some(name), Some(Value::Object(row))) = (
            line.get("table").and_then(Value::as_str).map(str::to_owned),
            line.get_mut("row").map(Value::take),
        ) else {
            return Err(input.damaged("not a row".to_owned()));
        };
        let Some(table) = catalog::table(&name) else {
            return Err(input.damaged(format!("unknown table {name}")));
        };
        if current.is_none_or(|t| t.name != table.name) {
            if let Some(done) = current {
                target
                    .insert(done, &batch, &full_batch, header.from_sqlite)
                    .await?;
                batch.clear();
                progress.table_done();
            }
            progress.table(table.name, header.rows.get(&name).copied().unwrap_or(0));
            current = Some(table);
        }
        batch.push(row);
        if batch.len() == value::BATCH {
            target
                .insert(table, &batch, &full_batch, header.from_sqlite)
                .await?;
            batch.clear();
        }
        let done = counts.entry(table.name).or_default();
        *done += 1;
        if done.is_multiple_of(REPORT_EVERY) {
            progress.rows(*done);
        }
    };
    if let Some(table) = current {
        target
            .insert(table, &batch, &full_batch, header.from_sqlite)
            .await?;
        progress.rows(counts.get(table.name).copied().unwrap_or(0));
        progress.table_done();
    }
    if input.next().await? && !input.line.trim_ascii().is_empty() {
        return Err(input.damaged("text after the trailer".to_owned()));
    }
    check_trailer(
        &trailer,
        &hex(&input.hasher.clone().finalize()),
        &counts,
        header,
    )?;
    Ok(ArchiveSummary {
        tables: TABLES
            .iter()
            .map(|t| (t.name.to_owned(), counts.get(t.name).copied().unwrap_or(0)))
            .collect(),
        schema_version: header.schema_version,
        created_schema,
    })
}

/// A database no migration has touched (or every one was reverted): the restore creates its
/// schema first.
fn is_new_database(row: Option<VersionRow>) -> bool {
    row.is_none_or(|r| r.version == 0 && !r.dirty)
}

/// Fails unless the trailer's checksum and counts match what was read.
fn check_trailer(
    trailer: &Value,
    digest: &str,
    counts: &BTreeMap<&'static str, u64>,
    header: &Header,
) -> Result<(), ArchiveError> {
    if trailer.get("end").and_then(Value::as_str) != Some(FORMAT) {
        return Err(ArchiveError::Damaged("the trailer is malformed".to_owned()));
    }
    if trailer.get("sha256").and_then(Value::as_str) != Some(digest) {
        return Err(ArchiveError::Damaged(
            "the SHA-256 checksum does not match the contents".to_owned(),
        ));
    }
    let total: u64 = counts.values().sum();
    if trailer.get("total_rows").and_then(Value::as_u64) != Some(total) {
        return Err(ArchiveError::Damaged(format!(
            "{total} rows read, but the trailer counts a different number"
        )));
    }
    let listed = trailer.get("rows").and_then(Value::as_object);
    for (table, read) in counts {
        let in_trailer = listed.and_then(|r| r.get(*table)).and_then(Value::as_u64);
        let in_header = header.rows.get(*table).copied();
        if in_trailer != Some(*read) || in_header != Some(*read) {
            return Err(ArchiveError::Damaged(format!(
                "table {table}: {read} rows read, but the header or trailer counts a different number"
            )));
        }
    }
    Ok(())
}

/// The parts of the header a restore uses.
struct Header {
    schema_version: i64,
    /// Whether the backup was taken from SQLite, whose timestamp text is kept as it is.
    from_sqlite: bool,
    rows: BTreeMap<String, u64>,
    /// `(table, [(column, type)])` as listed.
    tables: Vec<(String, Vec<(String, String)>)>,
}

impl Header {
    fn parse(line: &[u8]) -> Result<Self, ArchiveError> {
        let not = |reason: &str| ArchiveError::NotAnArchive(reason.to_owned());
        let header: Value =
            serde_json::from_slice(line).map_err(|_| not("the first line is not JSON"))?;
        if header.get("format").and_then(Value::as_str) != Some(FORMAT) {
            return Err(not("the first line does not name the goclaw-backup format"));
        }
        let version = header
            .get("version")
            .and_then(Value::as_u64)
            .ok_or_else(|| not("the header has no format version"))?;
        if version > FORMAT_VERSION {
            return Err(ArchiveError::NewerFormat { found: version });
        }
        let schema_version = header
            .get("schema_version")
            .and_then(Value::as_i64)
            .ok_or_else(|| not("the header has no schema version"))?;
        let mut rows = BTreeMap::new();
        let mut tables = Vec::new();
        let listed = header.get("tables").and_then(Value::as_array);
        for table in listed.ok_or_else(|| not("the header lists no tables"))? {
            let name = table.get("name").and_then(Value::as_str);
            let count = table.get("rows").and_then(Value::as_u64);
            let columns = table.get("columns").and_then(Value::as_array);
            let (Some(name), Some(count), Some(columns)) = (name, count, columns) else {
                return Err(not("a table of the header is malformed"));
            };
            rows.insert(name.to_owned(), count);
            let columns = columns
                .iter()
                .map(|c| {
                    let field = |key| c.get(key).and_then(Value::as_str).map(str::to_owned);
                    field("name").zip(field("type"))
                })
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| not("a column of the header is malformed"))?;
            tables.push((name.to_owned(), columns));
        }
        Ok(Self {
            schema_version,
            from_sqlite: header.get("source_backend").and_then(Value::as_str) == Some("sqlite"),
            rows,
            tables,
        })
    }

    /// Fails unless the header lists exactly the tables and column types this binary knows.
    fn check_tables(&self) -> Result<(), ArchiveError> {
        let differs = |what: String| {
            ArchiveError::UnknownSchema(format!(
                "the backup's {what} differs from this goclaw's backup format"
            ))
        };
        if self.tables.len() != TABLES.len() {
            return Err(differs("list of tables".to_owned()));
        }
        for (name, columns) in &self.tables {
            let Some(known) = catalog::table(name) else {
                return Err(differs(format!("table {name}")));
            };
            let same = columns.len() == known.columns.len()
                && columns.iter().all(|(column, ty)| {
                    known
                        .column(column)
                        .is_some_and(|c| c.ty.name() == ty.as_str())
                });
            if !same {
                return Err(differs(format!("table {name}")));
            }
        }
        Ok(())
    }
}

/// The archive being read, line by line, hashing what it is told to.
struct Input<'p> {
    reader: BufReader<File>,
    line: Vec<u8>,
    number: u64,
    hasher: Sha256,
    path: &'p Path,
}

impl Input<'_> {
    /// Reads the next line into `self.line`; `false` at the end of the file.
    async fn next(&mut self) -> Result<bool, ArchiveError> {
        self.line.clear();
        let read = self.reader.read_until(b'\n', &mut self.line).await;
        let n = read.map_err(|source| ArchiveError::Io {
            action: "cannot read",
            path: self.path.to_owned(),
            source,
        })?;
        self.number += 1;
        Ok(n > 0)
    }

    /// Adds the current line to the checksum.
    fn hash(&mut self) {
        self.hasher.update(&self.line);
    }

    fn damaged(&self, reason: String) -> ArchiveError {
        ArchiveError::Damaged(format!("line {}: {reason}", self.number))
    }
}

/// The write transaction a backup is restored in.
enum Target {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Target {
    async fn version(&mut self) -> Result<Option<VersionRow>, ArchiveError> {
        Ok(match self {
            Target::Sqlite(tx) => SchemaConn::Sqlite(&mut *tx).read().await?,
            Target::Postgres(tx) => SchemaConn::Postgres(&mut *tx).read().await?,
        })
    }

    /// Creates this binary's schema in the restore's transaction.
    async fn create_schema(&mut self) -> Result<Vec<MigrationInfo>, ArchiveError> {
        Ok(match self {
            Target::Sqlite(tx) => {
                migrate::create_schema(SchemaConn::Sqlite(&mut *tx), StoreBackend::Sqlite).await?
            }
            Target::Postgres(tx) => {
                migrate::create_schema(SchemaConn::Postgres(&mut *tx), StoreBackend::Postgres)
                    .await?
            }
        })
    }

    async fn check_live(&mut self) -> Result<(), ArchiveError> {
        match self {
            Target::Sqlite(tx) => catalog::check_live_sqlite(tx).await,
            Target::Postgres(tx) => catalog::check_live_postgres(tx).await,
        }
    }

    /// Rows held, and in how many tables, not counting the tenant every migration creates.
    async fn occupancy(&mut self) -> Result<(u64, usize), ArchiveError> {
        let (mut rows, mut tables) = (0, 0);
        for table in TABLES {
            let mut sql = format!("SELECT count(*) FROM {}", quote(table.name));
            if table.name == "tenants" {
                sql.push_str(&format!(" WHERE id <> '{MASTER_TENANT_ID}'"));
            }
            let count: i64 = match self {
                Target::Sqlite(tx) => sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?,
                Target::Postgres(tx) => sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?,
            };
            if count > 0 {
                rows += u64::try_from(count).unwrap_or(0);
                tables += 1;
            }
        }
        Ok((rows, tables))
    }

    /// Deletes every row, children first.
    async fn wipe(&mut self) -> Result<(), ArchiveError> {
        for table in TABLES.iter().rev() {
            let sql = format!("DELETE FROM {}", quote(table.name));
            match self {
                Target::Sqlite(tx) => {
                    sqlx::query(&sql).execute(&mut **tx).await?;
                }
                Target::Postgres(tx) => {
                    sqlx::query(&sql).execute(&mut **tx).await?;
                }
            }
        }
        Ok(())
    }

    /// Keeps everyone else out of the tables until the restore ends. SQLite's `BEGIN
    /// IMMEDIATE` already holds the write lock; PostgreSQL readers would otherwise see the
    /// tables emptied and refilled only at commit, but writers could slip rows in between.
    async fn lock(&mut self) -> Result<(), ArchiveError> {
        let Target::Postgres(tx) = self else {
            return Ok(());
        };
        let mut names: Vec<String> = TABLES.iter().map(|t| quote(t.name)).collect();
        names.push(quote("schema_migrations"));
        sqlx::query("SET LOCAL lock_timeout = '15s'")
            .execute(&mut **tx)
            .await?;
        let sql = format!("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE", names.join(", "));
        sqlx::query(&sql).execute(&mut **tx).await?;
        Ok(())
    }

    /// The `INSERT` of `rows` rows of `table` on this engine.
    fn insert_sql(&self, table: &Table, rows: usize) -> String {
        match self {
            Target::Sqlite(_) => value::sqlite_insert(table, rows),
            Target::Postgres(_) => value::postgres_insert(table, rows),
        }
    }

    /// Inserts `rows` of `table` in one statement; `full_batch` holds each table's statement for
    /// [`value::BATCH`] rows, the usual case.
    async fn insert(
        &mut self,
        table: &Table,
        rows: &[Map<String, Value>],
        full_batch: &BTreeMap<&'static str, String>,
        verbatim_times: bool,
    ) -> Result<(), ArchiveError> {
        if rows.is_empty() {
            return Ok(());
        }
        let built;
        let sql = match full_batch.get(table.name) {
            Some(sql) if rows.len() == value::BATCH => sql.as_str(),
            _ => {
                built = self.insert_sql(table, rows.len());
                built.as_str()
            }
        };
        match self {
            Target::Sqlite(tx) => {
                let mut query = sqlx::query(sql);
                for row in rows {
                    query = value::bind_sqlite(table, row, verbatim_times, query)?;
                }
                query.execute(&mut **tx).await?;
            }
            Target::Postgres(tx) => {
                let mut query = sqlx::query(sql);
                for row in rows {
                    query = value::bind_postgres(table, row, query)?;
                }
                query.execute(&mut **tx).await?;
            }
        }
        Ok(())
    }

    async fn commit(self) -> Result<(), ArchiveError> {
        match self {
            Target::Sqlite(tx) => tx.commit().await?,
            Target::Postgres(tx) => tx.commit().await?,
        }
        Ok(())
    }

    async fn rollback(self) -> Result<(), ArchiveError> {
        match self {
            Target::Sqlite(tx) => tx.rollback().await?,
            Target::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}
