//! `usage.get`, `usage.summary` and `quota.usage` (viewer), in GoClaw's shapes.
//!
//! `usage.get` and `usage.summary` are GoClaw's per-session token tallies: sessions with tokens,
//! newest first (`{records, total, limit, offset}`), and their sums per agent (`{byAgent,
//! totalRecords}`). `quota.usage` is today's totals from traces with the `gateway.quota` counts
//! (`crate::usage::quota_usage`). All three follow their `Filter::OwnUser` entries: below admin
//! a caller sees only their own sessions and runs.

use std::collections::BTreeMap;

use goclaw_core::{Session, SessionFilter};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Ctx;
use super::params::{agent_of_session, parse};
use super::sessions::store_error;
use crate::usage::{UsageScope, quota_usage};
use crate::ws::frames::ErrorShape;

/// The most sessions the tallies read.
const MAX_SESSIONS: u32 = 1000;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct GetParams {
    agent_id: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// One session's tokens (GoClaw's `UsageRecord`).
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UsageRecord {
    agent_id: String,
    session_key: String,
    model: String,
    provider: String,
    input_tokens: i64,
    output_tokens: i64,
    total_tokens: i64,
    /// When the session last changed, in milliseconds since the epoch.
    timestamp: i64,
}

/// Sums of one agent's sessions.
#[derive(Serialize, Default)]
#[serde(rename_all = "camelCase")]
struct AgentTotals {
    input_tokens: i64,
    output_tokens: i64,
    total_tokens: i64,
    sessions: i64,
}

/// `usage.get`: sessions with tokens, newest first, one page of `limit` (default 20).
pub async fn get(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: GetParams = parse(params)?;
    let limit = params.limit.filter(|l| *l > 0).unwrap_or(20).min(200);
    let sessions = sessions_with_tokens(ctx, params.agent_id.as_deref()).await?;
    let total = sessions.len();
    let offset = usize::try_from(params.offset.unwrap_or(0).max(0))
        .unwrap_or(usize::MAX)
        .min(total);
    let records: Vec<UsageRecord> = sessions
        .iter()
        .skip(offset)
        .take(usize::try_from(limit).unwrap_or(20))
        .map(record)
        .collect();
    Ok(json!({
        "records": records,
        "total": total,
        "limit": limit,
        "offset": offset,
    }))
}

/// `usage.summary`: the sessions' tokens summed per agent.
pub async fn summary(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let sessions = sessions_with_tokens(ctx, None).await?;
    let mut by_agent: BTreeMap<String, AgentTotals> = BTreeMap::new();
    for session in &sessions {
        let totals = by_agent.entry(agent_of(session)).or_default();
        totals.input_tokens += session.input_tokens;
        totals.output_tokens += session.output_tokens;
        totals.total_tokens += session.input_tokens + session.output_tokens;
        totals.sessions += 1;
    }
    Ok(json!({ "byAgent": by_agent, "totalRecords": sessions.len() }))
}

/// `quota.usage`: today's requests, tokens and cost, and each user's quota counts.
pub async fn quota(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let scope = UsageScope {
        tenant: ctx.principal.tenant_id,
        user_id: ctx.listing_user(),
        agent_id: None,
        channel: None,
    };
    let quota = ctx.state.quota.as_deref();
    let usage = quota_usage(ctx.state, quota, &scope)
        .await
        .map_err(|e| store_error(&e))?;
    serde_json::to_value(usage).map_err(|_| ErrorShape::internal("internal error"))
}

/// The caller's sessions (their tenant's below admin: their own) that used tokens, newest
/// first; of one agent when `agent` names one (by key), none when it names none.
async fn sessions_with_tokens(
    ctx: &Ctx<'_>,
    agent: Option<&str>,
) -> Result<Vec<Session>, ErrorShape> {
    let tenant = ctx.principal.tenant_id;
    let agent_id = match agent.map(str::trim).filter(|a| !a.is_empty()) {
        None => None,
        Some(key) => {
            let agents = ctx
                .state
                .store
                .agents()
                .list(tenant)
                .await
                .map_err(|e| store_error(&e))?;
            match agents
                .iter()
                .find(|a| a.agent_key.as_str() == key || a.id.to_string() == key)
            {
                Some(agent) => Some(agent.id),
                None => return Ok(Vec::new()),
            }
        }
    };
    let filter = SessionFilter {
        agent_id,
        user_id: ctx.listing_user(),
        channel: None,
        limit: MAX_SESSIONS,
        offset: 0,
    };
    let (mut sessions, _) = ctx
        .state
        .store
        .sessions()
        .list(tenant, &filter)
        .await
        .map_err(|e| store_error(&e))?;
    sessions.retain(|s| s.input_tokens != 0 || s.output_tokens != 0);
    sessions.sort_by_key(|s| std::cmp::Reverse(s.updated_at));
    Ok(sessions)
}

fn agent_of(session: &Session) -> String {
    let key = session.session_key.as_str();
    agent_of_session(key).unwrap_or(key).to_owned()
}

fn record(session: &Session) -> UsageRecord {
    UsageRecord {
        agent_id: agent_of(session),
        session_key: session.session_key.to_string(),
        model: session.model.clone(),
        provider: String::new(),
        input_tokens: session.input_tokens,
        output_tokens: session.output_tokens,
        total_tokens: session.input_tokens + session.output_tokens,
        timestamp: session.updated_at.timestamp_millis(),
    }
}
