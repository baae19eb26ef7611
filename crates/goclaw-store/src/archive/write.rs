//! Writing a backup: one read snapshot of every table, streamed row by row into a private
//! temporary file that is renamed to its final name only once complete and synced.

use std::path::{Path, PathBuf};

use chrono::{SecondsFormat, Utc};
use serde::Serialize;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};
use sqlx::{Postgres, Sqlite, Transaction};
use tokio::fs::{File, OpenOptions};
use tokio::io::{AsyncWriteExt, BufWriter};

use super::catalog::{self, TABLES, Table, quote};
use super::{ArchiveError, ArchiveSummary, FORMAT, FORMAT_VERSION, Progress, hex, value};
use crate::migrate::{SchemaConn, VersionRow, migrations};
use crate::open::{OpenedStore, Pool};

/// Writes a backup of the whole database to `path`, which must not exist yet.
///
/// The schema must be the one this binary knows (`goclaw upgrade` first otherwise). Nothing
/// appears under `path` unless the backup is complete; the file is readable by its owner only.
pub async fn create(
    store: &OpenedStore,
    path: &Path,
    progress: &mut dyn Progress,
) -> Result<ArchiveSummary, ArchiveError> {
    if tokio::fs::try_exists(path).await.unwrap_or(true) {
        return Err(ArchiveError::Exists(path.to_owned()));
    }
    let partial = partial_path(path);
    let file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(&partial)
        .await
        .map_err(|source| ArchiveError::Io {
            action: "cannot create a temporary file next to",
            path: path.to_owned(),
            source,
        })?;
    let result = write_all(store, file, &partial, progress).await;
    let summary = match result {
        Ok(summary) => summary,
        Err(error) => {
            let _ = tokio::fs::remove_file(&partial).await;
            return Err(error);
        }
    };
    if let Err(source) = tokio::fs::rename(&partial, path).await {
        let _ = tokio::fs::remove_file(&partial).await;
        return Err(ArchiveError::Io {
            action: "cannot rename the finished backup to",
            path: path.to_owned(),
            source,
        });
    }
    // Make the rename itself durable; a failure here leaves a complete backup, so it is not one.
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && let Ok(dir) = File::open(dir).await
    {
        let _ = dir.sync_all().await;
    }
    Ok(summary)
}

/// `dir/.name.partial-<pid>`: hidden, next to the final name so the rename stays on one
/// filesystem.
fn partial_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(|| "backup".into(), |n| n.to_string_lossy().into_owned());
    path.with_file_name(format!(".{name}.partial-{}", std::process::id()))
}

