//! The values that cross the runtime's public API: what a caller submits, what it gets back,
//! and what it can ask about a session.

use std::time::Duration;

use goclaw_config::{GatewayConfig, InjectionAction, LaneLimits};
use goclaw_core::{AgentKey, Message, SessionKey, TenantId, Trust, Usage};

use crate::events::{AgentEventKind, RunId};
use crate::hub::RunEvents;

/// Limits of the runtime that are not per agent.
#[derive(Debug, Clone, PartialEq)]
pub struct RuntimeLimits {
    /// Longest inbound message in bytes before it is cut (`gateway.max_message_chars`).
    pub max_message_chars: usize,
    /// Silence, in milliseconds, a session waits for more messages before it runs
    /// (`gateway.inbound_debounce_ms`; an agent's `other_config.inbound_debounce_ms` wins).
    pub inbound_debounce_ms: u64,
    /// Most user messages one queued run may hold; more drop the oldest.
    pub session_queue_cap: usize,
    /// Concurrent runs per lane.
    pub lanes: LaneLimits,
    /// How long `shutdown` lets running runs finish before cancelling them.
    pub shutdown_grace: Duration,
    /// What the prompt-injection guard does with a suspicious message
    /// (`gateway.injection_action`).
    pub injection_action: InjectionAction,
    /// Events a turn's stream or a watcher may fall behind before it fails
    /// (`gateway.event_buffer`).
    pub event_buffer: usize,
}

impl RuntimeLimits {
    /// The limits a gateway configuration asks for.
    pub fn from_config(gateway: &GatewayConfig, lanes: LaneLimits) -> Self {
        Self {
            max_message_chars: gateway.max_message_chars as usize,
            inbound_debounce_ms: gateway.inbound_debounce_ms,
            lanes,
            injection_action: gateway.injection_action,
            event_buffer: gateway.event_buffer(),
            ..Self::default()
        }
    }
}

impl Default for RuntimeLimits {
    fn default() -> Self {
        let gateway = GatewayConfig::default();
        Self {
            max_message_chars: gateway.max_message_chars as usize,
            inbound_debounce_ms: gateway.inbound_debounce_ms,
            session_queue_cap: 10,
            lanes: LaneLimits::default(),
            shutdown_grace: Duration::from_secs(5),
            injection_action: gateway.injection_action,
            event_buffer: gateway.event_buffer(),
        }
    }
}

/// A turn asked for: who sends what to which agent, in which session. Every entry point
/// (WebSocket, HTTP, channels, tools, schedules) builds one of these; the runtime decides the
/// rest — whether the sender may use the session, the lane, the debounce.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatInput {
    pub tenant_id: TenantId,
    pub agent_key: AgentKey,
    pub session_key: SessionKey,
    pub user_id: String,
    /// How far the gateway trusts the sender: decides whose sessions it may use and whether
    /// the run's tools may reach the host.
    pub trust: Trust,
    /// Where the message came from (`ws`, `http`, `telegram`, `cron`, ...); it also picks the
    /// lane ([`crate::Lane::for_channel`]) and whether the debounce applies.
    pub channel: String,
    pub message: String,
    /// The client's key for this request: a retry with the same key (same tenant and user)
    /// gets the first request's turn instead of a new one.
    pub idempotency_key: Option<String>,
    /// Set only by the channel layer, which routes a platform's sender to their session, and
    /// by the gateway's own senders (subagents, channel `subagent`): the session may then lie
    /// in that channel's own namespace (`agent:{a}:{channel}:…`), which nobody else below
    /// admin may create.
    pub from_channel: bool,
    /// What this turn asks beyond the agent's own settings.
    pub overrides: TurnOverrides,
    /// Files that came with the message, already inside the run's workspace; kept with it as
    /// GoClaw's `media_refs`, and its pictures are shown to the model.
    pub media: Vec<goclaw_core::MediaRef>,
}

/// Settings one turn asks for beyond its agent's (a webhook call's `model` and system
/// messages). A run answering several messages takes the last one's.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TurnOverrides {
    /// The model to call instead of the agent's, with the agent's provider.
    pub model: Option<String>,
    /// Instructions added to the system prompt for this run only.
    pub extra_system_prompt: Option<String>,
    /// How deep the run is nested: a subagent task's depth, else 0. Hooks are told it.
    pub depth: u32,
}

/// A started turn: its message is stored, and a run that answers it is scheduled (or, for a
/// retried idempotency key, the earlier turn).
#[derive(Debug)]
pub struct TurnHandle {
    /// The run that answers the message (shared with the other messages it answers).
    pub run_id: RunId,
    pub session_key: SessionKey,
    /// The message as stored (after truncation).
    pub user_message: Message,
    /// Whether an idempotency key named an earlier request, whose turn this is.
    pub replayed: bool,
    /// The run's events as this turn sees them, ending with its terminal event. Use
    /// [`RunEvents::outcome`] to wait for the end only.
    pub events: RunEvents,
}

