//! The effective settings of one agent: its own values where it has them (columns, or keys of
//! `other_config`), `agents.defaults` otherwise; and the workspace a run of it uses for a user.

use std::path::PathBuf;
use std::time::Duration;

use goclaw_config::AgentDefaults;
use goclaw_core::Agent;

/// Settings a run uses, resolved once when it starts.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RunSettings {
    pub max_tokens: u32,
    pub temperature: f32,
    /// Maximum LLM round-trips.
    pub max_iterations: u32,
    /// Maximum tool calls; 0 means unlimited.
    pub max_tool_calls: u32,
    pub context_window: u32,
    pub workspace: PathBuf,
    /// Whether tools must stay inside the workspace (the agent's `restrict_to_workspace`).
    pub restrict_to_workspace: bool,
    /// `agents.defaults.allowed_paths`.
    pub allowed_paths: Vec<PathBuf>,
    /// Extended thinking budget in tokens, from `other_config.thinking_level` (`low` 4096,
    /// `medium` 10000, `high` 32000) or an explicit `other_config.thinking_budget`.
    pub thinking_budget: Option<u32>,
}

impl RunSettings {
    pub(crate) fn resolve(agent: &Agent, defaults: &AgentDefaults) -> Self {
        let max_tokens = other_u64(agent, "max_tokens")
            .and_then(|v| u32::try_from(v).ok())
            .filter(|v| *v > 0)
            .unwrap_or(defaults.max_tokens);
        let temperature = other_f64(agent, "temperature").unwrap_or(defaults.temperature) as f32;
        let max_iterations = u32::try_from(agent.max_tool_iterations)
            .ok()
            .filter(|v| *v > 0)
            .unwrap_or(defaults.max_tool_iterations)
            .max(1);
        let max_tool_calls = other_u64(agent, "max_tool_calls")
            .and_then(|v| u32::try_from(v).ok())
            .unwrap_or(defaults.max_tool_calls);
        let context_window = u32::try_from(agent.context_window)
            .ok()
            .filter(|v| *v > 0)
            .unwrap_or(defaults.context_window);
        let workspace = if agent.workspace.trim().is_empty() {
            defaults.workspace.join(agent.agent_key.as_str())
        } else {
            PathBuf::from(&agent.workspace)
        };
        Self {
            max_tokens,
            temperature,
            max_iterations,
            max_tool_calls,
            context_window,
            workspace,
            restrict_to_workspace: agent.restrict_to_workspace,
            allowed_paths: defaults.allowed_paths.iter().map(PathBuf::from).collect(),
            thinking_budget: thinking_budget(agent),
        }
    }
}

/// The thinking budget an agent asks for, if any.
fn thinking_budget(agent: &Agent) -> Option<u32> {
    if let Some(budget) = other_u64(agent, "thinking_budget").and_then(|v| u32::try_from(v).ok()) {
        return (budget > 0).then_some(budget);
    }
    match agent.other_config.get("thinking_level")?.as_str()? {
        "low" => Some(4096),
        "medium" => Some(10_000),
        "high" => Some(32_000),
        _ => None,
    }
}

/// The agent's `other_config.inbound_debounce_ms`, else the gateway-wide value.
pub(crate) fn debounce(agent: &Agent, global_ms: u64) -> Duration {
    Duration::from_millis(other_u64(agent, "inbound_debounce_ms").unwrap_or(global_ms))
}

fn other_u64(agent: &Agent, key: &str) -> Option<u64> {
    let value = agent.other_config.get(key)?;
    value
        .as_u64()
        .or_else(|| value.as_f64().filter(|v| *v >= 0.0).map(|v| v as u64))
}

fn other_f64(agent: &Agent, key: &str) -> Option<f64> {
    agent.other_config.get(key)?.as_f64()
}

