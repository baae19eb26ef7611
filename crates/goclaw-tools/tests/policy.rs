//! Tool policy: profiles, groups, deny over allow, `alsoAllow`, per-provider and per-agent
//! overrides, and the guards (rate limit, scrubbing) around a tool.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_config::{ToolPolicy, ToolProfile, ToolsConfig};
use goclaw_core::{MASTER_TENANT_ID, SessionKey, Tool, ToolContext, ToolDefinition, ToolOutput};
use goclaw_tools::policy::{agent_policy, filter_tools, is_allowed};
use goclaw_tools::ratelimit::{ManualClock, ToolRateLimiter};
use goclaw_tools::registry::ToolGuards;
use serde_json::json;

const TOOLS: &[&str] = &[
    "datetime",
    "edit",
    "exec",
    "list_files",
    "mcp_x__y",
    "message",
    "read_file",
    "session_status",
    "sessions_list",
    "spawn",
    "wait",
    "web_fetch",
    "write_file",
];

fn names() -> Vec<String> {
    TOOLS.iter().map(|s| (*s).to_owned()).collect()
}

fn list(specs: &[&str]) -> Vec<String> {
    specs.iter().map(|s| (*s).to_owned()).collect()
}

/// The tools allowed under `global` and `agent` (with provider `anthropic`).
fn check(global: &ToolsConfig, agent: Option<&ToolPolicy>, expected: &[&str]) {
    assert_eq!(
        filter_tools(global, agent, "anthropic", &names()),
        list(expected)
    );
}

fn profile(p: ToolProfile) -> ToolsConfig {
    ToolsConfig {
        profile: Some(p),
        ..ToolsConfig::default()
    }
}

#[test]
fn profiles() {
    check(&ToolsConfig::default(), None, TOOLS);
    check(&profile(ToolProfile::Full), None, TOOLS);
    check(
        &profile(ToolProfile::Minimal),
        None,
        &["mcp_x__y", "session_status"],
    );
    let coding = [
        "edit",
        "exec",
        "list_files",
        "mcp_x__y",
        "read_file",
        "session_status",
        "sessions_list",
        "spawn",
        "wait",
        "web_fetch",
        "write_file",
    ];
    check(&profile(ToolProfile::Coding), None, &coding);
    let messaging = ["mcp_x__y", "message", "sessions_list", "wait", "web_fetch"];
    check(&profile(ToolProfile::Messaging), None, &messaging);
}

#[test]
fn groups_allow_deny_and_also_allow() {
    let allow_fs = ToolsConfig {
        allow: list(&["group:fs", "datetime"]),
        ..ToolsConfig::default()
    };
    check(
        &allow_fs,
        None,
        &[
            "datetime",
            "edit",
            "list_files",
            "mcp_x__y",
            "read_file",
            "write_file",
        ],
    );
    let deny_wins = ToolsConfig {
        allow: list(&["group:fs"]),
        deny: list(&["write_file", "Edit"]),
        also_allow: list(&["exec", "write_file"]),
        ..ToolsConfig::default()
    };
    check(
        &deny_wins,
        None,
        &["exec", "list_files", "mcp_x__y", "read_file"],
    );
    let goclaw = ToolsConfig {
        allow: list(&["group:goclaw"]),
        deny: list(&["group:runtime", "sessions_*", "group:mcp"]),
        ..ToolsConfig::default()
    };
    let natives = [
        "datetime",
        "edit",
        "list_files",
        "message",
        "read_file",
        "session_status",
        "spawn",
        "web_fetch",
        "write_file",
    ];
    check(&goclaw, None, &natives);
    let also = ToolsConfig {
        profile: Some(ToolProfile::Minimal),
        also_allow: list(&["datetime", "Read"]),
        ..ToolsConfig::default()
    };
    check(
        &also,
        None,
        &["datetime", "mcp_x__y", "read_file", "session_status"],
    );
}

