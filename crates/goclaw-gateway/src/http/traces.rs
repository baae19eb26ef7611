//! `/v1/traces`: run traces, newest first, and one trace with its spans (viewer), in GoClaw's
//! shape: its `TraceData`/`SpanData` JSON (snake_case, optional fields left out when empty,
//! cache token counts in `metadata`), statuses spelled as GoClaw does (`completed` and
//! `cancelled` for what is stored as `ok` and `aborted`), a list wrapped as `{traces, total,
//! limit, offset}` and one trace as `{trace, spans}`.
//!
//! Traces carry prompts' tool inputs and outputs, so both routes follow their `Filter::OwnUser`
//! entry in the access table: admins and the owner see their tenant's traces, everyone else
//! only the traces of their own runs. A `session_key` or `user_id` filter naming someone else's
//! data then simply matches nothing, and someone else's trace is "not found", as a missing one.

use std::collections::HashMap;

use axum::Json;
use axum::extract::{Path, Query, State};
use goclaw_core::{AgentId, AgentKey, Span, StoreError, Trace, TraceFilter};
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::auth::Caller;
use super::error::ApiError;
use super::schemas::ErrorResponse;
use crate::auth::Principal;
use crate::routes::AppState;
use crate::scopes::{Filter, Owner, route_rule};

/// Most traces one list returns.
pub const MAX_TRACE_LIMIT: u32 = 200;
/// Traces a list returns without `limit`.
pub const DEFAULT_TRACE_LIMIT: u32 = 50;

/// Stored statuses and the spelling GoClaw's clients know them by.
const STATUS_SPELLINGS: [(&str, &str); 2] = [("ok", "completed"), ("aborted", "cancelled")];

/// Query of `GET /v1/traces` (documentation; the handler reads the raw pairs so that a bad
/// value is answered with the API's error body).
#[derive(IntoParams)]
#[into_params(parameter_in = Query)]
#[allow(dead_code)]
pub struct ListQuery {
    /// Only traces of this agent: its id or its key.
    agent_id: Option<String>,
    /// Only traces of this session.
    session_key: Option<String>,
    /// Only traces with this status (`running`, `completed`, `error`, `cancelled`; `ok` and
    /// `aborted` are the same as `completed` and `cancelled`).
    status: Option<String>,
    /// Only traces of runs of this user. Below admin only the caller's own traces are listed
    /// whatever this says.
    user_id: Option<String>,
    /// Only traces of runs that came in on this channel (`ws`, `http`, …).
    channel: Option<String>,
    /// At most this many (1–200, default 50).
    #[param(minimum = 1, maximum = 200)]
    limit: Option<u32>,
    /// Matching traces to skip, newest first (default 0).
    #[param(minimum = 0)]
    offset: Option<u32>,
}

/// `GET /v1/traces`.
#[derive(Serialize, ToSchema)]
pub struct TraceList {
    pub traces: Vec<TraceView>,
    /// How many traces match the filters in all (the list is one page of them).
    pub total: u64,
    pub limit: u32,
    pub offset: u32,
}

/// One run.
#[derive(Serialize, ToSchema)]
pub struct TraceView {
    pub id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_trace_id: Option<Uuid>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_id: Option<Uuid>,
    /// The key of the run's agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_key: Option<String>,
    pub user_id: String,
    pub session_key: String,
    pub run_id: String,
    pub start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    /// Left out while the run is going.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    pub name: String,
    pub channel: String,
    pub total_input_tokens: i64,
    pub total_output_tokens: i64,
    pub total_cost: f64,
    pub span_count: i32,
    pub llm_call_count: i32,
    pub tool_call_count: i32,
    /// `running`, `completed`, `error` or `cancelled`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Free-form details, with `total_cache_read_tokens` and `total_cache_creation_tokens`.
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// When the run started (the trace is written then).
    pub created_at: String,
}

/// `GET /v1/traces/{id}`: the run and its spans in start order.
#[derive(Serialize, ToSchema)]
pub struct TraceDetail {
    pub trace: TraceView,
    pub spans: Vec<SpanView>,
}

/// One model call (`llm_call`) or tool call (`tool_call`) of a run.
#[derive(Serialize, ToSchema)]
pub struct SpanView {
    pub id: Uuid,
    pub trace_id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<Uuid>,
    pub span_type: String,
    pub name: String,
    pub start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<i64>,
    /// `running`, `completed`, `error` or `cancelled`.
    pub status: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    pub model: String,
    pub provider: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tool_call_id: Option<String>,
    /// The tool's arguments, at most 500 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub input_preview: Option<String>,
    /// The tool's result, at most 500 characters.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub output_preview: Option<String>,
    /// Free-form details, with `cache_read_tokens` and `cache_creation_tokens`.
    #[schema(value_type = Object)]
    pub metadata: Value,
    /// When the span started.
    pub created_at: String,
}

