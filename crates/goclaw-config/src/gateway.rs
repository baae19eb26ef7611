//! The `gateway` section: where the gateway listens, who may talk to it, and
//! the message-level limits (rate limit, size cap, debounce, quotas).
#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::time::Duration;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Secret;

/// Listener, authentication and message limits of the gateway.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct GatewayConfig {
    /// Address the HTTP/WebSocket listener binds to. Defaults to loopback;
    /// set `0.0.0.0` (and a token) to accept remote clients.
    pub host: String,
    /// TCP port of the listener; 0 picks a free port.
    pub port: u16,
    /// Shared bearer token for WebSocket and HTTP clients. Prefer
    /// `GOCLAW_GATEWAY_TOKEN` over writing it here.
    pub token: Option<Secret>,
    /// Identifier of this gateway instance, used in multi-gateway setups.
    pub gateway_id: Option<String>,
    /// Host path of the workspace volume, for sandbox mounts when the gateway
    /// itself runs in a container.
    pub workspace_host_root: Option<String>,
    /// User IDs with owner-level access; keep this list minimal.
    #[serde(deserialize_with = "crate::flex::string_list")]
    pub owner_ids: Vec<String>,
    /// Allowed WebSocket `Origin` values; empty allows every origin.
    pub allowed_origins: Vec<String>,
    /// Maximum user message size in characters before truncation.
    pub max_message_chars: u32,
    /// Requests per minute per user; 0 disables rate limiting.
    pub rate_limit_rpm: u32,
    /// What to do when a prompt-injection pattern is detected in input.
    pub injection_action: InjectionAction,
    /// Window in milliseconds for merging rapid consecutive messages from the
    /// same sender into one turn; 0 disables debouncing. Applies to messaging
    /// channels: a WebSocket or HTTP turn on an idle session starts at once,
    /// and messages sent while a run is going merge into the next run.
    pub inbound_debounce_ms: u64,
    /// Token/request quotas per window.
    pub quota: QuotaConfig,
    /// Send intermediate assistant text as separate replies.
    pub block_reply: bool,
    /// Chat-style reply behaviour for channels.
    pub chat_behavior: ChatBehaviorConfig,
    /// Show tool-status updates ("running web_fetch…") to users.
    pub tool_status: bool,
    /// How often, in seconds, team tasks are checked for recovery.
    pub task_recovery_interval_sec: u64,
    /// Provider used for background work (summaries, titles); empty uses the
    /// agent default.
    pub background_provider: Option<String>,
    /// Model used for background work; empty uses the agent default.
    pub background_model: Option<String>,
    /// Most connections (HTTP and WebSocket) the gateway keeps open at once;
    /// a connection beyond it is answered 503 and closed. 0 disables the cap.
    pub max_connections: u32,
    /// Most connections one client address keeps open at once (IPv6 clients
    /// are counted per /64); 0 disables the cap. Loopback is not exempt.
    pub max_connections_per_ip: u32,
    /// Milliseconds a client has to send a complete request head once the
    /// connection is ready for one (slow-header defence); 0 uses the default.
    pub header_read_timeout_ms: u64,
    /// Milliseconds an HTTP keep-alive connection may wait for its next
    /// request before it is closed; 0 uses the default.
    pub idle_timeout_ms: u64,
    /// Milliseconds a WebSocket has to authenticate with `connect` before it
    /// is closed; other frames and pings do not extend it. 0 uses the default.
    pub ws_connect_timeout_ms: u64,
    /// Agent events one consumer (a streamed HTTP answer, a WebSocket client)
    /// may fall behind before its stream fails with an error instead of
    /// silently skipping events; 0 uses the default.
    pub event_buffer: u32,
    /// Let async webhook callbacks go to private, loopback and link-local
    /// addresses (services on the gateway's own network). Off, such callback
    /// URLs are refused as SSRF.
    pub webhook_private_callbacks: bool,
}

