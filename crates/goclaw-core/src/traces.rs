//! Run traces and their spans as stored: one trace per agent run, one span per LLM call or tool
//! call inside it, and [`TraceStore`], the storage of both (tables `traces` and `spans`).
//!
//! A trace is written when its run starts (status `running`) and again when it ends; a span is
//! written once, when it has ended. Writes come in batches from the trace recorder, which is
//! why [`TraceStore::write_batch`] upserts.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// Status of a trace whose run has not ended yet.
pub const TRACE_RUNNING: &str = "running";

/// One agent run as stored in `traces`.
#[derive(Debug, Clone, PartialEq)]
pub struct Trace {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub parent_trace_id: Option<Uuid>,
    pub agent_id: Option<AgentId>,
    pub session_key: String,
    pub run_id: String,
    pub user_id: String,
    pub channel: String,
    pub name: String,
    /// `running`, then `ok`, `error` or `aborted` (`interrupted` when closed at start-up).
    pub status: String,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub total_cost: f64,
    pub span_count: i32,
    pub llm_call_count: i32,
    pub tool_call_count: i32,
    pub error: Option<String>,
    /// Free-form details; the runtime puts the agent's key under `agent_key`.
    pub metadata: serde_json::Value,
}

impl Trace {
    /// A `running` trace started now, with everything else empty.
    pub fn start(id: Uuid, tenant_id: TenantId, name: impl Into<String>) -> Self {
        Self {
            id,
            tenant_id,
            parent_trace_id: None,
            agent_id: None,
            session_key: String::new(),
            run_id: String::new(),
            user_id: String::new(),
            channel: String::new(),
            name: name.into(),
            status: TRACE_RUNNING.to_owned(),
            start_time: Utc::now(),
            end_time: None,
            duration_ms: None,
            input_tokens: 0,
            output_tokens: 0,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            total_cost: 0.0,
            span_count: 0,
            llm_call_count: 0,
            tool_call_count: 0,
            error: None,
            metadata: serde_json::json!({}),
        }
    }
}

/// Kind of a span, as `spans.span_type` spells it.
pub mod span_type {
    pub const LLM_CALL: &str = "llm_call";
    pub const TOOL_CALL: &str = "tool_call";
}

/// One step of a run as stored in `spans`.
#[derive(Debug, Clone, PartialEq)]
pub struct Span {
    pub id: Uuid,
    pub trace_id: Uuid,
    pub parent_span_id: Option<Uuid>,
    /// `llm_call` or `tool_call` (see [`span_type`]).
    pub span_type: String,
    pub name: String,
    /// `ok`, `error` or `aborted`.
    pub status: String,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub duration_ms: Option<i64>,
    pub model: String,
    pub provider: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub tool_name: Option<String>,
    pub tool_call_id: Option<String>,
    pub input_preview: Option<String>,
    pub output_preview: Option<String>,
    pub error: Option<String>,
    pub metadata: serde_json::Value,
}

impl Span {
    /// An empty span of `trace` started now.
    pub fn start(trace_id: Uuid, span_type: &str, name: impl Into<String>) -> Self {
        Self {
            id: Uuid::now_v7(),
            trace_id,
            parent_span_id: None,
            span_type: span_type.to_owned(),
            name: name.into(),
            status: TRACE_RUNNING.to_owned(),
            start_time: Utc::now(),
            end_time: None,
            duration_ms: None,
            model: String::new(),
            provider: String::new(),
            input_tokens: 0,
            output_tokens: 0,
            cache_read_tokens: 0,
            cache_write_tokens: 0,
            tool_name: None,
            tool_call_id: None,
            input_preview: None,
            output_preview: None,
            error: None,
            metadata: serde_json::json!({}),
        }
    }
}

/// Which traces [`TraceStore::list`] returns.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TraceFilter {
    pub agent_id: Option<AgentId>,
    pub session_key: Option<String>,
    pub status: Option<String>,
    /// Only traces of runs of this user.
    pub user_id: Option<String>,
    /// Only traces of runs that came in on this channel (`ws`, `http`, …).
    pub channel: Option<String>,
    /// At most this many; 0 means 50.
    pub limit: u32,
    /// Matching traces to skip first, newest first.
    pub offset: u32,
}

