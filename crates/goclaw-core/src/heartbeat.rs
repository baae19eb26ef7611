//! Heartbeats: an agent's periodic check-in, one per agent. Every `interval_sec` the agent is
//! given its checklist (the `HEARTBEAT.md` context file) and either answers `HEARTBEAT_OK`
//! (nothing to report: the answer is kept in the run log only) or says something worth
//! delivering to the heartbeat's chat.
//!
//! **Schedule.** The first run is due one interval plus a stagger after the heartbeat is
//! enabled ([`stagger_secs`], FNV-1a of the agent's id, under a tenth of the interval, so
//! agents enabled together do not all run at once); each later one one interval after the
//! slot before, moved past now — or, when more than one interval behind (a gateway was
//! down), one interval from now, so a backlog is never replayed ([`next_run_at`]).
//!
//! **Once per slot.** Firing starts with [`HeartbeatStore::claim`], a compare-and-set of
//! `next_run_at` from the due slot to the next, which only one claimer (of any gateway) wins.

use async_trait::async_trait;
use chrono::{DateTime, TimeDelta, Timelike, Utc};
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// The interval of a new heartbeat (30 minutes).
pub const DEFAULT_INTERVAL_SEC: i64 = 1800;
/// The shortest interval allowed.
pub const MIN_INTERVAL_SEC: i64 = 300;
/// The `ack_max_chars` of a new heartbeat.
pub const DEFAULT_ACK_MAX_CHARS: i64 = 300;
/// The retries of a new heartbeat.
pub const DEFAULT_MAX_RETRIES: i64 = 2;
/// The most retries allowed.
pub const MAX_RETRIES_LIMIT: i64 = 10;
/// The context file holding an agent's checklist.
pub const CHECKLIST_FILE: &str = "HEARTBEAT.md";
/// The token an answer carries when there is nothing to report.
pub const ACK_TOKEN: &str = "HEARTBEAT_OK";

/// What `heartbeat.set` changes: the heartbeat's settings, not its run state.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatConfig {
    pub enabled: bool,
    pub interval_sec: i64,
    /// The message each run starts with; `None` for the default.
    pub prompt: Option<String>,
    /// A stored provider chosen for heartbeat runs (`llm_providers.id`).
    pub provider_id: Option<Uuid>,
    /// The model heartbeat runs call instead of the agent's.
    pub model: Option<String>,
    /// Each run in a fresh session, deleted after it.
    pub isolated_session: bool,
    pub light_context: bool,
    pub ack_max_chars: i64,
    pub max_retries: i64,
    /// `HH:MM` in `timezone`; outside `start..end` (which may wrap midnight) runs are skipped.
    pub active_hours_start: Option<String>,
    pub active_hours_end: Option<String>,
    /// An IANA zone; UTC when `None`.
    pub timezone: Option<String>,
    /// Where answers worth reporting are delivered.
    pub channel: Option<String>,
    pub chat_id: Option<String>,
}

impl Default for HeartbeatConfig {
    /// GoClaw's defaults: disabled, every 30 minutes, isolated, 2 retries.
    fn default() -> Self {
        Self {
            enabled: false,
            interval_sec: DEFAULT_INTERVAL_SEC,
            prompt: None,
            provider_id: None,
            model: None,
            isolated_session: true,
            light_context: false,
            ack_max_chars: DEFAULT_ACK_MAX_CHARS,
            max_retries: DEFAULT_MAX_RETRIES,
            active_hours_start: None,
            active_hours_end: None,
            timezone: None,
            channel: None,
            chat_id: None,
        }
    }
}

/// An agent's heartbeat as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Heartbeat {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// One heartbeat per agent; deleting the agent deletes it.
    pub agent_id: AgentId,
    pub config: HeartbeatConfig,
    /// The next slot; `None` until first enabled.
    pub next_run_at: Option<DateTime<Utc>>,
    pub last_run_at: Option<DateTime<Utc>>,
    pub last_status: Option<String>,
    pub last_error: Option<String>,
    /// Runs that reached the agent (skips are not counted).
    pub run_count: i64,
    /// Runs answered `HEARTBEAT_OK`.
    pub suppress_count: i64,
    pub metadata: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// How a run went, as GoClaw's run logs spell it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HeartbeatStatus {
    /// Answered with something to report (delivered when a chat is set).
    Ok,
    /// Answered `HEARTBEAT_OK`: nothing delivered.
    Suppressed,
    Error,
    /// Not run (outside active hours, an empty checklist).
    Skipped,
}

