//! [`ENV_VARS`]: every environment variable this crate reads, what it sets
//! and its default. `docs/config.md` renders this table, and a test checks
//! that each variable named in the loading code appears here.
#![forbid(unsafe_code)]

/// One supported environment variable.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    /// Variable name.
    pub name: &'static str,
    /// What it sets.
    pub sets: &'static str,
    /// Default when unset ("" when there is none).
    pub default: &'static str,
}

const fn var(name: &'static str, sets: &'static str, default: &'static str) -> EnvVar {
    EnvVar {
        name,
        sets,
        default,
    }
}

/// Every supported variable, grouped by topic. An empty value counts as
/// unset. Booleans accept `1/true/yes/on` and `0/false/no/off`.
#[rustfmt::skip]
pub const ENV_VARS: &[EnvVar] = &[
    var("GOCLAW_CONFIG", "path of the config file (when `--config` is not given)", "`config.json`"),
    var("GOCLAW_HOST", "`gateway.host`", "`127.0.0.1`"),
    var("GOCLAW_PORT", "`gateway.port`", "`18790`"),
    var("GOCLAW_GATEWAY_TOKEN", "`gateway.token`", ""),
    var("GOCLAW_OWNER_IDS", "`gateway.owner_ids` (comma list)", ""),
    var("GOCLAW_ALLOWED_ORIGINS", "`gateway.allowed_origins` (comma list)", ""),
    var("GOCLAW_GATEWAY_ID", "`gateway.gateway_id` (alias `GATEWAY_ID`)", ""),
    var("GATEWAY_ID", "`gateway.gateway_id` when `GOCLAW_GATEWAY_ID` is unset", ""),
    var("GOCLAW_WORKSPACE_HOST_ROOT", "`gateway.workspace_host_root`", ""),
    var("GOCLAW_DATA_DIR", "`data_dir`", "`~/.goclaw/data`"),
    var("GOCLAW_WORKSPACE", "`agents.defaults.workspace`", "`~/.goclaw/workspace`"),
    var("GOCLAW_VAULT_ENRICHMENT", "`agents.defaults.memory.vault_enrichment` (boolean)", "`true`"),
    var("GOCLAW_PROVIDER", "`agents.defaults.provider`, only when the file leaves it empty", "`anthropic`"),
    var("GOCLAW_MODEL", "`agents.defaults.model`, only when the file leaves it empty", "`claude-sonnet-4-5-20250929`"),
    var("GOCLAW_ANTHROPIC_API_KEY", "`providers.anthropic.api_key`", ""),
    var("GOCLAW_ANTHROPIC_BASE_URL", "`providers.anthropic.api_base`", ""),
    var("GOCLAW_OPENAI_API_KEY", "`providers.openai.api_key`", ""),
    var("GOCLAW_OPENAI_BASE_URL", "`providers.openai.api_base`", ""),
    var("GOCLAW_OPENROUTER_API_KEY", "`providers.openrouter.api_key`", ""),
    var("GOCLAW_GROQ_API_KEY", "`providers.groq.api_key`", ""),
    var("GOCLAW_GEMINI_API_KEY", "`providers.gemini.api_key`", ""),
    var("GOCLAW_DEEPSEEK_API_KEY", "`providers.deepseek.api_key`", ""),
    var("GOCLAW_MISTRAL_API_KEY", "`providers.mistral.api_key`", ""),
    var("GOCLAW_XAI_API_KEY", "`providers.xai.api_key`", ""),
    var("GOCLAW_MINIMAX_API_KEY", "`providers.minimax.api_key`", ""),
    var("GOCLAW_COHERE_API_KEY", "`providers.cohere.api_key`", ""),
    var("GOCLAW_PERPLEXITY_API_KEY", "`providers.perplexity.api_key`", ""),
    var("GOCLAW_DASHSCOPE_API_KEY", "`providers.dashscope.api_key`", ""),
    var("GOCLAW_BAILIAN_API_KEY", "`providers.bailian.api_key`", ""),
    var("GOCLAW_ZAI_API_KEY", "`providers.zai.api_key`", ""),
    var("GOCLAW_ZAI_CODING_API_KEY", "`providers.zai_coding.api_key`", ""),
    var("GOCLAW_OLLAMA_CLOUD_API_KEY", "`providers.ollama_cloud.api_key`", ""),
    var("GOCLAW_OLLAMA_CLOUD_API_BASE", "`providers.ollama_cloud.api_base`", ""),
    var("GOCLAW_NOVITA_API_KEY", "`providers.novita.api_key`", ""),
    var("GOCLAW_BYTEPLUS_API_KEY", "`providers.byteplus.api_key`", ""),
    var("GOCLAW_BYTEPLUS_CODING_API_KEY", "`providers.byteplus_coding.api_key`", ""),
    var("GOCLAW_OLLAMA_HOST", "`providers.ollama.host`", ""),
    var("GOCLAW_VERTEX_API_KEY", "`providers.vertex.api_key`", ""),
    var("GOCLAW_VERTEX_CREDENTIALS_FILE", "`providers.vertex.credentials_file`", ""),
    var("GOCLAW_VERTEX_PROJECT_ID", "`providers.vertex.project_id`", ""),
    var("GOCLAW_VERTEX_REGION", "`providers.vertex.region`", ""),
    var("GOCLAW_VERTEX_MODEL", "`providers.vertex.model`", ""),
    var("GOCLAW_CLAUDE_CLI_PATH", "`providers.claude_cli.cli_path`", ""),
    var("GOCLAW_CLAUDE_CLI_MODEL", "`providers.claude_cli.model`", "`sonnet`"),
    var("GOCLAW_CLAUDE_CLI_WORK_DIR", "`providers.claude_cli.base_work_dir`", ""),
    var("GOCLAW_TELEGRAM_TOKEN", "`channels.telegram.token`; enables the channel", ""),
    var("GOCLAW_DISCORD_TOKEN", "`channels.discord.token`; enables the channel", ""),
    var("GOCLAW_ZALO_TOKEN", "`channels.zalo.token`; enables the channel", ""),
    var("GOCLAW_SLACK_BOT_TOKEN", "`channels.slack.bot_token`; enables the channel", ""),
    var("GOCLAW_SLACK_APP_TOKEN", "`channels.slack.app_token`; enables the channel", ""),
    var("GOCLAW_SLACK_USER_TOKEN", "`channels.slack.user_token`", ""),
    var("GOCLAW_LARK_APP_ID", "`channels.feishu.app_id`; with an app secret, enables the channel", ""),
    var("GOCLAW_LARK_APP_SECRET", "`channels.feishu.app_secret`; with an app ID, enables the channel", ""),
    var("GOCLAW_LARK_ENCRYPT_KEY", "`channels.feishu.encrypt_key`", ""),
    var("GOCLAW_LARK_VERIFICATION_TOKEN", "`channels.feishu.verification_token`", ""),
    var("GOCLAW_WHATSAPP_BRIDGE_URL", "`channels.whatsapp.bridge_url`; enables the channel", ""),
    var("GOCLAW_SANDBOX_MODE", "`agents.defaults.sandbox.mode` (`off`, `non-main`, `all`)", "`off`"),
    var("GOCLAW_SANDBOX_BACKEND", "`agents.defaults.sandbox.backend` (`auto`, `docker`, `native`, `none`)", "`auto`"),
    var("GOCLAW_SANDBOX_IMAGE", "`agents.defaults.sandbox.image`", "`goclaw-sandbox:bookworm-slim`"),
    var("GOCLAW_SANDBOX_WORKSPACE_ACCESS", "`agents.defaults.sandbox.workspace_access` (`none`, `ro`, `rw`)", "`rw`"),
    var("GOCLAW_SANDBOX_SCOPE", "`agents.defaults.sandbox.scope` (`session`, `agent`, `shared`)", "`session`"),
    var("GOCLAW_SANDBOX_MEMORY_MB", "`agents.defaults.sandbox.memory_mb` (positive integer)", "`512`"),
    var("GOCLAW_SANDBOX_CPUS", "`agents.defaults.sandbox.cpus` (positive number)", "`1.0`"),
    var("GOCLAW_SANDBOX_TIMEOUT_SEC", "`agents.defaults.sandbox.timeout_sec` (positive integer)", "`300`"),
    var("GOCLAW_SANDBOX_NETWORK", "`agents.defaults.sandbox.network_enabled` (boolean)", "`false`"),
    var("GOCLAW_SANDBOX_INIT", "path of the goclaw executable native sandboxes run as their init (environment only)", "the running executable"),
    var("DOCKER_HOST", "Docker Engine API endpoint of the Docker sandbox backend (environment only)", "`unix:///var/run/docker.sock`"),
    var("GOCLAW_BROWSER_REMOTE_URL", "`tools.browser.remote_url`; enables the browser tool", ""),
    var("GOCLAW_BRAVE_API_KEY", "Brave Search API key of the `web_search` tool (environment only); enables the tool", ""),
    var("GOCLAW_WEB_SEARCH_BASE_URL", "base URL of the Brave Search API used by `web_search` (environment only)", "`https://api.search.brave.com`"),
    var("GOCLAW_TELEMETRY_ENABLED", "`telemetry.enabled` (boolean)", "`false`"),
    var("GOCLAW_TELEMETRY_ENDPOINT", "`telemetry.endpoint`", ""),
    var("GOCLAW_TELEMETRY_PROTOCOL", "`telemetry.protocol` (`grpc`, `http`)", "`grpc`"),
    var("GOCLAW_TELEMETRY_SERVICE_NAME", "`telemetry.service_name`", "`goclaw-gateway`"),
    var("GOCLAW_TELEMETRY_INSECURE", "`telemetry.insecure` (boolean)", "`false`"),
    var("GOCLAW_TTS_OPENAI_API_KEY", "`tts.openai.api_key`", ""),
    var("GOCLAW_TTS_ELEVENLABS_API_KEY", "`tts.elevenlabs.api_key`", ""),
    var("GOCLAW_TTS_MINIMAX_API_KEY", "`tts.minimax.api_key`", ""),
    var("GOCLAW_TTS_MINIMAX_GROUP_ID", "`tts.minimax.group_id`", ""),
    var("GOCLAW_TSNET_HOSTNAME", "`tailscale.hostname`", ""),
    var("GOCLAW_TSNET_DIR", "`tailscale.state_dir`", ""),
    var("GOCLAW_TSNET_AUTH_KEY", "Tailscale auth key (environment only)", ""),
    var("GOCLAW_FILE_SIGNING_SECRET", "secret `/v1/files` links are signed with (environment only)", "the gateway token, else random per process"),
    var("GOCLAW_SKILLS_DIR", "directory of global skills, `<slug>/SKILL.md` (environment only)", ""),
    var("GOCLAW_BUILTIN_SKILLS_DIR", "directory of built-in skills (environment only)", ""),
    var("GOCLAW_BUNDLED_SKILLS_DIR", "directory of bundled skills (environment only)", ""),
    var("GOCLAW_SKILLS_MAX_UPLOAD_SIZE_MB", "`skills.max_upload_size_mb` (positive integer)", "`20`"),
    var("GOCLAW_SKILLS_SLASH_COMMANDS_ENABLED", "`skills.slash_commands.enabled` (boolean)", "`true`"),
    var("GOCLAW_SKILLS_SLASH_COMMANDS_SUGGEST_NOT_FOUND", "`skills.slash_commands.suggest_not_found` (boolean)", "`true`"),
    var("GOCLAW_SKILLS_SLASH_COMMANDS_PARTIAL_MATCHING", "`skills.slash_commands.partial_matching` (boolean)", "`false`"),
    var("GOCLAW_SKILLS_SLASH_COMMANDS_PREFIX", "`skills.slash_commands.prefix`", "`/`"),
    var("GOCLAW_STORAGE_BACKEND", "storage backend (`sqlite`, `postgres`; environment only)", "`postgres` when a DSN is set, else `sqlite`"),
    var("GOCLAW_POSTGRES_DSN", "PostgreSQL DSN (environment only; required for `postgres`)", ""),
    var("GOCLAW_REDIS_DSN", "Redis DSN for the optional cache (environment only)", ""),
    var("GOCLAW_SQLITE_PATH", "SQLite database file (environment only)", "`{data_dir}/goclaw.db`"),
    var("GOCLAW_PG_MAX_OPEN_CONNS", "maximum open Postgres connections (positive integer)", "`25`"),
    var("GOCLAW_PG_MAX_IDLE_CONNS", "maximum idle Postgres connections (positive integer)", "`10`"),
    var("GOCLAW_ENCRYPTION_KEY", "AES-256-GCM key for secrets stored in the database (environment only)", ""),
    var("GOCLAW_ALLOW_INSECURE_NO_AUTH", "allow an empty gateway token on a non-loopback bind (boolean)", "`false`"),
    var("GOCLAW_AUTO_UPGRADE", "run schema migrations at startup when exactly `true`", "`false`"),
    var("GOCLAW_LOG_LEVEL", "log level (`debug`, `info`, `warn`, `error`)", "`info`"),
    var("GOCLAW_LOG_FORMAT", "log line format (`json`, `text`)", "`json`"),
    var("GOCLAW_LOG_FILE", "write the gateway's log to this file instead of stdout", ""),
    var("GOCLAW_LOG_MAX_SIZE_MB", "rotate `GOCLAW_LOG_FILE` past this size; `0` leaves rotation to logrotate (`copytruncate`)", "`100`"),
    var("GOCLAW_LOG_MAX_FILES", "rotated copies of `GOCLAW_LOG_FILE` kept (`.1` … `.N`)", "`5`"),
    var("GOCLAW_LANE_MAIN", "maximum concurrent main agent runs (positive integer)", "`30`"),
    var("GOCLAW_LANE_SUBAGENT", "maximum concurrent subagent runs (positive integer)", "`50`"),
    var("GOCLAW_LANE_DELEGATE", "maximum concurrent delegated/team runs (positive integer)", "`100`"),
    var("GOCLAW_LANE_TEAM", "alias of `GOCLAW_LANE_DELEGATE`, used when that is unset", "`100`"),
    var("GOCLAW_LANE_CRON", "maximum concurrent cron job runs (positive integer)", "`30`"),
    var("GOCLAW_METRICS_ADDR", "also serve `/metrics` without authentication on this address (e.g. `127.0.0.1:9100`; environment only)", "unset: `/metrics` only on the gateway port, authenticated"),
];

