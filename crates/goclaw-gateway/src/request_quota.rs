//! `gateway.quota`: how many turns a sender may start per hour, day and week, enforced as
//! GoClaw does. The limits come from the most specific match — the sender's user id among
//! `groups` (a group chat's user is `group:{channel}:{chat}`), then the turn's channel among
//! `channels`, then the agent's provider among `providers`, then `default`; 0 is unlimited.
//!
//! Usage is the number of top-level runs (traces) the user started in the last hour, 24 hours
//! and 7 days, read from the store and kept for a minute; each admitted turn adds one to the
//! kept counts at once, so quick turns cannot slip past a limit while their traces are being
//! written. A refusal is logged `security.quota_exceeded` and the sender gets GoClaw's notice
//! (`⚠️ Hourly request limit reached (3/3). Please try again later.` on a channel; the same
//! text as a `RESOURCE_EXHAUSTED` error on WebSocket and a 429 over HTTP).
//!
//! GoClaw checks channel messages only; here every turn a person sends counts and is checked —
//! channels, WebSocket `chat.send`, `/v1/chat/completions` and paired browsers — so a quota
//! cannot be sidestepped by switching protocol. Turns the gateway starts itself (cron,
//! heartbeats, subagents, delegations, teams, webhooks) are neither checked nor blocked, though
//! their runs are counted, as in GoClaw, where every top-level trace counts.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use goclaw_agent::{ChatInput, QuotaExceeded, QuotaWindow, TurnQuota};
use goclaw_core::{Agent, CHANNEL_TYPES, RequestCounts, Store, TenantId};

/// How long counts read from the store are used before they are read again.
const COUNTS_TTL: Duration = Duration::from_secs(60);
/// Channels of turns people send (besides the messaging platforms of `CHANNEL_TYPES`).
const PERSON_CHANNELS: [&str; 3] = ["ws", "http", "browser"];

/// Requests allowed per window; 0 is unlimited.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QuotaLimits {
    pub hour: u32,
    pub day: u32,
    pub week: u32,
}

impl QuotaLimits {
    fn is_unlimited(&self) -> bool {
        self.hour == 0 && self.day == 0 && self.week == 0
    }

    /// The first window (hour, day, week) whose limit `counts` reached.
    fn exceeded(&self, counts: &RequestCounts) -> Option<QuotaExceeded> {
        [
            (QuotaWindow::Hour, self.hour, counts.hour),
            (QuotaWindow::Day, self.day, counts.day),
            (QuotaWindow::Week, self.week, counts.week),
        ]
        .into_iter()
        .find(|(_, limit, used)| *limit > 0 && *used >= i64::from(*limit))
        .map(|(window, limit, used)| QuotaExceeded {
            window,
            used,
            limit: i64::from(limit),
        })
    }
}

/// The limits of `gateway.quota`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct QuotaRules {
    pub enabled: bool,
    pub default: QuotaLimits,
    /// By provider name.
    pub providers: BTreeMap<String, QuotaLimits>,
    /// By channel (`telegram`, `ws`, `http`, …).
    pub channels: BTreeMap<String, QuotaLimits>,
    /// By user id (`group:telegram:<chat id>` for a group chat).
    pub groups: BTreeMap<String, QuotaLimits>,
}

impl QuotaRules {
    /// The limits of a turn of `user_id` on `channel` answered through `provider`: the most
    /// specific entry that sets any limit.
    pub fn limits_for(&self, user_id: &str, channel: &str, provider: &str) -> QuotaLimits {
        let specific = |map: &BTreeMap<String, QuotaLimits>, key: &str| {
            (!key.is_empty())
                .then(|| map.get(key))
                .flatten()
                .filter(|limits| !limits.is_unlimited())
                .copied()
        };
        specific(&self.groups, user_id)
            .or_else(|| specific(&self.channels, channel))
            .or_else(|| specific(&self.providers, provider))
            .unwrap_or(self.default)
    }
}

/// Counts kept for one user.
struct KeptCounts {
    counts: RequestCounts,
    read_at: Instant,
}

/// The `gateway.quota` checker the runtime asks before each turn, and the source of
/// `quota.usage`.
pub struct RequestQuota {
    rules: QuotaRules,
    store: Arc<dyn Store>,
    kept: Mutex<HashMap<(TenantId, String), KeptCounts>>,
}

impl RequestQuota {
    pub fn new(rules: QuotaRules, store: Arc<dyn Store>) -> Self {
        Self {
            rules,
            store,
            kept: Mutex::new(HashMap::new()),
        }
    }

    pub fn rules(&self) -> &QuotaRules {
        &self.rules
    }