impl HeartbeatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HeartbeatStatus::Ok => "ok",
            HeartbeatStatus::Suppressed => "suppressed",
            HeartbeatStatus::Error => "error",
            HeartbeatStatus::Skipped => "skipped",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "ok" => HeartbeatStatus::Ok,
            "suppressed" => HeartbeatStatus::Suppressed,
            "error" => HeartbeatStatus::Error,
            "skipped" => HeartbeatStatus::Skipped,
            _ => return None,
        })
    }
}

/// One run of a heartbeat, to be recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct NewHeartbeatRun {
    pub heartbeat_id: Uuid,
    pub status: HeartbeatStatus,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    /// Why a skipped run was skipped (`active_hours`, `empty_checklist`).
    pub skip_reason: Option<String>,
    pub ran_at: DateTime<Utc>,
}

/// One recorded run of a heartbeat.
#[derive(Debug, Clone, PartialEq)]
pub struct HeartbeatRun {
    pub id: Uuid,
    pub heartbeat_id: Uuid,
    pub tenant_id: TenantId,
    pub agent_id: AgentId,
    pub status: HeartbeatStatus,
    pub summary: Option<String>,
    pub error: Option<String>,
    pub duration_ms: Option<i64>,
    pub input_tokens: i64,
    pub output_tokens: i64,
    pub skip_reason: Option<String>,
    pub ran_at: DateTime<Utc>,
    pub created_at: DateTime<Utc>,
}

/// Agents' heartbeats and their run logs.
#[async_trait]
pub trait HeartbeatStore: Send + Sync {
    /// `agent`'s heartbeat, if it has one; `None` as well for another tenant's agent.
    async fn get(&self, tenant: TenantId, agent: AgentId) -> Result<Option<Heartbeat>, StoreError>;

    /// Creates `agent`'s heartbeat or replaces its settings and next slot, keeping its run
    /// state; `NotFound` when the tenant or a live agent of it is missing.
    async fn upsert(
        &self,
        tenant: TenantId,
        agent: AgentId,
        config: &HeartbeatConfig,
        next_run_at: Option<DateTime<Utc>>,
    ) -> Result<Heartbeat, StoreError>;

    /// Enabled heartbeats of every tenant due at `now`, the most overdue first, at most
    /// `limit`. Reading them claims nothing.
    async fn due(&self, now: DateTime<Utc>, limit: u32) -> Result<Vec<Heartbeat>, StoreError>;

    /// Moves an enabled heartbeat's `next_run_at` from `due_at` to `next_run_at` only if it is
    /// still `due_at`. Of any number of claimers of one slot exactly one gets `true`.
    async fn claim(
        &self,
        id: Uuid,
        due_at: DateTime<Utc>,
        next_run_at: DateTime<Utc>,
    ) -> Result<bool, StoreError>;

    /// Records a run; unless it was skipped, also its status on the heartbeat (`last_*`,
    /// `run_count` + 1, `suppress_count` + 1 when suppressed), in one transaction.
    /// `NotFound` when the heartbeat is gone.
    async fn record_run(&self, run: NewHeartbeatRun) -> Result<HeartbeatRun, StoreError>;

    /// A page of `agent`'s runs, newest first, and how many it has in all.
    async fn runs(
        &self,
        tenant: TenantId,
        agent: AgentId,
        limit: u32,
        offset: u32,
    ) -> Result<(Vec<HeartbeatRun>, u64), StoreError>;
}

/// The deterministic part of a first slot: FNV-1a of the agent id's bytes, below a tenth of
/// the interval (at least 1 s wide).
pub fn stagger_secs(agent: AgentId, interval_sec: i64) -> i64 {
    if interval_sec <= 0 {
        return 0;
    }
    let mut hash: u32 = 2_166_136_261;
    for byte in agent.as_uuid().as_bytes() {
        hash ^= u32::from(*byte);
        hash = hash.wrapping_mul(16_777_619);
    }
    let width = (interval_sec / 10).max(1);
    i64::from(hash) % width
}

/// The slot after `anchor` (the last slot, `None` for a first run) seen at `now`.
pub fn next_run_at(
    now: DateTime<Utc>,
    agent: AgentId,
    interval_sec: i64,
    anchor: Option<DateTime<Utc>>,
) -> DateTime<Utc> {
    let now = crate::cron::to_millis(now);
    if interval_sec <= 0 {
        return now;
    }
    let interval = TimeDelta::seconds(interval_sec);
    let Some(anchor) = anchor else {
        return now + interval + TimeDelta::seconds(stagger_secs(agent, interval_sec));
    };
    let mut next = anchor + interval;
    if now - next > interval {
        return now + interval;
    }
    while next <= now {
        next += interval;
    }
    next
}

/// Minutes after midnight of `HH:MM`; `None` when it is not a time of day.
pub fn parse_hhmm(text: &str) -> Option<u32> {
    let (hours, minutes) = text.trim().split_once(':')?;
    let hours: u32 = hours.parse().ok()?;
    let minutes: u32 = minutes.parse().ok()?;
    (hours < 24 && minutes < 60).then_some(hours * 60 + minutes)
}

