//! Command-line interface: the commands and flags `goclaw` accepts, as clap derives them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Self-hosted, multi-tenant AI agent gateway. Without a command, runs the gateway.
#[derive(Debug, Parser)]
#[command(name = "goclaw", version, disable_version_flag = true)]
pub struct Cli {
    /// Path of config.json (default: $GOCLAW_CONFIG, then ./config.json).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,

    /// Log at debug level.
    #[arg(short, long, global = true)]
    pub verbose: bool,

    /// Gateway URL for client commands (default: $GOCLAW_SERVER, then the configured host:port).
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,

    /// Gateway token for client commands (default: $GOCLAW_GATEWAY_TOKEN).
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the gateway (the same as running goclaw without a command).
    Serve,
    /// Print the version and protocol.
    Version,
    /// Show or apply pending database schema migrations.
    Upgrade(UpgradeArgs),
    /// Low-level schema migration control.
    #[command(subcommand)]
    Migrate(MigrateCommand),
    /// Inspect the configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Talk to agents through a running gateway.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Manage the secrets stored encrypted in the database.
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Manage API keys through a running gateway.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Check this installation and report what is in use and why.
    Doctor,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// List API keys (never their secrets).
    List {
        /// Print the keys as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Create an API key and print it; it is shown only this once.
    Create(KeyCreateArgs),
    /// Revoke an API key; it stops working at once.
    Revoke {
        /// Id of the key (see `goclaw keys list`).
        id: String,
    },
}

#[derive(Debug, Args)]
pub struct KeyCreateArgs {
    /// A name telling what the key is for (at most 100 characters).
    #[arg(long)]
    pub name: String,
    /// Comma-separated scopes: operator.admin, operator.read, operator.write,
    /// operator.approvals, operator.pairing, operator.provision.
    #[arg(long, value_delimiter = ',', required = true)]
    pub scopes: Vec<String>,
    /// Lifetime: seconds, or a number with s, m, h or d (e.g. 30d). Default: never expires.
    #[arg(long, value_name = "DURATION")]
    pub expires_in: Option<String>,
    /// The user every request made with the key acts as.
    #[arg(long)]
    pub owner_id: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Re-encrypt every stored secret from GOCLAW_ENCRYPTION_KEY to GOCLAW_NEW_ENCRYPTION_KEY
    /// (stop the gateway first).
    RotateKey,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Chat with an agent over WebSocket; interactive unless -m is given.
    Chat(ChatArgs),
}

#[derive(Debug, Args)]
pub struct ChatArgs {
    /// Agent to talk to.
    #[arg(short = 'n', long = "name", default_value = "default")]
    pub agent: String,
    /// Send this one message, print the answer and exit.
    #[arg(short, long)]
    pub message: Option<String>,
    /// Session key to continue (default: a new session).
    #[arg(short, long)]
    pub session: Option<String>,
}

#[derive(Debug, Args)]
pub struct UpgradeArgs {
    /// Only print the schema status; change nothing.
    #[arg(long)]
    pub status: bool,
    /// List the migrations that would be applied; change nothing.
    #[arg(long, conflicts_with = "status")]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    /// Apply every pending migration.
    Up,
    /// Revert the most recent migrations.
    Down {
        /// How many migrations to revert.
        #[arg(short = 'n', long = "steps", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..))]
        steps: u32,
    },
    /// Print the schema version and whether it is dirty.
    Version,
    /// Set the recorded schema version and clear the dirty flag (recovery after a failed
    /// migration; the schema itself is not changed).
    Force {
        /// The version the schema actually is at.
        version: i64,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration (file, environment and defaults), secrets masked.
    Show,
    /// Print the path of the config file in use.
    Path,
    /// Check the config file and environment; exit non-zero on an error.
    Validate,
}
