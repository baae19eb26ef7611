//! Traces and spans on SQLite: ids are UUID text, times ISO-8601 text with milliseconds (the
//! format SQLite's own `created_at` default writes, so text order is time order), JSON text.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{Span, StoreError, TenantId, Trace, TraceFilter, TraceStore};
use uuid::Uuid;

use super::{NOW, SqliteStore, parse_id, parse_json, parse_time};
use crate::error::{store_error, store_error_with_parent};

const TRACE_COLUMNS: &str = "id, tenant_id, parent_trace_id, agent_id, session_key, run_id, \
    user_id, channel, name, status, start_time, end_time, duration_ms, input_tokens, \
    output_tokens, cache_read_tokens, cache_write_tokens, total_cost, span_count, \
    llm_call_count, tool_call_count, error, metadata";

const SPAN_COLUMNS: &str = "id, trace_id, parent_span_id, span_type, name, status, start_time, \
    end_time, duration_ms, model, provider, input_tokens, output_tokens, cache_read_tokens, \
    cache_write_tokens, tool_name, tool_call_id, input_preview, output_preview, error, metadata";

/// The default and the ceiling of `TraceFilter::limit`.
const DEFAULT_LIMIT: u32 = 50;

#[derive(sqlx::FromRow)]
struct TraceRow {
    id: String,
    tenant_id: String,
    parent_trace_id: Option<String>,
    agent_id: Option<String>,
    session_key: String,
    run_id: String,
    user_id: String,
    channel: String,
    name: String,
    status: String,
    start_time: String,
    end_time: Option<String>,
    duration_ms: Option<i64>,
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_write_tokens: i64,
    total_cost: f64,
    span_count: i32,
    llm_call_count: i32,
    tool_call_count: i32,
    error: Option<String>,
    metadata: String,
}

impl TryFrom<TraceRow> for Trace {
    type Error = StoreError;