#[utoipa::path(
    get,
    path = "/v1/traces",
    tag = "traces",
    params(ListQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The traces, newest first", body = TraceList),
        (status = 400, description = "Invalid input", body = ErrorResponse),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "The agent filter names no agent", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]
pub async fn list(
    State(state): State<AppState>,
    caller: Caller,
    Query(query): Query<HashMap<String, String>>,
) -> Result<Json<TraceList>, ApiError> {
    if query.values().any(|v| v.contains('\0')) {
        return Err(ApiError::bad_request(
            "query parameters must not contain NUL characters",
        ));
    }
    let tenant = caller.0.tenant_id;
    let limit = match query.get("limit").map(|l| l.trim().parse::<u32>()) {
        None => DEFAULT_TRACE_LIMIT,
        Some(Ok(limit)) if (1..=MAX_TRACE_LIMIT).contains(&limit) => limit,
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "limit must be an integer from 1 to {MAX_TRACE_LIMIT}"
            )));
        }
    };
    // The document's `int32`: 0 to 2^31 - 1.
    let offset = match query.get("offset").map(|o| o.trim().parse::<i32>()) {
        None => 0,
        Some(Ok(offset)) if offset >= 0 => offset.unsigned_abs(),
        Some(_) => {
            return Err(ApiError::bad_request(format!(
                "offset must be an integer from 0 to {}",
                i32::MAX
            )));
        }
    };
    let agent_id = match query.get("agent_id").map(|a| a.trim()) {
        None | Some("") => None,
        Some(raw) => Some(agent_id(&state, tenant, raw).await?),
    };
    let asked_user = non_empty(query.get("user_id"));
    let own = caller.0.user_id.clone();
    let user_id = if sees_tenant(&caller.0) {
        asked_user
    } else if asked_user.is_some_and(|asked| asked != own) {
        // Someone else's traces: nothing, as if they had none.
        return Ok(Json(trace_list(Vec::new(), 0, limit, offset)));
    } else {
        Some(own)
    };
    let filter = TraceFilter {
        agent_id,
        session_key: non_empty(query.get("session_key")),
        status: non_empty(query.get("status")).map(|s| stored_status(&s).to_owned()),
        user_id,
        channel: non_empty(query.get("channel")),
        limit,
        offset,
    };
    let (traces, total) = state.store.traces().list(tenant, &filter).await?;
    let caller = &caller.0;
    let views = traces
        .iter()
        .filter(|trace| visible(caller, trace))
        .map(trace_view)
        .collect();
    Ok(Json(trace_list(views, total, limit, offset)))
}

fn trace_list(traces: Vec<TraceView>, total: u64, limit: u32, offset: u32) -> TraceList {
    TraceList {
        total,
        traces,
        limit,
        offset,
    }
}

#[utoipa::path(
    get,
    path = "/v1/traces/{id}",
    tag = "traces",
    params(("id" = String, Path, description = "Trace id (a UUID)")),
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The trace with its spans", body = TraceDetail),
        (status = 401, description = "No or wrong credentials", body = ErrorResponse),
        (status = 403, description = "The caller's role or API key scope does not allow this", body = ErrorResponse),
        (status = 404, description = "No such trace among those the caller may see", body = ErrorResponse),
        (status = 500, description = "Internal error (details are only logged)", body = ErrorResponse),
    )
)]

