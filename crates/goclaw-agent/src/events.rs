//! What the runtime tells the world while it works: run identifiers, the `AgentEvent`s of
//! runs, and the small emitter a run uses to publish them into the [`EventHub`].
//!
//! Events are plain Rust values; turning them into the gateway's wire frames is the gateway's
//! business.

use std::fmt;

use goclaw_core::{SessionKey, TenantId, Usage};
use uuid::Uuid;

use crate::hub::EventHub;

/// Longest tool result, in characters, carried by a [`AgentEventKind::ToolResult`] event.
pub const TOOL_RESULT_EVENT_CHARS: usize = 1000;

/// Identifies one agent run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(Uuid);

impl RunId {
    /// A new time-ordered identifier.
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

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl std::str::FromStr for RunId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(Self)
    }
}

/// One thing that happened in a run, with the run's coordinates.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentEvent {
    pub tenant_id: TenantId,
    pub agent_key: String,
    pub session_key: SessionKey,
    pub run_id: RunId,
    /// The sender of the (last) message the run answers.
    pub user_id: String,
    /// The channel that message came from.
    pub channel: String,
    pub kind: AgentEventKind,
}

/// What happened.
#[derive(Debug, Clone, PartialEq)]
pub enum AgentEventKind {
    /// The run started; `message` is the user text it answers.
    RunStarted { message: String },
    /// A piece of streamed answer text.
    Chunk { content: String },
    /// A piece of streamed reasoning.
    Thinking { content: String },
    /// The model asked for a tool call.
    ToolCall {
        id: String,
        name: String,
        arguments: serde_json::Value,
    },
    /// A tool call finished; `result` is cut to [`TOOL_RESULT_EVENT_CHARS`] characters.
    ToolResult {
        id: String,
        name: String,
        arguments: serde_json::Value,
        result: String,
        is_error: bool,
    },
    /// The run produced its final answer (empty for a silent `NO_REPLY` completion).
    RunCompleted {
        content: String,
        thinking: Option<String>,
        usage: Usage,
        /// The agent chose not to reply.
        silent: bool,
    },
    /// The run failed.
    RunFailed { error: String },
    /// The run was aborted (or its queued turn was cancelled before it started); `partial`
    /// is the answer text streamed before the abort.
    RunCancelled { partial: String },
}

impl AgentEventKind {
    /// A short stable name, e.g. for logs: `run.started`, `chunk`, `tool.call`, ...
    pub fn name(&self) -> &'static str {
        match self {
            AgentEventKind::RunStarted { .. } => "run.started",
            AgentEventKind::Chunk { .. } => "chunk",
            AgentEventKind::Thinking { .. } => "thinking",
            AgentEventKind::ToolCall { .. } => "tool.call",
            AgentEventKind::ToolResult { .. } => "tool.result",
            AgentEventKind::RunCompleted { .. } => "run.completed",
            AgentEventKind::RunFailed { .. } => "run.failed",
            AgentEventKind::RunCancelled { .. } => "run.cancelled",
        }
    }

    /// Whether this is the last event of its run.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self,
            AgentEventKind::RunCompleted { .. }
                | AgentEventKind::RunFailed { .. }
                | AgentEventKind::RunCancelled { .. }
        )
    }
}

/// Publishes the events of one run, stamping each with the run's coordinates.
#[derive(Clone)]
pub(crate) struct RunEmitter {
    hub: EventHub,
    tenant_id: TenantId,
    agent_key: String,
    session_key: SessionKey,
    run_id: RunId,
    user_id: String,
    channel: String,
}

impl RunEmitter {
    pub(crate) fn new(
        hub: EventHub,
        tenant_id: TenantId,
        agent_key: String,
        session_key: SessionKey,
        run_id: RunId,
        user_id: String,
        channel: String,
    ) -> Self {
        Self {
            hub,
            tenant_id,
            agent_key,
            session_key,
            run_id,
            user_id,
            channel,
        }
    }

    /// Publishes one event; having no subscriber is not an error.
    pub(crate) fn emit(&self, kind: AgentEventKind) {
        self.hub.publish(AgentEvent {
            tenant_id: self.tenant_id,
            agent_key: self.agent_key.clone(),
            session_key: self.session_key.clone(),
            run_id: self.run_id,
            user_id: self.user_id.clone(),
            channel: self.channel.clone(),
            kind,
        });
    }
}

/// `text` cut to at most `max` characters, with `…` marking the cut.
pub(crate) fn clip_chars(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let mut out = text[..cut].to_owned();
            out.push('…');
            out
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, max: usize, expected: &str) {
        assert_eq!(clip_chars(text, max), expected, "clip {text:?} to {max}");
    }

    #[test]
    fn clipping() {
        check("short", 10, "short");
        check("exactly10!", 10, "exactly10!");
        check("eleven chars", 6, "eleven…");
        check("ééééé", 2, "éé…");
        check("", 0, "");
    }

    #[test]
    fn run_ids_round_trip() {
        let id = RunId::generate();
        assert_eq!(id.to_string().parse::<RunId>().ok(), Some(id));
    }
}
