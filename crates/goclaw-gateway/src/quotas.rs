//! Quotas on the write paths users reach: size caps on what they may store (context files,
//! injected transcript messages, session labels and metadata, agent configuration) and a
//! per-user budget of writes — the same token bucket as `gateway.rate_limit_rpm`, in a bucket of
//! its own so writing does not spend the chat budget. A refusal is logged as
//! `security.quota_exceeded` (too large) or `security.rate_limited` (too often), and answered
//! `RESOURCE_EXHAUSTED` on WebSocket (with `retryAfterMs` when waiting helps) and 413 or 429
//! over HTTP (`http/agents.rs`).

use std::time::Duration;

use crate::auth::Principal;
use crate::ratelimit::{RATE_LIMITED_MESSAGE, millis_ceil, user_key};
use crate::routes::AppState;
use crate::ws::frames::{ErrorCode, ErrorShape};

/// Largest context file, in bytes.
pub const MAX_CONTEXT_FILE_BYTES: usize = 256 * 1024;
/// Longest session label, in characters.
pub const MAX_SESSION_LABEL_CHARS: usize = 255;
/// Largest session metadata object, in bytes of JSON.
pub const MAX_SESSION_METADATA_BYTES: usize = 64 * 1024;
/// Largest agent `other_config`, in bytes of JSON.
pub const MAX_AGENT_CONFIG_BYTES: usize = 64 * 1024;

/// Why a write was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum QuotaRefusal {
    /// `what` is `size` long; at most `limit` is accepted (`unit`: bytes or characters).
    TooLarge {
        what: &'static str,
        size: usize,
        limit: usize,
        unit: &'static str,
    },
    /// The caller's write budget is spent; a write is possible again after `retry_after`.
    RateLimited { retry_after: Duration },
}

impl std::fmt::Display for QuotaRefusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            QuotaRefusal::TooLarge {
                what,
                size,
                limit,
                unit,
            } => write!(f, "{what} is too large: {size} {unit}, at most {limit}"),
            QuotaRefusal::RateLimited { .. } => f.write_str(RATE_LIMITED_MESSAGE),
        }
    }
}

impl From<QuotaRefusal> for ErrorShape {
    fn from(refusal: QuotaRefusal) -> Self {
        let retry_after_ms = match &refusal {
            QuotaRefusal::RateLimited { retry_after } => Some(millis_ceil(*retry_after)),
            QuotaRefusal::TooLarge { .. } => None,
        };
        ErrorShape {
            retry_after_ms,
            ..ErrorShape::new(ErrorCode::ResourceExhausted, refusal.to_string())
        }
    }
}

/// Refuses `what` when `size` exceeds `limit` (0 = no limit), logging who tried.
pub fn check_size(
    principal: &Principal,
    what: &'static str,
    size: usize,
    limit: usize,
    unit: &'static str,
) -> Result<(), QuotaRefusal> {
    if limit == 0 || size <= limit {
        return Ok(());
    }
    tracing::warn!(
        user_id = %principal.user_id,
        what = what,
        size = size,
        limit = limit,
        "security.quota_exceeded"
    );
    Err(QuotaRefusal::TooLarge {
        what,
        size,
        limit,
        unit,
    })
}

/// Refuses `what` (a method or route) when the caller's write budget is spent. The budget is
/// per user, else per `fallback` (the connection of an anonymous caller).
pub fn admit_write(
    state: &AppState,
    principal: &Principal,
    fallback: &str,
    remote: &str,
    what: &str,
) -> Result<(), QuotaRefusal> {
    let key = if principal.user_id.is_empty() {
        format!("write:{fallback}")
    } else {
        format!(
            "write:{}",
            user_key(principal.tenant_id, &principal.user_id)
        )
    };
    state
        .rate_limiter
        .admit(&key, &principal.user_id, remote, what)
        .map_err(|retry_after| {
            state.metrics.rate_limit_hit(what);
            QuotaRefusal::RateLimited { retry_after }
        })
}

#[cfg(test)]
mod tests {
    use goclaw_core::MASTER_TENANT_ID;

    use super::*;
    use crate::auth::Role;

    fn alice() -> Principal {
        Principal {
            role: Role::Operator,
            user_id: "alice".to_owned(),
            tenant_id: MASTER_TENANT_ID,
            scopes: None,
        }
    }

    fn check(size: usize, limit: usize, expected: Option<&str>) {
        let got = check_size(&alice(), "content", size, limit, "bytes").err();
        assert_eq!(
            got.map(|r| r.to_string()).as_deref(),
            expected,
            "{size}/{limit}"
        );
    }

    #[test]
    fn sizes() {
        check(0, 10, None);
        check(10, 10, None);
        check(11, 10, Some("content is too large: 11 bytes, at most 10"));
        check(usize::MAX, 0, None);
    }

    #[test]
    fn refusals_on_the_wire() {
        let big = QuotaRefusal::TooLarge {
            what: "content",
            size: 2,
            limit: 1,
            unit: "bytes",
        };
        let shape = ErrorShape::from(big.clone());
        assert_eq!(shape.code, ErrorCode::ResourceExhausted);
        assert_eq!(shape.retry_after_ms, None);
        let wait = QuotaRefusal::RateLimited {
            retry_after: Duration::from_micros(1500),
        };
        assert_eq!(ErrorShape::from(wait).retry_after_ms, Some(2));
    }
}