    fn try_from(row: TraceRow) -> Result<Self, StoreError> {
        const T: &str = "traces";
        Ok(Trace {
            id: parse_id(T, &row.id)?,
            tenant_id: parse_id(T, &row.tenant_id)?,
            parent_trace_id: row.parent_trace_id.map(|t| parse_id(T, &t)).transpose()?,
            agent_id: row.agent_id.map(|t| parse_id(T, &t)).transpose()?,
            session_key: row.session_key,
            run_id: row.run_id,
            user_id: row.user_id,
            channel: row.channel,
            name: row.name,
            status: row.status,
            start_time: parse_time(T, &row.start_time)?,
            end_time: row.end_time.map(|t| parse_time(T, &t)).transpose()?,
            duration_ms: row.duration_ms,
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            cache_read_tokens: row.cache_read_tokens,
            cache_write_tokens: row.cache_write_tokens,
            total_cost: row.total_cost,
            span_count: row.span_count,
            llm_call_count: row.llm_call_count,
            tool_call_count: row.tool_call_count,
            error: row.error,
            metadata: parse_json(T, Some(&row.metadata))?,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SpanRow {
    id: String,
    trace_id: String,
    parent_span_id: Option<String>,
    span_type: String,
    name: String,
    status: String,
    start_time: String,
    end_time: Option<String>,
    duration_ms: Option<i64>,
    model: String,
    provider: String,
    input_tokens: i64,
    output_tokens: i64,
    cache_read_tokens: i64,
    cache_write_tokens: i64,
    tool_name: Option<String>,
    tool_call_id: Option<String>,
    input_preview: Option<String>,
    output_preview: Option<String>,
    error: Option<String>,
    metadata: String,
}

impl TryFrom<SpanRow> for Span {
    type Error = StoreError;

    fn try_from(row: SpanRow) -> Result<Self, StoreError> {
        const T: &str = "spans";
        Ok(Span {
            id: parse_id(T, &row.id)?,
            trace_id: parse_id(T, &row.trace_id)?,
            parent_span_id: row.parent_span_id.map(|t| parse_id(T, &t)).transpose()?,
            span_type: row.span_type,
            name: row.name,
            status: row.status,
            start_time: parse_time(T, &row.start_time)?,
            end_time: row.end_time.map(|t| parse_time(T, &t)).transpose()?,
            duration_ms: row.duration_ms,
            model: row.model,
            provider: row.provider,
            input_tokens: row.input_tokens,
            output_tokens: row.output_tokens,
            cache_read_tokens: row.cache_read_tokens,
            cache_write_tokens: row.cache_write_tokens,
            tool_name: row.tool_name,
            tool_call_id: row.tool_call_id,
            input_preview: row.input_preview,
            output_preview: row.output_preview,
            error: row.error,
            metadata: parse_json(T, Some(&row.metadata))?,
        })
    }
}

fn time_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn json_or_empty(value: &serde_json::Value) -> String {
    if value.is_null() {
        "{}".to_owned()
    } else {
        value.to_string()
    }
}

#[async_trait]
impl TraceStore for SqliteStore {
    async fn write_batch(&self, traces: &[Trace], spans: &[Span]) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| store_error(e, "trace"))?;
        let upsert_trace = format!(
            "INSERT INTO traces ({TRACE_COLUMNS}) VALUES \
             (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) \
             ON CONFLICT (id) DO UPDATE SET agent_id = excluded.agent_id, \
             session_key = excluded.session_key, run_id = excluded.run_id, \
             user_id = excluded.user_id, channel = excluded.channel, name = excluded.name, \
             status = excluded.status, end_time = excluded.end_time, \
             duration_ms = excluded.duration_ms, input_tokens = excluded.input_tokens, \
             output_tokens = excluded.output_tokens, \
             cache_read_tokens = excluded.cache_read_tokens, \
             cache_write_tokens = excluded.cache_write_tokens, total_cost = excluded.total_cost, \
             span_count = excluded.span_count, llm_call_count = excluded.llm_call_count, \
             tool_call_count = excluded.tool_call_count, error = excluded.error, \
             metadata = excluded.metadata"
        );
        for trace in traces {
            sqlx::query(&upsert_trace)
                .bind(trace.id.to_string())
                .bind(trace.tenant_id.to_string())
                .bind(trace.parent_trace_id.map(|id| id.to_string()))
                .bind(trace.agent_id.map(|id| id.to_string()))
                .bind(&trace.session_key)
                .bind(&trace.run_id)
                .bind(&trace.user_id)
                .bind(&trace.channel)
                .bind(&trace.name)
                .bind(&trace.status)
                .bind(time_text(trace.start_time))
                .bind(trace.end_time.map(time_text))
                .bind(trace.duration_ms)
                .bind(trace.input_tokens)
                .bind(trace.output_tokens)
                .bind(trace.cache_read_tokens)
                .bind(trace.cache_write_tokens)
                .bind(trace.total_cost)
                .bind(trace.span_count)
                .bind(trace.llm_call_count)
                .bind(trace.tool_call_count)
                .bind(&trace.error)
                .bind(json_or_empty(&trace.metadata))
                .execute(&mut *tx)
                .await
                .map_err(|e| store_error_with_parent(e, "trace", "tenant"))?;
        }
        // Spans of traces that are not stored are skipped (see the trait).
        let upsert_span = format!(
            "INSERT INTO spans ({SPAN_COLUMNS}) \
             SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? \
             WHERE EXISTS (SELECT 1 FROM traces WHERE id = ?) \
             ON CONFLICT (id) DO UPDATE SET status = excluded.status, \
             end_time = excluded.end_time, duration_ms = excluded.duration_ms, \
             input_tokens = excluded.input_tokens, output_tokens = excluded.output_tokens, \
             cache_read_tokens = excluded.cache_read_tokens, \
             cache_write_tokens = excluded.cache_write_tokens, \
             output_preview = excluded.output_preview, error = excluded.error, \
             metadata = excluded.metadata"
        );
        for span in spans {
            sqlx::query(&upsert_span)
                .bind(span.id.to_string())
                .bind(span.trace_id.to_string())
                .bind(span.parent_span_id.map(|id| id.to_string()))
                .bind(&span.span_type)
                .bind(&span.name)
                .bind(&span.status)
                .bind(time_text(span.start_time))
                .bind(span.end_time.map(time_text))
                .bind(span.duration_ms)
                .bind(&span.model)
                .bind(&span.provider)
                .bind(span.input_tokens)
                .bind(span.output_tokens)
                .bind(span.cache_read_tokens)
                .bind(span.cache_write_tokens)
                .bind(&span.tool_name)
                .bind(&span.tool_call_id)
                .bind(&span.input_preview)
                .bind(&span.output_preview)
                .bind(&span.error)
                .bind(json_or_empty(&span.metadata))
                .bind(span.trace_id.to_string())
                .execute(&mut *tx)
                .await
                .map_err(|e| store_error(e, "span"))?;
        }
        tx.commit().await.map_err(|e| store_error(e, "trace"))
    }

    async fn list(&self, tenant: TenantId, filter: &TraceFilter) -> Result<Vec<Trace>, StoreError> {
        let limit = match filter.limit {
            0 => DEFAULT_LIMIT,
            n => n,
        };
        let sql = format!(
            "SELECT {TRACE_COLUMNS} FROM traces WHERE tenant_id = ? \
             AND (? IS NULL OR agent_id = ?) AND (? IS NULL OR session_key = ?) \
             AND (? IS NULL OR status = ?) AND (? IS NULL OR user_id = ?) \
             ORDER BY start_time DESC, id DESC LIMIT ?"
        );
        let agent = filter.agent_id.map(|id| id.to_string());
        let rows = sqlx::query_as::<_, TraceRow>(&sql)
            .bind(tenant.to_string())
            .bind(&agent)
            .bind(&agent)
            .bind(&filter.session_key)
            .bind(&filter.session_key)
            .bind(&filter.status)
            .bind(&filter.status)
            .bind(&filter.user_id)
            .bind(&filter.user_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "trace"))?;
        rows.into_iter().map(Trace::try_from).collect()
    }

    async fn get(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<(Trace, Vec<Span>)>, StoreError> {
        let sql = format!("SELECT {TRACE_COLUMNS} FROM traces WHERE tenant_id = ? AND id = ?");
        let Some(row) = sqlx::query_as::<_, TraceRow>(&sql)
            .bind(tenant.to_string())
            .bind(id.to_string())
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "trace"))?
        else {
            return Ok(None);
        };
        let sql =
            format!("SELECT {SPAN_COLUMNS} FROM spans WHERE trace_id = ? ORDER BY start_time, id");
        let spans = sqlx::query_as::<_, SpanRow>(&sql)
            .bind(id.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "span"))?
            .into_iter()
            .map(Span::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Some((row.try_into()?, spans)))
    }

    async fn close_running(&self, status: &str, error: &str) -> Result<u64, StoreError> {
        let sql = format!(
            "UPDATE traces SET status = ?, error = ?, end_time = {NOW}, \
             duration_ms = CAST((julianday({NOW}) - julianday(start_time)) * 86400000 AS INTEGER) \
             WHERE status = 'running'"
        );
        let done = sqlx::query(&sql)
            .bind(status)
            .bind(error)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "trace"))?;
        Ok(done.rows_affected())
    }

    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM traces WHERE created_at < ?")
            .bind(time_text(cutoff))
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "trace"))?;
        Ok(done.rows_affected())
    }
}
