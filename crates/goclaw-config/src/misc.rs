//! Smaller sections: `sessions`, `cron`, `telemetry`, `skills`, `tailscale`,
//! `hooks` and `packages`.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{Secret, SensitiveMap};

/// Session keys.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SessionsConfig {
    /// Session scope.
    pub scope: Option<String>,
    /// Deprecated: direct-message sessions are always per sender.
    pub dm_scope: Option<String>,
    /// Key of the main session.
    pub main_key: String,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        Self {
            scope: None,
            dm_scope: None,
            main_key: "main".to_owned(),
        }
    }
}

/// Scheduled jobs.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct CronConfig {
    /// Retries of a failed job; 0 disables retries.
    pub max_retries: u32,
    /// First retry delay, as a duration (`2s`).
    pub retry_base_delay: String,
    /// Longest retry delay, as a duration (`30s`).
    pub retry_max_delay: String,
    /// IANA time zone of cron expressions without their own
    /// (`Asia/Ho_Chi_Minh`); empty means UTC.
    pub default_timezone: Option<String>,
    /// Maximum run time of one job, as a duration (`10m`).
    pub job_timeout: String,
}

impl Default for CronConfig {
    fn default() -> Self {
        Self {
            max_retries: 3,
            retry_base_delay: "2s".to_owned(),
            retry_max_delay: "30s".to_owned(),
            default_timezone: None,
            job_timeout: "10m".to_owned(),
        }
    }
}

impl CronConfig {
    /// The first retry delay (`retry_base_delay`; 2 s when unreadable, which `validate`
    /// refuses at load).
    pub fn retry_base(&self) -> std::time::Duration {
        crate::parse_duration(&self.retry_base_delay).unwrap_or(std::time::Duration::from_secs(2))
    }

    /// The longest retry delay (`retry_max_delay`; 30 s when unreadable).
    pub fn retry_max(&self) -> std::time::Duration {
        crate::parse_duration(&self.retry_max_delay).unwrap_or(std::time::Duration::from_secs(30))
    }

    /// The longest run of one attempt of a job (`job_timeout`; 10 min when unreadable).
    pub fn timeout(&self) -> std::time::Duration {
        crate::parse_duration(&self.job_timeout)
            .filter(|d| !d.is_zero())
            .unwrap_or(std::time::Duration::from_secs(600))
    }

    /// The zone of cron expressions without their own: `default_timezone`, else UTC.
    pub fn timezone(&self) -> &str {
        self.default_timezone
            .as_deref()
            .map(str::trim)
            .filter(|tz| !tz.is_empty())
            .unwrap_or("UTC")
    }
}

/// OpenTelemetry (OTLP) export of traces.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TelemetryConfig {
    /// Export spans over OTLP.
    pub enabled: bool,
    /// Collector endpoint (`localhost:4317`, `https://otel.example.com:4318`).
    pub endpoint: Option<String>,
    /// OTLP transport.
    pub protocol: OtlpProtocol,
    /// Connect without TLS (local collectors).
    pub insecure: bool,
    /// `service.name` of exported spans.
    pub service_name: String,
    /// Extra headers sent to the collector (e.g. auth for hosted backends).
    pub headers: SensitiveMap,
    /// Cost per model, keyed `provider/model` or `model`.
    pub model_pricing: BTreeMap<String, ModelPricing>,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            enabled: false,
            endpoint: None,
            protocol: OtlpProtocol::default(),
            insecure: false,
            service_name: "goclaw-gateway".to_owned(),
            headers: SensitiveMap::default(),
            model_pricing: BTreeMap::new(),
        }
    }
}

/// OTLP transport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OtlpProtocol {
    /// OTLP over gRPC.
    #[default]
    Grpc,
    /// OTLP over HTTP.
    Http,
}

/// Price of a model in currency units per million tokens.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ModelPricing {
    /// Input tokens.
    pub input_per_million: f64,
    /// Output tokens.
    pub output_per_million: f64,
    /// Cache-read input tokens.
    pub cache_read_per_million: f64,
    /// Cache-creation input tokens.
    pub cache_create_per_million: f64,
    /// Reasoning tokens; 0 bills them as output tokens.
    pub reasoning_per_million: f64,
}

/// Skill storage and slash commands.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SkillsConfig {
    /// Directory of uploaded skills; empty means `{data_dir}/skills-store/`.
    pub storage_dir: Option<String>,
    /// Largest accepted skill upload, in MiB (1 to 500).
    pub max_upload_size_mb: u32,
    /// Skills invoked as `/name` in chat.
    pub slash_commands: SlashCommandsConfig,
}

impl Default for SkillsConfig {
    fn default() -> Self {
        Self {
            storage_dir: None,
            max_upload_size_mb: 20,
            slash_commands: SlashCommandsConfig::default(),
        }
    }
}

/// Slash commands that invoke skills.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SlashCommandsConfig {
    /// Recognize slash commands.
    pub enabled: bool,
    /// Suggest close names for an unknown command.
    pub suggest_not_found: bool,
    /// Accept an unambiguous prefix of a skill name.
    pub partial_matching: bool,
    /// Command prefix.
    pub prefix: String,
}

impl Default for SlashCommandsConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            suggest_not_found: true,
            partial_matching: false,
            prefix: "/".to_owned(),
        }
    }
}

/// Optional Tailscale listener. Its auth key comes only from
/// `GOCLAW_TSNET_AUTH_KEY`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct TailscaleConfig {
    /// Machine name on the tailnet; empty disables the listener.
    pub hostname: Option<String>,
    /// Directory of the node state.
    pub state_dir: Option<String>,
    /// Remove the node from the tailnet on exit.
    pub ephemeral: bool,
    /// Serve HTTPS with Tailscale certificates.
    pub enable_tls: bool,
}

/// Hook limits: the script runtime (0 uses the built-in default; scripts are not run here)
/// and where `http` hooks may go.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct HooksConfig {
    /// Concurrent script executions across the process.
    pub script_concurrency: u32,
    /// Concurrent script executions of one tenant.
    pub script_per_tenant_concurrency: u32,
    /// Compiled scripts kept in the cache.
    pub script_cache_size: u32,
    /// Built-in hook IDs disabled at startup.
    pub builtin_disable: Vec<String>,
    /// Lets `http` hooks reach private, loopback and link-local addresses (ours; off by
    /// default, as the SSRF guard of `web_fetch`).
    pub allow_private_urls: bool,
}

/// Package manager settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct PackagesConfig {
    /// Reserved: GitHub token for release downloads.
    pub github_token: Option<Secret>,
    /// How long an update check is cached, as a duration (`1h`).
    pub updates_check_ttl: String,
    /// Scratch directory for downloads.
    pub scratch_dir: Option<String>,
}

impl Default for PackagesConfig {
    fn default() -> Self {
        Self {
            github_token: None,
            updates_check_ttl: "1h".to_owned(),
            scratch_dir: None,
        }
    }
}
