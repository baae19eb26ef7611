//! What can go wrong when embedding, which of it is worth another attempt, and the scrubbing
//! that keeps an API key out of every error message, even one a provider echoes back.

use std::time::Duration;

/// Why texts could not be embedded. Messages never contain the API key.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EmbedError {
    /// The settings cannot make a working client (empty base URL, zero batch size, ...).
    #[error("embedding settings are invalid: {0}")]
    Settings(String),
    /// The endpoint answered with a non-2xx status.
    #[error("embedding endpoint answered {status}: {message}")]
    Status {
        status: u16,
        /// The provider's error message (or the start of its body).
        message: String,
        /// The wait the provider asked for with `Retry-After`, when it did.
        retry_after: Option<Duration>,
    },
    /// The request could not be sent or its answer not read (refused connection, reset, DNS).
    #[error("embedding request failed: {0}")]
    Transport(String),
    /// No complete answer within the request timeout.
    #[error("embedding request timed out after {0:?}")]
    Timeout(Duration),
    /// A 2xx answer that is not a valid embeddings list for the request.
    #[error("embedding answer is malformed: {0}")]
    Malformed(String),
    /// A vector of another length than the stores hold.
    #[error("embedding has {actual} dimensions, expected {expected}")]
    Dimensions { expected: usize, actual: usize },
}

impl EmbedError {
    /// True for failures another attempt may cure: 429, 5xx, transport errors and timeouts.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Status { status, .. } => *status == 429 || (500..=599).contains(status),
            Self::Transport(_) | Self::Timeout(_) => true,
            Self::Settings(_) | Self::Malformed(_) | Self::Dimensions { .. } => false,
        }
    }

    /// The provider's `Retry-After`, when it sent one.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Status { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// Longest provider message kept in an error.
const MAX_MESSAGE_CHARS: usize = 500;

/// The message of an error body: OpenAI's `error.message`, a bare `message` or `error`
/// string, else the body itself; shortened, with `secret` replaced by `***`.
pub(crate) fn status_message(body: &str, secret: Option<&str>) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|json| {
            json.pointer("/error/message")
                .or_else(|| json.get("message"))
                .or_else(|| json.get("error"))
                .or_else(|| json.get("detail"))
                .and_then(serde_json::Value::as_str)
        })
        .unwrap_or(body);
    let short: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    scrub(short.trim(), secret)
}

/// `text` with every occurrence of `secret` replaced by `***`.
pub(crate) fn scrub(text: &str, secret: Option<&str>) -> String {
    match secret {
        Some(secret) if !secret.is_empty() => text.replace(secret, "***"),
        _ => text.to_owned(),
    }
}

/// Parses `Retry-After` given in (possibly fractional) seconds; HTTP dates are ignored and the
/// policy's own backoff applies.
pub(crate) fn parse_retry_after(value: &str) -> Option<Duration> {
    let seconds: f64 = value.trim().parse().ok()?;
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Duration::try_from_secs_f64(seconds).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses() {
        let status = |status| EmbedError::Status {
            status,
            message: String::new(),
            retry_after: None,
        };
        for code in [429, 500, 502, 503, 529] {
            assert!(status(code).is_retryable(), "{code}");
        }
        for code in [400, 401, 403, 404, 413, 422] {
            assert!(!status(code).is_retryable(), "{code}");
        }
        assert!(EmbedError::Timeout(Duration::from_secs(1)).is_retryable());
        assert!(EmbedError::Transport("reset".into()).is_retryable());
        let wrong = EmbedError::Dimensions {
            expected: 1536,
            actual: 3,
        };
        assert!(!wrong.is_retryable());
    }

    #[test]
    fn messages_are_extracted_shortened_and_scrubbed() {
        let openai = r#"{"error":{"message":"Incorrect API key provided: sk-secret","type":"x"}}"#;
        assert_eq!(
            status_message(openai, Some("sk-secret")),
            "Incorrect API key provided: ***"
        );
        assert_eq!(status_message(r#"{"detail":"bad"}"#, None), "bad");
        assert_eq!(
            status_message("plain sk-secret", Some("sk-secret")),
            "plain ***"
        );
        assert_eq!(status_message("plain", Some("")), "plain");
        let long = "x".repeat(2000);
        assert_eq!(status_message(&long, None).len(), MAX_MESSAGE_CHARS);
    }

    #[test]
    fn retry_after_in_seconds() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("inf"), None);
    }
}