/// Whether `now` is inside the heartbeat's active hours (always, when they are not both set).
/// An unknown zone counts as UTC.
pub fn within_active_hours(config: &HeartbeatConfig, now: DateTime<Utc>) -> bool {
    let (Some(start), Some(end)) = (
        config.active_hours_start.as_deref().and_then(parse_hhmm),
        config.active_hours_end.as_deref().and_then(parse_hhmm),
    ) else {
        return true;
    };
    let zone: chrono_tz::Tz = config
        .timezone
        .as_deref()
        .and_then(|tz| tz.parse().ok())
        .unwrap_or(chrono_tz::UTC);
    let local = now.with_timezone(&zone);
    let minute = local.hour() * 60 + local.minute();
    if start <= end {
        (start..end).contains(&minute)
    } else {
        // Wraps midnight (22:00–06:00).
        minute >= start || minute < end
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .expect("test time")
            .with_timezone(&Utc)
    }

    fn agent() -> AgentId {
        "0193a5b0-7000-7000-8000-00000000a001"
            .parse()
            .expect("agent id")
    }

    #[test]
    fn the_first_slot_is_an_interval_and_a_stable_stagger_away() {
        let now = utc("2030-01-07T00:00:00Z");
        let stagger = stagger_secs(agent(), 1800);
        assert!((0..180).contains(&stagger), "{stagger}");
        assert_eq!(stagger, stagger_secs(agent(), 1800));
        assert_eq!(
            next_run_at(now, agent(), 1800, None),
            now + TimeDelta::seconds(1800 + stagger)
        );
        assert_eq!(stagger_secs(agent(), 5), 0, "a width of one second");
    }

    #[test]
    fn later_slots_follow_the_previous_one() {
        let slot = utc("2030-01-07T00:00:00Z");
        let check = |now: &str, expected: &str| {
            assert_eq!(
                next_run_at(utc(now), agent(), 600, Some(slot)),
                utc(expected),
                "at {now}"
            );
        };
        // On time, a little late, late by one interval.
        check("2030-01-07T00:00:00Z", "2030-01-07T00:10:00Z");
        check("2030-01-07T00:00:03Z", "2030-01-07T00:10:00Z");
        check("2030-01-07T00:12:00Z", "2030-01-07T00:20:00Z");
        // More than an interval behind the next slot: from now.
        check("2030-01-07T00:25:00.5Z", "2030-01-07T00:35:00.500Z");
    }

    #[test]
    fn active_hours_may_wrap_midnight() {
        let config = |start: &str, end: &str, tz: Option<&str>| HeartbeatConfig {
            active_hours_start: Some(start.to_owned()),
            active_hours_end: Some(end.to_owned()),
            timezone: tz.map(str::to_owned),
            ..HeartbeatConfig::default()
        };
        let day = config("09:00", "17:00", None);
        assert!(within_active_hours(&day, utc("2030-01-07T09:00:00Z")));
        assert!(within_active_hours(&day, utc("2030-01-07T16:59:00Z")));
        assert!(!within_active_hours(&day, utc("2030-01-07T17:00:00Z")));
        assert!(!within_active_hours(&day, utc("2030-01-07T08:59:00Z")));
        let night = config("22:00", "06:00", None);
        assert!(within_active_hours(&night, utc("2030-01-07T23:00:00Z")));
        assert!(within_active_hours(&night, utc("2030-01-07T05:59:00Z")));
        assert!(!within_active_hours(&night, utc("2030-01-07T12:00:00Z")));
        // 09:00–17:00 in Tokyo (UTC+9) is 00:00–08:00 UTC.
        let tokyo = config("09:00", "17:00", Some("Asia/Tokyo"));
        assert!(within_active_hours(&tokyo, utc("2030-01-07T01:00:00Z")));
        assert!(!within_active_hours(&tokyo, utc("2030-01-07T09:00:00Z")));
        // Unset or unreadable hours: always.
        assert!(within_active_hours(
            &HeartbeatConfig::default(),
            utc("2030-01-07T03:00:00Z")
        ));
        assert!(within_active_hours(
            &config("9am", "5pm", None),
            utc("2030-01-07T03:00:00Z")
        ));
    }

    #[test]
    fn times_of_day_are_read_strictly() {
        assert_eq!(parse_hhmm("07:30"), Some(450));
        assert_eq!(parse_hhmm("23:59"), Some(1439));
        for bad in ["24:00", "12:60", "noon", "12", ""] {
            assert_eq!(parse_hhmm(bad), None, "{bad}");
        }
    }
}