async fn write_all(
    store: &OpenedStore,
    file: File,
    partial: &Path,
    progress: &mut dyn Progress,
) -> Result<ArchiveSummary, ArchiveError> {
    let mut out = LineWriter {
        out: BufWriter::with_capacity(256 * 1024, file),
        hasher: Sha256::new(),
        path: partial.to_owned(),
    };
    let backend = store.backend();
    let required = migrations(backend).last().map_or(0, |m| m.version);
    let mut snapshot = match store.pool() {
        Pool::Sqlite(pool) => Snapshot::Sqlite(pool.begin().await?),
        Pool::Postgres(pool) => Snapshot::Postgres(
            pool.begin_with("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                .await?,
        ),
    };
    let schema_version = current_version(snapshot.version().await?, required)?;
    snapshot.check_live().await?;
    let mut tables = Vec::with_capacity(TABLES.len());
    for table in TABLES {
        tables.push((table.name.to_owned(), snapshot.count(table).await?));
    }
    let header = HeaderLine {
        format: FORMAT,
        version: FORMAT_VERSION,
        schema_version,
        created_at: Utc::now().to_rfc3339_opts(SecondsFormat::Millis, true),
        source_backend: backend.as_str(),
        tables: TABLES
            .iter()
            .zip(&tables)
            .map(|(table, (_, rows))| TableLine {
                name: table.name,
                rows: *rows,
                columns: table
                    .columns
                    .iter()
                    .map(|c| ColumnLine {
                        name: c.name,
                        ty: c.ty.name(),
                    })
                    .collect(),
            })
            .collect(),
    };
    out.line(&header).await?;

    let mut counts = Vec::with_capacity(TABLES.len());
    for (table, (_, expected)) in TABLES.iter().zip(&tables) {
        progress.table(table.name, *expected);
        let rows = snapshot.dump(table, &mut out, progress).await?;
        if rows != *expected {
            // Impossible inside one snapshot; refuse rather than write an inconsistent file.
            return Err(ArchiveError::Damaged(format!(
                "table {} changed during the backup ({expected} rows counted, {rows} read)",
                table.name
            )));
        }
        progress.table_done();
        counts.push((table.name, rows));
    }
    snapshot.finish().await?;

    let total: u64 = tables.iter().map(|(_, rows)| rows).sum();
    let digest = hex(&std::mem::take(&mut out.hasher).finalize());
    let trailer = TrailerLine {
        end: FORMAT,
        rows: counts,
        total_rows: total,
        sha256: digest,
    };
    out.finish(&trailer).await?;
    Ok(ArchiveSummary {
        tables,
        schema_version,
        created_schema: Vec::new(),
    })
}

/// The clean current schema version, which must be `required`.
pub(super) fn current_version(row: Option<VersionRow>, required: i64) -> Result<i64, ArchiveError> {
    let current = row.map_or(0, |r| r.version);
    match row {
        Some(r) if r.dirty => Err(ArchiveError::Dirty(r.version)),
        _ if current < required => Err(ArchiveError::SchemaNotCurrent { current, required }),
        _ if current > required => Err(ArchiveError::BinaryTooOld { current, required }),
        _ => Ok(current),
    }
}

/// The first line, fields in the order a reader looks for them.
#[derive(Serialize)]
struct HeaderLine {
    format: &'static str,
    version: u64,
    schema_version: i64,
    created_at: String,
    source_backend: &'static str,
    tables: Vec<TableLine>,
}

#[derive(Serialize)]
struct TableLine {
    name: &'static str,
    rows: u64,
    columns: Vec<ColumnLine>,
}

#[derive(Serialize)]
struct ColumnLine {
    name: &'static str,
    #[serde(rename = "type")]
    ty: &'static str,
}

#[derive(Serialize)]
struct RowLine<'r> {
    table: &'static str,
    row: &'r Map<String, Value>,
}

