//! Traces and spans on PostgreSQL: native `UUID`, `TIMESTAMPTZ` and `JSONB` columns.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{AgentId, Span, StoreError, TenantId, Trace, TraceFilter, TraceStore};
use uuid::Uuid;

use super::PostgresStore;
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
    id: Uuid,
    tenant_id: Uuid,
    parent_trace_id: Option<Uuid>,
    agent_id: Option<Uuid>,
    session_key: String,
    run_id: String,
    user_id: String,
    channel: String,
    name: String,
    status: String,
    start_time: DateTime<Utc>,
    end_time: Option<DateTime<Utc>>,
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
    metadata: serde_json::Value,
}

impl From<TraceRow> for Trace {
    fn from(row: TraceRow) -> Self {
        Trace {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            parent_trace_id: row.parent_trace_id,
            agent_id: row.agent_id.map(AgentId::from_uuid),
            session_key: row.session_key,
            run_id: row.run_id,
            user_id: row.user_id,
            channel: row.channel,
            name: row.name,
            status: row.status,
            start_time: row.start_time,
            end_time: row.end_time,
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
            metadata: row.metadata,
        }
    }
}

#[derive(sqlx::FromRow)]
struct SpanRow {
    id: Uuid,
    trace_id: Uuid,
    parent_span_id: Option<Uuid>,
    span_type: String,
    name: String,
    status: String,
    start_time: DateTime<Utc>,
    end_time: Option<DateTime<Utc>>,
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
    metadata: serde_json::Value,
}

impl From<SpanRow> for Span {
    fn from(row: SpanRow) -> Self {
        Span {
            id: row.id,
            trace_id: row.trace_id,
            parent_span_id: row.parent_span_id,
            span_type: row.span_type,
            name: row.name,
            status: row.status,
            start_time: row.start_time,
            end_time: row.end_time,
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
            metadata: row.metadata,
        }
    }
}

fn json_or_empty(value: &serde_json::Value) -> serde_json::Value {
    if value.is_null() {
        serde_json::json!({})
    } else {
        value.clone()
    }
}

#[async_trait]
impl TraceStore for PostgresStore {
    async fn write_batch(&self, traces: &[Trace], spans: &[Span]) -> Result<(), StoreError> {
        let mut tx = self
            .pool
            .begin()
            .await
            .map_err(|e| store_error(e, "trace"))?;
        let upsert_trace = format!(
            "INSERT INTO traces ({TRACE_COLUMNS}) VALUES \
             ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21, $22, $23) \
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
                .bind(trace.id)
                .bind(trace.tenant_id.as_uuid())
                .bind(trace.parent_trace_id)
                .bind(trace.agent_id.map(|id| id.as_uuid()))
                .bind(&trace.session_key)
                .bind(&trace.run_id)
                .bind(&trace.user_id)
                .bind(&trace.channel)
                .bind(&trace.name)
                .bind(&trace.status)
                .bind(trace.start_time)
                .bind(trace.end_time)
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
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, \
             $19, $20, $21 \
             WHERE EXISTS (SELECT 1 FROM traces WHERE id = $2) \
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
                .bind(span.id)
                .bind(span.trace_id)
                .bind(span.parent_span_id)
                .bind(&span.span_type)
                .bind(&span.name)
                .bind(&span.status)
                .bind(span.start_time)
                .bind(span.end_time)
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
            "SELECT {TRACE_COLUMNS} FROM traces WHERE tenant_id = $1 \
             AND ($2::uuid IS NULL OR agent_id = $2) \
             AND ($3::text IS NULL OR session_key = $3) \
             AND ($4::text IS NULL OR status = $4) \
             AND ($5::text IS NULL OR user_id = $5) \
             ORDER BY start_time DESC, id DESC LIMIT $6"
        );
        let rows = sqlx::query_as::<_, TraceRow>(&sql)
            .bind(tenant.as_uuid())
            .bind(filter.agent_id.map(|id| id.as_uuid()))
            .bind(&filter.session_key)
            .bind(&filter.status)
            .bind(&filter.user_id)
            .bind(i64::from(limit))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "trace"))?;
        Ok(rows.into_iter().map(Trace::from).collect())
    }

    async fn get(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<(Trace, Vec<Span>)>, StoreError> {
        let sql = format!("SELECT {TRACE_COLUMNS} FROM traces WHERE tenant_id = $1 AND id = $2");
        let Some(row) = sqlx::query_as::<_, TraceRow>(&sql)
            .bind(tenant.as_uuid())
            .bind(id)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "trace"))?
        else {
            return Ok(None);
        };
        let sql =
            format!("SELECT {SPAN_COLUMNS} FROM spans WHERE trace_id = $1 ORDER BY start_time, id");
        let spans = sqlx::query_as::<_, SpanRow>(&sql)
            .bind(id)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "span"))?
            .into_iter()
            .map(Span::from)
            .collect();
        Ok(Some((row.into(), spans)))
    }

    async fn close_running(&self, status: &str, error: &str) -> Result<u64, StoreError> {
        let sql = "UPDATE traces SET status = $1, error = $2, end_time = now(), \
             duration_ms = (EXTRACT(EPOCH FROM (now() - start_time)) * 1000)::BIGINT \
             WHERE status = 'running'";
        let done = sqlx::query(sql)
            .bind(status)
            .bind(error)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "trace"))?;
        Ok(done.rows_affected())
    }

    async fn delete_before(&self, cutoff: DateTime<Utc>) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM traces WHERE created_at < $1")
            .bind(cutoff)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "trace"))?;
        Ok(done.rows_affected())
    }
}
