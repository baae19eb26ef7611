//! Classification of provider failures into `ProviderError`: HTTP statuses, `Retry-After`,
//! context-overflow messages, transport errors, and the error objects some providers send in
//! the middle of a stream.

use std::time::{Duration, SystemTime};

use goclaw_core::llm::ProviderError;

/// Phrases by which providers say the prompt does not fit the context window (lower case).
const CONTEXT_OVERFLOW_PHRASES: [&str; 13] = [
    "context length exceeded",
    "context_length_exceeded",
    "context window",
    "maximum context length",
    "token limit",
    "too many tokens",
    "prompt is too long",
    "prompt exceeds max length",
    "request_too_large",
    "input is too long",
    "上下文长度",
    "超出最大长度",
    "超过最大长度",
];

/// Longest error message kept from a response body.
const MAX_MESSAGE_CHARS: usize = 500;

/// True when `text` says the prompt is larger than the model's context window.
pub(crate) fn is_context_overflow(text: &str) -> bool {
    let lower = text.to_lowercase();
    CONTEXT_OVERFLOW_PHRASES
        .iter()
        .any(|phrase| lower.contains(phrase))
}

/// Maps a non-2xx answer to an error. `body` is the raw response body.
pub(crate) fn status_error(
    status: u16,
    retry_after: Option<Duration>,
    body: &str,
) -> ProviderError {
    let message = body_message(body);
    match status {
        429 => ProviderError::RateLimited {
            retry_after,
            message,
        },
        401 | 403 => ProviderError::Auth(message),
        500..=599 => ProviderError::Server {
            status,
            retry_after,
            message,
        },
        _ if is_context_overflow(body) => ProviderError::ContextOverflow(message),
        400..=499 => ProviderError::BadRequest { status, message },
        // 1xx/3xx that reqwest did not follow: nothing we can use.
        _ => ProviderError::Protocol(format!("unexpected HTTP status {status}: {message}")),
    }
}

/// Maps an error object received inside a stream (Anthropic `error` event, OpenAI `error`
/// chunk) using the status its `type` stands for.
pub(crate) fn stream_error(kind: &str, message: &str) -> ProviderError {
    let status = match kind {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" | "rate_limit_exceeded" => 429,
        "overloaded_error" => 529,
        _ => 500,
    };
    let text = if kind.is_empty() {
        message.to_owned()
    } else {
        format!("{kind}: {message}")
    };
    status_error(status, None, &text)
}

/// Maps a transport failure of reqwest.
pub(crate) fn transport_error(error: reqwest::Error) -> ProviderError {
    if error.is_timeout() {
        return ProviderError::Timeout;
    }
    ProviderError::Connection(error_chain(&error.without_url()))
}

/// Parses a `Retry-After` value: delay seconds or an HTTP date (relative to `now`).
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// Replaces every occurrence of `secret` in `text` (providers sometimes echo a bad key).
pub(crate) fn scrub(text: &str, secret: &str) -> String {
    if secret.len() < 4 {
        return text.to_owned();
    }
    text.replace(secret, "***")
}

/// The human message of an error body: `error.message` (both wire formats), `message`, or the
/// body itself, shortened.
fn body_message(body: &str) -> String {
    let parsed: Option<serde_json::Value> = serde_json::from_str(body).ok();
    let from_json = parsed.as_ref().and_then(|value| {
        let error = value.get("error");
        error
            .and_then(|e| e.get("message"))
            .or_else(|| value.get("message"))
            .or(error)
            .and_then(|m| m.as_str())
            .map(str::to_owned)
    });
    let message = from_json.unwrap_or_else(|| body.trim().to_owned());
    if message.chars().count() <= MAX_MESSAGE_CHARS {
        return message;
    }
    let mut short: String = message.chars().take(MAX_MESSAGE_CHARS).collect();
    short.push('…');
    short
}

/// An error with its sources, `a: b: c`, so "connection reset" or "broken pipe" is visible.
fn error_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: u16, body: &str, expected: &str) {
        let error = status_error(status, None, body);
        let kind = match error {
            ProviderError::RateLimited { .. } => "rate_limited",
            ProviderError::Server { .. } => "server",
            ProviderError::Auth(_) => "auth",
            ProviderError::ContextOverflow(_) => "context_overflow",
            ProviderError::BadRequest { .. } => "bad_request",
            ProviderError::Protocol(_) => "protocol",
            _ => "other",
        };
        assert_eq!(kind, expected, "status {status} body {body}");
    }

    #[test]
    fn statuses_map_to_errors() {
        check(429, "slow down", "rate_limited");
        check(500, "boom", "server");
        check(502, "", "server");
        check(
            529,
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
            "server",
        );
        check(401, "bad key", "auth");
        check(403, "forbidden", "auth");
        check(404, "no such model", "bad_request");
        check(
            400,
            r#"{"error":{"message":"prompt is too long: 210000 tokens > 200000 maximum"}}"#,
            "context_overflow",
        );
        check(
            400,
            r#"{"error":{"code":"context_length_exceeded","message":"This model's maximum context length is 128000 tokens."}}"#,
            "context_overflow",
        );
        check(
            413,
            r#"{"error":{"type":"request_too_large","message":"Request exceeds the maximum size"}}"#,
            "context_overflow",
        );
        check(
            400,
            "Input is too long for requested model.",
            "context_overflow",
        );
        check(400, "请求超出最大长度", "context_overflow");
        check(
            400,
            r#"{"error":{"message":"invalid tool schema"}}"#,
            "bad_request",
        );
        check(302, "moved", "protocol");
    }

    #[test]
    fn retry_after_accepts_seconds_and_dates() {
        let now = httpdate::parse_http_date("Wed, 21 Oct 2015 07:28:00 GMT").expect("valid date");
        let cases = [
            ("2", Some(Duration::from_secs(2))),
            (" 120 ", Some(Duration::from_secs(120))),
            ("1.5", Some(Duration::from_millis(1500))),
            (
                "Wed, 21 Oct 2015 07:28:30 GMT",
                Some(Duration::from_secs(30)),
            ),
            ("Wed, 21 Oct 2015 07:27:00 GMT", Some(Duration::ZERO)),
            ("soon", None),
            ("-3", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value, now), expected, "{value}");
        }
    }

    #[test]
    fn messages_come_from_error_objects_and_are_short() {
        assert_eq!(body_message(r#"{"error":{"message":"nope"}}"#), "nope");
        assert_eq!(body_message(r#"{"message":"nope"}"#), "nope");
        assert_eq!(body_message(r#"{"error":"nope"}"#), "nope");
        assert_eq!(body_message("  plain  "), "plain");
        assert_eq!(
            body_message(&"x".repeat(900)).chars().count(),
            MAX_MESSAGE_CHARS + 1
        );
    }

    #[test]
    fn secrets_are_scrubbed() {
        assert_eq!(
            scrub("Incorrect API key sk-abc123", "sk-abc123"),
            "Incorrect API key ***"
        );
        assert_eq!(scrub("short", "ab"), "short");
    }

    #[test]
    fn stream_error_types_map_like_statuses() {
        assert!(matches!(
            stream_error("overloaded_error", "Overloaded"),
            ProviderError::Server { status: 529, .. }
        ));
        assert!(matches!(
            stream_error("rate_limit_error", "x"),
            ProviderError::RateLimited { .. }
        ));
        assert!(matches!(
            stream_error("invalid_request_error", "prompt is too long"),
            ProviderError::ContextOverflow(_)
        ));
        assert!(matches!(
            stream_error("", "weird"),
            ProviderError::Server { status: 500, .. }
        ));
    }
}
