//! Tool policy: which tools an agent may use. `tools.profile` picks a base set, `allow` lists
//! narrow it, `deny` lists remove tools, `alsoAllow` adds some back; names may be `group:<x>`,
//! a trailing `*` glob, or an alias. Every level may be overridden per provider (`byProvider`),
//! and an agent's `other_config.tools` has the same shape and applies after the global policy.
//! A denied tool stays denied: `alsoAllow` does not bring it back. MCP servers' tools are in
//! `group:mcp` and always also-allowed, as GoClaw adds `group:mcp` to every agent's `alsoAllow`;
//! `group:mcp:<server>` names one server's tools.

use goclaw_config::{ToolPolicy, ToolProfile, ToolsConfig};

/// Tool groups usable as `group:<name>`.
pub const GROUPS: &[(&str, &[&str])] = &[
    ("memory", &["memory_search", "memory_get", "memory_expand"]),
    ("web", &["web_search", "web_fetch"]),
    ("fs", &["read_file", "write_file", "list_files", "edit"]),
    ("runtime", &["exec", "wait"]),
    (
        "sessions",
        &[
            "sessions_list",
            "sessions_history",
            "sessions_send",
            "spawn",
            "session_status",
        ],
    ),
    ("ui", &["browser"]),
    ("automation", &["cron"]),
    (
        "messaging",
        &["message", "create_forum_topic", "list_group_members"],
    ),
    ("team", &["team_tasks"]),
    ("vault", &["vault_search", "vault_read"]),
];

/// Aliases and the tool each names, as GoClaw registers them.
pub const ALIASES: &[(&str, &str)] = &[
    ("Read", "read_file"),
    ("Write", "write_file"),
    ("Edit", "edit"),
    ("edit_file", "edit"),
    ("Bash", "exec"),
    ("bash", "exec"),
    ("WebFetch", "web_fetch"),
    ("WebSearch", "web_search"),
    ("Agent", "spawn"),
    ("sessions_spawn", "spawn"),
    ("Skill", "use_skill"),
    ("ToolSearch", "mcp_tool_search"),
    ("apply-patch", "apply_patch"),
];

fn profile_specs(profile: ToolProfile) -> Option<&'static [&'static str]> {
    match profile {
        ToolProfile::Minimal => Some(&["session_status"]),
        ToolProfile::Coding => Some(&[
            "group:fs",
            "group:runtime",
            "group:sessions",
            "group:memory",
            "group:web",
            "group:vault",
            "read_image",
            "create_image",
            "skill_search",
        ]),
        ToolProfile::Messaging => Some(&[
            "group:messaging",
            "wait",
            "group:web",
            "group:vault",
            "sessions_*",
            "read_image",
            "skill_search",
        ]),
        ToolProfile::Full => None,
    }
}

/// The tool `name` stands for (itself unless it is an alias).
pub fn canonical(name: &str) -> &str {
    ALIASES
        .iter()
        .find(|(alias, _)| *alias == name)
        .map_or(name, |(_, tool)| tool)
}

/// Whether `tool` is an MCP server's tool: `mcp_<server>__<tool>`. `mcp_tool_search` is
/// a native tool.
pub fn is_mcp_server_tool(tool: &str) -> bool {
    tool.starts_with("mcp_") && tool.contains("__")
}

/// Whether the policy entry `spec` names `tool` (a canonical name).
pub fn spec_matches(spec: &str, tool: &str) -> bool {
    let spec = spec.trim();
    if let Some(group) = spec.strip_prefix("group:") {
        // `group:goclaw` is every native tool, `group:mcp` every MCP server's tool.
        if group == "goclaw" {
            return !is_mcp_server_tool(tool);
        }
        if group == "mcp" {
            return is_mcp_server_tool(tool);
        }
        // `group:mcp:<server>`: that server's tools, named `mcp_<server>__…` (the name is the
        // server's, or its `tool_prefix` without `mcp_`).
        if let Some(server) = group.strip_prefix("mcp:") {
            let prefix = crate::mcp::tool_prefix(server, None);
            return is_mcp_server_tool(tool)
                && tool
                    .strip_prefix(prefix.as_str())
                    .is_some_and(|rest| rest.starts_with("__"));
        }
        return GROUPS
            .iter()
            .any(|(name, tools)| *name == group && tools.contains(&tool));
    }
    if spec == "*" {
        return true;
    }
    if let Some(prefix) = spec.strip_suffix('*') {
        return tool.starts_with(prefix);
    }
    canonical(spec) == tool
}

