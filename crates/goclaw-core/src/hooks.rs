//! Hooks: commands or URLs an operator attaches to points of a run (before and after a tool
//! call, a prompt, a run's end, a subagent's start and stop), in GoClaw's terms. A hook is a
//! row of `hooks` scoped to the whole gateway (`global`, kept in the master tenant), to one
//! tenant, or to some of a tenant's agents; every time one runs, a row of `hook_executions`
//! records what it decided. The blocking events wait for the hooks' decision; the others only
//! tell them.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{MASTER_TENANT_ID, TenantId};
use crate::store::StoreError;

/// A timeout of 0 means this.
pub const DEFAULT_HOOK_TIMEOUT_MS: i64 = 5_000;
/// No hook waits longer than this.
pub const MAX_HOOK_TIMEOUT_MS: i64 = 10_000;
/// `source` of hooks made through the API.
pub const DEFAULT_HOOK_SOURCE: &str = "ui";
/// An execution's `error` is cut to this many characters.
pub const HOOK_ERROR_CHARS: usize = 256;

macro_rules! named_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name { $($variant),* }

        impl $name {
            /// Every value, in GoClaw's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            /// GoClaw's spelling.
            pub fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),* }
            }

            /// The value GoClaw spells `raw`, if any.
            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some($name::$variant),)* _ => None }
            }
        }
    };
}

named_enum!(
    /// Where in a run a hook fires.
    HookEvent {
        SessionStart = "session_start",
        UserPromptSubmit = "user_prompt_submit",
        PreToolUse = "pre_tool_use",
        PostToolUse = "post_tool_use",
        Stop = "stop",
        SubagentStart = "subagent_start",
        SubagentStop = "subagent_stop",
    }
);

impl HookEvent {
    /// Whether the run waits for the hooks' decision (and a block stops what was about to
    /// happen).
    pub fn is_blocking(self) -> bool {
        matches!(
            self,
            HookEvent::UserPromptSubmit | HookEvent::PreToolUse | HookEvent::SubagentStart
        )
    }
}

named_enum!(
    /// How a hook runs.
    HandlerType {
        Command = "command",
        Http = "http",
        Prompt = "prompt",
        Script = "script",
    }
);

named_enum!(
    /// Where a hook applies.
    HookScope {
        Global = "global",
        Tenant = "tenant",
        Agent = "agent",
    }
);

named_enum!(
    /// What a hook decided.
    Decision {
        Allow = "allow",
        Block = "block",
        Error = "error",
        Timeout = "timeout",
    }
);

/// A hook as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Hook {
    pub id: Uuid,
    /// The master tenant for `global` hooks.
    pub tenant_id: TenantId,
    /// The agents an `agent` hook applies to (ids of agents of its tenant).
    pub agent_ids: Vec<Uuid>,
    pub event: HookEvent,
    pub handler_type: HandlerType,
    pub scope: HookScope,
    pub name: String,
    /// Handler options: `command` and `allowed_env_vars`, or `url` and `headers`. Stored
    /// header values read `"***"`: the values themselves are in [`Hook::secrets`].
    pub config: Value,
    /// The secret box's encryption of the `http` handler's header values (a JSON object of
    /// names to values), or empty when there are none. Never answered.
    pub secrets: String,
    /// A regular expression over the tool name; empty matches everything.
    pub matcher: String,
    /// GoClaw's CEL condition; stored, not evaluated here.
    pub if_expr: String,
    pub timeout_ms: i64,
    /// `allow` or `block`: what a timeout decides.
    pub on_timeout: Decision,
    /// Higher runs first.
    pub priority: i64,
    pub enabled: bool,
    pub version: i64,
    pub source: String,
    pub metadata: Value,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Hook {
    /// Whether this hook applies to a run of `agent` in `tenant`.
    pub fn applies_to(&self, tenant: TenantId, agent: Uuid) -> bool {
        match self.scope {
            HookScope::Global => self.tenant_id == MASTER_TENANT_ID,
            HookScope::Tenant => self.tenant_id == tenant,
            HookScope::Agent => self.tenant_id == tenant && self.agent_ids.contains(&agent),
        }
    }
}

/// Which hooks a list returns; `None` leaves a criterion out.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HookFilter {
    pub event: Option<HookEvent>,
    pub scope: Option<HookScope>,
    /// Hooks naming this agent (and only `agent`-scoped ones).
    pub agent_id: Option<Uuid>,
    pub enabled: Option<bool>,
}

/// One run of one hook.
#[derive(Debug, Clone, PartialEq)]
pub struct HookExecution {
    pub id: Uuid,
    /// The tenant whose run fired it (for a `global` hook, not the master tenant).
    pub tenant_id: TenantId,
    /// `None` once the hook is deleted.
    pub hook_id: Option<Uuid>,
    /// The key of the session whose run fired it.
    pub session_id: String,
    pub event: HookEvent,
    /// SHA-256 (hex) of the tool name and arguments the hook saw.
    pub input_hash: String,
    pub decision: Decision,
    pub duration_ms: i64,
    pub retry: i64,
    /// `{hook id}:{event id}`: one row per hook and event.
    pub dedup_key: String,
    /// At most [`HOOK_ERROR_CHARS`] characters.
    pub error: String,
    /// The block reason and HTTP status, when there were any.
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
}

/// Hooks and their executions. Every read and write is scoped to one tenant: a tenant sees
/// and changes only its own rows (`global` hooks are the master tenant's).
#[async_trait]
pub trait HookStore: Send + Sync {
    /// Stores a new hook under a fresh id, version 1; `id` and the timestamps are ignored.
    async fn create(&self, hook: &Hook) -> Result<Hook, StoreError>;
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Hook, StoreError>;
    /// The tenant's hooks matching `filter`, by priority (highest first), then age.
    async fn list(&self, tenant: TenantId, filter: &HookFilter) -> Result<Vec<Hook>, StoreError>;
    /// Writes every changeable field of `hook` (not its tenant, source, creator or id) and
    /// counts its version up.
    async fn update(&self, tenant: TenantId, hook: &Hook) -> Result<Hook, StoreError>;
    async fn set_enabled(
        &self,
        tenant: TenantId,
        id: Uuid,
        enabled: bool,
    ) -> Result<Hook, StoreError>;
    /// Deletes the hook; its executions stay, without it.
    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError>;
    /// The enabled hooks of `event` that may apply in `tenant`: its own and the global ones,
    /// by priority.
    async fn for_event(&self, tenant: TenantId, event: HookEvent) -> Result<Vec<Hook>, StoreError>;
    /// Records an execution; a second one with the same `dedup_key` is dropped.
    async fn record_execution(&self, execution: &HookExecution) -> Result<(), StoreError>;
    /// The tenant's executions, newest first, older than `before` (an execution id) when
    /// given, of one hook when given.
    async fn executions(
        &self,
        tenant: TenantId,
        hook: Option<Uuid>,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<HookExecution>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_blocking_events_are_goclaws() {
        for event in HookEvent::ALL {
            assert_eq!(HookEvent::parse(event.as_str()), Some(*event));
        }
        let blocking: Vec<&str> = HookEvent::ALL
            .iter()
            .filter(|e| e.is_blocking())
            .map(|e| e.as_str())
            .collect();
        assert_eq!(
            blocking,
            ["user_prompt_submit", "pre_tool_use", "subagent_start"]
        );
        assert_eq!(HandlerType::parse("script"), Some(HandlerType::Script));
        assert_eq!(HookScope::parse("user"), None);
        assert_eq!(Decision::parse("ask"), None);
    }
}
