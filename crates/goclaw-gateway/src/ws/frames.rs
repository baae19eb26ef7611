//! WebSocket protocol v3 frames: `req` from the client, `res` and `event` from the gateway, and
//! the error codes a `res` can carry.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Largest inbound frame; bigger ones close the connection.
pub const MAX_FRAME_BYTES: usize = 512 * 1024;

/// Bytes read from a WebSocket connection at a time. Frames larger than this are assembled
/// across reads; the default (128 KiB, allocated per connection up front) made 10,000 idle
/// clients cost over 1 GB. Requests are small JSON frames: 2 KiB holds nearly all of them.
pub const READ_BUFFER_BYTES: usize = 2 * 1024;

/// A client request.
#[derive(Debug, Clone, Deserialize)]
pub struct RequestFrame {
    pub id: String,
    pub method: String,
    #[serde(default)]
    pub params: Value,
}

/// Error codes of protocol v3.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidRequest,
    Unavailable,
    Unauthorized,
    NotFound,
    AlreadyExists,
    ResourceExhausted,
    FailedPrecondition,
    Internal,
    /// A method GoClaw has that this gateway does not provide.
    NotImplemented,
    /// The caller's membership of the connection's tenant is gone.
    TenantAccessRevoked,
}

/// The `error` object of a failed response.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ErrorShape {
    pub code: ErrorCode,
    pub message: String,
    #[serde(rename = "retryAfterMs", skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
}

impl ErrorShape {
    pub fn new(code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            retry_after_ms: None,
        }
    }

    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::InvalidRequest, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::NotFound, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthorized, message)
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorCode::Internal, message)
    }
}

/// A response to request `id`.
pub fn response(id: &str, result: Result<Value, ErrorShape>) -> Value {
    match result {
        Ok(payload) => {
            serde_json::json!({ "type": "res", "id": id, "ok": true, "payload": payload })
        }
        Err(error) => serde_json::json!({ "type": "res", "id": id, "ok": false, "error": error }),
    }
}

/// An event frame. Whether a connection may be sent it is decided by the event's entry in
/// `scopes::EVENT_ACCESS`.
pub fn event(event: crate::scopes::Event, payload: Value) -> Value {
    serde_json::json!({ "type": "event", "event": event.as_str(), "payload": payload })
}

/// Parses a text frame, producing the error GoClaw clients expect for each kind of bad input.
pub fn parse_request(text: &str) -> Result<RequestFrame, ErrorShape> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| ErrorShape::invalid(format!("invalid frame: {e}")))?;
    let kind = value
        .get("type")
        .and_then(Value::as_str)
        .unwrap_or_default();
    if kind != "req" {
        return Err(ErrorShape::invalid(format!(
            "unexpected frame type: {kind}"
        )));
    }
    serde_json::from_value(value)
        .map_err(|e| ErrorShape::invalid(format!("malformed request: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected_error: Option<&str>) {
        match (parse_request(text), expected_error) {
            (Ok(_), None) => {}
            (Err(e), Some(prefix)) => {
                assert!(e.message.starts_with(prefix), "{text}: {}", e.message)
            }
            (other, expected) => panic!("{text}: got {other:?}, expected error {expected:?}"),
        }
    }

    #[test]
    fn request_parsing() {
        check(r#"{"type":"req","id":"1","method":"health"}"#, None);
        check(
            r#"{"type":"req","id":"1","method":"chat.send","params":{"message":"hi"}}"#,
            None,
        );
        check(
            r#"{"type":"req","id":1,"method":"health"}"#,
            Some("malformed request"),
        );
        check(r#"{"type":"req","id":"1"}"#, Some("malformed request"));
        check(
            r#"{"type":"event","id":"1","method":"x"}"#,
            Some("unexpected frame type: event"),
        );
        check("not json", Some("invalid frame"));
    }

    #[test]
    fn error_codes_serialize_like_goclaw() {
        let value = serde_json::to_value(ErrorShape::invalid("x")).expect("serializes");
        assert_eq!(value["code"], "INVALID_REQUEST");
        assert!(value.get("retryAfterMs").is_none());
    }
}
