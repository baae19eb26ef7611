//! Traces and spans. Times are `TIMESTAMPTZ` on PostgreSQL and millisecond ISO-8601 text on
//! SQLite (the format of `{now}`, so text order is time order).

use std::sync::LazyLock;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    RequestCounts, Span, StoreError, TenantId, Trace, TraceFilter, TraceStore, UsageQuery,
    UsageTotals,
};
use serde_json::Value;
use uuid::Uuid;

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Param, Record, Row, Statement};

const TRACE_COLUMNS: &str = "id, tenant_id, parent_trace_id, agent_id, session_key, run_id, \
    user_id, channel, name, status, start_time, end_time, duration_ms, input_tokens, \
    output_tokens, cache_read_tokens, cache_write_tokens, total_cost, span_count, \
    llm_call_count, tool_call_count, error, metadata";

const SPAN_COLUMNS: &str = "id, trace_id, parent_span_id, span_type, name, status, start_time, \
    end_time, duration_ms, model, provider, input_tokens, output_tokens, cache_read_tokens, \
    cache_write_tokens, tool_name, tool_call_id, input_preview, output_preview, error, metadata";

/// The default and the ceiling of `TraceFilter::limit`.
const DEFAULT_LIMIT: u32 = 50;

static UPSERT_TRACE: Statement = Statement::joined(&[
    "INSERT INTO traces (",
    TRACE_COLUMNS,
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
     ON CONFLICT (id) DO UPDATE SET agent_id = excluded.agent_id, \
     session_key = excluded.session_key, run_id = excluded.run_id, \
     user_id = excluded.user_id, channel = excluded.channel, name = excluded.name, \
     status = excluded.status, end_time = excluded.end_time, \
     duration_ms = excluded.duration_ms, input_tokens = excluded.input_tokens, \
     output_tokens = excluded.output_tokens, cache_read_tokens = excluded.cache_read_tokens, \
     cache_write_tokens = excluded.cache_write_tokens, total_cost = excluded.total_cost, \
     span_count = excluded.span_count, llm_call_count = excluded.llm_call_count, \
     tool_call_count = excluded.tool_call_count, error = excluded.error, \
     metadata = excluded.metadata",
]);
// Spans of traces that are not stored are skipped (see the trait).
static UPSERT_SPAN: Statement = Statement::joined(&[
    "INSERT INTO spans (",
    SPAN_COLUMNS,
    ") SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? \
     WHERE EXISTS (SELECT 1 FROM traces WHERE id = ?) \
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
     end_time = excluded.end_time, duration_ms = excluded.duration_ms, \
     input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, \
     cache_read_tokens = excluded.cache_read_tokens, \
     cache_write_tokens = excluded.cache_write_tokens, \
     output_preview = excluded.output_preview, error = excluded.error, \
     metadata = excluded.metadata",
]);
/// The condition of a listing: tenant, then each optional filter as `(? IS NULL OR …)`, its
/// value bound twice (see [`filter_params`]).
const LIST_CONDITION: &str = " FROM traces WHERE tenant_id = ? \
     AND (? IS NULL OR agent_id = ?) AND (? IS NULL OR session_key = ?) \
     AND (? IS NULL OR status = ?) AND (? IS NULL OR user_id = ?) \
     AND (? IS NULL OR channel = ?)";
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    TRACE_COLUMNS,
    LIST_CONDITION,
    " ORDER BY start_time DESC, id DESC LIMIT ? OFFSET ?",
]);
static COUNT: Statement = Statement::joined(&["SELECT COUNT(*) AS total", LIST_CONDITION]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    TRACE_COLUMNS,
    " FROM traces WHERE tenant_id = ? AND id = ?",
]);
static SPANS: Statement = Statement::joined(&[
    "SELECT ",
    SPAN_COLUMNS,
    " FROM spans WHERE trace_id = ? ORDER BY start_time, id",
]);
static CLOSE_RUNNING: Statement = Statement::new(
    "UPDATE traces SET status = ?, error = ?, end_time = {now}, \
     duration_ms = {ms_since:start_time} WHERE status = 'running'",
);
static DELETE_BEFORE: Statement = Statement::new("DELETE FROM traces WHERE created_at < ?");

impl Record for Trace {
    const TABLE: &'static str = "traces";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Trace {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            parent_trace_id: row.opt_id("parent_trace_id")?,
            agent_id: row.opt_id("agent_id")?,
            session_key: row.text("session_key")?,
            run_id: row.text("run_id")?,
            user_id: row.text("user_id")?,
            channel: row.text("channel")?,
            name: row.text("name")?,
            status: row.text("status")?,
            start_time: row.time("start_time")?,
            end_time: row.opt_time("end_time")?,
            duration_ms: row.opt_int("duration_ms")?,
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
            cache_read_tokens: row.int("cache_read_tokens")?,
            cache_write_tokens: row.int("cache_write_tokens")?,
            total_cost: row.real("total_cost")?,
            span_count: row.int32("span_count")?,
            llm_call_count: row.int32("llm_call_count")?,
            tool_call_count: row.int32("tool_call_count")?,
            error: row.opt_text("error")?,
            metadata: row.json("metadata")?,
        })
    }
}

