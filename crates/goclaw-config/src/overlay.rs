//! The environment overlay: `GOCLAW_*` variables applied over the file
//! values (env wins), except `GOCLAW_PROVIDER`/`GOCLAW_MODEL`, which only
//! fill values the file left empty. Every variable read here is listed in
//! [`crate::env_vars::ENV_VARS`].
#![forbid(unsafe_code)]

use std::path::PathBuf;

use crate::agents::{DEFAULT_MODEL, DEFAULT_PROVIDER};
use crate::channels::ChannelsConfig;
use crate::providers::ProvidersConfig;
use crate::sandbox::SandboxConfig;
use crate::{Config, ConfigError, Environment, Secret};

/// Which env-fillable values the file itself set (non-empty).
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FileChoices {
    pub(crate) provider: bool,
    pub(crate) model: bool,
}

/// Applies every supported variable to `config`.
pub(crate) fn apply(
    config: &mut Config,
    env: &Environment,
    file: FileChoices,
) -> Result<(), ConfigError> {
    apply_gateway(config, env)?;
    apply_agent_defaults(config, env, file);
    if let Some(enrich) = env.bool("GOCLAW_VAULT_ENRICHMENT")? {
        config.agents.defaults.memory.vault_enrichment = enrich;
    }
    apply_sandbox(&mut config.agents.defaults.sandbox, env)?;
    apply_providers(&mut config.providers, env);
    apply_channels(&mut config.channels, env);
    apply_telemetry(config, env)?;
    apply_tools_and_media(config, env)?;
    Ok(())
}

fn apply_gateway(config: &mut Config, env: &Environment) -> Result<(), ConfigError> {
    let gateway = &mut config.gateway;
    set_string(env, "GOCLAW_HOST", &mut gateway.host);
    if let Some(port) = env.parse::<u16>("GOCLAW_PORT", "a port number (0-65535)")? {
        gateway.port = port;
    }
    set_secret(env, "GOCLAW_GATEWAY_TOKEN", &mut gateway.token);
    if let Some(ids) = env.list("GOCLAW_OWNER_IDS") {
        gateway.owner_ids = ids;
    }
    if let Some(origins) = env.list("GOCLAW_ALLOWED_ORIGINS") {
        gateway.allowed_origins = origins;
    }
    if let Some((_, id)) = env.first(&["GOCLAW_GATEWAY_ID", "GATEWAY_ID"]) {
        gateway.gateway_id = Some(id.to_owned());
    }
    set_opt(
        env,
        "GOCLAW_WORKSPACE_HOST_ROOT",
        &mut gateway.workspace_host_root,
    );
    if let Some(dir) = env.get("GOCLAW_DATA_DIR") {
        config.data_dir = PathBuf::from(dir);
    }
    Ok(())
}

fn apply_agent_defaults(config: &mut Config, env: &Environment, file: FileChoices) {
    let defaults = &mut config.agents.defaults;
    if let Some(dir) = env.get("GOCLAW_WORKSPACE") {
        defaults.workspace = PathBuf::from(dir);
    }
    if !file.provider {
        set_string(env, "GOCLAW_PROVIDER", &mut defaults.provider);
    }
    if !file.model {
        set_string(env, "GOCLAW_MODEL", &mut defaults.model);
    }
    // A file that writes "" means "not chosen": fall back to the defaults.
    if defaults.provider.is_empty() {
        defaults.provider = DEFAULT_PROVIDER.to_owned();
    }
    if defaults.model.is_empty() {
        defaults.model = DEFAULT_MODEL.to_owned();
    }
}