fn any_matches(specs: &[String], tool: &str) -> bool {
    specs.iter().any(|spec| spec_matches(spec, tool))
}

/// One level of policy, with its provider override already picked.
struct Level<'a> {
    profile: Option<ToolProfile>,
    allows: Vec<&'a [String]>,
    denies: Vec<&'a [String]>,
    also_allow: Vec<&'a [String]>,
}

impl<'a> Level<'a> {
    fn new(
        profile: Option<ToolProfile>,
        allow: &'a [String],
        deny: &'a [String],
        also: &'a [String],
        provider: Option<&'a ToolPolicy>,
    ) -> Self {
        let mut level = Level {
            profile,
            allows: vec![allow],
            denies: vec![deny],
            also_allow: vec![also],
        };
        if let Some(p) = provider {
            level.profile = p.profile.or(level.profile);
            level.allows.push(&p.allow);
            level.denies.push(&p.deny);
            level.also_allow.push(&p.also_allow);
        }
        level
    }
}

/// Whether an agent under `global` and its own `agent` policy may use `tool` with `provider`.
pub fn is_allowed(
    global: &ToolsConfig,
    agent: Option<&ToolPolicy>,
    provider: &str,
    tool: &str,
) -> bool {
    let tool = canonical(tool);
    let mut levels = vec![Level::new(
        global.profile,
        &global.allow,
        &global.deny,
        &global.also_allow,
        global.by_provider.get(provider),
    )];
    if let Some(agent) = agent {
        levels.push(Level::new(
            agent.profile,
            &agent.allow,
            &agent.deny,
            &agent.also_allow,
            agent.by_provider.get(provider),
        ));
    }
    // The most specific profile wins.
    let profile = levels.iter().rev().find_map(|l| l.profile);
    let in_profile = profile
        .and_then(profile_specs)
        .is_none_or(|specs| specs.iter().any(|s| spec_matches(s, tool)));
    let allowed = in_profile
        && levels
            .iter()
            .flat_map(|l| l.allows.iter())
            .all(|specs| specs.is_empty() || any_matches(specs, tool));
    let denied = levels
        .iter()
        .flat_map(|l| l.denies.iter())
        .any(|specs| any_matches(specs, tool));
    // As GoClaw, MCP servers' tools are always also-allowed (`group:mcp`): a profile or an
    // allow list does not hide them, only a deny does.
    let also = is_mcp_server_tool(tool)
        || levels
            .iter()
            .flat_map(|l| l.also_allow.iter())
            .any(|specs| any_matches(specs, tool));
    !denied && (allowed || also)
}

/// The agent policy in `other_config.tools`. One that does not parse denies every tool: a
/// mistyped restriction must not silently lift it.
pub fn agent_policy(other_config: &serde_json::Value) -> Option<ToolPolicy> {
    let value = other_config.get("tools")?;
    match serde_json::from_value::<ToolPolicy>(value.clone()) {
        Ok(policy) => Some(policy),
        Err(error) => {
            tracing::warn!(error = %error, "invalid agent tools policy: every tool denied");
            Some(ToolPolicy {
                deny: vec!["*".into()],
                ..ToolPolicy::default()
            })
        }
    }
}

/// The names of `tools` the agent may use, in their order.
pub fn filter_tools(
    global: &ToolsConfig,
    agent: Option<&ToolPolicy>,
    provider: &str,
    tools: &[String],
) -> Vec<String> {
    tools
        .iter()
        .filter(|name| is_allowed(global, agent, provider, name))
        .cloned()
        .collect()
}