/// The workspace of this run in GoClaw's layout: without an explicit agent workspace,
/// `<agents.defaults.workspace>[/tenants/<tenant>]/<agent>`; `open` agents get one
/// subdirectory per user, `predefined` agents share theirs.
pub(crate) fn user_workspace(
    agent: &goclaw_core::Agent,
    settings: &RunSettings,
    tenant: goclaw_core::TenantId,
    user_id: &str,
) -> std::path::PathBuf {
    if !agent.workspace.trim().is_empty() {
        let mut path = settings.workspace.clone();
        if agent.agent_type == "open" && !user_id.is_empty() {
            path.push(goclaw_tools::workspace::sanitize_segment(user_id));
        }
        return path;
    }
    // `settings.workspace` is `<base>/<agent_key>` here; lay it out from the base.
    let base = settings
        .workspace
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_else(|| settings.workspace.clone());
    let tenant = (tenant != goclaw_core::MASTER_TENANT_ID).then(|| tenant.to_string());
    goclaw_tools::workspace::workspace_for(
        &base,
        tenant.as_deref(),
        agent.agent_key.as_str(),
        user_id,
        &agent.agent_type,
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use chrono::Utc;
    use goclaw_core::{AgentId, AgentKey, MASTER_TENANT_ID};
    use serde_json::{Value, json};

    use super::*;

    /// An agent `a` with the given column overrides and `other_config`.
    pub(crate) fn agent(iterations: i64, window: i64, other: Value) -> Agent {
        Agent {
            id: AgentId::generate(),
            tenant_id: MASTER_TENANT_ID,
            agent_key: AgentKey::parse("a").expect("key"),
            display_name: "A".into(),
            provider: String::new(),
            model: String::new(),
            is_default: false,
            agent_type: "open".into(),
            status: "active".into(),
            context_window: window,
            max_tool_iterations: iterations,
            workspace: String::new(),
            restrict_to_workspace: true,
            other_config: other,
            created_at: Utc::now(),
            updated_at: Utc::now(),
        }
    }

    fn check(agent: Agent, expected: (u32, f32, u32, u32, u32)) {
        let s = RunSettings::resolve(&agent, &AgentDefaults::default());
        assert_eq!(
            (
                s.max_tokens,
                s.temperature,
                s.max_iterations,
                s.max_tool_calls,
                s.context_window
            ),
            expected,
            "{:?}",
            agent.other_config
        );
    }

    #[test]
    fn settings_fall_back_to_defaults() {
        check(agent(0, 0, json!({})), (8192, 0.7, 30, 25, 200_000));
        check(agent(5, 1000, json!({})), (8192, 0.7, 5, 25, 1000));
        check(agent(-1, -1, json!({})), (8192, 0.7, 30, 25, 200_000));
        check(
            agent(
                0,
                0,
                json!({"max_tokens": 100, "temperature": 0.2, "max_tool_calls": 3}),
            ),
            (100, 0.2, 30, 3, 200_000),
        );
        check(
            agent(0, 0, json!({"max_tokens": 0})),
            (8192, 0.7, 30, 25, 200_000),
        );
        check(
            agent(0, 0, json!({"max_tokens": "x"})),
            (8192, 0.7, 30, 25, 200_000),
        );
    }

    #[test]
    fn debounce_prefers_the_agent() {
        assert_eq!(
            debounce(&agent(0, 0, json!({})), 800),
            Duration::from_millis(800)
        );
        assert_eq!(
            debounce(&agent(0, 0, json!({"inbound_debounce_ms": 0})), 800),
            Duration::ZERO
        );
        assert_eq!(
            debounce(&agent(0, 0, json!({"inbound_debounce_ms": 250})), 0),
            Duration::from_millis(250)
        );
    }

    #[test]
    fn workspace_defaults_under_the_root() {
        let s = RunSettings::resolve(&agent(0, 0, json!({})), &AgentDefaults::default());
        assert_eq!(s.workspace, PathBuf::from("~/.goclaw/workspace/a"));
    }

    #[test]
    fn thinking_budget_from_level_or_number() {
        let check = |other: Value, expected: Option<u32>| {
            assert_eq!(
                thinking_budget(&agent(0, 0, other.clone())),
                expected,
                "{other}"
            );
        };
        check(json!({}), None);
        check(json!({"thinking_level": "low"}), Some(4096));
        check(json!({"thinking_level": "medium"}), Some(10_000));
        check(json!({"thinking_level": "high"}), Some(32_000));
        check(json!({"thinking_level": "off"}), None);
        check(json!({"thinking_budget": 2048}), Some(2048));
        check(
            json!({"thinking_budget": 0, "thinking_level": "high"}),
            None,
        );
    }
}