    /// The user's counts: kept ones while fresh, else read from the store.
    async fn counts(&self, tenant: TenantId, user_id: &str) -> RequestCounts {
        let key = (tenant, user_id.to_owned());
        if let Some(kept) = self.lock().get(&key)
            && kept.read_at.elapsed() < COUNTS_TTL
        {
            return kept.counts.clone();
        }
        let read = self
            .store
            .traces()
            .request_counts(tenant, Some(user_id), Utc::now())
            .await;
        let counts = match read {
            Ok(rows) => rows.into_iter().next().unwrap_or_default(),
            Err(error) => {
                // An unreadable count does not stop the gateway from answering.
                tracing::warn!(user_id = %user_id, error = %error, "reading quota counts failed");
                RequestCounts::default()
            }
        };
        let mut kept = self.lock();
        kept.retain(|_, k| k.read_at.elapsed() < COUNTS_TTL);
        kept.insert(
            key,
            KeptCounts {
                counts: counts.clone(),
                read_at: Instant::now(),
            },
        );
        counts
    }

    /// Adds an admitted turn to the user's kept counts.
    fn add_turn(&self, tenant: TenantId, user_id: &str) {
        if let Some(kept) = self.lock().get_mut(&(tenant, user_id.to_owned())) {
            kept.counts.hour += 1;
            kept.counts.day += 1;
            kept.counts.week += 1;
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<(TenantId, String), KeptCounts>> {
        self.kept
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Whether turns on `channel` are sent by a person (and so checked).
fn sent_by_person(channel: &str) -> bool {
    PERSON_CHANNELS.contains(&channel) || CHANNEL_TYPES.contains(&channel)
}

#[async_trait]
impl TurnQuota for RequestQuota {
    async fn admit(&self, input: &ChatInput, agent: &Agent) -> Result<(), QuotaExceeded> {
        if !self.rules.enabled || !sent_by_person(&input.channel) {
            return Ok(());
        }
        let limits = self
            .rules
            .limits_for(&input.user_id, &input.channel, &agent.provider);
        if limits.is_unlimited() {
            return Ok(());
        }
        let counts = self.counts(input.tenant_id, &input.user_id).await;
        if let Some(exceeded) = limits.exceeded(&counts) {
            tracing::warn!(
                user_id = %input.user_id,
                channel = %input.channel,
                window = exceeded.window.as_str(),
                used = exceeded.used,
                limit = exceeded.limit,
                "security.quota_exceeded"
            );
            return Err(exceeded);
        }
        self.add_turn(input.tenant_id, &input.user_id);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(hour: u32, day: u32, week: u32) -> QuotaLimits {
        QuotaLimits { hour, day, week }
    }

    fn rules() -> QuotaRules {
        QuotaRules {
            enabled: true,
            default: limits(100, 0, 0),
            providers: BTreeMap::from([("anthropic".to_owned(), limits(50, 0, 0))]),
            channels: BTreeMap::from([
                ("telegram".to_owned(), limits(20, 0, 0)),
                ("slack".to_owned(), limits(0, 0, 0)),
            ]),
            groups: BTreeMap::from([("group:telegram:-100".to_owned(), limits(5, 0, 0))]),
        }
    }

    fn check(user: &str, channel: &str, provider: &str, expected_hour: u32) {
        let found = rules().limits_for(user, channel, provider);
        assert_eq!(found.hour, expected_hour, "{user} {channel} {provider}");
    }

    #[test]
    fn the_most_specific_limits_win() {
        check("group:telegram:-100", "telegram", "anthropic", 5);
        check("alice", "telegram", "anthropic", 20);
        check("alice", "ws", "anthropic", 50);
        check("alice", "ws", "openai", 100);
        // An entry that limits nothing does not hide the next one.
        check("alice", "slack", "anthropic", 50);
        check("", "", "", 100);
    }

    fn counts(hour: i64, day: i64, week: i64) -> RequestCounts {
        RequestCounts {
            user_id: "alice".to_owned(),
            hour,
            day,
            week,
        }
    }

    #[test]
    fn the_first_window_reached_is_reported() {
        let l = limits(3, 10, 20);
        assert_eq!(l.exceeded(&counts(2, 9, 19)), None);
        let hour = l
            .exceeded(&counts(3, 3, 3))
            .map(|e| (e.window, e.used, e.limit));
        assert_eq!(hour, Some((QuotaWindow::Hour, 3, 3)));
        let day = l.exceeded(&counts(0, 10, 10)).map(|e| e.window);
        assert_eq!(day, Some(QuotaWindow::Day));
        let week = limits(0, 0, 20)
            .exceeded(&counts(0, 0, 25))
            .map(|e| e.window);
        assert_eq!(week, Some(QuotaWindow::Week));
        assert_eq!(limits(0, 0, 0).exceeded(&counts(9, 9, 9)), None);
    }

    #[test]
    fn only_turns_people_send_are_checked() {
        for channel in ["ws", "http", "browser", "telegram", "discord"] {
            assert!(sent_by_person(channel), "{channel}");
        }
        for channel in [
            "cron",
            "heartbeat",
            "subagent",
            "delegate",
            "team",
            "webhook",
        ] {
            assert!(!sent_by_person(channel), "{channel}");
        }
    }
}