fn apply_sandbox(sandbox: &mut SandboxConfig, env: &Environment) -> Result<(), ConfigError> {
    if let Some(mode) = env.choice("GOCLAW_SANDBOX_MODE")? {
        sandbox.mode = mode;
    }
    if let Some(backend) = env.choice("GOCLAW_SANDBOX_BACKEND")? {
        sandbox.backend = backend;
    }
    set_string(env, "GOCLAW_SANDBOX_IMAGE", &mut sandbox.image);
    if let Some(access) = env.choice("GOCLAW_SANDBOX_WORKSPACE_ACCESS")? {
        sandbox.workspace_access = access;
    }
    if let Some(scope) = env.choice("GOCLAW_SANDBOX_SCOPE")? {
        sandbox.scope = scope;
    }
    if let Some(mb) = env.positive("GOCLAW_SANDBOX_MEMORY_MB")? {
        sandbox.memory_mb = mb;
    }
    if let Some(cpus) = env.parse::<f64>("GOCLAW_SANDBOX_CPUS", "a positive number of CPUs")? {
        if !(cpus.is_finite() && cpus > 0.0) {
            return Err(ConfigError::invalid_env(
                "GOCLAW_SANDBOX_CPUS",
                format!("expected a positive number of CPUs, got \"{cpus}\""),
            ));
        }
        sandbox.cpus = cpus;
    }
    if let Some(sec) = env.positive("GOCLAW_SANDBOX_TIMEOUT_SEC")? {
        sandbox.timeout_sec = u64::from(sec);
    }
    if let Some(network) = env.bool("GOCLAW_SANDBOX_NETWORK")? {
        sandbox.network_enabled = network;
    }
    Ok(())
}

fn apply_providers(providers: &mut ProvidersConfig, env: &Environment) {
    let names: Vec<&'static str> = providers
        .api_providers()
        .iter()
        .map(|(name, _)| *name)
        .collect();
    for name in names {
        let var = format!("GOCLAW_{}_API_KEY", name.to_ascii_uppercase());
        if let Some(provider) = providers.api_provider_mut(name) {
            set_secret(env, &var, &mut provider.api_key);
        }
    }
    set_opt(
        env,
        "GOCLAW_ANTHROPIC_BASE_URL",
        &mut providers.anthropic.api_base,
    );
    set_opt(
        env,
        "GOCLAW_OPENAI_BASE_URL",
        &mut providers.openai.api_base,
    );
    set_opt(
        env,
        "GOCLAW_OLLAMA_CLOUD_API_BASE",
        &mut providers.ollama_cloud.api_base,
    );
    set_opt(env, "GOCLAW_OLLAMA_HOST", &mut providers.ollama.host);

    let vertex = &mut providers.vertex;
    set_secret(env, "GOCLAW_VERTEX_API_KEY", &mut vertex.api_key);
    set_opt(
        env,
        "GOCLAW_VERTEX_CREDENTIALS_FILE",
        &mut vertex.credentials_file,
    );
    set_opt(env, "GOCLAW_VERTEX_PROJECT_ID", &mut vertex.project_id);
    set_opt(env, "GOCLAW_VERTEX_REGION", &mut vertex.region);
    set_opt(env, "GOCLAW_VERTEX_MODEL", &mut vertex.model);

    let cli = &mut providers.claude_cli;
    set_opt(env, "GOCLAW_CLAUDE_CLI_PATH", &mut cli.cli_path);
    set_string(env, "GOCLAW_CLAUDE_CLI_MODEL", &mut cli.model);
    set_opt(env, "GOCLAW_CLAUDE_CLI_WORK_DIR", &mut cli.base_work_dir);
}

fn apply_channels(channels: &mut ChannelsConfig, env: &Environment) {
    if set_secret(env, "GOCLAW_TELEGRAM_TOKEN", &mut channels.telegram.token) {
        channels.telegram.enabled = true;
    }
    if set_secret(env, "GOCLAW_DISCORD_TOKEN", &mut channels.discord.token) {
        channels.discord.enabled = true;
    }
    if set_secret(env, "GOCLAW_ZALO_TOKEN", &mut channels.zalo.token) {
        channels.zalo.enabled = true;
    }

    let slack = &mut channels.slack;
    let bot = set_secret(env, "GOCLAW_SLACK_BOT_TOKEN", &mut slack.bot_token);
    let app = set_secret(env, "GOCLAW_SLACK_APP_TOKEN", &mut slack.app_token);
    set_secret(env, "GOCLAW_SLACK_USER_TOKEN", &mut slack.user_token);
    if bot || app {
        slack.enabled = true;
    }

    let feishu = &mut channels.feishu;
    let id = set_secret(env, "GOCLAW_LARK_APP_ID", &mut feishu.app_id);
    let secret = set_secret(env, "GOCLAW_LARK_APP_SECRET", &mut feishu.app_secret);
    set_secret(env, "GOCLAW_LARK_ENCRYPT_KEY", &mut feishu.encrypt_key);
    set_secret(
        env,
        "GOCLAW_LARK_VERIFICATION_TOKEN",
        &mut feishu.verification_token,
    );
    let complete = is_set(&feishu.app_id) && is_set(&feishu.app_secret);
    if (id || secret) && complete {
        feishu.enabled = true;
    }

    if set_opt(
        env,
        "GOCLAW_WHATSAPP_BRIDGE_URL",
        &mut channels.whatsapp.bridge_url,
    ) {
        channels.whatsapp.enabled = true;
    }
}