/// Default of `gateway.max_connections`.
const DEFAULT_MAX_CONNECTIONS: u32 = 4096;
/// Default of `gateway.max_connections_per_ip`.
const DEFAULT_MAX_CONNECTIONS_PER_IP: u32 = 256;
/// Default of `gateway.header_read_timeout_ms`.
const DEFAULT_HEADER_READ_TIMEOUT_MS: u64 = 10_000;
/// Default of `gateway.idle_timeout_ms`.
const DEFAULT_IDLE_TIMEOUT_MS: u64 = 60_000;
/// Default of `gateway.ws_connect_timeout_ms`.
const DEFAULT_WS_CONNECT_TIMEOUT_MS: u64 = 10_000;
/// Default of `gateway.event_buffer`.
pub const DEFAULT_EVENT_BUFFER: u32 = 4096;

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            host: "127.0.0.1".to_owned(),
            port: 18790,
            token: None,
            gateway_id: None,
            workspace_host_root: None,
            owner_ids: Vec::new(),
            allowed_origins: Vec::new(),
            max_message_chars: 32000,
            rate_limit_rpm: 20,
            injection_action: InjectionAction::default(),
            inbound_debounce_ms: 1000,
            quota: QuotaConfig::default(),
            block_reply: false,
            chat_behavior: ChatBehaviorConfig::default(),
            tool_status: true,
            task_recovery_interval_sec: 300,
            background_provider: None,
            background_model: None,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_ip: DEFAULT_MAX_CONNECTIONS_PER_IP,
            header_read_timeout_ms: DEFAULT_HEADER_READ_TIMEOUT_MS,
            idle_timeout_ms: DEFAULT_IDLE_TIMEOUT_MS,
            ws_connect_timeout_ms: DEFAULT_WS_CONNECT_TIMEOUT_MS,
            event_buffer: DEFAULT_EVENT_BUFFER,
            webhook_private_callbacks: false,
        }
    }
}

impl GatewayConfig {
    /// `header_read_timeout_ms`, its default when 0.
    pub fn header_read_timeout(&self) -> Duration {
        millis_or(self.header_read_timeout_ms, DEFAULT_HEADER_READ_TIMEOUT_MS)
    }

    /// `idle_timeout_ms`, its default when 0.
    pub fn idle_timeout(&self) -> Duration {
        millis_or(self.idle_timeout_ms, DEFAULT_IDLE_TIMEOUT_MS)
    }

    /// `event_buffer`, its default when 0.
    pub fn event_buffer(&self) -> usize {
        (if self.event_buffer == 0 {
            DEFAULT_EVENT_BUFFER
        } else {
            self.event_buffer
        }) as usize
    }

    /// `ws_connect_timeout_ms`, its default when 0.
    pub fn ws_connect_timeout(&self) -> Duration {
        millis_or(self.ws_connect_timeout_ms, DEFAULT_WS_CONNECT_TIMEOUT_MS)
    }
}

fn millis_or(value: u64, default: u64) -> Duration {
    Duration::from_millis(if value == 0 { default } else { value })
}

/// Response to a detected prompt-injection attempt.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum InjectionAction {
    /// Log the detection at info level and continue.
    Log,
    /// Log a `security.injection_detected` warning and continue.
    #[default]
    Warn,
    /// Reject the message.
    Block,
    /// Do not scan input.
    Off,
}

/// Request quotas: how many turns one user may start per hour, day and week (their
/// top-level runs, counted from traces). The most specific match wins: groups, then channels,
/// then providers, then `default`. Checked before every turn a person sends (channels,
/// WebSocket, HTTP); read at start-up.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct QuotaConfig {
    /// Enforce quotas.
    pub enabled: bool,
    /// Quota applied when nothing more specific matches.
    pub default: QuotaWindow,
    /// Quotas per provider name (of the agent's provider).
    pub providers: BTreeMap<String, QuotaWindow>,
    /// Quotas per channel type (`telegram`, `discord`, `ws`, `http`, …).
    pub channels: BTreeMap<String, QuotaWindow>,
    /// Quotas per user id; a group chat's user is `group:telegram:<chat id>`.
    pub groups: BTreeMap<String, QuotaWindow>,
}

/// Request limits per time window; 0 means unlimited.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct QuotaWindow {
    /// Maximum requests per hour.
    pub hour: u32,
    /// Maximum requests per day.
    pub day: u32,
    /// Maximum requests per week.
    pub week: u32,
}

/// Chat-style reply behaviour (all off by default).
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ChatBehaviorConfig {
    /// Turn the chat behaviours on.
    pub enabled: bool,
    /// Send intermediate replies while the agent is still working.
    pub intermediate_replies: bool,
    /// Send a short acknowledgement before a long run.
    pub quick_ack: bool,
    /// Split long final answers into several messages.
    pub final_split: bool,
}
