//! Usage and cost as the dashboard reads them, computed from stored traces (top-level runs):
//! the totals of a period and of the period before it (`/v1/usage/summary`), totals per hour or
//! day (`/v1/usage/timeseries`) and per provider, model, agent or channel
//! (`/v1/usage/breakdown`), and today's totals with the `gateway.quota` counts
//! (`quota.usage`), in GoClaw's field names.
//!
//! Who sees what follows the `Filter::OwnUser` entries of these methods and routes: admins and
//! the owner see their whole tenant; everyone else only their own runs (their counts, their
//! cost, their quota entry). GoClaw's usage routes show every caller the whole gateway; a
//! multi-tenant gateway cannot, so its viewers and operators get their own share.

use chrono::{DateTime, Duration, Utc};
use goclaw_core::{
    AgentId, RequestCounts, StoreError, TenantId, UsageGrouping, UsageQuery, UsageTotals,
};
use serde::Serialize;
use utoipa::ToSchema;

use crate::request_quota::{QuotaLimits, RequestQuota};
use crate::routes::AppState;

/// Whose runs and which of them a usage answer adds up.
#[derive(Debug, Clone)]
pub struct UsageScope {
    pub tenant: TenantId,
    /// The only user counted; `None` for the whole tenant.
    pub user_id: Option<String>,
    pub agent_id: Option<AgentId>,
    pub channel: Option<String>,
}

impl UsageScope {
    fn query(&self, from: DateTime<Utc>, to: DateTime<Utc>, grouping: UsageGrouping) -> UsageQuery {
        UsageQuery {
            from,
            to,
            user_id: self.user_id.clone(),
            agent_id: self.agent_id,
            channel: self.channel.clone(),
            grouping,
        }
    }
}

/// The totals of one period (GoClaw's `usageSummary`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, ToSchema)]
pub struct UsagePeriodTotals {
    /// Top-level runs started in the period.
    pub requests: i64,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Cost by `telemetry.model_pricing` (0 for unpriced models).
    pub cost: f64,
    pub unique_users: i64,
    /// Runs that ended in error.
    pub errors: i64,
    pub llm_calls: i64,
    pub tool_calls: i64,
    pub avg_duration_ms: i64,
}

/// `GET /v1/usage/summary`: a period and the one of the same length before it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UsageComparison {
    pub current: UsagePeriodTotals,
    pub previous: UsagePeriodTotals,
}

/// One hour or day of `GET /v1/usage/timeseries` (GoClaw's `SnapshotTimeSeries`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UsageBucket {
    /// Start of the hour or day (UTC).
    pub bucket_time: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_create_tokens: i64,
    /// Always 0: runs do not store their reasoning tokens apart.
    pub thinking_tokens: i64,
    pub total_cost: f64,
    pub request_count: i64,
    pub llm_call_count: i64,
    pub tool_call_count: i64,
    pub error_count: i64,
    pub unique_users: i64,
    pub avg_duration_ms: i64,
}

/// `GET /v1/usage/timeseries`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UsageSeries {
    pub points: Vec<UsageBucket>,
}

/// One group of `GET /v1/usage/breakdown` (GoClaw's `SnapshotBreakdown`).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct UsageGroup {
    /// The provider's or model's name, the agent's id or the channel.
    pub key: String,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub cache_read_tokens: i64,
    pub cache_create_tokens: i64,
    pub total_cost: f64,
    /// Runs in the group (for providers and models: runs with a call to it).
    pub request_count: i64,
    pub llm_call_count: i64,
    /// Tool calls of the runs; 0 in provider and model groups (tools are not a model's).
    pub tool_call_count: i64,
    pub error_count: i64,
    pub avg_duration_ms: i64,
}

/// `GET /v1/usage/breakdown`.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct UsageBreakdown {
    pub rows: Vec<UsageGroup>,
}

