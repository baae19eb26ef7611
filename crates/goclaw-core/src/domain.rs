//! Domain types: identifiers that are parsed at the edge, and the records the stores keep.
//!
//! Identifiers are newtypes with private fields and fallible constructors, so a value of type
//! `AgentKey` or `SessionKey` is valid by construction wherever it travels.

use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Why a domain identifier could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {kind}: {reason}")]
pub struct ParseError {
    /// What was being parsed (e.g. "agent key").
    pub kind: &'static str,
    /// Why it was rejected.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(kind: &'static str, reason: impl Into<String>) -> Self {
        Self {
            kind,
            reason: reason.into(),
        }
    }
}

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (UUID v7) identifier.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID.
            pub const fn from_uuid(id: Uuid) -> Self {
                Self(id)
            }

            /// The underlying UUID.
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl std::str::FromStr for $name {
            type Err = ParseError;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|e| ParseError::new(stringify!($name), e.to_string()))
            }
        }
    };
}

uuid_id!(
    /// Identifies a tenant.
    TenantId
);
uuid_id!(
    /// Identifies an agent definition.
    AgentId
);
uuid_id!(
    /// Identifies a session row.
    SessionId
);
uuid_id!(
    /// Identifies one stored message.
    MessageId
);

/// The tenant every installation has; owners act across tenants, everyone else within one.
pub const MASTER_TENANT_ID: TenantId =
    TenantId::from_uuid(Uuid::from_u128(0x0193a5b0_7000_7000_8000_000000000001));

/// Slug of the master tenant.
pub const MASTER_TENANT_SLUG: &str = "master";

/// A tenant: an isolated set of agents, sessions, keys and secrets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tenant {
    pub id: TenantId,
    pub slug: String,
    pub name: String,
    pub status: String,
    /// Free-form settings (a JSON object).
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// An agent's key: lowercase letters, digits, `_` and `-`, starting with a letter or digit, at
/// most 64 characters (`^[a-z0-9][a-z0-9_-]{0,63}$`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct AgentKey(String);

