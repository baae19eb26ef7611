//! The one error type of the HTTP API: 4xx details are shown, 5xx internals are logged and
//! hidden. Bodies follow OpenAI's error shape (`{"error":{"message","type","code"}}`), which
//! OpenAI clients parse, with GoClaw's protocol codes in `code`.

use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use goclaw_core::StoreError;
use serde_json::json;

/// A failed HTTP request.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    /// Sent as `Retry-After` (whole seconds, rounded up).
    pub retry_after: Option<Duration>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
            retry_after: None,
        }
    }

    /// Tells the client when to try again.
    pub fn with_retry_after(mut self, wait: Duration) -> Self {
        self.retry_after = Some(wait);
        self
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    pub fn unauthorized() -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized")
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// A server-side failure; the cause is logged, the client sees a generic message.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "request failed");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
    }

    fn kind(&self) -> (&'static str, &'static str) {
        match self.status {
            StatusCode::BAD_REQUEST
            | StatusCode::UNPROCESSABLE_ENTITY
            | StatusCode::UNSUPPORTED_MEDIA_TYPE
            | StatusCode::PAYLOAD_TOO_LARGE => ("invalid_request_error", "INVALID_REQUEST"),
            StatusCode::UNAUTHORIZED => ("authentication_error", "UNAUTHORIZED"),
            StatusCode::FORBIDDEN => ("permission_error", "UNAUTHORIZED"),
            StatusCode::NOT_FOUND => ("not_found_error", "NOT_FOUND"),
            StatusCode::CONFLICT => ("invalid_request_error", "ALREADY_EXISTS"),
            StatusCode::TOO_MANY_REQUESTS => ("rate_limit_error", "RESOURCE_EXHAUSTED"),
            StatusCode::SERVICE_UNAVAILABLE => ("server_error", "UNAVAILABLE"),
            _ => ("server_error", "INTERNAL"),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (kind, code) = self.kind();
        let body = json!({ "error": { "message": self.message, "type": kind, "code": code } });
        let mut response = (self.status, Json(body)).into_response();
        if let Some(wait) = self.retry_after {
            let secs = crate::ratelimit::retry_after_secs(wait);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound(what) => Self::not_found(format!("{what} not found")),
            StoreError::Conflict(what) => {
                Self::new(StatusCode::CONFLICT, format!("{what} already exists"))
            }
            other => Self::internal(other),
        }
    }
}
