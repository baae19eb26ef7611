//! `goclaw migrate up|down [-n N]|version|force V`: direct control of schema migrations.

use std::process::ExitCode;

use anyhow::Context;
use goclaw_config::LoadedConfig;
use goclaw_store::MigrationInfo;

use crate::cli::MigrateCommand;
use crate::database;
use crate::logging::{self, LogRole};

pub async fn run(
    loaded: &LoadedConfig,
    command: &MigrateCommand,
    verbose: bool,
) -> anyhow::Result<ExitCode> {
    logging::init(loaded, verbose, LogRole::Command)?;
    let opened = database::open(&loaded.runtime).await?;
    let migrator = opened.migrator();
    match command {
        MigrateCommand::Up => {
            let applied = migrator
                .up(|migration: &MigrationInfo, took| {
                    println!(
                        "  applied {:04} {} ({} ms)",
                        migration.version,
                        migration.name,
                        took.as_millis()
                    );
                })
                .await
                .context("migrate up failed")?;
            if applied.is_empty() {
                println!("no change");
            }
        }
        MigrateCommand::Down { steps } => {
            let reverted = migrator
                .down(*steps as usize, |migration: &MigrationInfo, took| {
                    println!(
                        "  reverted {:04} {} ({} ms)",
                        migration.version,
                        migration.name,
                        took.as_millis()
                    );
                })
                .await
                .context("migrate down failed")?;
            if reverted.is_empty() {
                println!("no change");
            }
        }
        MigrateCommand::Version => {
            let status = migrator
                .status()
                .await
                .context("cannot read the schema version")?;
            match status.current {
                Some(version) => println!("version: {version}, dirty: {}", status.dirty),
                None => println!("version: none, dirty: false"),
            }
        }
        MigrateCommand::Force { version } => {
            migrator
                .force(*version)
                .await
                .with_context(|| format!("cannot force version {version}"))?;
            println!("version: {version}, dirty: false");
        }
    }
    Ok(ExitCode::SUCCESS)
}