impl AgentKey {
    /// Parses an agent key, rejecting anything outside the allowed alphabet and length.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        const KIND: &str = "agent key";
        let mut chars = raw.chars();
        let Some(first) = chars.next() else {
            return Err(ParseError::new(KIND, "must not be empty"));
        };
        if raw.len() > 64 {
            return Err(ParseError::new(KIND, "must be at most 64 characters"));
        }
        if !(first.is_ascii_lowercase() || first.is_ascii_digit()) {
            return Err(ParseError::new(
                KIND,
                "must start with a lowercase letter or a digit",
            ));
        }
        if let Some(bad) = chars.find(|c| !matches!(c, 'a'..='z' | '0'..='9' | '_' | '-')) {
            return Err(ParseError::new(
                KIND,
                format!("character {bad:?} is not allowed (use a-z, 0-9, _ and -)"),
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for AgentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for AgentKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// A session's key, e.g. `agent:default:ws-alice`: non-empty, at most 500 bytes, no control
/// characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct SessionKey(String);

impl SessionKey {
    /// Maximum length in bytes, as the `sessions.session_key` column allows.
    pub const MAX_LEN: usize = 500;

    /// Parses a session key.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        const KIND: &str = "session key";
        if raw.trim().is_empty() {
            return Err(ParseError::new(KIND, "must not be empty"));
        }
        if raw.len() > Self::MAX_LEN {
            return Err(ParseError::new(KIND, "must be at most 500 bytes"));
        }
        if raw.chars().any(char::is_control) {
            return Err(ParseError::new(KIND, "must not contain control characters"));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The key as a string slice.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The channel chat a channel session lives in, from the keys channels give their
    /// sessions: `agent:{agent}:{channel}:direct:{peer}` (the peer's chat) and
    /// `agent:{agent}:{channel}:group:{chat}[:topic:{topic}]`; `None` for any other key.
    pub fn channel_chat(&self) -> Option<ChannelChat<'_>> {
        let parts: Vec<&str> = self.0.split(':').collect();
        let (channel, group, chat_id) = match parts.as_slice() {
            ["agent", _, channel, "direct", chat] => (*channel, false, *chat),
            ["agent", _, channel, "group", chat]
            | ["agent", _, channel, "group", chat, "topic", _] => (*channel, true, *chat),
            _ => return None,
        };
        (!channel.is_empty() && !chat_id.is_empty()).then_some(ChannelChat {
            channel,
            chat_id,
            group,
        })
    }
}

/// Where a channel session lives ([`SessionKey::channel_chat`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelChat<'a> {
    pub channel: &'a str,
    pub chat_id: &'a str,
    /// A group chat (else a direct one).
    pub group: bool,
}

impl fmt::Display for SessionKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for SessionKey {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        Self::parse(&raw).map_err(serde::de::Error::custom)
    }
}

/// An agent definition as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    pub id: AgentId,
    pub tenant_id: TenantId,
    pub agent_key: AgentKey,
    pub display_name: String,
    /// Provider name; empty means `agents.defaults.provider`.
    pub provider: String,
    /// Model name; empty means `agents.defaults.model`.
    pub model: String,
    pub is_default: bool,
    /// `open` (context files per user) or `predefined` (shared context files).
    pub agent_type: String,
    /// `active` or `inactive`.
    pub status: String,
    /// Context window in tokens; 0 means `agents.defaults.context_window`.
    pub context_window: i64,
    /// Maximum LLM iterations per run; 0 means `agents.defaults.max_tool_iterations`.
    pub max_tool_iterations: i64,
    /// Workspace directory; empty means derived from `agents.defaults.workspace`.
    pub workspace: String,
    pub restrict_to_workspace: bool,
    /// Settings without a column of their own (e.g. `max_tokens`, `temperature`,
    /// `model_fallback`, `inbound_debounce_ms`), as a JSON object.
    pub other_config: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What is needed to create an agent.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAgent {
    pub tenant_id: TenantId,
    pub agent_key: AgentKey,
    pub display_name: String,
    pub provider: String,
    pub model: String,
    pub is_default: bool,
    pub agent_type: String,
    pub context_window: i64,
    pub max_tool_iterations: i64,
    pub workspace: String,
    pub restrict_to_workspace: bool,
    pub other_config: serde_json::Value,
}

impl NewAgent {
    /// An `open`, active agent with every optional setting left to the defaults.
    pub fn new(tenant_id: TenantId, agent_key: AgentKey, display_name: impl Into<String>) -> Self {
        Self {
            tenant_id,
            agent_key,
            display_name: display_name.into(),
            provider: String::new(),
            model: String::new(),
            is_default: false,
            agent_type: "open".to_owned(),
            context_window: 0,
            max_tool_iterations: 0,
            workspace: String::new(),
            restrict_to_workspace: true,
            other_config: serde_json::Value::Object(serde_json::Map::new()),
        }
    }
}

/// A partial update of an agent; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentPatch {
    pub display_name: Option<String>,
    pub provider: Option<String>,
    pub model: Option<String>,
    pub is_default: Option<bool>,
    pub agent_type: Option<String>,
    pub status: Option<String>,
    pub context_window: Option<i64>,
    pub max_tool_iterations: Option<i64>,
    pub workspace: Option<String>,
    pub restrict_to_workspace: Option<bool>,
    /// Keys merged into `other_config` (a `null` value removes the key).
    pub other_config: Option<serde_json::Value>,
}

/// A context file of an agent (AGENTS.md, SOUL.md, ...): shared by all its users, or one
/// user's own copy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContextFile {
    pub agent_id: AgentId,
    pub file_name: String,
    pub content: String,
    pub updated_at: DateTime<Utc>,
}

