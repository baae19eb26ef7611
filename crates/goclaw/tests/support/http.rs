//! One HTTP request to a test application as a given caller: a bearer token and, for the gateway
//! token, the user it acts for (`X-GoClaw-User-Id`). Answers the status and the JSON body
//! (`null` when the body is empty or not JSON, which the caller's assertions then reject).

use goclaw_testkit::TestApp;
use reqwest::Method;
use serde_json::Value;

/// `method path` with `bearer`, as `user` when given, with `body` as JSON when given.
pub async fn call(
    app: &TestApp,
    bearer: &str,
    user: Option<&str>,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method.clone(), app.url(path))
        .bearer_auth(bearer);
    if let Some(user) = user {
        request = request.header("X-GoClaw-User-Id", user);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request
        .send()
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    let status = response.status().as_u16();
    let text = response.text().await.unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}