/// The groupings `/v1/usage/breakdown` knows, by their `group_by` names.
pub fn breakdown_grouping(name: &str) -> Option<UsageGrouping> {
    match name {
        "provider" => Some(UsageGrouping::Provider),
        "model" => Some(UsageGrouping::Model),
        "agent" => Some(UsageGrouping::Agent),
        "channel" => Some(UsageGrouping::Channel),
        _ => None,
    }
}

/// Totals of `[from, to)` per group, the costliest first.
pub async fn breakdown(
    state: &AppState,
    scope: &UsageScope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    grouping: UsageGrouping,
) -> Result<UsageBreakdown, StoreError> {
    let rows = state
        .store
        .traces()
        .usage(scope.tenant, &scope.query(from, to, grouping))
        .await?;
    Ok(UsageBreakdown {
        rows: rows
            .iter()
            .map(|totals| UsageGroup {
                key: totals.key.clone(),
                input_tokens: totals.input_tokens,
                output_tokens: totals.output_tokens,
                cache_read_tokens: totals.cache_read_tokens,
                cache_create_tokens: totals.cache_write_tokens,
                total_cost: totals.total_cost,
                request_count: totals.requests,
                llm_call_count: totals.llm_calls,
                tool_call_count: totals.tool_calls,
                error_count: totals.errors,
                avg_duration_ms: average(totals),
            })
            .collect(),
    })
}

/// The periods `/v1/usage/summary` knows; anything else is `24h`, as in GoClaw.
pub fn period_start(period: &str, now: DateTime<Utc>) -> (DateTime<Utc>, DateTime<Utc>) {
    match period {
        "today" => {
            let midnight = start_of_day(now);
            (midnight, midnight - Duration::days(1))
        }
        "7d" => (now - Duration::days(7), now - Duration::days(14)),
        "30d" => (now - Duration::days(30), now - Duration::days(60)),
        _ => (now - Duration::hours(24), now - Duration::hours(48)),
    }
}

fn start_of_day(now: DateTime<Utc>) -> DateTime<Utc> {
    now.date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |midnight| midnight.and_utc())
}

/// The totals of `[from, to)`.
pub async fn period_totals(
    state: &AppState,
    scope: &UsageScope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<UsageTotals, StoreError> {
    let rows = state
        .store
        .traces()
        .usage(scope.tenant, &scope.query(from, to, UsageGrouping::Total))
        .await?;
    Ok(rows.into_iter().next().unwrap_or_default())
}

/// `summary` of `period` ending now.
pub async fn comparison(
    state: &AppState,
    scope: &UsageScope,
    period: &str,
) -> Result<UsageComparison, StoreError> {
    let now = Utc::now();
    let (current_from, previous_from) = period_start(period, now);
    let current = period_totals(state, scope, current_from, now).await?;
    let previous = period_totals(state, scope, previous_from, current_from).await?;
    Ok(UsageComparison {
        current: period_view(&current),
        previous: period_view(&previous),
    })
}

/// Totals of `[from, to)` per hour or day, oldest first; hours and days without runs are left
/// out.
pub async fn series(
    state: &AppState,
    scope: &UsageScope,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    by_day: bool,
) -> Result<UsageSeries, StoreError> {
    let grouping = if by_day {
        UsageGrouping::Day
    } else {
        UsageGrouping::Hour
    };
    let rows = state
        .store
        .traces()
        .usage(scope.tenant, &scope.query(from, to, grouping))
        .await?;
    Ok(UsageSeries {
        points: rows.iter().map(bucket_view).collect(),
    })
}

pub fn period_view(totals: &UsageTotals) -> UsagePeriodTotals {
    UsagePeriodTotals {
        requests: totals.requests,
        input_tokens: totals.input_tokens,
        output_tokens: totals.output_tokens,
        cost: totals.total_cost,
        unique_users: totals.unique_users,
        errors: totals.errors,
        llm_calls: totals.llm_calls,
        tool_calls: totals.tool_calls,
        avg_duration_ms: average(totals),
    }
}

fn bucket_view(totals: &UsageTotals) -> UsageBucket {
    UsageBucket {
        bucket_time: totals.bucket.map(|t| t.to_rfc3339()).unwrap_or_default(),
        input_tokens: totals.input_tokens,
        output_tokens: totals.output_tokens,
        cache_read_tokens: totals.cache_read_tokens,
        cache_create_tokens: totals.cache_write_tokens,
        thinking_tokens: 0,
        total_cost: totals.total_cost,
        request_count: totals.requests,
        llm_call_count: totals.llm_calls,
        tool_call_count: totals.tool_calls,
        error_count: totals.errors,
        unique_users: totals.unique_users,
        avg_duration_ms: average(totals),
    }
}

fn average(totals: &UsageTotals) -> i64 {
    if totals.requests > 0 {
        totals.duration_ms / totals.requests
    } else {
        0
    }
}

/// Used and allowed requests in one window (0 = unlimited).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct WindowUse {
    pub used: i64,
    pub limit: u32,
}

