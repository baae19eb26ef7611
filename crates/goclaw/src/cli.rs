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
    /// Write the whole database to a portable backup file (SQLite or PostgreSQL alike).
    Backup(BackupArgs),
    /// Replace the database's contents with a backup file, in one transaction.
    Restore(RestoreArgs),
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
    /// Approve, list and revoke pairings through a running gateway.
    #[command(subcommand)]
    Pairing(PairingCommand),
    /// Manage messaging channel instances through a running gateway.
    #[command(subcommand)]
    Channels(ChannelsCommand),
    /// List, delete, enable and disable cron jobs through a running gateway.
    #[command(subcommand)]
    Cron(CronCommand),
    /// Read run traces through a running gateway.
    #[command(subcommand)]
    Traces(TracesCommand),
    /// Search or re-index agents' memory through a running gateway.
    #[command(subcommand)]
    Memory(MemoryCommand),
    /// Check this installation and report what is in use and why.
    Doctor(DoctorArgs),
    /// First-time setup: secrets, database, migrations, the default agent and an env file.
    Onboard(OnboardArgs),
}

/// `goclaw pairing ...`
#[derive(Debug, Subcommand)]
pub enum PairingCommand {
    /// Approve a pairing code (asks which one when none is given).
    Approve {
        /// The 8-character code the sender was given.
        code: Option<String>,
    },
    /// List the waiting codes and the paired senders, as JSON.
    List,
    /// Unpair a sender from a channel.
    Revoke {
        /// The channel (`telegram`, `discord`, `slack`, `browser`, ...).
        channel: String,
        /// The sender's id on that channel.
        #[arg(value_name = "SENDER_ID")]
        sender_id: String,
    },
}

/// `goclaw cron ...`
#[derive(Debug, Subcommand)]
pub enum CronCommand {
    /// List the cron jobs (enabled ones unless --all).
    List {
        /// Include disabled jobs.
        #[arg(long)]
        all: bool,
        /// Print the gateway's answer as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delete a cron job and its run history.
    Delete {
        /// The job's id (`goclaw cron list` shows it).
        #[arg(value_name = "JOB_ID")]
        job_id: String,
    },
    /// Enable or disable a cron job.
    Toggle {
        /// The job's id.
        #[arg(value_name = "JOB_ID")]
        job_id: String,
        /// `true` to enable, `false` to disable.
        #[arg(value_name = "ENABLED")]
        enabled: String,
    },
}

/// `goclaw traces ...`
#[derive(Debug, Subcommand)]
pub enum TracesCommand {
    /// List recent traces, newest first.
    List {
        /// Only traces of this agent (key or id).
        #[arg(long)]
        agent: Option<String>,
        /// Only traces of this session key.
        #[arg(long)]
        session: Option<String>,
        /// At most this many (up to 200).
        #[arg(long, default_value_t = 50)]
        limit: u32,
        /// Print the traces as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Show one trace with its spans.
    Get {
        /// Id of the trace (see `goclaw traces list`).
        id: String,
        /// Print the trace as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print new traces every second until Ctrl-C.
    Follow,
}

/// `goclaw memory ...`
#[derive(Debug, Subcommand)]
pub enum MemoryCommand {
    /// Search an agent's memory as a user sees it (their documents and the shared ones).
    Search {
        /// What to look for.
        query: String,
        /// The agent (key or id).
        #[arg(long, default_value = "default")]
        agent: String,
        /// Search as this user (default: the client's user, `system`).
        #[arg(long)]
        user: Option<String>,
        /// At most this many results (up to 50).
        #[arg(long, default_value_t = 6)]
        max_results: u32,
        /// Print the results as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Chunk and embed an agent's memory documents again (after changing the embedding
    /// provider or model): every document with an admin token, else the user's own.
    Reindex {
        /// The agent (key or id).
        #[arg(long, default_value = "default")]
        agent: String,
        /// Only this user's documents.
        #[arg(long)]
        user: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Audit the deployment against the production checklist (PASS/WARN/FAIL per item).
    #[arg(long)]
    pub production: bool,
}

#[derive(Debug, Args)]
pub struct OnboardArgs {
    /// Take every answer from flags and the environment; never prompt.
    #[arg(long)]
    pub non_interactive: bool,
    /// Use this PostgreSQL DSN (default: $GOCLAW_POSTGRES_DSN, else the embedded SQLite database).
    #[arg(long, value_name = "DSN")]
    pub postgres_dsn: Option<String>,
    /// LLM provider whose API key to store in the env file (e.g. anthropic, openai).
    #[arg(long)]
    pub provider: Option<String>,
    /// API key of --provider (default: $GOCLAW_<PROVIDER>_API_KEY).
    #[arg(long, value_name = "KEY", requires = "provider")]
    pub api_key: Option<String>,
    /// Address the gateway binds to, written to a new config.json (default 127.0.0.1).
    #[arg(long)]
    pub host: Option<String>,
    /// The env file to create or complete.
    #[arg(long, value_name = "PATH", default_value = ".env.local")]
    pub env_file: PathBuf,
}

/// `goclaw channels ...`
#[derive(Debug, Subcommand)]
pub enum ChannelsCommand {
    /// List the channel instances stored in the database, with what each is doing.
    List {
        /// Print the instances as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Add a channel instance. Asks for what the flags do not give; its credentials (a bot
    /// token; for Slack the bot token, then the app token) are asked hidden, or read one per
    /// line from standard input when it is not a terminal.
    Add(ChannelAddArgs),
    /// Delete a channel instance (asks first unless --force).
    Delete {
        /// Id of the instance (see `goclaw channels list`).
        id: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        force: bool,
    },
}

#[derive(Debug, Args)]
pub struct ChannelAddArgs {
    /// The platform: telegram, discord or slack.
    #[arg(long = "type", value_name = "TYPE")]
    pub channel_type: Option<String>,
    /// The instance's name (1-64 of letters, digits and ._/-); it never changes.
    #[arg(long)]
    pub name: Option<String>,
    /// The agent that answers (key or id).
    #[arg(long)]
    pub agent: Option<String>,
    /// Who may write directly: pairing, allowlist, open or disabled.
    #[arg(long)]
    pub dm_policy: Option<String>,
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
pub struct BackupArgs {
    /// File to write (default: goclaw-backup-<UTC timestamp>.jsonl in the current directory, or
    /// in this directory when it is one). An existing file is never overwritten.
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    /// The backup file to restore.
    pub file: PathBuf,
    /// Replace the contents of a database that already holds data.
    #[arg(long)]
    pub yes: bool,
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
