//! [`validate`]: the range rules that types alone cannot express. Each
//! failure names the key exactly as written in config.json.
#![forbid(unsafe_code)]

use crate::sandbox::SandboxConfig;
use crate::{Config, ConfigError};

/// Checks the documented ranges of a deserialized config: subagent limits,
/// temperatures, sandbox resources, skill upload size. The first violation
/// is returned as [`ConfigError::Invalid`] naming its key path. A port of 0
/// is accepted (the OS picks a free port).
pub fn validate(config: &Config) -> Result<(), ConfigError> {
    let defaults = &config.agents.defaults;
    let subagents = &defaults.subagents;
    in_range(
        "agents.defaults.subagents.maxSpawnDepth",
        subagents.max_spawn_depth,
        1,
        5,
    )?;
    in_range(
        "agents.defaults.subagents.maxChildrenPerAgent",
        subagents.max_children_per_agent,
        1,
        50,
    )?;
    temperature("agents.defaults.temperature", defaults.temperature)?;
    sandbox("agents.defaults.sandbox", &defaults.sandbox)?;

    for (id, spec) in &config.agents.list {
        if let Some(t) = spec.temperature {
            temperature(&format!("agents.list.{id}.temperature"), t)?;
        }
        if let Some(s) = &spec.sandbox {
            sandbox(&format!("agents.list.{id}.sandbox"), s)?;
        }
    }

    in_range(
        "skills.max_upload_size_mb",
        config.skills.max_upload_size_mb,
        1,
        500,
    )?;
    share(
        "agents.defaults.compaction.maxHistoryShare",
        defaults.compaction.max_history_share,
    )?;
    cron(&config.cron)?;
    for (name, server) in &config.tools.mcp_servers {
        mcp_server(&format!("tools.mcp_servers.{name}"), server)?;
    }
    Ok(())
}

/// An MCP server needs what its transport connects with: a program for `stdio`, an
/// http(s) URL otherwise (checked for enabled servers only); a positive timeout; a tool
/// prefix usable in tool names. Errors never repeat a URL, which may carry a token.
fn mcp_server(path: &str, server: &crate::McpServerConfig) -> Result<(), ConfigError> {
    if server.timeout_sec == 0 {
        return Err(ConfigError::invalid(
            format!("{path}.timeout_sec"),
            "must be greater than 0, got 0",
        ));
    }
    if let Some(prefix) = &server.tool_prefix {
        let usable = !prefix.is_empty()
            && prefix
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
        if !usable {
            return Err(ConfigError::invalid(
                format!("{path}.tool_prefix"),
                format!("{prefix:?} may hold only letters, digits, `_` and `-`"),
            ));
        }
    }
    if !server.enabled {
        return Ok(());
    }
    match server.transport {
        crate::McpTransport::Stdio => {
            if server
                .command
                .as_deref()
                .is_none_or(|c| c.trim().is_empty())
            {
                return Err(ConfigError::invalid(
                    format!("{path}.command"),
                    "the stdio transport needs a command to start",
                ));
            }
        }
        crate::McpTransport::Sse | crate::McpTransport::StreamableHttp => {
            let url = server.url.as_deref().unwrap_or_default();
            let rest = url
                .strip_prefix("https://")
                .or_else(|| url.strip_prefix("http://"));
            if rest.is_none_or(|r| {
                r.is_empty() || r.starts_with('/') || r.contains(char::is_whitespace)
            }) {
                return Err(ConfigError::invalid(
                    format!("{path}.url"),
                    "must be an http:// or https:// URL",
                ));
            }
        }
    }
    Ok(())
}

/// The cron durations must read as durations, and the default zone as an IANA zone.
fn cron(cron: &crate::CronConfig) -> Result<(), ConfigError> {
    for (path, raw) in [
        ("cron.retry_base_delay", &cron.retry_base_delay),
        ("cron.retry_max_delay", &cron.retry_max_delay),
        ("cron.job_timeout", &cron.job_timeout),
    ] {
        if crate::parse_duration(raw).is_none() {
            return Err(ConfigError::invalid(
                path,
                format!("{raw:?} is not a duration (write it as 2s, 10m or 1h30m)"),
            ));
        }
    }
    if cron.timezone().parse::<chrono_tz::Tz>().is_err() {
        return Err(ConfigError::invalid(
            "cron.default_timezone",
            format!(
                "{:?} is not an IANA time zone (such as \"Europe/Berlin\")",
                cron.timezone()
            ),
        ));
    }
    Ok(())
}

fn in_range(path: &str, value: u32, min: u32, max: u32) -> Result<(), ConfigError> {
    if (min..=max).contains(&value) {
        return Ok(());
    }
    Err(ConfigError::invalid(
        path,
        format!("must be between {min} and {max}, got {value}"),
    ))
}

fn temperature(path: &str, value: f64) -> Result<(), ConfigError> {
    if (0.0..=2.0).contains(&value) {
        return Ok(());
    }
    Err(ConfigError::invalid(
        path,
        format!("must be between 0 and 2, got {value}"),
    ))
}

fn share(path: &str, value: f64) -> Result<(), ConfigError> {
    if value > 0.0 && value <= 1.0 {
        return Ok(());
    }
    Err(ConfigError::invalid(
        path,
        format!("must be greater than 0 and at most 1, got {value}"),
    ))
}

fn sandbox(path: &str, sandbox: &SandboxConfig) -> Result<(), ConfigError> {
    if !(sandbox.cpus.is_finite() && sandbox.cpus > 0.0) {
        return Err(ConfigError::invalid(
            format!("{path}.cpus"),
            format!("must be greater than 0, got {}", sandbox.cpus),
        ));
    }
    if sandbox.memory_mb == 0 {
        return Err(ConfigError::invalid(
            format!("{path}.memory_mb"),
            "must be greater than 0, got 0",
        ));
    }
    if sandbox.timeout_sec == 0 {
        return Err(ConfigError::invalid(
            format!("{path}.timeout_sec"),
            "must be greater than 0, got 0",
        ));
    }
    Ok(())
}
