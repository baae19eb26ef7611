//! [`RuntimeSettings`]: settings that come only from the environment, never
//! from config.json — the database, the encryption key, logging, lane
//! limits and a few switches.
#![forbid(unsafe_code)]

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::{ConfigError, Environment, Secret};

/// Environment-only settings.
#[derive(Debug, Clone)]
pub struct RuntimeSettings {
    /// Storage backend and connection settings.
    pub database: DatabaseSettings,
    /// AES-256-GCM key for secrets stored in the database
    /// (`GOCLAW_ENCRYPTION_KEY`).
    pub encryption_key: Option<Secret>,
    /// Allow an empty gateway token on a non-loopback bind
    /// (`GOCLAW_ALLOW_INSECURE_NO_AUTH`).
    pub allow_insecure_no_auth: bool,
    /// Run schema migrations at startup (`GOCLAW_AUTO_UPGRADE` is exactly
    /// `true`).
    pub auto_upgrade: bool,
    /// Log level: `debug`, `info`, `warn` or `error` (`GOCLAW_LOG_LEVEL`).
    pub log_level: Option<String>,
    /// Log line format (`GOCLAW_LOG_FORMAT`).
    pub log_format: LogFormat,
    /// Write the gateway's log to this file instead of stdout (`GOCLAW_LOG_FILE`).
    pub log_file: Option<PathBuf>,
    /// Rotate the log file past this many MiB; 0 leaves rotation to logrotate
    /// (`GOCLAW_LOG_MAX_SIZE_MB`, default 100).
    pub log_max_size_mb: u32,
    /// Rotated log files kept (`GOCLAW_LOG_MAX_FILES`, default 5).
    pub log_max_files: u32,
    /// Concurrency limits of the scheduler lanes.
    pub lanes: LaneLimits,
    /// A second listener serving only `/metrics`, without authentication
    /// (`GOCLAW_METRICS_ADDR`, e.g. `127.0.0.1:9100`); `None` serves it only on
    /// the gateway's port, behind its authentication.
    pub metrics_addr: Option<std::net::SocketAddr>,
    /// Tailscale auth key (`GOCLAW_TSNET_AUTH_KEY`).
    pub tailscale_auth_key: Option<Secret>,
    /// The secret `/v1/files` links are signed with (`GOCLAW_FILE_SIGNING_SECRET`; without it
    /// the gateway token, else a random one per process).
    pub file_signing_secret: Option<Secret>,
    /// Docker Engine API endpoint for the Docker sandbox backend (`DOCKER_HOST`; default the
    /// local socket).
    pub docker_host: Option<String>,
    /// The goclaw executable native sandboxes run as their init (`GOCLAW_SANDBOX_INIT`;
    /// default the running executable).
    pub sandbox_init: Option<PathBuf>,
    /// Directories of `SKILL.md` skills every tenant may use, beside the uploaded ones:
    /// `GOCLAW_SKILLS_DIR`, `GOCLAW_BUILTIN_SKILLS_DIR` and `GOCLAW_BUNDLED_SKILLS_DIR`.
    pub skill_dirs: SkillDirs,
}

/// Directories of skills on disk, each holding `<slug>/SKILL.md`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SkillDirs {
    /// Global skills (`GOCLAW_SKILLS_DIR`).
    pub global: Option<PathBuf>,
    /// Skills shipped with the gateway (`GOCLAW_BUILTIN_SKILLS_DIR`).
    pub builtin: Option<PathBuf>,
    /// Bundled skills (`GOCLAW_BUNDLED_SKILLS_DIR`).
    pub bundled: Option<PathBuf>,
}

/// Storage backend and its connection settings.
#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    /// Backend (`GOCLAW_STORAGE_BACKEND`; Postgres when a DSN is set, else
    /// SQLite).
    pub backend: StorageBackend,
    /// PostgreSQL DSN (`GOCLAW_POSTGRES_DSN`).
    pub postgres_dsn: Option<Secret>,
    /// Redis DSN for the optional cache (`GOCLAW_REDIS_DSN`).
    pub redis_dsn: Option<Secret>,
    /// SQLite database file (`GOCLAW_SQLITE_PATH`, default
    /// `{data_dir}/goclaw.db`).
    pub sqlite_path: PathBuf,
    /// Maximum open Postgres connections (`GOCLAW_PG_MAX_OPEN_CONNS`).
    pub pg_max_open_conns: u32,
    /// Maximum idle Postgres connections (`GOCLAW_PG_MAX_IDLE_CONNS`).
    pub pg_max_idle_conns: u32,
}

/// Storage backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StorageBackend {
    /// Embedded SQLite file.
    Sqlite,
    /// PostgreSQL server.
    Postgres,
}

/// Log line format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// One JSON object per line.
    #[default]
    Json,
    /// Human-readable text.
    Text,
}

/// Maximum concurrent runs per scheduler lane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LaneLimits {
    /// Main agent runs (`GOCLAW_LANE_MAIN`).
    pub main: u32,
    /// Subagent runs (`GOCLAW_LANE_SUBAGENT`).
    pub subagent: u32,
    /// Delegated and team runs (`GOCLAW_LANE_DELEGATE`, alias
    /// `GOCLAW_LANE_TEAM`).
    pub delegate: u32,
    /// Cron job runs (`GOCLAW_LANE_CRON`).
    pub cron: u32,
}

impl Default for LaneLimits {
    fn default() -> Self {
        Self {
            main: 30,
            subagent: 50,
            delegate: 100,
            cron: 30,
        }
    }
}

