//! Rate limits of the gateway.
//!
//! [`RateLimiter`] is `gateway.rate_limit_rpm`: a token bucket per user (burst
//! [`DEFAULT_BURST`], refilled at rpm/60 tokens per second) in front of WebSocket `chat.send`
//! and `POST /v1/chat/completions`. Buckets untouched for [`IDLE_AFTER`] are swept (at most every
//! [`SWEEP_EVERY`], during a check) so memory is given back. [`BoundedWindowLimiter`] is the
//! fixed-window limiter for webhook ingress.
//!
//! Every check takes the current time as an argument (`*_at`), so tests drive the clock
//! instead of sleeping; the plain methods read [`Instant::now`].

mod window;

use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::http::HeaderMap;
use goclaw_core::TenantId;

pub use window::{BoundedWindowLimiter, WEBHOOK_MAX_HITS, WEBHOOK_MAX_SOURCES, WEBHOOK_WINDOW};

/// Requests a user may make at once before the refill rate applies.
pub const DEFAULT_BURST: u32 = 5;
/// A bucket untouched this long is forgotten.
pub const IDLE_AFTER: Duration = Duration::from_secs(10 * 60);
/// How often idle buckets are looked for.
pub const SWEEP_EVERY: Duration = Duration::from_secs(5 * 60);
/// What a refused caller is told.
pub const RATE_LIMITED_MESSAGE: &str = "rate limit exceeded — please wait";

/// Microseconds per minute: a bucket counts in "token-microminutes" so that refill at
/// `rpm` tokens per minute is exact integer arithmetic (one token = `rpm`-independent
/// [`UNITS_PER_TOKEN`] units; each elapsed microsecond adds `rpm` units).
const UNITS_PER_TOKEN: u128 = 60_000_000;

/// Whether a request may go ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateDecision {
    Allowed,
    /// Refused; a token will be available after `retry_after`.
    Limited {
        retry_after: Duration,
    },
}

/// A token bucket per key. Cheap to clone; clones share the buckets. `rpm` 0 disables it.
#[derive(Clone, Debug)]
pub struct RateLimiter {
    inner: Option<Arc<Buckets>>,
}

#[derive(Debug)]
struct Buckets {
    rpm: u32,
    burst: u32,
    state: Mutex<BucketState>,
}

#[derive(Debug)]
struct BucketState {
    buckets: HashMap<String, Bucket>,
    last_sweep: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// Tokens, in units of `1 / UNITS_PER_TOKEN`.
    units: u128,
    /// When `units` was last brought up to date (and the bucket last used).
    updated: Instant,
}

impl RateLimiter {
    /// `rpm` requests per minute per key with the default burst; 0 disables limiting.
    pub fn new(rpm: u32) -> Self {
        Self::with_burst(rpm, DEFAULT_BURST)
    }

    /// `rpm` requests per minute with bursts of `burst` (at least 1).
    pub fn with_burst(rpm: u32, burst: u32) -> Self {
        if rpm == 0 {
            return Self::disabled();
        }
        let state = BucketState {
            buckets: HashMap::new(),
            last_sweep: None,
        };
        Self {
            inner: Some(Arc::new(Buckets {
                rpm,
                burst: burst.max(1),
                state: Mutex::new(state),
            })),
        }
    }

    /// A limiter that admits everything.
    pub fn disabled() -> Self {
        Self { inner: None }
    }

    pub fn is_enabled(&self) -> bool {
        self.inner.is_some()
    }

    /// Takes a token from `key`'s bucket now.
    pub fn check(&self, key: &str) -> RateDecision {
        self.check_at(key, Instant::now())
    }

    /// Takes a token from `key`'s bucket at `now`.
    pub fn check_at(&self, key: &str, now: Instant) -> RateDecision {
        let Some(inner) = &self.inner else {
            return RateDecision::Allowed;
        };
        let rate = u128::from(inner.rpm);
        let capacity = u128::from(inner.burst) * UNITS_PER_TOKEN;
        let mut state = lock(&inner.state);
        state.sweep_if_due(now);
        let bucket = state.buckets.entry(key.to_owned()).or_insert(Bucket {
            units: capacity,
            updated: now,
        });
        let elapsed = now.saturating_duration_since(bucket.updated).as_micros();
        bucket.units = (bucket.units + elapsed * rate).min(capacity);
        bucket.updated = bucket.updated.max(now);
        if bucket.units >= UNITS_PER_TOKEN {
            bucket.units -= UNITS_PER_TOKEN;
            return RateDecision::Allowed;
        }
        let missing_us = (UNITS_PER_TOKEN - bucket.units).div_ceil(rate);
        RateDecision::Limited {
            retry_after: Duration::from_micros(u64::try_from(missing_us).unwrap_or(u64::MAX)),
        }
    }

