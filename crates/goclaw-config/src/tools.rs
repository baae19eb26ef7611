//! The `tools` section: which tools agents may call, shell execution
//! approval, web fetch and browser limits, and MCP servers.
#![forbid(unsafe_code)]

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::SensitiveMap;

/// Global tool policy and tool settings.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ToolsConfig {
    /// Base tool set; unset means every tool.
    pub profile: Option<ToolProfile>,
    /// Tools (names or `group:x`) allowed on top of the profile.
    pub allow: Vec<String>,
    /// Tools (names or `group:x`) always refused.
    pub deny: Vec<String>,
    /// Tools added to the allow list without replacing it.
    #[serde(rename = "alsoAllow")]
    pub also_allow: Vec<String>,
    /// Policy overrides per LLM provider.
    #[serde(rename = "byProvider")]
    pub by_provider: BTreeMap<String, ToolPolicy>,
    /// Dangerous shell command groups to deny (`true`) or allow (`false`).
    #[serde(rename = "shellDenyGroups")]
    pub shell_deny_groups: BTreeMap<String, bool>,
    /// Keywords that let a command pass the shell deny groups.
    #[serde(rename = "commandKeywordAllowlist")]
    pub command_keyword_allowlist: Vec<String>,
    /// Approval of shell commands.
    #[serde(rename = "execApproval", alias = "exec_approval")]
    pub exec_approval: ExecApprovalConfig,
    /// Domain policy of the `web_fetch` tool.
    pub web_fetch: WebFetchConfig,
    /// Headless browser tool.
    pub browser: BrowserConfig,
    /// Tool executions per hour per session; 0 disables the limit.
    pub rate_limit_per_hour: u32,
    /// Remove credentials from tool output before the model sees it; the gateway's own secrets
    /// are removed (also base64-, hex- or rev-encoded) even when this is off.
    pub scrub_credentials: bool,
    /// Let runs of users who are neither the owner nor an admin use `exec` and the file tools
    /// on the host (where the agent's sandbox mode leaves them there). Off by default: their
    /// calls run in the sandbox, or are refused when no sandbox backend is available.
    /// `goclaw doctor --production` flags it when on.
    pub host_exec_for_users: bool,
    /// MCP servers whose tools are offered to agents, keyed by name; connected at start-up.
    pub mcp_servers: BTreeMap<String, McpServerConfig>,
    /// Programs (file names) a stdio MCP server registered through `/v1/mcp/servers` may run,
    /// beside the known runtimes (`node`, `npx`, `python3`, `uvx`, …).
    pub mcp_allowed_commands: Vec<String>,
    /// Let MCP servers registered through `/v1/mcp/servers` be on loopback and private
    /// networks. Off by default: their URLs must resolve to public addresses.
    pub mcp_allow_private_urls: bool,
    /// Document (PDF, office) text extraction.
    pub document_parser: DocumentParserConfig,
}

impl Default for ToolsConfig {
    fn default() -> Self {
        Self {
            profile: None,
            allow: Vec::new(),
            deny: Vec::new(),
            also_allow: Vec::new(),
            by_provider: BTreeMap::new(),
            shell_deny_groups: BTreeMap::new(),
            command_keyword_allowlist: Vec::new(),
            exec_approval: ExecApprovalConfig::default(),
            web_fetch: WebFetchConfig::default(),
            browser: BrowserConfig::default(),
            rate_limit_per_hour: 150,
            scrub_credentials: true,
            host_exec_for_users: false,
            mcp_servers: BTreeMap::new(),
            mcp_allowed_commands: Vec::new(),
            mcp_allow_private_urls: false,
            document_parser: DocumentParserConfig::default(),
        }
    }
}

/// Base tool sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ToolProfile {
    /// Only the essentials.
    Minimal,
    /// File, shell and search tools.
    Coding,
    /// Messaging tools.
    Messaging,
    /// Every tool.
    Full,
}

/// A tool policy at one level (per provider or per agent).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ToolPolicy {
    /// Base tool set.
    pub profile: Option<ToolProfile>,
    /// Tools allowed on top of the profile.
    pub allow: Vec<String>,
    /// Tools always refused.
    pub deny: Vec<String>,
    /// Tools added to the allow list.
    #[serde(rename = "alsoAllow")]
    pub also_allow: Vec<String>,
    /// Overrides per LLM provider.
    #[serde(rename = "byProvider")]
    pub by_provider: BTreeMap<String, ToolPolicy>,
    /// Random wait before each tool call.
    pub wait: Option<WaitConfig>,
    /// Prefix added to tool names sent to the model.
    #[serde(rename = "toolCallPrefix")]
    pub tool_call_prefix: Option<String>,
}

/// Bounds of a random wait, in milliseconds.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct WaitConfig {
    /// Shortest wait.
    pub min_ms: u64,
    /// Longest wait.
    pub max_ms: u64,
}

/// Shell command approval.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ExecApprovalConfig {
    /// Which commands may run.
    pub security: ExecSecurity,
    /// When to ask a human before running a command.
    pub ask: ExecAsk,
    /// Command globs allowed in `allowlist` mode.
    pub allowlist: Vec<String>,
    /// Milliseconds an approval request waits for an operator before it is denied; 0 means
    /// two minutes.
    pub timeout_ms: u64,
}

