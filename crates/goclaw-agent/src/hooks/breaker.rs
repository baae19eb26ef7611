//! The circuit breaker of blocking hooks (GoClaw's): a hook that blocks or times out
//! [`TRIPS`] times within [`WINDOW`] in blocking chains is switched off — stored as disabled,
//! so no replica fires it again until an admin turns it back on — and
//! `security.hook.circuit_breaker` is logged. Errors do not count: a block is already what
//! an error gives.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use uuid::Uuid;

/// Blocks or timeouts that open the breaker.
pub const TRIPS: usize = 5;
/// Within this long.
pub const WINDOW: Duration = Duration::from_secs(60);

/// Recent trips per hook.
#[derive(Default)]
pub(crate) struct Breaker {
    trips: Mutex<HashMap<Uuid, VecDeque<Instant>>>,
}

impl Breaker {
    /// Counts a trip of hook `id` at `now`; whether the breaker opens with it (the count is
    /// then cleared).
    pub(crate) fn trip(&self, id: Uuid, now: Instant) -> bool {
        let mut trips = self.trips.lock().unwrap_or_else(|e| e.into_inner());
        let recent = trips.entry(id).or_default();
        while recent
            .front()
            .is_some_and(|at| now.duration_since(*at) >= WINDOW)
        {
            recent.pop_front();
        }
        recent.push_back(now);
        if recent.len() < TRIPS {
            return false;
        }
        trips.remove(&id);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_trips_within_a_minute_open_it_older_ones_do_not_count() {
        let breaker = Breaker::default();
        let (hook, other) = (Uuid::now_v7(), Uuid::now_v7());
        let start = Instant::now();
        for i in 0..4 {
            assert!(!breaker.trip(hook, start + Duration::from_secs(i)));
        }
        assert!(!breaker.trip(other, start), "hooks count apart");
        // The first trip is a minute old by now: four in the window again.
        assert!(!breaker.trip(hook, start + Duration::from_secs(60)));
        assert!(breaker.trip(hook, start + Duration::from_millis(60_500)));
        assert!(
            !breaker.trip(hook, start + Duration::from_secs(61)),
            "cleared"
        );
    }
}