    /// Forgets buckets idle for [`IDLE_AFTER`] at `now`.
    pub fn sweep_at(&self, now: Instant) {
        if let Some(inner) = &self.inner {
            lock(&inner.state).sweep(now);
        }
    }

    /// How many keys have a bucket.
    pub fn tracked(&self) -> usize {
        self.inner
            .as_ref()
            .map_or(0, |inner| lock(&inner.state).buckets.len())
    }

    /// Admits one request of `key` for `what` (a method or route), logging
    /// `security.rate_limited` when it is refused.
    pub(crate) fn admit(
        &self,
        key: &str,
        user_id: &str,
        remote: &str,
        what: &str,
    ) -> Result<(), Duration> {
        match self.check(key) {
            RateDecision::Allowed => Ok(()),
            RateDecision::Limited { retry_after } => {
                tracing::warn!(
                    user_id = %user_id,
                    remote = %remote,
                    route = %what,
                    retry_after_ms = millis_ceil(retry_after),
                    "security.rate_limited"
                );
                Err(retry_after)
            }
        }
    }
}

impl BucketState {
    fn sweep_if_due(&mut self, now: Instant) {
        match self.last_sweep {
            None => self.last_sweep = Some(now),
            Some(last) if now.saturating_duration_since(last) >= SWEEP_EVERY => self.sweep(now),
            Some(_) => {}
        }
    }

