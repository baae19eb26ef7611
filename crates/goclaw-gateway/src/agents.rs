//! Agent fields as clients send them (WebSocket `agents.create|update` and `/v1/agents`), the
//! rules for turning them into store records, and where a caller's context-file write goes.

use goclaw_core::{Agent, AgentKey, AgentPatch, NewAgent};
use serde::Deserialize;
use serde_json::{Map, Value};

use crate::auth::Principal;
use crate::quotas::{self, MAX_AGENT_CONFIG_BYTES, QuotaRefusal};
use crate::ws::frames::ErrorShape;

/// The agent among `agents` that `raw` names, by its id or its key (as webhooks and channel
/// instances accept either).
pub fn named<'a>(agents: &'a [Agent], raw: &str) -> Option<&'a Agent> {
    let raw = raw.trim();
    agents
        .iter()
        .find(|a| a.id.to_string() == raw || a.agent_key.as_str() == raw)
}

/// Context files every agent is shown to have (present or missing), in the runtime's load
/// order.
pub use goclaw_agent::CONTEXT_FILE_ORDER as CONTEXT_FILES;

/// Agent fields accepted on create and update; all optional.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct AgentFields {
    #[serde(alias = "agentId", alias = "agent_key", alias = "key")]
    pub id: Option<String>,
    #[serde(alias = "displayName", alias = "display_name")]
    pub name: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    #[serde(alias = "agentType")]
    pub agent_type: Option<String>,
    pub status: Option<String>,
    #[serde(alias = "isDefault")]
    pub is_default: Option<bool>,
    #[serde(alias = "contextWindow")]
    pub context_window: Option<i64>,
    #[serde(alias = "maxToolIterations")]
    pub max_tool_iterations: Option<i64>,
    pub workspace: Option<String>,
    #[serde(alias = "restrictToWorkspace")]
    pub restrict_to_workspace: Option<bool>,
    #[serde(alias = "maxTokens")]
    pub max_tokens: Option<u32>,
    pub temperature: Option<f64>,
    #[serde(alias = "otherConfig")]
    pub other_config: Option<Map<String, Value>>,
    /// GoClaw's per-agent memory settings (`max_results`, `vector_weight`, `text_weight`,
    /// `min_score`, …), kept in `other_config` under the same name.
    #[serde(alias = "memoryConfig")]
    pub memory_config: Option<Map<String, Value>>,
}

/// The key of a new agent: `id` when given, else derived from `name` (lowercased, other
/// characters turned into `-`).
pub fn key_for_new_agent(fields: &AgentFields) -> Result<AgentKey, String> {
    if let Some(id) = fields.id.as_deref().filter(|i| !i.is_empty()) {
        return AgentKey::parse(id).map_err(|e| e.to_string());
    }
    let name = fields.name.as_deref().unwrap_or_default();
    let mut derived: String = name
        .trim()
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    derived = derived.trim_matches('-').chars().take(64).collect();
    if derived.is_empty() {
        return Err("agent id or name is required".to_owned());
    }
    AgentKey::parse(&derived).map_err(|e| e.to_string())
}

fn check_choice(field: &str, value: Option<&str>, allowed: &[&str]) -> Result<(), String> {
    match value {
        Some(v) if !allowed.contains(&v) => {
            Err(format!("{field} must be one of {}", allowed.join(", ")))
        }
        _ => Ok(()),
    }
}

/// Longest `name`, `provider` and `model`, in characters, as the PostgreSQL columns allow.
pub const MAX_NAME_CHARS: usize = 255;
pub const MAX_PROVIDER_CHARS: usize = 100;
pub const MAX_MODEL_CHARS: usize = 255;

fn check_length(field: &str, value: Option<&str>, max: usize) -> Result<(), String> {
    if value.is_some_and(|v| v.chars().count() > max) {
        return Err(format!("{field} must be at most {max} characters"));
    }
    Ok(())
}

fn check(fields: &AgentFields) -> Result<(), String> {
    check_length("name", fields.name.as_deref(), MAX_NAME_CHARS)?;
    check_length("provider", fields.provider.as_deref(), MAX_PROVIDER_CHARS)?;
    check_length("model", fields.model.as_deref(), MAX_MODEL_CHARS)?;
    check_length(
        "workspace",
        fields.workspace.as_deref(),
        MAX_WORKSPACE_CHARS,
    )?;
    check_choice(
        "agent_type",
        fields.agent_type.as_deref(),
        &["open", "predefined"],
    )?;
    check_choice("status", fields.status.as_deref(), &["active", "inactive"])?;
    if fields.context_window.is_some_and(|w| w < 0) {
        return Err("context_window must not be negative".to_owned());
    }
    if fields
        .max_tool_iterations
        .is_some_and(|n| !(0..=500).contains(&n))
    {
        return Err("max_tool_iterations must be between 0 and 500".to_owned());
    }
    if fields
        .temperature
        .is_some_and(|t| !(0.0..=2.0).contains(&t))
    {
        return Err("temperature must be between 0 and 2".to_owned());
    }
    Ok(())
}

