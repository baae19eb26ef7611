//! The goclaw application: wires configuration, logging, storage and the gateway together and
//! implements the command-line commands.
//!
//! `main.rs` only parses arguments and calls [`run`]; tests build the same [`Application`]
//! through `goclaw-testkit`.
#![forbid(unsafe_code)]

pub mod app;
mod channel_sender;
pub mod cli;
pub(crate) mod commands;
mod config_admin;
pub mod database;
pub mod embedding;
pub mod episodic;
mod exec;
mod gateway_settings;
mod logging;
mod mcp;
mod media;
mod messenger;
mod metrics;
pub mod provider_catalog;
pub mod sandbox;
pub mod secrets;
mod skills;
pub mod traces;
mod usage;
mod webhook_channels;

use std::process::ExitCode;

pub use app::Application;
pub use goclaw_gateway::teams::recovery::{Recovered, TaskRecovery};

/// The version this binary reports.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Runs the command the user asked for and returns the process exit code.
pub fn run(cli: cli::Cli) -> anyhow::Result<ExitCode> {
    if let Some(cli::Command::Version) = cli.command {
        println!("{}", version_line());
        return Ok(ExitCode::SUCCESS);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| anyhow::anyhow!("cannot start the async runtime: {e}"))?;
    runtime.block_on(commands::dispatch(cli))
}

/// `goclaw <version> (protocol 3)`.
pub fn version_line() -> String {
    format!(
        "goclaw {VERSION} (protocol {})",
        goclaw_core::PROTOCOL_VERSION
    )
}

/// An error and its causes on one line, for stderr.
pub fn one_line(error: &anyhow::Error) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in error.chain() {
        let text = cause.to_string().replace('\n', " ");
        // anyhow contexts often repeat their source's text; print each piece once.
        if parts.last().is_none_or(|last| !last.contains(&text)) {
            parts.push(text);
        }
    }
    parts.join(": ")
}