/// One user's quota consumption.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct QuotaEntry {
    pub user_id: String,
    pub hour: WindowUse,
    pub day: WindowUse,
    pub week: WindowUse,
}

/// `quota.usage` (GoClaw's `QuotaUsageResult`).
#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct QuotaUsage {
    pub enabled: bool,
    pub requests_today: i64,
    pub input_tokens_today: i64,
    pub output_tokens_today: i64,
    pub cost_today: f64,
    pub unique_users_today: i64,
    pub entries: Vec<QuotaEntry>,
}

/// Today's (UTC) totals, and with quotas on, each user's counts against their limits (the 50
/// busiest of the week, or only the caller's own below admin).
pub async fn quota_usage(
    state: &AppState,
    quota: Option<&RequestQuota>,
    scope: &UsageScope,
) -> Result<QuotaUsage, StoreError> {
    let now = Utc::now();
    let today = period_totals(state, scope, start_of_day(now), now + Duration::seconds(1)).await?;
    let enabled = quota.is_some_and(|q| q.rules().enabled);
    let mut entries = Vec::new();
    if let Some(quota) = quota.filter(|_| enabled) {
        let counts = state
            .store
            .traces()
            .request_counts(scope.tenant, scope.user_id.as_deref(), now)
            .await?;
        entries = counts
            .iter()
            .map(|c| quota_entry(c, quota.rules().limits_for(&c.user_id, "", "")))
            .collect();
    }
    Ok(QuotaUsage {
        enabled,
        requests_today: today.requests,
        input_tokens_today: today.input_tokens,
        output_tokens_today: today.output_tokens,
        cost_today: today.total_cost,
        unique_users_today: today.unique_users,
        entries,
    })
}

fn quota_entry(counts: &RequestCounts, limits: QuotaLimits) -> QuotaEntry {
    let window = |used, limit| WindowUse { used, limit };
    QuotaEntry {
        user_id: counts.user_id.clone(),
        hour: window(counts.hour, limits.hour),
        day: window(counts.day, limits.day),
        week: window(counts.week, limits.week),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn check(period: &str, current: &str, previous: &str) {
        let (c, p) = period_start(period, at("2026-03-10T15:30:00Z"));
        assert_eq!((c, p), (at(current), at(previous)), "{period}");
    }

    #[test]
    fn periods_are_goclaws() {
        check("today", "2026-03-10T00:00:00Z", "2026-03-09T00:00:00Z");
        check("24h", "2026-03-09T15:30:00Z", "2026-03-08T15:30:00Z");
        check("7d", "2026-03-03T15:30:00Z", "2026-02-24T15:30:00Z");
        check("30d", "2026-02-08T15:30:00Z", "2026-01-09T15:30:00Z");
        check("whatever", "2026-03-09T15:30:00Z", "2026-03-08T15:30:00Z");
    }

    #[test]
    fn averages_are_over_runs() {
        let totals = UsageTotals {
            requests: 4,
            duration_ms: 1000,
            ..UsageTotals::default()
        };
        assert_eq!(period_view(&totals).avg_duration_ms, 250);
        assert_eq!(period_view(&UsageTotals::default()).avg_duration_ms, 0);
    }
}