/// Settings kept in `other_config`.
fn other_config(fields: &AgentFields) -> Option<Value> {
    let mut map = fields.other_config.clone().unwrap_or_default();
    if let Some(max_tokens) = fields.max_tokens {
        map.insert("max_tokens".to_owned(), Value::from(max_tokens));
    }
    if let Some(temperature) = fields.temperature {
        map.insert("temperature".to_owned(), Value::from(temperature));
    }
    if let Some(memory) = &fields.memory_config {
        map.insert(
            goclaw_memory::settings::AGENT_MEMORY_CONFIG_KEY.to_owned(),
            Value::Object(memory.clone()),
        );
    }
    (!map.is_empty()).then_some(Value::Object(map))
}

/// Fills a new agent from the fields given.
pub fn apply_to_new(agent: &mut NewAgent, fields: &AgentFields) -> Result<(), String> {
    check(fields)?;
    if agent.display_name.is_empty() {
        agent.display_name = agent.agent_key.to_string();
    }
    if let Some(v) = &fields.provider {
        agent.provider.clone_from(v);
    }
    if let Some(v) = &fields.model {
        agent.model.clone_from(v);
    }
    if let Some(v) = &fields.agent_type {
        agent.agent_type.clone_from(v);
    }
    if let Some(v) = fields.is_default {
        agent.is_default = v;
    }
    if let Some(v) = fields.context_window {
        agent.context_window = v;
    }
    if let Some(v) = fields.max_tool_iterations {
        agent.max_tool_iterations = v;
    }
    if let Some(v) = &fields.workspace {
        agent.workspace.clone_from(v);
    }
    if let Some(v) = fields.restrict_to_workspace {
        agent.restrict_to_workspace = v;
    }
    if let Some(v) = other_config(fields) {
        agent.other_config = v;
    }
    Ok(())
}

/// A patch from the fields given.
pub fn patch_from(fields: &AgentFields) -> Result<AgentPatch, String> {
    check(fields)?;
    Ok(AgentPatch {
        display_name: fields.name.clone(),
        provider: fields.provider.clone(),
        model: fields.model.clone(),
        is_default: fields.is_default,
        agent_type: fields.agent_type.clone(),
        status: fields.status.clone(),
        context_window: fields.context_window,
        max_tool_iterations: fields.max_tool_iterations,
        workspace: fields.workspace.clone(),
        restrict_to_workspace: fields.restrict_to_workspace,
        other_config: other_config(fields),
    })
}

/// Longest `workspace`, in characters.
pub const MAX_WORKSPACE_CHARS: usize = 1024;

/// Refuses agent fields too large to store: `other_config` over [`MAX_AGENT_CONFIG_BYTES`].
pub fn check_quotas(principal: &Principal, fields: &AgentFields) -> Result<(), QuotaRefusal> {
    let config_bytes = [&fields.other_config, &fields.memory_config]
        .into_iter()
        .flatten()
        .map(|c| Value::Object(c.clone()).to_string().len())
        .sum();
    quotas::check_size(
        principal,
        "other_config",
        config_bytes,
        MAX_AGENT_CONFIG_BYTES,
        "bytes",
    )
}

/// Where a context-file write goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileTarget {
    /// The agent-level file every user's prompt contains (admins only).
    Shared,
    /// The caller's own per-user file.
    Own,
}

impl FileTarget {
    pub fn as_str(self) -> &'static str {
        match self {
            FileTarget::Shared => "agent",
            FileTarget::Own => "user",
        }
    }
}

/// Why a context-file write was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileRefusal {
    #[error(
        "permission denied: {file} of agent {agent} is shared by all its users; changing it \
         requires the admin role"
    )]
    SharedFile { agent: String, file: String },
    #[error("user_id is required to write a per-user context file")]
    NoUser,
}

impl FileRefusal {
    pub fn into_error_shape(self) -> ErrorShape {
        match self {
            FileRefusal::SharedFile { .. } => ErrorShape::unauthorized(self.to_string()),
            FileRefusal::NoUser => ErrorShape::invalid(self.to_string()),
        }
    }
}