/// A conversation between one user and one agent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub id: SessionId,
    pub tenant_id: TenantId,
    pub session_key: SessionKey,
    pub agent_id: Option<AgentId>,
    pub user_id: String,
    pub channel: String,
    pub label: String,
    /// Model override for this session; empty means the agent's.
    pub model: String,
    /// Compacted summary of the messages before `context_start_seq`, if any.
    pub summary: Option<String>,
    /// The first `seq` the model still sees; older messages are represented by `summary`.
    /// 1 (or 0) means the whole transcript.
    pub context_start_seq: i64,
    /// How many messages the session holds; the next message gets `message_count + 1` as `seq`.
    pub message_count: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub compaction_count: i64,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Which sessions to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionFilter {
    pub agent_id: Option<AgentId>,
    /// Only sessions of this user.
    pub user_id: Option<String>,
    pub channel: Option<String>,
    pub limit: u32,
    pub offset: u32,
}

/// A partial update of a session; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SessionPatch {
    pub label: Option<String>,
    pub model: Option<String>,
    /// Keys merged into `metadata` (a `null` value removes the key).
    pub metadata: Option<serde_json::Value>,
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    Tool,
}

impl Role {
    /// The role's name as stored.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }

    /// Parses a stored role name.
    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        match raw {
            "system" => Ok(Role::System),
            "user" => Ok(Role::User),
            "assistant" => Ok(Role::Assistant),
            "tool" => Ok(Role::Tool),
            other => Err(ParseError::new("role", format!("unknown role {other:?}"))),
        }
    }
}

/// One message of a session's transcript. Messages are append-only and ordered by `seq`,
/// which starts at 1 and has no gaps within a session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub session_id: SessionId,
    pub seq: i64,
    pub role: Role,
    pub content: String,
    /// Tool calls requested by an assistant message, as the provider-neutral JSON the agent
    /// runtime writes; `null` when there are none.
    pub tool_calls: serde_json::Value,
    /// For a tool message: the call it answers.
    pub tool_call_id: Option<String>,
    /// Everything else the runtime keeps with a message (thinking, `is_error`, run id, usage,
    /// sender), as a JSON object.
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
}

/// What is needed to append a message.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMessage {
    pub role: Role,
    pub content: String,
    pub tool_calls: serde_json::Value,
    pub tool_call_id: Option<String>,
    pub metadata: serde_json::Value,
}

impl NewMessage {
    /// A plain text message from `role`.
    pub fn text(role: Role, content: impl Into<String>) -> Self {
        Self {
            role,
            content: content.into(),
            tool_calls: serde_json::Value::Null,
            tool_call_id: None,
            metadata: serde_json::Value::Object(serde_json::Map::new()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check_agent_key(raw: &str, ok: bool) {
        assert_eq!(AgentKey::parse(raw).is_ok(), ok, "agent key {raw:?}");
    }

    #[test]
    fn agent_keys() {
        check_agent_key("default", true);
        check_agent_key("a", true);
        check_agent_key("0-agent_x", true);
        check_agent_key(&"a".repeat(64), true);
        check_agent_key(&"a".repeat(65), false);
        check_agent_key("", false);
        check_agent_key("-lead", false);
        check_agent_key("_lead", false);
        check_agent_key("Upper", false);
        check_agent_key("has space", false);
        check_agent_key("dot.ted", false);
        check_agent_key("ünï", false);
    }

    fn check_session_key(raw: &str, ok: bool) {
        assert_eq!(SessionKey::parse(raw).is_ok(), ok, "session key {raw:?}");
    }

    #[test]
    fn session_keys() {
        check_session_key("agent:default:ws-alice", true);
        check_session_key(&"k".repeat(500), true);
        check_session_key(&"k".repeat(501), false);
        check_session_key("", false);
        check_session_key("   ", false);
        check_session_key("a\nb", false);
        check_session_key("a\0b", false);
    }

    #[test]
    fn master_tenant_id_matches_goclaw() {
        assert_eq!(
            MASTER_TENANT_ID.to_string(),
            "0193a5b0-7000-7000-8000-000000000001"
        );
    }

    #[test]
    fn roles_round_trip() {
        for role in [Role::System, Role::User, Role::Assistant, Role::Tool] {
            assert_eq!(Role::parse(role.as_str()), Ok(role));
        }
        assert!(Role::parse("robot").is_err());
    }
}