pub async fn get(
    State(state): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TraceDetail>, ApiError> {
    let not_found = || ApiError::not_found(format!("trace {id} not found"));
    let uuid = Uuid::parse_str(id.trim()).map_err(|_| not_found())?;
    let (trace, spans) = state
        .store
        .traces()
        .get(caller.0.tenant_id, uuid)
        .await?
        .filter(|(trace, _)| visible(&caller.0, trace))
        .ok_or_else(not_found)?;
    Ok(Json(TraceDetail {
        trace: trace_view(&trace),
        spans: spans.iter().map(span_view).collect(),
    }))
}

/// Whether the trace list's filter lets `caller` see the whole tenant (admins and the owner).
fn sees_tenant(caller: &Principal) -> bool {
    route_filter() != Filter::OwnUser || caller.sees_all()
}

/// Whether `caller` may see `trace`, by the routes' filter.
fn visible(caller: &Principal, trace: &Trace) -> bool {
    let owner = Owner {
        tenant_id: trace.tenant_id,
        user_id: &trace.user_id,
    };
    route_filter().admits(caller, owner)
}

/// The filter of `GET /v1/traces/{id}` (the same as the list's).
fn route_filter() -> Filter {
    route_rule("GET", "/v1/traces/{id}").map_or(Filter::OwnUser, |rule| rule.filter)
}

/// An agent filter given as a UUID or as a key of the caller's tenant.
pub(super) async fn agent_id(
    state: &AppState,
    tenant: goclaw_core::TenantId,
    raw: &str,
) -> Result<AgentId, ApiError> {
    if let Ok(id) = Uuid::parse_str(raw) {
        return Ok(AgentId::from_uuid(id));
    }
    // Not a valid key either: no agent can have it.
    let missing = || ApiError::not_found(format!("agent {raw} not found"));
    let key = AgentKey::parse(raw).map_err(|_| missing())?;
    match state.store.agents().get_by_key(tenant, &key).await {
        Ok(agent) => Ok(agent.id),
        Err(StoreError::NotFound(_)) => Err(missing()),
        Err(error) => Err(error.into()),
    }
}

fn non_empty(value: Option<&String>) -> Option<String> {
    value.filter(|v| !v.trim().is_empty()).cloned()
}

/// GoClaw's spelling of a stored status.
fn wire_status(stored: &str) -> String {
    STATUS_SPELLINGS
        .iter()
        .find(|(ours, _)| *ours == stored)
        .map_or(stored, |(_, theirs)| theirs)
        .to_owned()
}

/// The stored spelling of a status filter given either way.
fn stored_status(asked: &str) -> &str {
    STATUS_SPELLINGS
        .iter()
        .find(|(_, theirs)| *theirs == asked)
        .map_or(asked, |(ours, _)| ours)
}

/// `metadata` as an object with `extra` added.
fn metadata_with(metadata: &Value, extra: [(&str, i64); 2]) -> Value {
    let mut map = match metadata {
        Value::Object(map) => map.clone(),
        Value::Null => Map::new(),
        other => Map::from_iter([("value".to_owned(), other.clone())]),
    };
    for (key, value) in extra {
        map.insert(key.to_owned(), Value::from(value));
    }
    Value::Object(map)
}

fn trace_view(trace: &Trace) -> TraceView {
    let start_time = trace.start_time.to_rfc3339();
    TraceView {
        id: trace.id,
        parent_trace_id: trace.parent_trace_id,
        agent_id: trace.agent_id.map(|id| id.as_uuid()),
        agent_key: trace
            .metadata
            .get("agent_key")
            .and_then(Value::as_str)
            .map(str::to_owned),
        user_id: trace.user_id.clone(),
        session_key: trace.session_key.clone(),
        run_id: trace.run_id.clone(),
        created_at: start_time.clone(),
        start_time,
        end_time: trace.end_time.map(|t| t.to_rfc3339()),
        duration_ms: trace.duration_ms,
        name: trace.name.clone(),
        channel: trace.channel.clone(),
        total_input_tokens: trace.input_tokens,
        total_output_tokens: trace.output_tokens,
        total_cost: trace.total_cost,
        span_count: trace.span_count,
        llm_call_count: trace.llm_call_count,
        tool_call_count: trace.tool_call_count,
        status: wire_status(&trace.status),
        error: trace.error.clone(),
        metadata: metadata_with(
            &trace.metadata,
            [
                ("total_cache_read_tokens", trace.cache_read_tokens),
                ("total_cache_creation_tokens", trace.cache_write_tokens),
            ],
        ),
    }
}

fn span_view(span: &Span) -> SpanView {
    let start_time = span.start_time.to_rfc3339();
    SpanView {
        id: span.id,
        trace_id: span.trace_id,
        parent_span_id: span.parent_span_id,
        span_type: span.span_type.clone(),
        name: span.name.clone(),
        created_at: start_time.clone(),
        start_time,
        end_time: span.end_time.map(|t| t.to_rfc3339()),
        duration_ms: span.duration_ms,
        status: wire_status(&span.status),
        error: span.error.clone(),
        model: span.model.clone(),
        provider: span.provider.clone(),
        input_tokens: span.input_tokens,
        output_tokens: span.output_tokens,
        tool_name: span.tool_name.clone(),
        tool_call_id: span.tool_call_id.clone(),
        input_preview: span.input_preview.clone(),
        output_preview: span.output_preview.clone(),
        metadata: metadata_with(
            &span.metadata,
            [
                ("cache_read_tokens", span.cache_read_tokens),
                ("cache_creation_tokens", span.cache_write_tokens),
            ],
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_spelled_as_goclaw_does_and_filters_take_both() {
        for (stored, wire) in [
            ("ok", "completed"),
            ("aborted", "cancelled"),
            ("error", "error"),
            ("running", "running"),
        ] {
            assert_eq!(wire_status(stored), wire);
            assert_eq!(stored_status(wire), stored);
            assert_eq!(stored_status(stored), stored);
        }
    }

    #[test]
    fn cache_counts_join_the_metadata() {
        let extra = [("a", 1), ("b", 2)];
        assert_eq!(
            metadata_with(&serde_json::json!({"agent_key": "x"}), extra),
            serde_json::json!({"agent_key": "x", "a": 1, "b": 2})
        );
        assert_eq!(
            metadata_with(&Value::Null, extra),
            serde_json::json!({"a": 1, "b": 2})
        );
        assert_eq!(
            metadata_with(&serde_json::json!([1]), extra),
            serde_json::json!({"value": [1], "a": 1, "b": 2})
        );
    }
}
