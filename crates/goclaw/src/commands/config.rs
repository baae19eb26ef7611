//! `goclaw config show|path|validate`: local inspection of the effective configuration.

use std::path::Path;
use std::process::ExitCode;

use goclaw_config::Environment;

use crate::cli::ConfigCommand;

pub fn run(
    explicit: Option<&Path>,
    env: &Environment,
    command: &ConfigCommand,
) -> anyhow::Result<ExitCode> {
    let loaded = goclaw_config::load(explicit, env)?;
    match command {
        ConfigCommand::Path => {
            println!("{}", loaded.path.display());
            if !loaded.file_found {
                eprintln!(
                    "note: {} does not exist; defaults and environment are in use",
                    loaded.path.display()
                );
            }
        }
        ConfigCommand::Show => {
            for warning in &loaded.warnings {
                eprintln!("warning: {warning}");
            }
            println!("{}", serde_json::to_string_pretty(&loaded.masked_json())?);
        }
        ConfigCommand::Validate => {
            goclaw_config::validate(&loaded.config)?;
            for warning in &loaded.warnings {
                eprintln!("warning: {warning}");
            }
            let source = if loaded.file_found {
                loaded.path.display().to_string()
            } else {
                format!("{} (not found; defaults)", loaded.path.display())
            };
            println!("config OK: {source}");
        }
    }
    Ok(ExitCode::SUCCESS)
}
