//! Usage read from `traces`: what a tenant's top-level runs used, per UTC hour, per UTC day, in
//! total, per agent or per channel — and, from their model calls' spans, per provider or per
//! model ([`usage`]) — and how many runs users started in the last hour, day and week
//! ([`request_counts`], what `gateway.quota` is checked against).
//!
//! Hours and days are cut from the start time as UTC text (`{utc_text:…}`: the stored text on
//! SQLite, `to_char` on PostgreSQL), so both engines group alike. Sums are cast to `BIGINT`
//! because PostgreSQL's `SUM(BIGINT)` is `NUMERIC`.

use chrono::{DateTime, NaiveDateTime, Utc};
use goclaw_core::{RequestCounts, StoreError, TenantId, UsageGrouping, UsageQuery, UsageTotals};

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{Param, Row, Statement};

/// The sums of a group of runs, after its `bucket` column.
const TOTALS: &str = "COUNT(*) AS requests, \
     CAST(COALESCE(SUM(CASE WHEN status = 'error' THEN 1 ELSE 0 END), 0) AS BIGINT) AS errors, \
     COUNT(DISTINCT user_id) AS unique_users, \
     CAST(COALESCE(SUM(input_tokens), 0) AS BIGINT) AS input_tokens, \
     CAST(COALESCE(SUM(output_tokens), 0) AS BIGINT) AS output_tokens, \
     CAST(COALESCE(SUM(cache_read_tokens), 0) AS BIGINT) AS cache_read_tokens, \
     CAST(COALESCE(SUM(cache_write_tokens), 0) AS BIGINT) AS cache_write_tokens, \
     COALESCE(SUM(total_cost), 0.0) AS total_cost, \
     CAST(COALESCE(SUM(llm_call_count), 0) AS BIGINT) AS llm_calls, \
     CAST(COALESCE(SUM(tool_call_count), 0) AS BIGINT) AS tool_calls, \
     CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT) AS duration_ms";
/// The runs of a [`UsageQuery`]; each optional filter is bound twice.
const USAGE_CONDITION: &str = " FROM traces WHERE tenant_id = ? AND parent_trace_id IS NULL \
     AND start_time >= ? AND start_time < ? \
     AND (? IS NULL OR user_id = ?) AND (? IS NULL OR agent_id = ?) \
     AND (? IS NULL OR channel = ?)";

static BY_HOUR: Statement = Statement::joined(&[
    "SELECT substr({utc_text:start_time}, 1, 13) AS bucket, ",
    TOTALS,
    USAGE_CONDITION,
    " GROUP BY substr({utc_text:start_time}, 1, 13) ORDER BY bucket",
]);
static BY_DAY: Statement = Statement::joined(&[
    "SELECT substr({utc_text:start_time}, 1, 10) AS bucket, ",
    TOTALS,
    USAGE_CONDITION,
    " GROUP BY substr({utc_text:start_time}, 1, 10) ORDER BY bucket",
]);
static TOTAL: Statement = Statement::joined(&["SELECT '' AS bucket, ", TOTALS, USAGE_CONDITION]);
static BY_AGENT: Statement = Statement::joined(&[
    "SELECT COALESCE(CAST(agent_id AS TEXT), '') AS bucket, ",
    TOTALS,
    USAGE_CONDITION,
    " GROUP BY agent_id ORDER BY total_cost DESC, requests DESC, bucket",
]);
static BY_CHANNEL: Statement = Statement::joined(&[
    "SELECT COALESCE(channel, '') AS bucket, ",
    TOTALS,
    USAGE_CONDITION,
    " GROUP BY channel ORDER BY total_cost DESC, requests DESC, bucket",
]);

/// The sums of a group of model calls (spans `s` of the runs `t`), after its `bucket`.
const CALL_TOTALS: &str = "COUNT(DISTINCT s.trace_id) AS requests, \
     CAST(COALESCE(SUM(CASE WHEN s.status = 'error' THEN 1 ELSE 0 END), 0) AS BIGINT) AS errors, \
     COUNT(DISTINCT t.user_id) AS unique_users, \
     CAST(COALESCE(SUM(s.input_tokens), 0) AS BIGINT) AS input_tokens, \
     CAST(COALESCE(SUM(s.output_tokens), 0) AS BIGINT) AS output_tokens, \
     CAST(COALESCE(SUM(s.cache_read_tokens), 0) AS BIGINT) AS cache_read_tokens, \
     CAST(COALESCE(SUM(s.cache_write_tokens), 0) AS BIGINT) AS cache_write_tokens, \
     COALESCE(SUM({json_real:s.metadata,cost}), 0.0) AS total_cost, \
     COUNT(*) AS llm_calls, \
     CAST(0 AS BIGINT) AS tool_calls, \
     CAST(COALESCE(SUM(s.duration_ms), 0) AS BIGINT) AS duration_ms";
/// The model calls of the runs of a [`UsageQuery`], as `USAGE_CONDITION` selects the runs.
const CALL_CONDITION: &str = " FROM spans s JOIN traces t ON t.id = s.trace_id \
     WHERE t.tenant_id = ? AND t.parent_trace_id IS NULL \
     AND t.start_time >= ? AND t.start_time < ? \
     AND (? IS NULL OR t.user_id = ?) AND (? IS NULL OR t.agent_id = ?) \
     AND (? IS NULL OR t.channel = ?) AND s.span_type = 'llm_call'";
