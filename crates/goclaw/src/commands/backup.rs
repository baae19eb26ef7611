//! `goclaw backup [--output FILE]` and `goclaw restore FILE [--yes]`: the configured database
//! written to, and read back from, a portable backup file (`goclaw_store::archive`), with a
//! progress bar per table when stderr is a terminal and a one-line summary either way. A restore
//! into a database with no schema (a new data dir or PostgreSQL database) creates the schema
//! first, in the same transaction, and says so.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context;
use chrono::{DateTime, Utc};
use goclaw_config::LoadedConfig;
use goclaw_store::archive::{self, ArchiveError, Progress, RestoreOptions};
use indicatif::{ProgressBar, ProgressStyle};

use crate::cli::{BackupArgs, RestoreArgs};
use crate::database;
use crate::logging::{self, LogRole};

pub async fn backup(
    loaded: &LoadedConfig,
    args: &BackupArgs,
    verbose: bool,
) -> anyhow::Result<ExitCode> {
    logging::init(loaded, verbose, LogRole::Command)?;
    let path = output_path(args.output.as_deref(), Utc::now());
    let opened = database::open(&loaded.runtime).await?;
    let mut bars = Bars::new();
    let result = archive::create(&opened, &path, &mut bars).await;
    bars.clear();
    opened.close().await;
    let summary = result.with_context(|| format!("backup to {} failed", path.display()))?;
    println!(
        "backed up {} rows from {} tables to {}",
        summary.total_rows(),
        summary.tables.len(),
        path.display()
    );
    Ok(ExitCode::SUCCESS)
}

pub async fn restore(
    loaded: &LoadedConfig,
    args: &RestoreArgs,
    verbose: bool,
) -> anyhow::Result<ExitCode> {
    logging::init(loaded, verbose, LogRole::Command)?;
    let opened = database::open(&loaded.runtime).await?;
    let options = RestoreOptions { replace: args.yes };
    let mut bars = Bars::new();
    let result = archive::restore(&opened, &args.file, options, &mut bars).await;
    bars.clear();
    opened.close().await;
    let summary = match result {
        Ok(summary) => summary,
        Err(ArchiveError::NotEmpty { rows, tables }) => anyhow::bail!(
            "the {} already holds data ({rows} rows in {tables} tables) and was not changed; \
             rerun with --yes to replace everything in it with the backup",
            database::describe(&loaded.runtime)
        ),
        Err(error) => {
            return Err(anyhow::Error::new(error).context(format!(
                "cannot restore {}; the database was not changed",
                args.file.display()
            )));
        }
    };
    if let (Some(first), Some(last)) = (
        summary.created_schema.first(),
        summary.created_schema.last(),
    ) {
        println!(
            "the {} had no schema: applied migrations {}–{} ({} in all, schema version {}) \
             in the restore's transaction",
            database::describe(&loaded.runtime),
            first.version,
            last.version,
            summary.created_schema.len(),
            summary.schema_version
        );
    }
    println!(
        "restored {} rows into {} tables from {}",
        summary.total_rows(),
        summary.tables.len(),
        args.file.display()
    );
    Ok(ExitCode::SUCCESS)
}

/// `output`, or the timestamped default name in the current directory — or inside `output`
/// when it is a directory.
fn output_path(output: Option<&Path>, now: DateTime<Utc>) -> PathBuf {
    let name = format!("goclaw-backup-{}.jsonl", now.format("%Y%m%dT%H%M%SZ"));
    match output {
        None => PathBuf::from(name),
        Some(dir) if dir.is_dir() => dir.join(name),
        Some(file) => file.to_owned(),
    }
}

/// One progress bar per table on stderr, or nothing when stderr is not a terminal.
struct Bars {
    enabled: bool,
    current: Option<ProgressBar>,
}

impl Bars {
    fn new() -> Self {
        Self {
            enabled: std::io::stderr().is_terminal(),
            current: None,
        }
    }

    /// Removes an unfinished bar (after an error).
    fn clear(&mut self) {
        if let Some(bar) = self.current.take() {
            bar.finish_and_clear();
        }
    }
}

impl Progress for Bars {
    fn table(&mut self, table: &str, rows: u64) {
        if !self.enabled {
            return;
        }
        let style = ProgressStyle::with_template("{prefix:>20} [{bar:30}] {pos}/{len} rows")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> ");
        let bar = ProgressBar::new(rows)
            .with_style(style)
            .with_prefix(table.to_owned());
        self.current = Some(bar);
    }

    fn rows(&mut self, done: u64) {
        if let Some(bar) = &self.current {
            bar.set_position(done);
        }
    }

    fn table_done(&mut self) {
        if let Some(bar) = self.current.take() {
            bar.finish();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(output: Option<&str>, expected: &str) {
        let now = DateTime::parse_from_rfc3339("2026-11-30T01:34:46.5Z")
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default();
        let path = output_path(output.map(Path::new), now);
        assert_eq!(path, PathBuf::from(expected), "output {output:?}");
    }

    #[test]
    fn output_defaults_to_a_timestamped_name() {
        check(None, "goclaw-backup-20261130T013446Z.jsonl");
        check(Some("b.jsonl"), "b.jsonl");
        check(Some("/"), "/goclaw-backup-20261130T013446Z.jsonl");
        check(Some("/no/such/dir/x.jsonl"), "/no/such/dir/x.jsonl");
    }
}
