//! `ApiJson<T>`: the JSON body extractor of the API. Its rejections (a missing or wrong
//! `Content-Type`, malformed JSON, a body of the wrong shape) answer with the API's own error
//! body instead of axum's plain-text one, so every documented error is `{"error":{…}}`.
//!
//! It also reads a body the way the OpenAPI document (JSON Schema) describes it: the body must
//! be an object (serde would also take a struct as an array of its fields), and a number with
//! no fractional part (`2.0`) is an integer, as JSON Schema's `integer` says. A body holding a
//! NUL character (U+0000) anywhere is refused, as the document says: PostgreSQL cannot store
//! one in text or JSONB, and the answer must not depend on the storage backend.

use axum::Json;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;
use serde_json::{Number, Value};

use super::error::ApiError;

/// A JSON request body of type `T`.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<S, T> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let Json(mut body) = Json::<Value>::from_request(request, state)
            .await
            .map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))?;
        if !body.is_object() {
            return Err(unprocessable("the body must be a JSON object"));
        }
        if holds_nul(&body) {
            return Err(ApiError::bad_request(
                "strings must not contain NUL (U+0000) characters",
            ));
        }
        integral_floats_to_integers(&mut body);
        serde_json::from_value(body)
            .map(Self)
            .map_err(|error| unprocessable(&format!("invalid body: {error}")))
    }
}

fn unprocessable(message: &str) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, message)
}

/// Whether a string or a key anywhere in `value` contains U+0000.
fn holds_nul(value: &Value) -> bool {
    match value {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) => items.iter().any(holds_nul),
        Value::Object(fields) => fields
            .iter()
            .any(|(key, value)| key.contains('\0') || holds_nul(value)),
        _ => false,
    }
}

/// Rewrites every float with no fractional part that fits an `i64` or a `u64` as that integer.
fn integral_floats_to_integers(value: &mut Value) {
    match value {
        Value::Number(number) => {
            let float = number.is_f64().then(|| number.as_f64()).flatten();
            if let Some(integer) = float.and_then(as_integer) {
                *number = integer;
            }
        }
        Value::Array(items) => items.iter_mut().for_each(integral_floats_to_integers),
        Value::Object(fields) => fields.values_mut().for_each(integral_floats_to_integers),
        _ => {}
    }
}

/// `x` as an integer [`Number`] when it is a float with no fractional part within range.
fn as_integer(x: f64) -> Option<Number> {
    // 2^63 and 2^64 are exact as f64; the ranges below hold only exactly convertible values.
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    const TWO_64: f64 = 18_446_744_073_709_551_616.0;
    if x.fract() != 0.0 || !x.is_finite() {
        return None;
    }
    if (-TWO_63..TWO_63).contains(&x) {
        return Some(Number::from(x as i64));
    }
    if (0.0..TWO_64).contains(&x) {
        return Some(Number::from(x as u64));
    }
    None
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn check(input: Value, expected: Value) {
        let mut value = input.clone();
        integral_floats_to_integers(&mut value);
        assert_eq!(value, expected, "{input}");
        assert_eq!(value.to_string(), expected.to_string(), "{input}");
    }

    #[test]
    fn nul_characters_are_found_anywhere() {
        assert!(holds_nul(&json!({"a": ["x", "y\u{0}"]})));
        assert!(holds_nul(&json!({"a\u{0}": 1})));
        assert!(!holds_nul(&json!({"a": ["x", 1, null, {"b": "c"}]})));
    }

    #[test]
    fn integral_floats_become_integers() {
        check(json!(2.0), json!(2));
        check(json!(-3.0), json!(-3));
        check(json!(1.5), json!(1.5));
        check(json!({"a": [4.0, "x", 0.25]}), json!({"a": [4, "x", 0.25]}));
        check(json!(1.0e19), json!(10_000_000_000_000_000_000_u64));
        check(json!(1.0e300), json!(1.0e300));
        check(
            json!(9_223_372_036_854_775_806_i64),
            json!(9_223_372_036_854_775_806_i64),
        );
        check(json!(u64::MAX), json!(u64::MAX));
    }
}
