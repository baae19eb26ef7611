//! How patiently a failed embedding request is repeated: capped exponential backoff with a
//! little jitter, or the provider's `Retry-After` (also capped) when it sent one.

use std::time::Duration;

use super::EmbedError;

/// Attempts and waits for one batch request: the providers' retry rule
/// ([`goclaw_providers::RetryPolicy`]), with the embedding client's defaults
/// ([`default_policy`]).
pub type EmbedRetryPolicy = goclaw_providers::RetryPolicy;

/// Three attempts, waits from 500 ms doubling up to 20 s, ±10 % jitter.
pub fn default_policy() -> EmbedRetryPolicy {
    EmbedRetryPolicy {
        max_attempts: 3,
        min_delay: Duration::from_millis(500),
        max_delay: Duration::from_secs(20),
        jitter: 0.1,
    }
}

/// The wait before retry number `retry` (1 for the first) after `error`.
pub fn delay_before_retry(policy: &EmbedRetryPolicy, retry: u32, error: &EmbedError) -> Duration {
    policy.delay(retry, error.retry_after())
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
            delay_before_retry(&policy(), retry, &error),
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
            let wait = delay_before_retry(&policy, 2, &error);
            assert!(wait >= Duration::from_millis(100) && wait <= Duration::from_millis(300));
        }
    }
}
