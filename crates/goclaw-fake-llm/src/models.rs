//! `GET /v1/models`: the fake's model listing, in a body both wire formats read — Anthropic's
//! `{data: [{id, display_name, type}], has_more}` and OpenAI's `{object: "list", data: [{id,
//! object, owned_by}]}`. Like the real APIs it wants a credential (`x-api-key` or a bearer
//! token) and answers 401 without one.

use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// The models listed, as (id, display name).
pub const MODELS: &[(&str, &str)] = &[("fake-large", "Fake Large"), ("fake-small", "Fake Small")];

/// Answers the listing, or 401 without a credential.
pub async fn list(headers: HeaderMap) -> Response {
    let has_key = headers.contains_key("x-api-key")
        || headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("Bearer ") && v.len() > "Bearer ".len());
    if !has_key {
        let body = json!({"error": {"type": "authentication_error", "message": "missing API key"}});
        return (StatusCode::UNAUTHORIZED, axum::Json(body)).into_response();
    }
    let data: Vec<_> = MODELS
        .iter()
        .map(|(id, name)| {
            json!({
                "id": id,
                "display_name": name,
                "type": "model",
                "object": "model",
                "owned_by": "fake",
            })
        })
        .collect();
    axum::Json(json!({"object": "list", "data": data, "has_more": false})).into_response()
}
