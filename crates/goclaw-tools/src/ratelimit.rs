//! The tool rate limit (`tools.rate_limit_per_hour`, default 150, 0 disables): tool executions
//! per session key in a sliding one-hour window, on an injectable clock.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The window the limit counts in.
pub const WINDOW: Duration = Duration::from_secs(3600);
/// Sessions tracked before idle ones are swept.
const SWEEP_AT: usize = 4096;

/// Where the limiter reads the time.
pub trait Clock: Send + Sync {
    fn now(&self) -> Instant;
}

/// The monotonic system clock.
#[derive(Debug, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// A clock tests move by hand.
#[derive(Debug)]
pub struct ManualClock {
    start: Instant,
    elapsed: Mutex<Duration>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self {
            start: Instant::now(),
            elapsed: Mutex::new(Duration::ZERO),
        }
    }
}

impl ManualClock {
    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        let mut elapsed = self.elapsed.lock().unwrap_or_else(|e| e.into_inner());
        *elapsed += by;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Instant {
        self.start + *self.elapsed.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Tool executions per session in the last hour.
pub struct ToolRateLimiter {
    limit: u32,
    clock: Arc<dyn Clock>,
    calls: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl std::fmt::Debug for ToolRateLimiter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ToolRateLimiter")
            .field("limit", &self.limit)
            .finish_non_exhaustive()
    }
}

impl ToolRateLimiter {
    /// A limiter of `limit` calls per hour per session (0 = unlimited) on the system clock.
    pub fn new(limit: u32) -> Self {
        Self::with_clock(limit, Arc::new(SystemClock))
    }

    pub fn with_clock(limit: u32, clock: Arc<dyn Clock>) -> Self {
        Self {
            limit,
            clock,
            calls: Mutex::new(HashMap::new()),
        }
    }

    /// Counts one call of `session_key`, or refuses it with the message the model sees.
    pub fn check(&self, session_key: &str) -> Result<(), String> {
        if self.limit == 0 {
            return Ok(());
        }
        let now = self.clock.now();
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        if calls.len() >= SWEEP_AT {
            calls.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.duration_since(*t) < WINDOW)
            });
        }
        let times = calls.entry(session_key.to_owned()).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
        if times.len() >= self.limit as usize {
            tracing::warn!(
                session_key,
                limit = self.limit,
                "security.tool_rate_limited"
            );
            return Err(format!(
                "tool rate limit exceeded: {} actions/hour for session {session_key}",
                self.limit
            ));
        }
        times.push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_151st_call_in_an_hour_is_refused_and_the_window_slides() {
        let clock = Arc::new(ManualClock::default());
        let limiter = ToolRateLimiter::with_clock(150, clock.clone());
        for i in 0..150 {
            assert!(limiter.check("s1").is_ok(), "call {i}");
            clock.advance(Duration::from_secs(10));
        }
        let refused = limiter.check("s1").expect_err("151st refused");
        assert_eq!(
            refused,
            "tool rate limit exceeded: 150 actions/hour for session s1"
        );
        assert!(limiter.check("s2").is_ok(), "other sessions unaffected");
        // 1500 s have passed; after 2100 s more the first call leaves the window.
        clock.advance(Duration::from_secs(2100));
        assert!(limiter.check("s1").is_ok());
        assert!(limiter.check("s1").is_err(), "only one slot freed");
        clock.advance(Duration::from_secs(10));
        assert!(limiter.check("s1").is_ok());
    }

    #[test]
    fn zero_disables() {
        let limiter = ToolRateLimiter::new(0);
        for _ in 0..1000 {
            assert!(limiter.check("s").is_ok());
        }
    }
}
