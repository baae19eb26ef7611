//! The limits a webhook call passes after it authenticated: token buckets per webhook (its
//! `rate_limit_per_min`, bursting to that many) and per tenant (600 a minute), and the cache
//! of signatures already seen, which refuses a signed call replayed within its window.
//!
//! Both are in memory and bounded: an idle bucket is dropped after 30 minutes, and the replay
//! cache holds at most [`MAX_REMEMBERED_SIGNATURES`], forgetting the oldest first (whose time
//! is nearest to leaving the accepted skew anyway).

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Calls a tenant's webhooks may take a minute, together.
pub const TENANT_CALLS_PER_MIN: u32 = 600;
/// How long a bucket nobody used is kept.
const IDLE_BUCKET: Duration = Duration::from_secs(30 * 60);
/// Idle buckets are looked for once every this many calls.
const SWEEP_EVERY: u64 = 512;
/// How long a seen signature is remembered: the accepted skew and a margin.
pub const REPLAY_WINDOW: Duration = Duration::from_secs(320);
/// Signatures remembered at most.
pub const MAX_REMEMBERED_SIGNATURES: usize = 100_000;

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token buckets of `per_minute` calls a minute, one per key.
#[derive(Debug, Default)]
pub struct Buckets {
    state: Mutex<BucketState>,
}

#[derive(Debug, Default)]
struct BucketState {
    buckets: HashMap<String, Bucket>,
    calls: u64,
}

impl Buckets {
    /// Takes one token of `key`'s bucket at `now`; false when it is empty. A `per_minute` of 0
    /// is unlimited.
    pub fn take(&self, key: &str, per_minute: u32, now: Instant) -> bool {
        if per_minute == 0 {
            return true;
        }
        let capacity = f64::from(per_minute);
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        state.calls += 1;
        if state.calls.is_multiple_of(SWEEP_EVERY) {
            state
                .buckets
                .retain(|_, b| now.saturating_duration_since(b.last) < IDLE_BUCKET);
        }
        let bucket = state.buckets.entry(key.to_owned()).or_insert(Bucket {
            tokens: capacity,
            last: now,
        });
        let elapsed = now.saturating_duration_since(bucket.last).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * capacity / 60.0).min(capacity);
        bucket.last = now;
        if bucket.tokens < 1.0 {
            return false;
        }
        bucket.tokens -= 1.0;
        true
    }

    /// Buckets kept now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .buckets
            .len()
    }
}

/// Signatures seen within [`REPLAY_WINDOW`].
#[derive(Debug)]
pub struct ReplayCache {
    window: Duration,
    capacity: usize,
    state: Mutex<ReplayState>,
}

#[derive(Debug, Default)]
struct ReplayState {
    seen: HashSet<String>,
    /// Insertion order, which is time order.
    order: VecDeque<(Instant, String)>,
}

impl Default for ReplayCache {
    fn default() -> Self {
        Self::new(REPLAY_WINDOW, MAX_REMEMBERED_SIGNATURES)
    }
}

impl ReplayCache {
    pub fn new(window: Duration, capacity: usize) -> Self {
        Self {
            window,
            capacity: capacity.max(1),
            state: Mutex::default(),
        }
    }

    /// Remembers `key` at `now`; false when it was seen within the window (a replay).
    pub fn first_use(&self, key: &str, now: Instant) -> bool {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        while let Some((at, _)) = state.order.front() {
            if now.saturating_duration_since(*at) < self.window {
                break;
            }
            if let Some((_, old)) = state.order.pop_front() {
                state.seen.remove(&old);
            }
        }
        if state.seen.contains(key) {
            return false;
        }
        if state.order.len() >= self.capacity
            && let Some((_, old)) = state.order.pop_front()
        {
            state.seen.remove(&old);
        }
        state.seen.insert(key.to_owned());
        state.order.push_back((now, key.to_owned()));
        true
    }

    /// Signatures remembered now.
    #[cfg(test)]
    pub fn len(&self) -> usize {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .order
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bucket_bursts_to_its_rate_then_refills_over_the_minute() {
        let buckets = Buckets::default();
        let start = Instant::now();
        for _ in 0..3 {
            assert!(buckets.take("w", 3, start));
        }
        assert!(!buckets.take("w", 3, start));
        // One token comes back every 20 s at 3 a minute, a fraction at a time.
        assert!(!buckets.take("w", 3, start + Duration::from_secs(19)));
        assert!(buckets.take("w", 3, start + Duration::from_secs(20)));
        assert!(!buckets.take("w", 3, start + Duration::from_secs(20)));
        assert!(buckets.take("w", 3, start + Duration::from_secs(60)));
        assert!(buckets.take("w", 3, start + Duration::from_secs(60)));
        assert!(!buckets.take("w", 3, start + Duration::from_secs(60)));
        // Other keys have their own bucket; 0 is unlimited.
        assert!(buckets.take("other", 3, start));
        for _ in 0..1000 {
            assert!(buckets.take("free", 0, start));
        }
    }

    #[test]
    fn idle_buckets_are_dropped() {
        let buckets = Buckets::default();
        let start = Instant::now();
        for i in 0..SWEEP_EVERY - 1 {
            buckets.take(&format!("k{i}"), 10, start);
        }
        assert_eq!(buckets.len(), (SWEEP_EVERY - 1) as usize);
        buckets.take("late", 10, start + IDLE_BUCKET + Duration::from_secs(1));
        assert_eq!(buckets.len(), 1);
    }

    #[test]
    fn a_signature_is_accepted_once_per_window() {
        let cache = ReplayCache::new(Duration::from_secs(320), 10);
        let start = Instant::now();
        assert!(cache.first_use("sig", start));
        assert!(!cache.first_use("sig", start + Duration::from_secs(319)));
        assert!(cache.first_use("sig", start + Duration::from_secs(320)));
    }

    #[test]
    fn the_replay_cache_stays_within_its_capacity() {
        let cache = ReplayCache::new(Duration::from_secs(320), 100);
        let start = Instant::now();
        for i in 0..1000 {
            assert!(cache.first_use(&format!("sig{i}"), start));
        }
        assert_eq!(cache.len(), 100);
        // The newest are still refused; the oldest were forgotten.
        assert!(!cache.first_use("sig999", start));
        assert!(cache.first_use("sig0", start));
    }
}
