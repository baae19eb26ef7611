//! `goclaw upgrade [--status] [--dry-run]`: the operator's view of the schema and the way to
//! bring it up to date.

use std::process::ExitCode;

use anyhow::Context;
use goclaw_config::LoadedConfig;
use goclaw_store::{MigrationInfo, SchemaState, SchemaStatus};

use crate::cli::UpgradeArgs;
use crate::database;
use crate::logging::{self, LogRole};

pub async fn run(
    loaded: &LoadedConfig,
    args: &UpgradeArgs,
    verbose: bool,
) -> anyhow::Result<ExitCode> {
    logging::init(loaded, verbose, LogRole::Command)?;
    let opened = database::open(&loaded.runtime).await?;
    let migrator = opened.migrator();
    let status = migrator
        .status()
        .await
        .context("cannot read the schema version")?;

    if args.status {
        print_status(&status);
        return Ok(ExitCode::SUCCESS);
    }
    match status.state {
        SchemaState::Dirty => anyhow::bail!(
            "schema is DIRTY at version {}: run `goclaw migrate force <version>` once the database is checked",
            status.current.unwrap_or(0)
        ),
        SchemaState::BinaryTooOld => anyhow::bail!(
            "schema version {} is newer than this binary supports ({})",
            status.current.unwrap_or(0),
            status.required
        ),
        SchemaState::UpToDate => {
            println!(
                "Schema is up to date (version {}); nothing to apply.",
                status.required
            );
            return Ok(ExitCode::SUCCESS);
        }
        SchemaState::UpgradeNeeded { .. } => {}
    }
    if args.dry_run {
        println!("Pending migrations ({}):", database::transition(&status));
        for migration in &status.pending {
            println!("  {:04} {}", migration.version, migration.name);
        }
        println!("Dry run: nothing applied.");
        return Ok(ExitCode::SUCCESS);
    }

    if opened.backend() == goclaw_core::StoreBackend::Sqlite && status.current.is_some() {
        let backup = database::backup_path(&loaded.runtime.database.sqlite_path);
        goclaw_store::backup_sqlite(&opened, &backup)
            .await
            .with_context(|| format!("cannot back up the database to {}", backup.display()))?;
        println!("Backed up the database to {}", backup.display());
    }
    println!("Upgrading schema {}", database::transition(&status));
    migrator
        .up(|migration: &MigrationInfo, took| {
            println!(
                "  applied {:04} {} ({} ms)",
                migration.version,
                migration.name,
                took.as_millis()
            );
        })
        .await
        .context("schema upgrade failed")?;
    println!("Schema is up to date (version {}).", status.required);
    Ok(ExitCode::SUCCESS)
}

fn print_status(status: &SchemaStatus) {
    println!("App version:     {}", crate::version_line());
    println!(
        "Schema current:  {}",
        status
            .current
            .map_or_else(|| "none (empty database)".to_owned(), |v| v.to_string())
    );
    println!("Schema required: {}", status.required);
    println!("Status:          {}", state_label(status));
    if !status.pending.is_empty() {
        println!("Pending migrations:");
        for migration in &status.pending {
            println!("  {:04} {}", migration.version, migration.name);
        }
    }
}

/// Exactly one of `UP TO DATE`, `UPGRADE NEEDED (a -> b)`, `BINARY TOO OLD`, `DIRTY`.
pub fn state_label(status: &SchemaStatus) -> String {
    match status.state {
        SchemaState::UpToDate => "UP TO DATE".to_owned(),
        SchemaState::UpgradeNeeded { .. } => {
            format!("UPGRADE NEEDED ({})", database::transition(status))
        }
        SchemaState::BinaryTooOld => "BINARY TOO OLD".to_owned(),
        SchemaState::Dirty => "DIRTY".to_owned(),
    }
}