/// As GoClaw, MCP servers' tools are in `group:mcp` and always also-allowed: no profile or
/// allow list hides them, a deny does (by name, glob, group or one server's group, globally
/// or per agent).
#[test]
fn mcp_tools_are_hidden_only_by_a_deny() {
    use goclaw_tools::policy::is_mcp_server_tool;
    assert!(is_mcp_server_tool("mcp_github__create_issue"));
    assert!(
        !is_mcp_server_tool("mcp_tool_search"),
        "the search tool is native"
    );
    let allow_only_exec = ToolsConfig {
        allow: list(&["exec"]),
        ..ToolsConfig::default()
    };
    check(&allow_only_exec, None, &["exec", "mcp_x__y"]);
    for deny in ["group:mcp", "mcp_x__y", "mcp_x__*"] {
        let denied = ToolsConfig {
            deny: list(&[deny]),
            ..ToolsConfig::default()
        };
        assert!(
            !is_allowed(&denied, None, "anthropic", "mcp_x__y"),
            "{deny}"
        );
        assert!(
            is_allowed(&denied, None, "anthropic", "mcp_tool_search"),
            "{deny}"
        );
    }
    // One server's group: `mcp_x__y` but not the tools of `mcp_xy` or of `mcp_x_z`.
    let deny_x = ToolsConfig {
        deny: list(&["group:mcp:x"]),
        ..ToolsConfig::default()
    };
    assert!(!is_allowed(&deny_x, None, "anthropic", "mcp_x__y"));
    for other in ["mcp_xy__y", "mcp_x_z__y", "mcp_tool_search", "exec"] {
        assert!(is_allowed(&deny_x, None, "anthropic", other), "{other}");
    }
    let deny_dashed = ToolsConfig {
        deny: list(&["group:mcp:my-server"]),
        ..ToolsConfig::default()
    };
    assert!(!is_allowed(
        &deny_dashed,
        None,
        "anthropic",
        "mcp_my_server__run"
    ));
    let agent = agent_policy(&json!({"tools": {"deny": ["group:mcp"]}}));
    assert!(!is_allowed(
        &ToolsConfig::default(),
        agent.as_ref(),
        "anthropic",
        "mcp_x__y"
    ));
}

#[test]
fn agent_and_provider_overrides() {
    let global = profile(ToolProfile::Coding);
    let agent =
        agent_policy(&json!({"tools": {"deny": ["group:runtime"], "alsoAllow": ["message"]}}));
    check(
        &global,
        agent.as_ref(),
        &[
            "edit",
            "list_files",
            "mcp_x__y",
            "message",
            "read_file",
            "session_status",
            "sessions_list",
            "spawn",
            "web_fetch",
            "write_file",
        ],
    );
    let minimal_agent = agent_policy(&json!({"tools": {"profile": "minimal"}}));
    check(
        &global,
        minimal_agent.as_ref(),
        &["mcp_x__y", "session_status"],
    );
    let broken = agent_policy(&json!({"tools": {"deny": "not-a-list"}}));
    check(&global, broken.as_ref(), &[]);
    assert!(agent_policy(&json!({})).is_none());

    let mut by_provider = ToolsConfig::default();
    by_provider.by_provider.insert(
        "anthropic".into(),
        ToolPolicy {
            deny: list(&["exec"]),
            ..ToolPolicy::default()
        },
    );
    assert!(!is_allowed(&by_provider, None, "anthropic", "exec"));
    assert!(is_allowed(&by_provider, None, "openai", "exec"));
    assert!(
        !is_allowed(&by_provider, None, "anthropic", "Bash"),
        "aliases follow their tool"
    );
}

struct Echo;

#[async_trait]
impl Tool for Echo {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "echo".into(),
            description: String::new(),
            parameters: json!({"type": "object"}),
        }
    }

    async fn call(&self, _ctx: &ToolContext, arguments: serde_json::Value) -> ToolOutput {
        ToolOutput::ok(arguments["text"].as_str().unwrap_or_default())
    }
}

fn context(session: &str) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "default".into(),
        session_key: SessionKey::parse(session).expect("session key"),
        user_id: "u".into(),
        trust: goclaw_core::Trust::Admin,
        run_id: "r".into(),
        channel: "test".into(),
        workspace: std::env::temp_dir(),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