/// How [`TraceStore::usage`] groups runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UsageGrouping {
    /// One row per UTC hour with runs.
    Hour,
    /// One row per UTC day with runs.
    Day,
    /// One row for the whole range (also when it has no runs).
    Total,
    /// One row per agent with runs (`key`: the agent's id).
    Agent,
    /// One row per channel with runs (`key`: `ws`, `http`, `telegram`, …).
    Channel,
    /// One row per provider the runs' model calls went to (`key`: its name), from the model
    /// calls' spans: tokens, cost and calls are the calls', `requests` the runs with one.
    Provider,
    /// One row per model, like [`UsageGrouping::Provider`].
    Model,
}

impl UsageGrouping {
    /// Whether rows are time buckets (`bucket`) rather than named groups (`key`).
    pub fn is_time(self) -> bool {
        matches!(self, Self::Hour | Self::Day | Self::Total)
    }
}

/// Which runs [`TraceStore::usage`] adds up: a tenant's top-level traces (not those of
/// subagents and delegations, which their parent run already covers) started in `[from, to)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Only runs of this user.
    pub user_id: Option<String>,
    /// Only runs of this agent.
    pub agent_id: Option<AgentId>,
    /// Only runs that came in on this channel.
    pub channel: Option<String>,
    pub grouping: UsageGrouping,
}

/// What a group of runs used.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct UsageTotals {
    /// Start of the hour or day; `None` for [`UsageGrouping::Total`] and named groups.
    pub bucket: Option<DateTime<Utc>>,
    /// The group's name for the named groupings (agent, channel, provider, model); empty for
    /// time buckets.
    pub key: String,
    pub requests: i64,
    pub errors: i64,
    pub unique_users: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_write_tokens: i64,
    pub total_cost: f64,
    pub llm_calls: i64,
    pub tool_calls: i64,
    /// Sum of the durations of the runs that ended.
    pub duration_ms: i64,
}

/// How many runs one user started in the last hour, day and week.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestCounts {
    pub user_id: String,
    pub hour: i64,
    pub day: i64,
    pub week: i64,
}

/// Storage of traces and spans.
#[async_trait]
pub trait TraceStore: Send + Sync {
    /// Inserts or replaces `traces` (by id, in order), then inserts or replaces `spans`, in one
    /// transaction. A span whose trace is not stored is skipped, not an error: its trace's
    /// record may have been dropped under load.
    async fn write_batch(&self, traces: &[Trace], spans: &[Span]) -> Result<(), StoreError>;
    /// One page (`limit`, `offset`) of a tenant's traces matching `filter`, newest (by start
    /// time) first, and how many match in all.
    async fn list(
        &self,
        tenant: TenantId,
        filter: &TraceFilter,
    ) -> Result<(Vec<Trace>, u64), StoreError>;
    /// A tenant's trace with its spans in start order; `None` when missing or another
    /// tenant's.
    async fn get(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<(Trace, Vec<Span>)>, StoreError>;
    /// Ends every `running` trace (of every tenant) with `status`, `error` and `end_time` now;
    /// used at start-up for runs a previous process never finished. Returns how many.
    async fn close_running(&self, status: &str, error: &str) -> Result<u64, StoreError>;
    /// What the runs `query` selects used, grouped as it asks, oldest group first.
    async fn usage(
        &self,
        tenant: TenantId,
        query: &UsageQuery,
    ) -> Result<Vec<UsageTotals>, StoreError>;
    /// Top-level runs started by `user` (every user when `None`, the 50 busiest by week)
    /// within an hour, a day and a week before `now`.
    async fn request_counts(
        &self,
        tenant: TenantId,
        user: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequestCounts>, StoreError>;
    /// Deletes traces (and their spans) created before `cutoff`. Returns how many traces.
    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError>;
}
