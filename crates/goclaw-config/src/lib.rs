//! Typed configuration of the goclaw gateway: `config.json` (JSON5) with
//! GoClaw's key names and defaults, the `GOCLAW_*` environment overlay, the
//! environment-only runtime settings (database, encryption key, lanes,
//! logging), validation, masking of secrets, and the generated reference in
//! `docs/config.md`.
//!
//! **Architecture Invariant:** secrets that protect the whole deployment (the
//! database DSN, the encryption key) are never read from the file; loading
//! refuses a file that contains them. No code here performs I/O besides
//! reading the config file, and nothing reads the process environment except
//! [`Environment::from_process`].
#![forbid(unsafe_code)]

mod agents;
mod channels;
mod context;
mod duration;
mod edit;
mod env;
mod env_vars;
mod error;
mod flex;
mod gateway;
mod load;
mod mask;
mod media;
mod misc;
mod overlay;
mod providers;
mod reference;
mod runtime;
mod sandbox;
mod secrets;
mod tools;
mod validate;

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use agents::{
    AgentBinding, AgentDefaults, AgentSpec, AgentType, AgentsConfig, BindingMatch, BindingPeer,
    DEFAULT_MODEL, DEFAULT_PROVIDER, IdentityConfig, SubagentsConfig,
};
pub use channels::{
    ChannelsConfig, DiscordConfig, DmPolicy, FeishuConfig, FeishuConnectionMode, GroupPolicy,
    PendingCompactionConfig, SlackConfig, TelegramConfig, WhatsAppConfig, ZaloConfig,
    ZaloPersonalConfig,
};
pub use context::{
    CompactionConfig, ContextPruningConfig, DreamingConfig, EpisodicConfig, HardClearConfig,
    MemoryConfig, MemoryFlushConfig, PruningMode, SoftTrimConfig,
};
pub use duration::parse_duration;
pub use edit::{
    ConfigEdit, EditMode, LIVE_KEYS, MASK, SYSTEM_CONFIG_KEYS, applies_live, defaults_for_api,
    edit, file_layer, masked_for_api, system_config_values,
};
pub use env::{Environment, is_secret_variable};
pub use env_vars::{ENV_VARS, EnvVar};
pub use error::{ConfigError, ConfigWarning};
pub use gateway::{ChatBehaviorConfig, GatewayConfig, InjectionAction, QuotaConfig, QuotaWindow};
pub use load::{LoadedConfig, config_path, load, load_str};
pub use media::{
    AudioConfig, AudioServiceConfig, TtsAuto, TtsConfig, TtsMode, TtsProvider, TtsVoiceConfig,
};
pub use misc::{
    CronConfig, HooksConfig, ModelPricing, OtlpProtocol, PackagesConfig, SessionsConfig,
    SkillsConfig, SlashCommandsConfig, TailscaleConfig, TelemetryConfig,
};
pub use providers::{
    AcpConfig, ApiProviderConfig, ClaudeCliConfig, OllamaConfig, ProvidersConfig, VertexConfig,
};
pub use reference::reference_markdown;
pub use runtime::{
    DatabaseSettings, LaneLimits, LogFormat, RuntimeSettings, SkillDirs, StorageBackend,
};
pub use sandbox::{SandboxBackend, SandboxConfig, SandboxMode, SandboxScope, WorkspaceAccess};
pub use secrets::{Secret, SensitiveMap, mask_secret};
pub use tools::{
    BrowserConfig, DocumentParserConfig, ExecApprovalConfig, ExecAsk, ExecSecurity,
    McpServerConfig, McpTransport, ToolPolicy, ToolProfile, ToolsConfig, WaitConfig,
    WebFetchConfig, WebFetchPolicy,
};
pub use validate::validate;

/// The root of `config.json`. Keys mix snake_case and camelCase exactly as
/// GoClaw does. There is no `database` key: the database is configured only
/// through the environment.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct Config {
    /// Directory for persistent data (SQLite database, media, skills); `~`
    /// expands to the home directory.
    pub data_dir: PathBuf,
    /// Agent defaults and per-agent overrides.
    pub agents: AgentsConfig,
    /// Messaging channels.
    pub channels: ChannelsConfig,
    /// LLM providers.
    pub providers: ProvidersConfig,
    /// HTTP/WebSocket listener, authentication and message limits.
    pub gateway: GatewayConfig,
    /// Tool policy and tool settings.
    pub tools: ToolsConfig,
    /// Skill storage and slash commands.
    pub skills: SkillsConfig,
    /// Session keys.
    pub sessions: SessionsConfig,
    /// Text-to-speech replies.
    pub tts: TtsConfig,
    /// Speech-to-text and music defaults.
    pub audio: AudioConfig,
    /// Scheduled jobs.
    pub cron: CronConfig,
    /// OpenTelemetry export.
    pub telemetry: TelemetryConfig,
    /// Optional Tailscale listener.
    pub tailscale: TailscaleConfig,
    /// Routing of channel traffic to agents; the first match wins.
    pub bindings: Vec<AgentBinding>,
    /// Script hook runtime limits.
    pub hooks: HooksConfig,
    /// Package manager settings.
    pub packages: PackagesConfig,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            data_dir: PathBuf::from("~/.goclaw/data"),
            agents: AgentsConfig::default(),
            channels: ChannelsConfig::default(),
            providers: ProvidersConfig::default(),
            gateway: GatewayConfig::default(),
            tools: ToolsConfig::default(),
            skills: SkillsConfig::default(),
            sessions: SessionsConfig::default(),
            tts: TtsConfig::default(),
            audio: AudioConfig::default(),
            cron: CronConfig::default(),
            telemetry: TelemetryConfig::default(),
            tailscale: TailscaleConfig::default(),
            bindings: Vec::new(),
            hooks: HooksConfig::default(),
            packages: PackagesConfig::default(),
        }
    }
}

impl Config {
    /// Directory of uploaded skills: `skills.storage_dir`, else
    /// `{data_dir}/skills-store`.
    pub fn skills_storage_dir(&self) -> PathBuf {
        match &self.skills.storage_dir {
            Some(dir) if !dir.is_empty() => PathBuf::from(dir),
            _ => self.data_dir.join("skills-store"),
        }
    }

    /// The JSON schema of `config.json`.
    pub fn json_schema() -> serde_json::Value {
        schemars::schema_for!(Config).to_value()
    }
}