impl Record for Span {
    const TABLE: &'static str = "spans";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Span {
            id: row.id("id")?,
            trace_id: row.id("trace_id")?,
            parent_span_id: row.opt_id("parent_span_id")?,
            span_type: row.text("span_type")?,
            name: row.text("name")?,
            status: row.text("status")?,
            start_time: row.time("start_time")?,
            end_time: row.opt_time("end_time")?,
            duration_ms: row.opt_int("duration_ms")?,
            model: row.text("model")?,
            provider: row.text("provider")?,
            input_tokens: row.int("input_tokens")?,
            output_tokens: row.int("output_tokens")?,
            cache_read_tokens: row.int("cache_read_tokens")?,
            cache_write_tokens: row.int("cache_write_tokens")?,
            tool_name: row.opt_text("tool_name")?,
            tool_call_id: row.opt_text("tool_call_id")?,
            input_preview: row.opt_text("input_preview")?,
            output_preview: row.opt_text("output_preview")?,
            error: row.opt_text("error")?,
            metadata: row.json("metadata")?,
        })
    }
}

/// Metadata to store: JSON `null` is stored as `{}`.
fn metadata(value: &Value) -> &Value {
    static EMPTY: LazyLock<Value> = LazyLock::new(|| Value::Object(serde_json::Map::new()));
    if value.is_null() { &EMPTY } else { value }
}

#[async_trait]
impl TraceStore for SqlStore {
    async fn write_batch(&self, traces: &[Trace], spans: &[Span]) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| store_error(e, "trace"))?;
        for trace in traces {
            let params = [
                trace.id.into(),
                trace.tenant_id.into(),
                trace.parent_trace_id.into(),
                trace.agent_id.into(),
                (&trace.session_key).into(),
                (&trace.run_id).into(),
                (&trace.user_id).into(),
                (&trace.channel).into(),
                (&trace.name).into(),
                (&trace.status).into(),
                trace.start_time.into(),
                trace.end_time.into(),
                trace.duration_ms.into(),
                trace.input_tokens.into(),
                trace.output_tokens.into(),
                trace.cache_read_tokens.into(),
                trace.cache_write_tokens.into(),
                trace.total_cost.into(),
                trace.span_count.into(),
                trace.llm_call_count.into(),
                trace.tool_call_count.into(),
                (&trace.error).into(),
                metadata(&trace.metadata).into(),
            ];
            tx.execute(&UPSERT_TRACE, &params)
                .await
                .map_err(|e| store_error_with_parent(e, "trace", "tenant"))?;
        }
        for span in spans {
            let params = [
                span.id.into(),
                span.trace_id.into(),
                span.parent_span_id.into(),
                (&span.span_type).into(),
                (&span.name).into(),
                (&span.status).into(),
                span.start_time.into(),
                span.end_time.into(),
                span.duration_ms.into(),
                (&span.model).into(),
                (&span.provider).into(),
                span.input_tokens.into(),
                span.output_tokens.into(),
                span.cache_read_tokens.into(),
                span.cache_write_tokens.into(),
                (&span.tool_name).into(),
                (&span.tool_call_id).into(),
                (&span.input_preview).into(),
                (&span.output_preview).into(),
                (&span.error).into(),
                metadata(&span.metadata).into(),
                span.trace_id.into(),
            ];
            tx.execute(&UPSERT_SPAN, &params)
                .await
                .map_err(|e| store_error(e, "span"))?;
        }
        tx.commit().await.map_err(|e| store_error(e, "trace"))
    }

    async fn list(
        &self,
        tenant: TenantId,
        filter: &TraceFilter,
    ) -> Result<(Vec<Trace>, u64), StoreError> {
        let limit = match filter.limit {
            0 => DEFAULT_LIMIT,
            n => n,
        };
        let mut params = filter_params(tenant, filter);
        let total = self
            .pool
            .fetch_one(&COUNT, &params)
            .await
            .map_err(|e| store_error(e, "trace"))?
            .read("traces")
            .int("total")?;
        params.push(i64::from(limit).into());
        params.push(i64::from(filter.offset).into());
        let traces = self
            .pool
            .fetch_all(&LIST, &params)
            .await
            .map_err(|e| store_error(e, "trace"))?
            .decode()?;
        Ok((traces, u64::try_from(total).unwrap_or_default()))
    }

    async fn get(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<(Trace, Vec<Span>)>, StoreError> {
        let Some(row) = self
            .pool
            .fetch_optional(&GET, &[tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, "trace"))?
        else {
            return Ok(None);
        };
        let spans = self
            .pool
            .fetch_all(&SPANS, &[id.into()])
            .await
            .map_err(|e| store_error(e, "span"))?
            .decode()?;
        Ok(Some((row.decode()?, spans)))
    }

    async fn close_running(&self, status: &str, error: &str) -> Result<u64, StoreError> {
        self.pool
            .execute(&CLOSE_RUNNING, &[status.into(), error.into()])
            .await
            .map_err(|e| store_error(e, "trace"))
    }

    async fn usage(
        &self,
        tenant: TenantId,
        query: &UsageQuery,
    ) -> Result<Vec<UsageTotals>, StoreError> {
        super::usage::usage(self, tenant, query).await
    }

    async fn request_counts(
        &self,
        tenant: TenantId,
        user: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Vec<RequestCounts>, StoreError> {
        super::usage::request_counts(self, tenant, user, now).await
    }

    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        self.pool
            .execute(&DELETE_BEFORE, &[cutoff.into()])
            .await
            .map_err(|e| store_error(e, "trace"))
    }
}

/// The parameters of [`LIST_CONDITION`]: the tenant, then each optional filter twice.
fn filter_params(tenant: TenantId, filter: &TraceFilter) -> Vec<Param<'_>> {
    vec![
        tenant.into(),
        filter.agent_id.into(),
        filter.agent_id.into(),
        (&filter.session_key).into(),
        (&filter.session_key).into(),
        (&filter.status).into(),
        (&filter.status).into(),
        (&filter.user_id).into(),
        (&filter.user_id).into(),
        (&filter.channel).into(),
        (&filter.channel).into(),
    ]
}
