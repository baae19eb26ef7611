//! A fixed-window limiter with a bounded number of tracked sources, for webhook ingress:
//! [`WEBHOOK_MAX_HITS`] hits per [`WEBHOOK_WINDOW`] per source, at most
//! [`WEBHOOK_MAX_SOURCES`] sources remembered at once.
//!
//! When a new source arrives and the table is full, windows that have already expired are
//! pruned first; if none has, the source whose window started earliest is evicted. The table
//! therefore never grows past its bound, whatever the number of distinct sources (a flood of
//! spoofed addresses costs memory only up to the bound, and at worst resets an old window).

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Hits a webhook source may make per window.
pub const WEBHOOK_MAX_HITS: u32 = 30;
/// The webhook window.
pub const WEBHOOK_WINDOW: Duration = Duration::from_secs(60);
/// Sources tracked at most.
pub const WEBHOOK_MAX_SOURCES: usize = 4096;

/// Fixed windows of `max_hits` per `window` per key, over at most `max_sources` keys.
#[derive(Debug)]
pub struct BoundedWindowLimiter<K = String> {
    max_hits: u32,
    window: Duration,
    max_sources: usize,
    windows: Mutex<HashMap<K, Window>>,
}

#[derive(Debug, Clone, Copy)]
struct Window {
    started: Instant,
    hits: u32,
}

impl<K: Hash + Eq + Clone> BoundedWindowLimiter<K> {
    pub fn new(max_hits: u32, window: Duration, max_sources: usize) -> Self {
        Self {
            max_hits,
            window,
            max_sources: max_sources.max(1),
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// The webhook limits: 30 hits per 60 s per source, at most 4096 sources.
    pub fn for_webhooks() -> Self {
        Self::new(WEBHOOK_MAX_HITS, WEBHOOK_WINDOW, WEBHOOK_MAX_SOURCES)
    }

    /// Counts a hit of `key` now; false when its window is used up.
    pub fn allow(&self, key: &K) -> bool {
        self.allow_at(key, Instant::now())
    }

    /// Counts a hit of `key` at `now`; false when its window is used up.
    pub fn allow_at(&self, key: &K, now: Instant) -> bool {
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(window) = windows.get_mut(key) {
            if now.saturating_duration_since(window.started) >= self.window {
                *window = Window {
                    started: now,
                    hits: 0,
                };
            }
            if window.hits >= self.max_hits {
                return false;
            }
            window.hits += 1;
            return true;
        }
        if windows.len() >= self.max_sources {
            let span = self.window;
            windows.retain(|_, w| now.saturating_duration_since(w.started) < span);
        }
        if windows.len() >= self.max_sources {
            let oldest = windows
                .iter()
                .min_by_key(|(_, w)| w.started)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                windows.remove(&oldest);
            }
        }
        if self.max_hits == 0 {
            return false;
        }
        windows.insert(
            key.clone(),
            Window {
                started: now,
                hits: 1,
            },
        );
        true
    }

    /// How many sources are tracked.
    pub fn tracked(&self) -> usize {
        self.windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thirty_hits_per_minute_per_source() {
        let limiter = BoundedWindowLimiter::<String>::for_webhooks();
        let start = Instant::now();
        let key = "10.0.0.1".to_owned();
        for i in 0..30 {
            assert!(
                limiter.allow_at(&key, start + Duration::from_secs(i)),
                "hit {i}"
            );
        }
        assert!(!limiter.allow_at(&key, start + Duration::from_secs(59)));
        assert!(limiter.allow_at(&"10.0.0.2".to_owned(), start + Duration::from_secs(59)));
        // A new window opens 60 s after the first hit.
        assert!(limiter.allow_at(&key, start + Duration::from_secs(60)));
    }

    #[test]
    fn never_tracks_more_than_the_bound() {
        let limiter = BoundedWindowLimiter::<String>::for_webhooks();
        let start = Instant::now();
        for i in 0..(WEBHOOK_MAX_SOURCES + 1000) {
            let now = start + Duration::from_millis(i as u64);
            assert!(limiter.allow_at(&format!("source-{i}"), now));
            assert!(limiter.tracked() <= WEBHOOK_MAX_SOURCES);
        }
        assert_eq!(limiter.tracked(), WEBHOOK_MAX_SOURCES);
    }

    #[test]
    fn full_table_prunes_expired_windows_before_evicting() {
        let limiter = BoundedWindowLimiter::<u32>::new(2, Duration::from_secs(60), 4);
        let start = Instant::now();
        for key in 0..4 {
            assert!(limiter.allow_at(&key, start + Duration::from_secs(u64::from(key))));
        }
        // At 62 s the windows of keys 0..=2 have expired: they are pruned, key 3 stays.
        assert!(limiter.allow_at(&3, start + Duration::from_secs(4)));
        assert!(limiter.allow_at(&10, start + Duration::from_secs(62)));
        assert_eq!(limiter.tracked(), 2);
        assert!(
            !limiter.allow_at(&3, start + Duration::from_secs(62)),
            "key 3 kept its count"
        );
    }

    #[test]
    fn full_table_evicts_the_oldest_when_nothing_expired() {
        let limiter = BoundedWindowLimiter::<u32>::new(1, Duration::from_secs(60), 3);
        let start = Instant::now();
        for key in 0..3 {
            assert!(limiter.allow_at(&key, start + Duration::from_secs(u64::from(key))));
        }
        assert!(limiter.allow_at(&9, start + Duration::from_secs(10)));
        assert_eq!(limiter.tracked(), 3);
        // Key 0 (the oldest) was forgotten, so it starts afresh; key 1 is still limited.
        assert!(!limiter.allow_at(&1, start + Duration::from_secs(11)));
        assert!(limiter.allow_at(&0, start + Duration::from_secs(11)));
    }
}