/// The last line; its checksum covers every line before it.
#[derive(Serialize)]
struct TrailerLine {
    end: &'static str,
    /// Table → rows, in archive order.
    #[serde(serialize_with = "ordered_map")]
    rows: Vec<(&'static str, u64)>,
    total_rows: u64,
    sha256: String,
}

fn ordered_map<S: serde::Serializer>(
    pairs: &[(&'static str, u64)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    serializer.collect_map(pairs.iter().map(|(k, v)| (k, v)))
}

/// Archive lines written and hashed.
struct LineWriter {
    out: BufWriter<File>,
    hasher: Sha256,
    path: PathBuf,
}

impl LineWriter {
    /// Writes one hashed line.
    async fn line(&mut self, value: &impl Serialize) -> Result<(), ArchiveError> {
        let mut text = serde_json::to_string(value)
            .map_err(std::io::Error::from)
            .map_err(|e| self.error(e))?;
        text.push('\n');
        self.hasher.update(text.as_bytes());
        let written = self.out.write_all(text.as_bytes()).await;
        written.map_err(|source| self.error(source))
    }

    async fn row(&mut self, table: &Table, row: Map<String, Value>) -> Result<(), ArchiveError> {
        let line = RowLine {
            table: table.name,
            row: &row,
        };
        self.line(&line).await
    }

    /// Writes the (unhashed) trailer, flushes and syncs the file.
    async fn finish(&mut self, trailer: &TrailerLine) -> Result<(), ArchiveError> {
        let mut text = serde_json::to_string(trailer)
            .map_err(std::io::Error::from)
            .map_err(|e| self.error(e))?;
        text.push('\n');
        let result = async {
            self.out.write_all(text.as_bytes()).await?;
            self.out.flush().await?;
            self.out.get_ref().sync_all().await
        }
        .await;
        result.map_err(|source| self.error(source))
    }

    fn error(&self, source: std::io::Error) -> ArchiveError {
        ArchiveError::Io {
            action: "cannot write",
            path: self.path.clone(),
            source,
        }
    }
}

/// The read transaction a backup is taken from.
enum Snapshot {
    Sqlite(Transaction<'static, Sqlite>),
    Postgres(Transaction<'static, Postgres>),
}

impl Snapshot {
    async fn version(&mut self) -> Result<Option<VersionRow>, ArchiveError> {
        Ok(match self {
            Snapshot::Sqlite(tx) => SchemaConn::Sqlite(&mut *tx).read().await?,
            Snapshot::Postgres(tx) => SchemaConn::Postgres(&mut *tx).read().await?,
        })
    }

    async fn check_live(&mut self) -> Result<(), ArchiveError> {
        match self {
            Snapshot::Sqlite(tx) => catalog::check_live_sqlite(tx).await,
            Snapshot::Postgres(tx) => catalog::check_live_postgres(tx).await,
        }
    }

    async fn count(&mut self, table: &Table) -> Result<u64, ArchiveError> {
        let sql = format!("SELECT count(*) FROM {}", quote(table.name));
        let count: i64 = match self {
            Snapshot::Sqlite(tx) => sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?,
            Snapshot::Postgres(tx) => sqlx::query_scalar(&sql).fetch_one(&mut **tx).await?,
        };
        Ok(u64::try_from(count).unwrap_or(0))
    }

    /// Writes every row of `table`; returns how many.
    async fn dump(
        &mut self,
        table: &Table,
        out: &mut LineWriter,
        progress: &mut dyn Progress,
    ) -> Result<u64, ArchiveError> {
        let mut done: u64 = 0;
        let mut after: Option<Vec<String>> = None;
        loop {
            let page = self.page(table, after.as_deref()).await?;
            let full = page.len() == value::PAGE;
            if full && let Some(last) = page.last() {
                after = Some(value::key_of(table, last)?);
            }
            for row in page {
                out.row(table, row).await?;
                done += 1;
            }
            progress.rows(done);
            if !full {
                return Ok(done);
            }
        }
    }

    /// Up to [`value::PAGE`] rows of `table` in key order, after the key `after`.
    async fn page(
        &mut self,
        table: &Table,
        after: Option<&[String]>,
    ) -> Result<Vec<Map<String, Value>>, ArchiveError> {
        let keys = after.unwrap_or_default();
        match self {
            Snapshot::Sqlite(tx) => {
                let sql = value::sqlite_select(table, after.is_some());
                let mut query = sqlx::query(&sql);
                for key in keys {
                    query = query.bind(key.as_str());
                }
                let rows = query.fetch_all(&mut **tx).await?;
                rows.iter().map(|r| value::sqlite_row(table, r)).collect()
            }
            Snapshot::Postgres(tx) => {
                let sql = value::postgres_select(table, after.is_some());
                let mut query = sqlx::query(&sql);
                for key in keys {
                    query = query.bind(key.as_str());
                }
                let rows = query.fetch_all(&mut **tx).await?;
                rows.iter().map(|r| value::postgres_row(table, r)).collect()
            }
        }
    }

    /// Ends the read transaction.
    async fn finish(self) -> Result<(), ArchiveError> {
        match self {
            Snapshot::Sqlite(tx) => tx.rollback().await?,
            Snapshot::Postgres(tx) => tx.rollback().await?,
        }
        Ok(())
    }
}
