//! Chooses the logger for a command: the gateway logs JSON to stdout (or to `GOCLAW_LOG_FILE`,
//! rotated by size); other commands keep stdout for their own output and log warnings to stderr.

use anyhow::Context;
use goclaw_config::LoadedConfig;
use goclaw_telemetry::{LogFormat, LogSettings, RotatingFile, Rotation, SecretMask};

/// Where and how much a command logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogRole {
    /// The gateway: info (or the configured level) on stdout.
    Server,
    /// A one-shot command: warnings on stderr.
    Command,
}

/// Installs the process logger for `loaded`, masking every configured secret.
pub fn init(loaded: &LoadedConfig, verbose: bool, role: LogRole) -> anyhow::Result<SecretMask> {
    let mask = goclaw_telemetry::global_mask();
    mask.extend(loaded.secret_values());
    let level = if verbose {
        "debug".to_owned()
    } else if let Some(level) = loaded.runtime.log_level.clone() {
        level
    } else if role == LogRole::Server {
        "info".to_owned()
    } else {
        "warn".to_owned()
    };
    let format = match loaded.runtime.log_format {
        goclaw_config::LogFormat::Json => LogFormat::Json,
        goclaw_config::LogFormat::Text => LogFormat::Text,
    };
    let settings = LogSettings {
        level: format!("{level},sqlx=warn,hyper=warn"),
        format,
        mask: mask.clone(),
    };
    match (role, &loaded.runtime.log_file) {
        (LogRole::Server, Some(path)) => {
            let rotation = Rotation {
                max_bytes: u64::from(loaded.runtime.log_max_size_mb) * 1024 * 1024,
                keep: loaded.runtime.log_max_files,
            };
            let file = RotatingFile::open(path, rotation).with_context(|| {
                format!(
                    "cannot open the log file {} (GOCLAW_LOG_FILE)",
                    path.display()
                )
            })?;
            goclaw_telemetry::init_logging_file(&settings, file)?;
        }
        (LogRole::Server, None) => goclaw_telemetry::init_logging(&settings)?,
        (LogRole::Command, _) => goclaw_telemetry::init_logging_stderr(&settings)?,
    }
    for warning in &loaded.warnings {
        tracing::warn!(warning = %warning, "config warning");
    }
    Ok(mask)
}