/// Which shell commands may run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ExecSecurity {
    /// No shell commands.
    Deny,
    /// Only commands matching `allowlist`.
    Allowlist,
    /// Any command except the dangerous patterns.
    #[default]
    Full,
}

/// When shell commands need human approval.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ExecAsk {
    /// Never ask.
    #[default]
    Off,
    /// Ask when a command is not on the allowlist.
    OnMiss,
    /// Ask for every command.
    Always,
}

/// Domain policy of `web_fetch`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct WebFetchConfig {
    /// Whether any domain may be fetched.
    pub policy: WebFetchPolicy,
    /// Domains fetchable in `allowlist` mode (`*.x.com` matches subdomains).
    pub allowed_domains: Vec<String>,
    /// Domains never fetched, in every mode.
    pub blocked_domains: Vec<String>,
}

/// Web fetch domain policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum WebFetchPolicy {
    /// Any domain not blocked.
    #[default]
    AllowAll,
    /// Only `allowed_domains`.
    Allowlist,
}

/// Headless browser tool.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct BrowserConfig {
    /// Offer the browser tool.
    pub enabled: bool,
    /// Run the browser without a window.
    pub headless: bool,
    /// CDP URL of a remote browser instead of a local one.
    pub remote_url: Option<String>,
    /// Timeout of one browser action, in milliseconds.
    pub action_timeout_ms: u64,
    /// Close the browser after this many idle milliseconds.
    pub idle_timeout_ms: u64,
    /// Maximum open pages.
    pub max_pages: u32,
    /// Share cookies between pages of a session.
    pub cookie_sync_enabled: bool,
}

impl Default for BrowserConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            headless: true,
            remote_url: None,
            action_timeout_ms: 30_000,
            idle_timeout_ms: 600_000,
            max_pages: 5,
            cookie_sync_enabled: true,
        }
    }
}

/// One MCP server.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct McpServerConfig {
    /// How to reach the server: `stdio` (a program the gateway starts), `streamable-http`,
    /// or `sse` (the older HTTP+SSE transport: an event stream at `url`, messages posted to
    /// the endpoint it names, which must be on the same origin).
    pub transport: McpTransport,
    /// Program to start (`stdio`; required there). Tools are listed by starting it on the
    /// host; a sandboxed agent's calls start it inside that agent's sandbox (where only the
    /// system directories and the workspace, at `/workspace`, are visible), a refused sandbox
    /// being a tool error — never the host.
    pub command: Option<String>,
    /// Arguments of the program (`stdio`).
    pub args: Vec<String>,
    /// Environment of the program (`stdio`). The program gets only these variables and
    /// `PATH`, `HOME` and `LANG` — nothing else of the gateway's environment; in a sandbox,
    /// these variables over the sandbox's own clean environment.
    pub env: SensitiveMap,
    /// Server URL, `http://` or `https://` (`sse`, `streamable-http`; required there).
    pub url: Option<String>,
    /// HTTP headers sent with every request to the server (`sse`, `streamable-http`).
    pub headers: SensitiveMap,
    /// Connect to this server at start-up.
    pub enabled: bool,
    /// Prefix of this server's tool names, which are `<prefix>__<tool>`; `mcp_` is put in
    /// front when missing. Unset: `mcp_<server name>`.
    pub tool_prefix: Option<String>,
    /// Timeout of one tool call (connecting included), in seconds; greater than 0.
    pub timeout_sec: u64,
    /// Every call of this server's tools waits for an operator's approval, as `exec`
    /// commands do under `execApproval.ask` (`exec.approval.*`); "allow always" remembers
    /// the tool for the agent.
    pub require_approval: bool,
}

impl Default for McpServerConfig {
    fn default() -> Self {
        Self {
            transport: McpTransport::default(),
            command: None,
            args: Vec::new(),
            env: SensitiveMap::default(),
            url: None,
            headers: SensitiveMap::default(),
            enabled: true,
            tool_prefix: None,
            timeout_sec: 60,
            require_approval: false,
        }
    }
}

/// MCP transport.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum McpTransport {
    /// A child process speaking over stdin/stdout.
    #[default]
    Stdio,
    /// MCP's older HTTP+SSE transport (revision 2024-11-05): a server-sent event stream
    /// and an endpoint to post messages to.
    Sse,
    /// Streamable HTTP.
    StreamableHttp,
}

/// Document text extraction.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DocumentParserConfig {
    /// Try local extraction before sending a document to the model.
    pub local_first: bool,
    /// Maximum pages extracted.
    pub max_pages: u32,
    /// Extraction timeout, in seconds.
    pub timeout_sec: u64,
    /// Minimum extracted text length for local extraction to count.
    pub min_text_len: u32,
}

impl Default for DocumentParserConfig {
    fn default() -> Self {
        Self {
            local_first: false,
            max_pages: 200,
            timeout_sec: 30,
            min_text_len: 16,
        }
    }
}