static BY_PROVIDER: Statement = Statement::joined(&[
    "SELECT s.provider AS bucket, ",
    CALL_TOTALS,
    CALL_CONDITION,
    " GROUP BY s.provider ORDER BY total_cost DESC, requests DESC, bucket",
]);
static BY_MODEL: Statement = Statement::joined(&[
    "SELECT s.model AS bucket, ",
    CALL_TOTALS,
    CALL_CONDITION,
    " GROUP BY s.model ORDER BY total_cost DESC, requests DESC, bucket",
]);

/// Top-level runs per user in the last hour, day and week (the bounds are bound in that
/// order, then the week's again for the range), busiest first.
const COUNTS: &str = "SELECT user_id, \
     CAST(COALESCE(SUM(CASE WHEN start_time >= ? THEN 1 ELSE 0 END), 0) AS BIGINT) AS hour_count, \
     CAST(COALESCE(SUM(CASE WHEN start_time >= ? THEN 1 ELSE 0 END), 0) AS BIGINT) AS day_count, \
     COUNT(*) AS week_count \
     FROM traces WHERE tenant_id = ? AND parent_trace_id IS NULL AND start_time >= ?";
static USER_COUNTS: Statement = Statement::joined(&[COUNTS, " AND user_id = ? GROUP BY user_id"]);
static ALL_COUNTS: Statement = Statement::joined(&[
    COUNTS,
    " GROUP BY user_id ORDER BY week_count DESC, user_id LIMIT 50",
]);

/// What the runs `query` selects used (see `TraceStore::usage`).
pub(super) async fn usage(
    store: &SqlStore,
    tenant: TenantId,
    query: &UsageQuery,
) -> Result<Vec<UsageTotals>, StoreError> {
    let statement = match query.grouping {
        UsageGrouping::Hour => &BY_HOUR,
        UsageGrouping::Day => &BY_DAY,
        UsageGrouping::Total => &TOTAL,
        UsageGrouping::Agent => &BY_AGENT,
        UsageGrouping::Channel => &BY_CHANNEL,
        UsageGrouping::Provider => &BY_PROVIDER,
        UsageGrouping::Model => &BY_MODEL,
    };
    let params: Vec<Param<'_>> = vec![
        tenant.into(),
        query.from.into(),
        query.to.into(),
        (&query.user_id).into(),
        (&query.user_id).into(),
        query.agent_id.into(),
        query.agent_id.into(),
        (&query.channel).into(),
        (&query.channel).into(),
    ];
    store
        .pool
        .fetch_all(statement, &params)
        .await
        .map_err(|e| store_error(e, "trace"))?
        .map("traces", |row| totals(row, query.grouping))
}

/// Runs started per user (see `TraceStore::request_counts`).
pub(super) async fn request_counts(
    store: &SqlStore,
    tenant: TenantId,
    user: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<RequestCounts>, StoreError> {
    let week_ago = now - chrono::Duration::days(7);
    let mut params: Vec<Param<'_>> = vec![
        (now - chrono::Duration::hours(1)).into(),
        (now - chrono::Duration::days(1)).into(),
        tenant.into(),
        week_ago.into(),
    ];
    let statement = match user {
        Some(user) => {
            params.push(user.into());
            &USER_COUNTS
        }
        None => &ALL_COUNTS,
    };
    store
        .pool
        .fetch_all(statement, &params)
        .await
        .map_err(|e| store_error(e, "trace"))?
        .map("traces", |row| {
            Ok(RequestCounts {
                user_id: row.text("user_id")?,
                hour: row.int("hour_count")?,
                day: row.int("day_count")?,
                week: row.int("week_count")?,
            })
        })
}

fn totals(row: &Row<'_>, grouping: UsageGrouping) -> Result<UsageTotals, StoreError> {
    let bucket = row.text("bucket")?;
    let (bucket, key) = if grouping.is_time() {
        (bucket_start(&bucket), String::new())
    } else {
        (None, bucket)
    };
    Ok(UsageTotals {
        bucket,
        key,
        requests: row.int("requests")?,
        errors: row.int("errors")?,
        unique_users: row.int("unique_users")?,
        input_tokens: row.int("input_tokens")?,
        output_tokens: row.int("output_tokens")?,
        cache_read_tokens: row.int("cache_read_tokens")?,
        cache_write_tokens: row.int("cache_write_tokens")?,
        total_cost: row.real("total_cost")?,
        llm_calls: row.int("llm_calls")?,
        tool_calls: row.int("tool_calls")?,
        duration_ms: row.int("duration_ms")?,
    })
}

/// The start of an hour (`2026-01-02T03`) or a day (`2026-01-02`) cut from UTC text; `None`
/// for the empty bucket of a total.
fn bucket_start(bucket: &str) -> Option<DateTime<Utc>> {
    let full = match bucket.len() {
        13 => format!("{bucket}:00:00"),
        10 => format!("{bucket}T00:00:00"),
        _ => return None,
    };
    NaiveDateTime::parse_from_str(&full, "%Y-%m-%dT%H:%M:%S")
        .ok()
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(bucket: &str, expected: Option<&str>) {
        let parsed = bucket_start(bucket).map(|t| t.to_rfc3339());
        assert_eq!(parsed.as_deref(), expected, "{bucket}");
    }

    #[test]
    fn buckets_are_read_as_utc_starts() {
        check("2026-01-02T03", Some("2026-01-02T03:00:00+00:00"));
        check("2026-01-02", Some("2026-01-02T00:00:00+00:00"));
        check("", None);
        check("2026-13-02", None);
    }
}