    fn sweep(&mut self, now: Instant) {
        self.buckets
            .retain(|_, b| now.saturating_duration_since(b.updated) < IDLE_AFTER);
        self.last_sweep = Some(now);
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// `duration` in whole milliseconds, rounded up.
pub(crate) fn millis_ceil(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros().div_ceil(1000)).unwrap_or(u64::MAX)
}

/// `duration` in whole seconds for `Retry-After`, rounded up, at least 1.
pub(crate) fn retry_after_secs(duration: Duration) -> u64 {
    u64::try_from(duration.as_micros().div_ceil(1_000_000))
        .unwrap_or(u64::MAX)
        .max(1)
}

/// The bucket of a user: shared by WebSocket and HTTP so a user has one budget.
pub(crate) fn user_key(tenant: TenantId, user_id: &str) -> String {
    format!("user:{tenant}:{user_id}")
}

/// The user unnamed HTTP callers run as; not a person, so not a budget of its own.
const DEFAULT_HTTP_USER: &str = "system";

/// The bucket of an HTTP request: the user it runs as when it names one, else its bearer
/// credential (never stored in clear: a hash of it), else its remote IP.
pub(crate) fn http_key(
    tenant: TenantId,
    named_user: Option<&str>,
    headers: &HeaderMap,
    remote: Option<SocketAddr>,
) -> String {
    if let Some(user) = named_user.filter(|u| !u.is_empty() && *u != DEFAULT_HTTP_USER) {
        return user_key(tenant, user);
    }
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.strip_prefix("Bearer ")
                .or_else(|| v.strip_prefix("bearer "))
        })
        .map(str::trim)
        .filter(|t| !t.is_empty());
    if let Some(token) = bearer {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        token.hash(&mut hasher);
        return format!("token:{:016x}", hasher.finish());
    }
    match remote {
        Some(addr) => format!("remote:{}", addr.ip()),
        None => "remote:unknown".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(n: u64) -> Duration {
        Duration::from_secs(n)
    }

    /// Runs `checks` (offset from a common start, expected outcome) against one key.
    fn check(limiter: &RateLimiter, checks: &[(Duration, bool)]) {
        let start = Instant::now();
        for (i, (at, allowed)) in checks.iter().enumerate() {
            let decision = limiter.check_at("k", start + *at);
            assert_eq!(
                decision == RateDecision::Allowed,
                *allowed,
                "check #{i} at {at:?}: {decision:?}"
            );
        }
    }

    #[test]
    fn burst_of_five_then_refusal() {
        let limiter = RateLimiter::new(20);
        let mut checks = vec![(Duration::ZERO, true); 5];
        checks.push((Duration::ZERO, false));
        check(&limiter, &checks);
    }

    #[test]
    fn refill_after_simulated_time() {
        let limiter = RateLimiter::new(20);
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.check_at("k", start), RateDecision::Allowed);
        }
        assert_eq!(
            limiter.check_at("k", start),
            RateDecision::Limited {
                retry_after: secs(3)
            }
        );
        // 20 rpm = one token every 3 s.
        assert_eq!(
            limiter.check_at("k", start + Duration::from_millis(2999)),
            RateDecision::Limited {
                retry_after: Duration::from_millis(1)
            }
        );
        assert_eq!(
            limiter.check_at("k", start + secs(3)),
            RateDecision::Allowed
        );
        assert_ne!(
            limiter.check_at("k", start + secs(3)),
            RateDecision::Allowed
        );
        // A long pause refills to the burst, not beyond.
        let later = start + secs(3600);
        for _ in 0..5 {
            assert_eq!(limiter.check_at("k", later), RateDecision::Allowed);
        }
        assert_ne!(limiter.check_at("k", later), RateDecision::Allowed);
    }

    #[test]
    fn rpm_zero_disables() {
        let limiter = RateLimiter::new(0);
        assert!(!limiter.is_enabled());
        check(&limiter, &vec![(Duration::ZERO, true); 1000]);
        assert_eq!(limiter.tracked(), 0);
    }

    /// At the default (20 rpm, burst 5) a user who has spent the burst gets exactly 20 more
    /// messages in the following minute — one every 3 s — and the 21st in that minute is
    /// refused. (From a full bucket the first minute admits 5 + 20 = 25 over `[0, 60 s]`.)
    #[test]
    fn the_21st_message_in_a_minute_is_limited_at_the_default() {
        let limiter = RateLimiter::new(20);
        let start = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.check_at("k", start), RateDecision::Allowed);
        }
        // Try every 100 ms for one minute after the burst.
        let mut admitted = 0;
        for tenth in 1..=600 {
            let now = start + Duration::from_millis(100 * tenth);
            if limiter.check_at("k", now) == RateDecision::Allowed {
                admitted += 1;
            }
        }
        assert_eq!(
            admitted, 20,
            "messages admitted in the minute after the burst"
        );
        assert_eq!(
            limiter.check_at("k", start + secs(60)),
            RateDecision::Limited {
                retry_after: secs(3)
            },
            "the 21st message of that minute"
        );

        let fresh = RateLimiter::new(20);
        let admitted_first_minute = (0..=600)
            .filter(|tenth| {
                fresh.check_at("k", start + Duration::from_millis(100 * tenth))
                    == RateDecision::Allowed
            })
            .count();
        assert_eq!(admitted_first_minute, 25);
    }

    #[test]
    fn keys_are_independent() {
        let limiter = RateLimiter::new(20);
        let now = Instant::now();
        for _ in 0..5 {
            assert_eq!(limiter.check_at("alice", now), RateDecision::Allowed);
        }
        assert_ne!(limiter.check_at("alice", now), RateDecision::Allowed);
        assert_eq!(limiter.check_at("bob", now), RateDecision::Allowed);
    }

    #[test]
    fn idle_buckets_are_swept() {
        let limiter = RateLimiter::new(20);
        let start = Instant::now();
        for i in 0..100 {
            limiter.check_at(&format!("user-{i}"), start);
        }
        assert_eq!(limiter.tracked(), 100);
        // Still fresh five minutes later: the sweep runs, keeps everything, and adds one.
        limiter.check_at("active", start + secs(5 * 60));
        assert_eq!(limiter.tracked(), 101);
        // Eleven minutes after the burst only the recently used bucket is left.
        limiter.check_at("active", start + secs(11 * 60));
        assert_eq!(limiter.tracked(), 1);
        limiter.sweep_at(start + secs(22 * 60));
        assert_eq!(limiter.tracked(), 0);
    }

    #[test]
    fn retry_after_rounds_up() {
        assert_eq!(retry_after_secs(Duration::from_millis(1)), 1);
        assert_eq!(retry_after_secs(Duration::from_millis(3000)), 3);
        assert_eq!(retry_after_secs(Duration::from_millis(3001)), 4);
        assert_eq!(retry_after_secs(Duration::ZERO), 1);
        assert_eq!(millis_ceil(Duration::from_micros(2_999_001)), 3000);
    }

    #[test]
    fn http_keys() {
        let tenant = goclaw_core::MASTER_TENANT_ID;
        let remote: SocketAddr = "10.0.0.7:5555".parse().expect("address");
        let mut headers = HeaderMap::new();
        assert_eq!(
            http_key(tenant, None, &headers, Some(remote)),
            "remote:10.0.0.7"
        );
        headers.insert("authorization", "Bearer s3cret".parse().expect("header"));
        let by_token = http_key(tenant, None, &headers, Some(remote));
        assert!(by_token.starts_with("token:") && !by_token.contains("s3cret"));
        assert_eq!(
            http_key(tenant, Some("ivy"), &headers, Some(remote)),
            user_key(tenant, "ivy")
        );
        assert_eq!(
            http_key(tenant, Some("system"), &headers, Some(remote)),
            by_token
        );
    }
}
