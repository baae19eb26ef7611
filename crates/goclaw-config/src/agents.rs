//! The `agents` section (defaults shared by every agent, per-agent overrides)
//! and the `bindings` list that routes channel traffic to agents.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::path::PathBuf;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::context::{CompactionConfig, ContextPruningConfig, MemoryConfig};
use crate::sandbox::SandboxConfig;
use crate::tools::ToolPolicy;

/// Agent defaults and per-agent overrides.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AgentsConfig {
    /// Settings every agent starts from.
    pub defaults: AgentDefaults,
    /// Per-agent overrides keyed by agent ID (`^[a-z0-9][a-z0-9_-]{0,63}$`).
    pub list: BTreeMap<String, AgentSpec>,
}

/// Settings shared by all agents unless an agent overrides them.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AgentDefaults {
    /// Root of the agent workspaces; `~` expands to the home directory.
    pub workspace: PathBuf,
    /// Extra host paths agents may read and write besides the workspace.
    pub allowed_paths: Vec<String>,
    /// Refuse file access outside the workspace and `allowed_paths`.
    pub restrict_to_workspace: bool,
    /// Default LLM provider. `GOCLAW_PROVIDER` applies only when the file
    /// leaves this empty.
    pub provider: String,
    /// Default model. `GOCLAW_MODEL` applies only when the file leaves this
    /// empty.
    pub model: String,
    /// Maximum output tokens per LLM call.
    pub max_tokens: u32,
    /// Sampling temperature (0 to 2).
    pub temperature: f64,
    /// Maximum LLM round-trips in one run.
    pub max_tool_iterations: u32,
    /// Context window of the model, in tokens.
    pub context_window: u32,
    /// Maximum tool calls in one run; 0 means unlimited.
    pub max_tool_calls: u32,
    /// Kind of agent.
    pub agent_type: AgentType,
    /// Subagent spawning limits.
    pub subagents: SubagentsConfig,
    /// Tool sandboxing.
    pub sandbox: SandboxConfig,
    /// Long-term memory and its embeddings.
    pub memory: MemoryConfig,
    /// Session compaction when the history grows too large.
    pub compaction: CompactionConfig,
    /// In-memory pruning of old tool results.
    #[serde(rename = "contextPruning")]
    pub context_pruning: ContextPruningConfig,
    /// Per-file character limit of bootstrap files before truncation.
    #[serde(rename = "bootstrapMaxChars")]
    pub bootstrap_max_chars: u32,
    /// Total character budget across all bootstrap files.
    #[serde(rename = "bootstrapTotalMaxChars")]
    pub bootstrap_total_max_chars: u32,
}

impl Default for AgentDefaults {
    fn default() -> Self {
        Self {
            workspace: PathBuf::from("~/.goclaw/workspace"),
            allowed_paths: Vec::new(),
            restrict_to_workspace: true,
            provider: DEFAULT_PROVIDER.to_owned(),
            model: DEFAULT_MODEL.to_owned(),
            max_tokens: 8192,
            temperature: 0.7,
            max_tool_iterations: 30,
            context_window: 200_000,
            max_tool_calls: 25,
            agent_type: AgentType::default(),
            subagents: SubagentsConfig::default(),
            sandbox: SandboxConfig::default(),
            memory: MemoryConfig::default(),
            compaction: CompactionConfig::default(),
            context_pruning: ContextPruningConfig::default(),
            bootstrap_max_chars: 20_000,
            bootstrap_total_max_chars: 24_000,
        }
    }
}

/// Provider used when neither the file nor `GOCLAW_PROVIDER` names one.
pub const DEFAULT_PROVIDER: &str = "anthropic";
/// Model used when neither the file nor `GOCLAW_MODEL` names one.
pub const DEFAULT_MODEL: &str = "claude-sonnet-4-5-20250929";

/// Kind of agent.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum AgentType {
    /// Context files are per user and editable.
    #[default]
    Open,
    /// Context files are fixed by the operator.
    Predefined,
}

/// Limits on subagents spawned by an agent.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct SubagentsConfig {
    /// Maximum subagents running at once across the gateway.
    pub max_concurrent: u32,
    /// Maximum nesting of subagents (1 to 5).
    pub max_spawn_depth: u32,
    /// Maximum running subagents spawned from one session (1 to 50).
    pub max_children_per_agent: u32,
    /// Archive finished subagent sessions after this many minutes.
    pub archive_after_minutes: u32,
    /// LLM retries of a subagent on error.
    pub max_retries: u32,
    /// Model override for subagents; empty uses the parent's model.
    pub model: Option<String>,
}

impl Default for SubagentsConfig {
    fn default() -> Self {
        Self {
            max_concurrent: 20,
            max_spawn_depth: 1,
            max_children_per_agent: 30,
            archive_after_minutes: 60,
            max_retries: 2,
            model: None,
        }
    }
}

/// Overrides for one agent; unset fields inherit `agents.defaults`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AgentSpec {
    /// Name shown to users.
    #[serde(rename = "displayName")]
    pub display_name: Option<String>,
    /// LLM provider override.
    pub provider: Option<String>,
    /// Model override.
    pub model: Option<String>,
    /// Output token limit override.
    pub max_tokens: Option<u32>,
    /// Temperature override (0 to 2).
    pub temperature: Option<f64>,
    /// Iteration limit override.
    pub max_tool_iterations: Option<u32>,
    /// Context window override.
    pub context_window: Option<u32>,
    /// Tool call limit override.
    pub max_tool_calls: Option<u32>,
    /// Agent kind override.
    pub agent_type: Option<AgentType>,
    /// Skills this agent may use; unset allows all skills.
    pub skills: Option<Vec<String>>,
    /// Tool policy of this agent.
    pub tools: Option<ToolPolicy>,
    /// Workspace override.
    pub workspace: Option<PathBuf>,
    /// Make this the default agent (otherwise the agent `default`).
    pub default: bool,
    /// Sandbox override; unset keys take the sandbox defaults.
    pub sandbox: Option<SandboxConfig>,
    /// Persona shown to users.
    pub identity: Option<IdentityConfig>,
}

/// Display identity of an agent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct IdentityConfig {
    /// Display name.
    pub name: Option<String>,
    /// Emoji shown next to the name.
    pub emoji: Option<String>,
}

/// Routes messages matching a channel/peer pattern to an agent.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AgentBinding {
    /// Agent that receives the matching messages.
    #[serde(rename = "agentId")]
    pub agent_id: String,
    /// Which messages match.
    #[serde(rename = "match")]
    pub match_: BindingMatch,
}

/// Message pattern of a binding.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct BindingMatch {
    /// Channel name (`telegram`, `discord`, `slack`, ...).
    pub channel: String,
    /// Bot account ID, when a channel has several.
    pub account_id: Option<String>,
    /// A specific direct chat or group.
    pub peer: Option<BindingPeer>,
    /// Discord guild ID.
    pub guild_id: Option<String>,
}

/// A specific chat.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BindingPeer {
    /// `direct` or `group`.
    pub kind: String,
    /// Chat ID on the channel.
    pub id: String,
}