/// How a run ended, as seen by each message it answers.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The run answered. `content` is empty when the agent chose not to reply (`silent`).
    Completed {
        run_id: RunId,
        content: String,
        thinking: Option<String>,
        usage: Usage,
        silent: bool,
    },
    Failed {
        run_id: RunId,
        error: String,
    },
    /// Aborted; `partial` is the answer text streamed before the abort.
    Cancelled {
        run_id: RunId,
        partial: String,
    },
    /// The message never reached a run (queue overflow, shutdown).
    Dropped {
        reason: String,
    },
}

impl RunOutcome {
    /// How a run ended, from its terminal event; `None` for any other event.
    pub fn from_terminal(run_id: RunId, kind: &AgentEventKind) -> Option<Self> {
        Some(match kind {
            AgentEventKind::RunCompleted {
                content,
                thinking,
                usage,
                silent,
            } => RunOutcome::Completed {
                run_id,
                content: content.clone(),
                thinking: thinking.clone(),
                usage: *usage,
                silent: *silent,
            },
            AgentEventKind::RunFailed { error } => RunOutcome::Failed {
                run_id,
                error: error.clone(),
            },
            AgentEventKind::RunCancelled { partial } => RunOutcome::Cancelled {
                run_id,
                partial: partial.clone(),
            },
            _ => return None,
        })
    }

    /// The terminal event of a run that ended this way; `None` for a dropped message.
    pub fn terminal_event(&self) -> Option<AgentEventKind> {
        Some(match self {
            RunOutcome::Completed {
                content,
                thinking,
                usage,
                silent,
                ..
            } => AgentEventKind::RunCompleted {
                content: content.clone(),
                thinking: thinking.clone(),
                usage: *usage,
                silent: *silent,
            },
            RunOutcome::Failed { error, .. } => AgentEventKind::RunFailed {
                error: error.clone(),
            },
            RunOutcome::Cancelled { partial, .. } => AgentEventKind::RunCancelled {
                partial: partial.clone(),
            },
            RunOutcome::Dropped { .. } => return None,
        })
    }

    pub(crate) fn dropped(reason: &str) -> Self {
        RunOutcome::Dropped {
            reason: reason.to_owned(),
        }
    }

    /// The run this outcome belongs to, if the message reached one.
    pub fn run_id(&self) -> Option<RunId> {
        match self {
            RunOutcome::Completed { run_id, .. }
            | RunOutcome::Failed { run_id, .. }
            | RunOutcome::Cancelled { run_id, .. } => Some(*run_id),
            RunOutcome::Dropped { .. } => None,
        }
    }

    /// A short stable name of how the run ended: `completed`, `failed`, `cancelled`, `dropped`.
    pub fn status(&self) -> &'static str {
        match self {
            RunOutcome::Completed { .. } => "completed",
            RunOutcome::Failed { .. } => "failed",
            RunOutcome::Cancelled { .. } => "cancelled",
            RunOutcome::Dropped { .. } => "dropped",
        }
    }
}

/// What `abort` did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AbortOutcome {
    /// Whether there was anything to abort.
    pub aborted: bool,
    /// The running and queued runs that were cancelled.
    pub run_ids: Vec<RunId>,
}

/// Where a running run is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunPhase {
    /// Loading the agent, context files and history.
    Preparing,
    /// Waiting for the model.
    Thinking,
    /// Running a tool.
    Acting,
    /// Storing the answer.
    Finalizing,
    /// Summarizing old history.
    Compacting,
}

impl RunPhase {
    pub fn as_str(self) -> &'static str {
        match self {
            RunPhase::Preparing => "preparing",
            RunPhase::Thinking => "thinking",
            RunPhase::Acting => "acting",
            RunPhase::Finalizing => "finalizing",
            RunPhase::Compacting => "compacting",
        }
    }
}

/// A session's run state.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionRunStatus {
    pub is_running: bool,
    pub run_id: Option<RunId>,
    pub phase: Option<RunPhase>,
    /// The tool being run, in the `Acting` phase.
    pub tool: Option<String>,
    /// The current LLM round-trip, from 1.
    pub iteration: u32,
    /// User messages waiting for the next run.
    pub queued_messages: usize,
}

/// What a compaction did.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CompactOutcome {
    /// Whether a summary was written (false when there was too little history).
    pub compacted: bool,
    /// Messages the summary now stands for.
    pub summarized_messages: usize,
    /// Messages still seen verbatim.
    pub kept_messages: usize,
    /// The new compaction pointer.
    pub context_start_seq: i64,
    /// Estimated tokens of the history before and after.
    pub tokens_before: usize,
    pub tokens_after: usize,
}