#[tokio::test]
async fn guarded_tools_are_rate_limited_and_scrubbed() {
    let clock = Arc::new(ManualClock::default());
    let config = ToolsConfig::default();
    let guards = ToolGuards::with_limiter(&config, ToolRateLimiter::with_clock(150, clock.clone()));
    let tool = guards.guard(Arc::new(Echo));
    let ctx = context("agent:default:s1");
    let secret = json!({"text": "key=sk-abcdefghijklmnopqrstuvwxyz0123"});
    assert_eq!(tool.call(&ctx, secret).await.content, "key=[REDACTED]");
    for _ in 1..150 {
        assert!(!tool.call(&ctx, json!({"text": "x"})).await.is_error);
    }
    let refused = tool.call(&ctx, json!({"text": "x"})).await;
    assert!(refused.is_error);
    assert_eq!(
        refused.content,
        "tool rate limit exceeded: 150 actions/hour for session agent:default:s1"
    );
    assert!(
        !tool
            .call(&context("agent:default:s2"), json!({}))
            .await
            .is_error
    );
    clock.advance(Duration::from_secs(3600));
    assert!(
        !tool.call(&ctx, json!({"text": "x"})).await.is_error,
        "window slid"
    );

    let plain = ToolsConfig {
        scrub_credentials: false,
        ..ToolsConfig::default()
    };
    let raw = ToolGuards::new(&plain).guard(Arc::new(Echo));
    let out = raw.call(&ctx, json!({"text": "password=x"})).await;
    assert_eq!(out.content, "password=x");
}

#[tokio::test]
async fn the_gateways_own_secrets_are_scrubbed_even_with_scrubbing_off() {
    let secret = "policy-test-gateway-token-5f1c";
    goclaw_tools::known_secrets::known_secrets().extend([secret]);
    let encoded = hex::encode(secret);
    let ctx = context("agent:default:s3");
    for scrub_credentials in [true, false] {
        let config = ToolsConfig {
            scrub_credentials,
            ..ToolsConfig::default()
        };
        let tool = ToolGuards::new(&config).guard(Arc::new(Echo));
        let text = format!("env dump: {encoded} and {secret}");
        let out = tool.call(&ctx, json!({ "text": text })).await;
        assert_eq!(out.content, "env dump: [REDACTED] and [REDACTED]");
    }
}

/// The tools added for files, messages and skills, in GoClaw's groups and profiles: `wait` is
/// `group:runtime`, `message` `group:messaging`; `read_image` and `skill_search` are in the
/// coding and messaging profiles, `wait` in messaging; `send_file`, `read_document` and
/// `use_skill` only in `full` (or by name).
#[test]
fn new_tools_follow_goclaws_groups_and_profiles() {
    let new = [
        "message",
        "read_document",
        "read_image",
        "send_file",
        "skill_search",
        "use_skill",
        "wait",
    ];
    let allowed = |config: &ToolsConfig| -> Vec<&str> {
        new.iter()
            .copied()
            .filter(|tool| is_allowed(config, None, "anthropic", tool))
            .collect()
    };
    assert_eq!(allowed(&profile(ToolProfile::Minimal)), Vec::<&str>::new());
    assert_eq!(
        allowed(&profile(ToolProfile::Coding)),
        ["read_image", "skill_search", "wait"]
    );
    assert_eq!(
        allowed(&profile(ToolProfile::Messaging)),
        ["message", "read_image", "skill_search", "wait"]
    );
    assert_eq!(allowed(&profile(ToolProfile::Full)), new);
    let only = |specs: &[&str]| ToolsConfig {
        allow: list(specs),
        ..ToolsConfig::default()
    };
    assert_eq!(allowed(&only(&["group:runtime"])), ["wait"]);
    assert_eq!(allowed(&only(&["group:messaging"])), ["message"]);
    assert_eq!(allowed(&only(&["Skill"])), ["use_skill"]);
    let denied = ToolsConfig {
        deny: list(&["group:messaging", "send_file"]),
        ..ToolsConfig::default()
    };
    assert_eq!(
        allowed(&denied),
        [
            "read_document",
            "read_image",
            "skill_search",
            "use_skill",
            "wait"
        ]
    );
}
