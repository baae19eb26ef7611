//! The agent runtime of the goclaw gateway: it turns user messages into agent runs and runs
//! them — context → history → prompt → think → act → observe → finalize — with compaction of
//! long histories, scheduling lanes and per-session queues.
//!
//! Every run is admitted the same way, through [`Runtime::start_turn`]: the message is stored
//! first (with its turn record), joins its session's pending run (one run per session executes
//! at a time; messages arriving meanwhile are answered together by the next one), waits out
//! the debounce (messaging channels only), and takes a permit of its lane. There is no other
//! way to start a run. Each turn gets its run's own event stream; watchers subscribe by scope
//! (tenant, user, session, agent) through an index.
//!
//! Model calls go through `goclaw-providers` (retries, fallback across candidates, token
//! counting); storage through the `Store` traits; tools through the `Tool` trait. Subagents
//! (`SubagentManager`, behind the `spawn` tool) are runs of the same runtime in sessions of
//! their own, admitted by the `subagent` lane.
//!
//! **Architecture Invariant:** this crate knows no wire format of the gateway. It never
//! depends on axum, sqlx or `goclaw-gateway`; its events are Rust values the gateway
//! translates into frames.
#![forbid(unsafe_code)]

mod compaction;
mod context_files;
mod datetime;
mod delegation;
mod deps;
mod error;
mod events;
mod history;
pub mod hooks;
mod hooks_run;
mod hub;
mod images;
mod injection;
mod model;
mod prompt;
mod quota;
mod read_image;
mod recall;
mod recovery;
mod replay;
mod run;
mod runtime;
mod sanitize;
mod scheduler;
mod sent_files;
mod settings;
mod skill_commands;
mod subagents;
mod team_prompt;
mod tokens;
mod tool_scope;
mod tool_source;
mod tools;
mod trace;
mod truncate;
mod types;
mod worker;

pub use context_files::{
    OPEN_AGENT_TYPE, PER_USER_FILE, file_for_user, files_for_user, is_per_user_file,
    merge_user_files,
};
pub use datetime::DateTimeTool;
pub use delegation::{DELEGATE_CHANNEL, DelegationManager, DelegationObserver};
pub use error::RuntimeError;
pub use events::{AgentEvent, AgentEventKind, RunId, TOOL_RESULT_EVENT_CHARS};
pub use goclaw_providers::RetryPolicy;
pub use history::{INTERRUPTED_TOOL_RESULT, SUMMARY_ACK, SUMMARY_PREFIX};
pub use hub::{Detail, EventWatch, RunEvents, SharedEvent, StreamError, WatchScope};
pub use injection::{INJECTION_DETECTORS, detect_injection, normalize_for_scan};
pub use model::{ModelCandidate, ProviderLookup, call_model, resolve_candidates};
pub use prompt::CONTEXT_FILE_ORDER;
pub use quota::{QuotaExceeded, QuotaWindow, TurnQuota};
pub use read_image::ReadImageTool;
pub use recall::{MemoryRecall, RECALL_TIMEOUT, SessionObserver};
pub use recovery::INTERRUPTED_REASON;
pub use runtime::{
    DEFAULT_AGENT_KEY, QUEUE_FULL_REASON, Runtime, RuntimeDeps, SHUTTING_DOWN_REASON,
};
pub use sanitize::{SILENT_REPLY, is_silent, sanitize_output};
pub use scheduler::{Lane, LaneStats};
pub use skill_commands::{SkillCommand, SkillCommands};
pub use subagents::{
    INTERRUPTED_BY_RESTART, SUBAGENT_CHANNEL, SubagentManager, is_subagent_session,
};
pub use tokens::{CharEstimateCounter, ModelTokenCounter, TokenCounter};
pub use tool_source::ToolSource;
pub use tools::{ToolFilter, ToolRegistry};
pub use truncate::{TruncatedMessage, truncate_message};
pub use types::{
    AbortOutcome, ChatInput, CompactOutcome, RunOutcome, RunPhase, RuntimeLimits, SessionRunStatus,
    TurnHandle, TurnOverrides,
};