/// Where `principal`'s write of `file_name` of `agent` goes: an admin changes the shared file;
/// anyone else only their own copy of a file the agent keeps per user (every file of an `open`
/// agent, USER.md of a `predefined` one).
pub fn file_target(
    principal: &Principal,
    agent: &Agent,
    file_name: &str,
) -> Result<FileTarget, FileRefusal> {
    if principal.sees_all() {
        return Ok(FileTarget::Shared);
    }
    if !goclaw_agent::is_per_user_file(&agent.agent_type, file_name) {
        return Err(FileRefusal::SharedFile {
            agent: agent.agent_key.to_string(),
            file: file_name.to_owned(),
        });
    }
    if principal.user_id.is_empty() {
        return Err(FileRefusal::NoUser);
    }
    Ok(FileTarget::Own)
}

/// Context file names are plain `NAME.md` files: no paths.
pub fn check_file_name(name: &str) -> Result<(), String> {
    let valid = !name.is_empty()
        && name.len() <= 100
        && name.ends_with(".md")
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        && !name.starts_with('.');
    if valid {
        Ok(())
    } else {
        Err(format!(
            "invalid context file name {name:?}: use a plain NAME.md"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Role;

    fn key(id: Option<&str>, name: Option<&str>) -> Result<String, String> {
        let fields = AgentFields {
            id: id.map(str::to_owned),
            name: name.map(str::to_owned),
            ..Default::default()
        };
        key_for_new_agent(&fields).map(|k| k.to_string())
    }

    #[test]
    fn keys_for_new_agents() {
        assert_eq!(key(Some("coder"), Some("Whatever")), Ok("coder".to_owned()));
        assert_eq!(
            key(None, Some("Code Reviewer")),
            Ok("code-reviewer".to_owned())
        );
        assert_eq!(
            key(None, Some("  Ünïcode bot ")),
            Ok("n-code-bot".to_owned())
        );
        assert!(key(None, None).is_err());
        assert!(key(None, Some("!!!")).is_err());
        assert!(key(Some("Bad Key"), None).is_err());
    }

    fn check_target(role: Role, user: &str, agent_type: &str, file: &str, expected: &str) {
        let principal = Principal {
            role,
            user_id: user.to_owned(),
            tenant_id: goclaw_core::MASTER_TENANT_ID,
            scopes: None,
        };
        let mut agent = NewAgent::new(
            principal.tenant_id,
            AgentKey::parse("bot").expect("key"),
            "Bot",
        );
        agent.agent_type = agent_type.to_owned();
        let agent = Agent {
            id: goclaw_core::AgentId::generate(),
            tenant_id: agent.tenant_id,
            agent_key: agent.agent_key,
            display_name: agent.display_name,
            provider: agent.provider,
            model: agent.model,
            is_default: agent.is_default,
            agent_type: agent.agent_type,
            status: "active".to_owned(),
            context_window: agent.context_window,
            max_tool_iterations: agent.max_tool_iterations,
            workspace: agent.workspace,
            restrict_to_workspace: agent.restrict_to_workspace,
            other_config: agent.other_config,
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let got = match file_target(&principal, &agent, file) {
            Ok(target) => target.as_str().to_owned(),
            Err(FileRefusal::SharedFile { .. }) => "denied".to_owned(),
            Err(FileRefusal::NoUser) => "no-user".to_owned(),
        };
        assert_eq!(got, expected, "{role} {user:?} {agent_type} {file}");
    }

    #[test]
    fn context_file_targets() {
        use Role::*;
        check_target(Owner, "system", "open", "SOUL.md", "agent");
        check_target(Admin, "ann", "predefined", "SOUL.md", "agent");
        check_target(Admin, "ann", "open", "USER.md", "agent");
        check_target(Operator, "alice", "open", "SOUL.md", "user");
        check_target(Operator, "alice", "open", "AGENTS.md", "user");
        check_target(Operator, "alice", "predefined", "USER.md", "user");
        check_target(Operator, "alice", "predefined", "SOUL.md", "denied");
        check_target(Operator, "alice", "predefined", "AGENTS.md", "denied");
        check_target(Operator, "alice", "predefined", "NOTES.md", "denied");
        check_target(Viewer, "vic", "predefined", "IDENTITY.md", "denied");
        check_target(Operator, "", "open", "SOUL.md", "no-user");
    }

    #[test]
    fn file_names() {
        for ok in ["AGENTS.md", "SOUL.md", "my-notes_1.md"] {
            assert!(check_file_name(ok).is_ok(), "{ok}");
        }
        for bad in ["", "../x.md", "a/b.md", ".hidden.md", "notes.txt", "x\0.md"] {
            assert!(check_file_name(bad).is_err(), "{bad}");
        }
    }
}