fn apply_telemetry(config: &mut Config, env: &Environment) -> Result<(), ConfigError> {
    let telemetry = &mut config.telemetry;
    if let Some(enabled) = env.bool("GOCLAW_TELEMETRY_ENABLED")? {
        telemetry.enabled = enabled;
    }
    set_opt(env, "GOCLAW_TELEMETRY_ENDPOINT", &mut telemetry.endpoint);
    if let Some(protocol) = env.choice("GOCLAW_TELEMETRY_PROTOCOL")? {
        telemetry.protocol = protocol;
    }
    set_string(
        env,
        "GOCLAW_TELEMETRY_SERVICE_NAME",
        &mut telemetry.service_name,
    );
    if let Some(insecure) = env.bool("GOCLAW_TELEMETRY_INSECURE")? {
        telemetry.insecure = insecure;
    }
    Ok(())
}

fn apply_tools_and_media(config: &mut Config, env: &Environment) -> Result<(), ConfigError> {
    let browser = &mut config.tools.browser;
    if set_opt(env, "GOCLAW_BROWSER_REMOTE_URL", &mut browser.remote_url) {
        browser.enabled = true;
    }

    let tts = &mut config.tts;
    set_secret(env, "GOCLAW_TTS_OPENAI_API_KEY", &mut tts.openai.api_key);
    set_secret(
        env,
        "GOCLAW_TTS_ELEVENLABS_API_KEY",
        &mut tts.elevenlabs.api_key,
    );
    set_secret(env, "GOCLAW_TTS_MINIMAX_API_KEY", &mut tts.minimax.api_key);
    set_secret(
        env,
        "GOCLAW_TTS_MINIMAX_GROUP_ID",
        &mut tts.minimax.group_id,
    );

    set_opt(env, "GOCLAW_TSNET_HOSTNAME", &mut config.tailscale.hostname);
    set_opt(env, "GOCLAW_TSNET_DIR", &mut config.tailscale.state_dir);

    let skills = &mut config.skills;
    if let Some(mb) = env.positive("GOCLAW_SKILLS_MAX_UPLOAD_SIZE_MB")? {
        skills.max_upload_size_mb = mb;
    }
    let slash = &mut skills.slash_commands;
    if let Some(enabled) = env.bool("GOCLAW_SKILLS_SLASH_COMMANDS_ENABLED")? {
        slash.enabled = enabled;
    }
    if let Some(suggest) = env.bool("GOCLAW_SKILLS_SLASH_COMMANDS_SUGGEST_NOT_FOUND")? {
        slash.suggest_not_found = suggest;
    }
    if let Some(partial) = env.bool("GOCLAW_SKILLS_SLASH_COMMANDS_PARTIAL_MATCHING")? {
        slash.partial_matching = partial;
    }
    set_string(
        env,
        "GOCLAW_SKILLS_SLASH_COMMANDS_PREFIX",
        &mut slash.prefix,
    );
    Ok(())
}

fn set_string(env: &Environment, var: &str, dst: &mut String) -> bool {
    let Some(value) = env.get(var) else {
        return false;
    };
    *dst = value.to_owned();
    true
}

fn set_opt(env: &Environment, var: &str, dst: &mut Option<String>) -> bool {
    let Some(value) = env.get(var) else {
        return false;
    };
    *dst = Some(value.to_owned());
    true
}

fn set_secret(env: &Environment, var: &str, dst: &mut Option<Secret>) -> bool {
    let Some(value) = env.get(var) else {
        return false;
    };
    *dst = Some(Secret::new(value));
    true
}

fn is_set(secret: &Option<Secret>) -> bool {
    secret.as_ref().is_some_and(|s| !s.is_empty())
}
