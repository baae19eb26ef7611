//! How patiently a failed embedding request is repeated: capped exponential backoff with a
//! little jitter, or the provider's `Retry-After` (also capped) when it sent one.

use std::time::Duration;

use rand::Rng;

use super::EmbedError;

/// Attempts and waits for one batch request.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbedRetryPolicy {
    /// Requests in total, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles for each further one.
    pub min_delay: Duration,
    /// No wait is longer, whatever the backoff or the provider's `Retry-After` says.
    pub max_delay: Duration,
    /// Random spread of a backoff wait, as a fraction (0.1 = ±10%), so workers that failed
    /// together do not retry together.
    pub jitter: f64,
}

impl Default for EmbedRetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            min_delay: Duration::from_millis(500),
            max_delay: Duration::from_secs(20),
            jitter: 0.1,
        }
    }
}

impl EmbedRetryPolicy {
    /// A policy that makes one attempt only.
    pub fn no_retries() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (1 for the first) after `error`.
    pub fn delay_before_retry(&self, retry: u32, error: &EmbedError) -> Duration {
        if let Some(wait) = error.retry_after() {
            return wait.min(self.max_delay);
        }
        let exponent = retry.saturating_sub(1).min(31);
        let backoff = self
            .min_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 || backoff.is_zero() {
            return backoff;
        }
        let factor = rand::rng().random_range((1.0 - jitter)..=(1.0 + jitter));
        backoff.mul_f64(factor).min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> EmbedRetryPolicy {
        EmbedRetryPolicy {
            max_attempts: 5,
            min_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
            jitter: 0.0,
        }
    }

    fn check(retry: u32, retry_after: Option<u64>, expected_ms: u64) {
        let error = EmbedError::Status {
            status: 429,
            message: String::new(),
            retry_after: retry_after.map(Duration::from_millis),
        };
        assert_eq!(
            policy().delay_before_retry(retry, &error),
            Duration::from_millis(expected_ms),
            "retry {retry}, retry-after {retry_after:?}"
        );
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        check(1, None, 100);
        check(2, None, 200);
        check(3, None, 400);
        check(5, None, 1000);
        check(40, None, 1000);
    }

    #[test]
    fn retry_after_wins_but_is_capped() {
        check(1, Some(700), 700);
        check(3, Some(0), 0);
        check(1, Some(60_000), 1000);
    }

    #[test]
    fn jitter_stays_within_its_spread() {
        let policy = EmbedRetryPolicy {
            jitter: 0.5,
            ..policy()
        };
        let error = EmbedError::Transport("reset".into());
        for _ in 0..50 {
            let wait = policy.delay_before_retry(2, &error);
            assert!(wait >= Duration::from_millis(100) && wait <= Duration::from_millis(300));
        }
    }
}