const LOG_LEVELS: [&str; 4] = ["debug", "info", "warn", "error"];

impl RuntimeSettings {
    /// Reads the settings; `data_dir` is the effective (expanded) data
    /// directory, the base of the default SQLite path.
    pub fn from_env(env: &Environment, data_dir: &Path) -> Result<Self, ConfigError> {
        Ok(Self {
            database: DatabaseSettings::from_env(env, data_dir)?,
            encryption_key: env.get("GOCLAW_ENCRYPTION_KEY").map(Secret::new),
            allow_insecure_no_auth: env.bool("GOCLAW_ALLOW_INSECURE_NO_AUTH")?.unwrap_or(false),
            auto_upgrade: env.get("GOCLAW_AUTO_UPGRADE") == Some("true"),
            log_level: log_level(env)?,
            log_format: env.choice("GOCLAW_LOG_FORMAT")?.unwrap_or_default(),
            log_file: env
                .get("GOCLAW_LOG_FILE")
                .filter(|p| !p.is_empty())
                .map(|p| env.expand_home(Path::new(p))),
            log_max_size_mb: env
                .parse(
                    "GOCLAW_LOG_MAX_SIZE_MB",
                    "a size in MiB (0 disables rotation)",
                )?
                .unwrap_or(100),
            log_max_files: env
                .parse("GOCLAW_LOG_MAX_FILES", "a number of files")?
                .unwrap_or(5),
            lanes: lanes(env)?,
            metrics_addr: env.parse(
                "GOCLAW_METRICS_ADDR",
                "a socket address such as 127.0.0.1:9100",
            )?,
            tailscale_auth_key: env.get("GOCLAW_TSNET_AUTH_KEY").map(Secret::new),
            file_signing_secret: env
                .get("GOCLAW_FILE_SIGNING_SECRET")
                .filter(|s| !s.is_empty())
                .map(Secret::new),
            docker_host: env
                .get("DOCKER_HOST")
                .filter(|h| !h.is_empty())
                .map(str::to_owned),
            sandbox_init: env
                .get("GOCLAW_SANDBOX_INIT")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            skill_dirs: SkillDirs {
                global: env_dir(env, "GOCLAW_SKILLS_DIR"),
                builtin: env_dir(env, "GOCLAW_BUILTIN_SKILLS_DIR"),
                bundled: env_dir(env, "GOCLAW_BUNDLED_SKILLS_DIR"),
            },
        })
    }
}

fn env_dir(env: &Environment, var: &str) -> Option<PathBuf> {
    env.get(var)
        .filter(|p| !p.is_empty())
        .map(|p| env.expand_home(Path::new(p)))
}

impl DatabaseSettings {
    fn from_env(env: &Environment, data_dir: &Path) -> Result<Self, ConfigError> {
        let postgres_dsn = env.get("GOCLAW_POSTGRES_DSN").map(Secret::new);
        let backend = match env.choice::<StorageBackend>("GOCLAW_STORAGE_BACKEND")? {
            Some(backend) => backend,
            None if postgres_dsn.is_some() => StorageBackend::Postgres,
            None => StorageBackend::Sqlite,
        };
        if backend == StorageBackend::Postgres && postgres_dsn.is_none() {
            return Err(ConfigError::MissingEnv {
                var: "GOCLAW_POSTGRES_DSN",
                reason: "GOCLAW_STORAGE_BACKEND=postgres needs a PostgreSQL DSN".to_owned(),
            });
        }
        let sqlite_path = match env.get("GOCLAW_SQLITE_PATH") {
            Some(path) => env.expand_home(Path::new(path)),
            None => data_dir.join("goclaw.db"),
        };
        Ok(Self {
            backend,
            postgres_dsn,
            redis_dsn: env.get("GOCLAW_REDIS_DSN").map(Secret::new),
            sqlite_path,
            pg_max_open_conns: env.positive("GOCLAW_PG_MAX_OPEN_CONNS")?.unwrap_or(25),
            pg_max_idle_conns: env.positive("GOCLAW_PG_MAX_IDLE_CONNS")?.unwrap_or(10),
        })
    }
}

fn log_level(env: &Environment) -> Result<Option<String>, ConfigError> {
    let Some(value) = env.get("GOCLAW_LOG_LEVEL") else {
        return Ok(None);
    };
    let level = value.trim().to_ascii_lowercase();
    if LOG_LEVELS.contains(&level.as_str()) {
        return Ok(Some(level));
    }
    Err(ConfigError::invalid_env(
        "GOCLAW_LOG_LEVEL",
        format!("expected one of debug, info, warn, error, got {value:?}"),
    ))
}

fn lanes(env: &Environment) -> Result<LaneLimits, ConfigError> {
    let defaults = LaneLimits::default();
    let delegate_var = env
        .first(&["GOCLAW_LANE_DELEGATE", "GOCLAW_LANE_TEAM"])
        .map_or("GOCLAW_LANE_DELEGATE", |(name, _)| name);
    Ok(LaneLimits {
        main: env.positive("GOCLAW_LANE_MAIN")?.unwrap_or(defaults.main),
        subagent: env
            .positive("GOCLAW_LANE_SUBAGENT")?
            .unwrap_or(defaults.subagent),
        delegate: env.positive(delegate_var)?.unwrap_or(defaults.delegate),
        cron: env.positive("GOCLAW_LANE_CRON")?.unwrap_or(defaults.cron),
    })
}
