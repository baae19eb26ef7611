//! `gateway.allowed_origins`: which browser origins may open `/ws` and call the HTTP API.
//!
//! An `Origin` is allowed when the list is empty, when the request carries no `Origin` (not a
//! browser), when the list holds `*`, or when it names the origin exactly. A refused WebSocket
//! upgrade gets 403 and a `security.cors_rejected` warning; HTTP gets CORS headers echoing an
//! allowed origin (`*` when any is), and preflight `OPTIONS` requests are answered.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use tower_http::cors::{AllowHeaders, AllowMethods, AllowOrigin, CorsLayer};

use crate::routes::AppState;

/// How long browsers may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(600);

/// The allowed origins. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct OriginPolicy {
    allowed: Arc<[String]>,
}

impl OriginPolicy {
    /// A policy allowing `origins` (blank entries ignored; empty allows every origin).
    pub fn new<I, S>(origins: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let allowed: Vec<String> = origins
            .into_iter()
            .map(|o| o.as_ref().trim().to_owned())
            .filter(|o| !o.is_empty())
            .collect();
        Self {
            allowed: allowed.into(),
        }
    }

    /// Whether every origin is allowed (the list is empty or holds `*`).
    pub fn allows_any(&self) -> bool {
        self.allowed.is_empty() || self.allowed.iter().any(|o| o == "*")
    }

    /// Whether a request with this `Origin` header (if any) is allowed.
    pub fn allows(&self, origin: Option<&str>) -> bool {
        match origin {
            None => true,
            Some(origin) => self.allows_any() || self.allowed.iter().any(|o| o == origin),
        }
    }

    /// Logs `security.cors_open` when no origin list is configured; called once at start-up.
    pub fn warn_if_open(&self) {
        if self.allowed.is_empty() {
            tracing::warn!(setting = "gateway.allowed_origins", "security.cors_open");
        }
    }

    /// CORS for the HTTP API under this policy.
    pub(crate) fn cors_layer(&self) -> CorsLayer {
        let origin = if self.allows_any() {
            AllowOrigin::any()
        } else {
            let policy = self.clone();
            AllowOrigin::predicate(move |origin: &HeaderValue, _| {
                origin
                    .to_str()
                    .is_ok_and(|origin| policy.allows(Some(origin)))
            })
        };
        CorsLayer::new()
            .allow_origin(origin)
            .allow_methods(AllowMethods::mirror_request())
            .allow_headers(AllowHeaders::mirror_request())
            .expose_headers([header::RETRY_AFTER])
            .max_age(PREFLIGHT_MAX_AGE)
    }
}

/// Refuses a `/ws` upgrade from an origin the policy does not allow.
pub(crate) async fn guard_ws(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let origin = request.headers().get(header::ORIGIN);
    let allowed = match origin {
        None => true,
        Some(value) => value
            .to_str()
            .is_ok_and(|origin| state.origins.allows(Some(origin))),
    };
    if allowed {
        return next.run(request).await;
    }
    let shown = origin
        .map(|v| {
            String::from_utf8_lossy(v.as_bytes())
                .chars()
                .take(200)
                .collect::<String>()
        })
        .unwrap_or_default();
    let remote = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.to_string())
        .unwrap_or_default();
    tracing::warn!(origin = %shown, remote = %remote, route = "/ws", "security.cors_rejected");
    (
        StatusCode::FORBIDDEN,
        Json(json!({ "error": "origin not allowed" })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(list: &[&str], origin: Option<&str>, allowed: bool) {
        let policy = OriginPolicy::new(list);
        assert_eq!(policy.allows(origin), allowed, "{list:?} {origin:?}");
    }

    #[test]
    fn origin_rules() {
        check(&[], Some("https://evil.example"), true);
        check(&[], None, true);
        check(&["https://app.example"], None, true);
        check(&["https://app.example"], Some("https://app.example"), true);
        check(
            &["https://app.example"],
            Some("https://evil.example"),
            false,
        );
        check(
            &["https://app.example"],
            Some("https://app.example.evil"),
            false,
        );
        check(&["https://app.example"], Some("http://app.example"), false);
        check(
            &["https://app.example", "*"],
            Some("https://x.example"),
            true,
        );
        check(&["  ", ""], Some("https://x.example"), true);
        check(
            &[" https://app.example "],
            Some("https://app.example"),
            true,
        );
    }

    #[test]
    fn open_only_when_empty_or_star() {
        assert!(OriginPolicy::new(Vec::<String>::new()).allows_any());
        assert!(OriginPolicy::new(["*"]).allows_any());
        assert!(!OriginPolicy::new(["https://app.example"]).allows_any());
    }
}
