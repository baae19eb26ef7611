//! Retrying one provider with exponential backoff that honours `Retry-After`, and falling back
//! across candidate provider/model pairs — neither ever repeats a call once some of its output
//! has reached the caller, since the caller cannot take streamed text back.

use std::borrow::Cow;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use goclaw_core::llm::{
    ChatRequest, ChatResponse, DeltaSink, Provider, ProviderError, StreamDelta,
};
use rand::Rng;

/// How often and how patiently a failed call is repeated.
#[derive(Debug, Clone, PartialEq)]
pub struct RetryPolicy {
    /// Calls in total, the first included; 1 disables retries.
    pub max_attempts: u32,
    /// The wait before the first retry; it doubles for each further one.
    pub min_delay: Duration,
    /// No wait is longer, whatever the backoff or the provider's `Retry-After` says.
    pub max_delay: Duration,
    /// Random spread of a backoff wait, as a fraction (0.1 = ±10%).
    pub jitter: f64,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: 3,
            min_delay: Duration::from_millis(300),
            max_delay: Duration::from_secs(30),
            jitter: 0.1,
        }
    }
}

impl RetryPolicy {
    /// A policy that makes one attempt only.
    pub fn no_retries() -> Self {
        Self {
            max_attempts: 1,
            ..Self::default()
        }
    }

    /// The wait before retry number `retry` (1 for the first retry) after `error`: the
    /// provider's `Retry-After` when it sent one, else exponential backoff with jitter; never
    /// more than `max_delay`.
    pub fn delay_before_retry(&self, retry: u32, error: &ProviderError) -> Duration {
        self.delay(retry, error.retry_after())
    }

    /// The wait before retry number `retry` (1 for the first): `retry_after` when the server
    /// sent one, else exponential backoff with jitter; never more than `max_delay`. Any client
    /// retrying an HTTP service (the embedding client, say) uses this rule.
    pub fn delay(&self, retry: u32, retry_after: Option<Duration>) -> Duration {
        if let Some(wait) = retry_after {
            return wait.min(self.max_delay);
        }
        let exponent = retry.saturating_sub(1).min(31);
        let backoff = self
            .min_delay
            .saturating_mul(1u32 << exponent)
            .min(self.max_delay);
        let jitter = self.jitter.clamp(0.0, 1.0);
        if jitter == 0.0 {
            return backoff;
        }
        let factor = rand::rng().random_range((1.0 - jitter)..=(1.0 + jitter));
        backoff.mul_f64(factor).min(self.max_delay)
    }
}

/// A provider and the model to ask it for.
#[derive(Clone)]
pub struct Candidate {
    pub provider: Arc<dyn Provider>,
    pub model: String,
}

impl Candidate {
    pub fn new(provider: Arc<dyn Provider>, model: impl Into<String>) -> Self {
        Self {
            provider,
            model: model.into(),
        }
    }
}

impl fmt::Debug for Candidate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Candidate")
            .field("provider", &self.provider.name())
            .field("model", &self.model)
            .finish()
    }
}

/// Calls `provider`, repeating retryable failures under `policy` as long as nothing has been
/// streamed into `sink` yet.
pub async fn chat_with_retries(
    provider: &dyn Provider,
    request: &ChatRequest,
    sink: DeltaSink<'_>,
    policy: &RetryPolicy,
) -> Result<ChatResponse, ProviderError> {
    let mut streamed = false;
    call_with_retries(provider, request, sink, policy, &mut streamed).await
}

/// Tries `candidates` in order, each with retries, with the candidate's model in the request.
/// Moves to the next candidate only when nothing has been streamed and the failure is
/// retryable or a missing/rejected credential; returns the last failure when all fail.
pub async fn chat_with_fallback(
    candidates: &[Candidate],
    request: &ChatRequest,
    sink: DeltaSink<'_>,
    policy: &RetryPolicy,
) -> Result<ChatResponse, ProviderError> {
    let mut streamed = false;
    let mut last_error = None;
    for candidate in candidates {
        let request = if request.model == candidate.model {
            Cow::Borrowed(request)
        } else {
            let mut owned = request.clone();
            owned.model.clone_from(&candidate.model);
            Cow::Owned(owned)
        };
        let error = match call_with_retries(
            candidate.provider.as_ref(),
            &request,
            sink,
            policy,
            &mut streamed,
        )
        .await
        {
            Ok(response) => return Ok(response),
            Err(error) => error,
        };
        let next = !streamed
            && (error.is_retryable()
                || matches!(
                    error,
                    ProviderError::Auth(_) | ProviderError::NotConfigured(_)
                ));
        if !next {
            return Err(error);
        }
        tracing::warn!(
            provider = candidate.provider.name(),
            model = %candidate.model,
            error = %error,
            "provider failed, trying the next candidate"
        );
        last_error = Some(error);
    }
    Err(last_error
        .unwrap_or_else(|| ProviderError::NotConfigured("(no model candidates)".to_owned())))
}

async fn call_with_retries(
    provider: &dyn Provider,
    request: &ChatRequest,
    sink: DeltaSink<'_>,
    policy: &RetryPolicy,
    streamed: &mut bool,
) -> Result<ChatResponse, ProviderError> {
    let attempts = policy.max_attempts.max(1);
    let mut attempt = 1;
    loop {
        let result = {
            let mut tracking = |delta: StreamDelta| {
                *streamed = true;
                sink(delta);
            };
            provider.chat(request, &mut tracking).await
        };
        let error = match result {
            Ok(response) => return Ok(response),
            Err(error) => error,
        };
        if *streamed || !error.is_retryable() || attempt >= attempts {
            return Err(error);
        }
        let delay = policy.delay_before_retry(attempt, &error);
        tracing::warn!(
            provider = provider.name(),
            model = %request.model,
            attempt,
            delay_ms = u64::try_from(delay.as_millis()).unwrap_or(u64::MAX),
            error = %error,
            "provider call failed, retrying"
        );
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate_limited(after: Option<u64>) -> ProviderError {
        ProviderError::RateLimited {
            retry_after: after.map(Duration::from_secs),
            message: String::new(),
        }
    }

    #[test]
    fn delays_follow_backoff_and_retry_after() {
        let policy = RetryPolicy {
            jitter: 0.0,
            ..RetryPolicy::default()
        };
        let ms = Duration::from_millis;
        let cases = [
            (1, rate_limited(None), ms(300)),
            (2, rate_limited(None), ms(600)),
            (3, rate_limited(None), ms(1200)),
            (20, rate_limited(None), ms(30_000)),
            (1, rate_limited(Some(2)), ms(2000)),
            (1, rate_limited(Some(90)), ms(30_000)),
            (2, ProviderError::Timeout, ms(600)),
        ];
        for (retry, error, expected) in cases {
            assert_eq!(
                policy.delay_before_retry(retry, &error),
                expected,
                "{retry} {error:?}"
            );
        }
    }

    #[test]
    fn jitter_stays_within_ten_percent() {
        let policy = RetryPolicy::default();
        for _ in 0..200 {
            let delay = policy.delay_before_retry(2, &ProviderError::Timeout);
            assert!((540..=660).contains(&delay.as_millis()), "{delay:?}");
        }
    }
}