#[cfg(test)]
mod tests {
    use super::ENV_VARS;

    /// Every quoted `"GOCLAW_..."` literal in the loading code, and every
    /// provider key variable, must be documented.
    #[test]
    fn every_variable_read_is_documented() {
        let sources = [
            include_str!("overlay.rs"),
            include_str!("runtime.rs"),
            include_str!("load.rs"),
        ];
        let mut read: Vec<String> = sources.iter().flat_map(|s| quoted_names(s)).collect();
        let providers = crate::ProvidersConfig::default();
        for (name, _) in providers.api_providers() {
            read.push(format!("GOCLAW_{}_API_KEY", name.to_ascii_uppercase()));
        }
        let missing: Vec<_> = read
            .into_iter()
            .filter(|name| !ENV_VARS.iter().any(|v| v.name == name))
            .collect();
        assert!(
            missing.is_empty(),
            "variables missing from ENV_VARS: {missing:?}"
        );
    }

    fn quoted_names(source: &str) -> Vec<String> {
        let mut names = Vec::new();
        for prefix in ["\"GOCLAW_", "\"GATEWAY_ID"] {
            for (start, _) in source.match_indices(prefix) {
                let rest = &source[start + 1..];
                let len = rest
                    .find(|c: char| !(c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'))
                    .unwrap_or(rest.len());
                if rest[len..].starts_with('"') {
                    names.push(rest[..len].to_owned());
                }
            }
        }
        names
    }

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = ENV_VARS.iter().map(|v| v.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len(), "duplicate entries in ENV_VARS");
    }
}
