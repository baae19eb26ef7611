//! Helpers of the webhook tests: a gateway with an encryption key, webhooks registered over
//! the admin API, calls from chosen loopback source addresses (the per-source window counts
//! each address apart), signatures made as a caller makes them, and a callback receiver.

#![allow(dead_code)]

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use goclaw_testkit::{StoreBackend, TestApp, spawn_app_with_config};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

pub const TOKEN: &str = "webhooks-gateway-token-5d1e";
pub const ENCRYPTION_KEY: &str = "8899aabbccddeeff00112233445566778899aabbccddeeff0011223344556677";

/// A gateway with webhooks (an encryption key); `private_callbacks` allows loopback callbacks.
pub async fn app(backend: StoreBackend, private_callbacks: bool) -> Option<TestApp> {
    let config = format!("{{ gateway: {{ webhook_private_callbacks: {private_callbacks} }} }}");
    spawn_app_with_config(
        backend,
        &config,
        &[
            ("GOCLAW_GATEWAY_TOKEN", TOKEN),
            ("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY),
        ],
    )
    .await
}

/// A client whose requests come from `127.0.{a}.{b}`.
pub fn client_from(a: u8, b: u8) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(IpAddr::V4(Ipv4Addr::new(127, 0, a, b)))
        .build()
        .expect("a client")
}

/// An admin API request with `bearer`.
pub async fn admin(
    app: &TestApp,
    method: reqwest::Method,
    path: &str,
    bearer: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app
        .client
        .request(method, app.url(path))
        .bearer_auth(bearer);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("request sent");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// The master tenant's default agent's id.
pub async fn default_agent_id(app: &TestApp) -> String {
    let (status, agent) = admin(app, reqwest::Method::GET, "/v1/agents/default", TOKEN, None).await;
    assert_eq!(status, 200, "{agent}");
    agent["id"].as_str().expect("agent id").to_owned()
}

/// Registers a webhook as `bearer`; returns the create answer.
pub async fn register(app: &TestApp, bearer: &str, body: Value) -> Value {
    let (status, created) = admin(
        app,
        reqwest::Method::POST,
        "/v1/webhooks",
        bearer,
        Some(body),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    created
}

/// An `llm` webhook of the default agent with `extra` fields; returns (id, secret).
pub async fn llm_webhook(app: &TestApp, extra: Value) -> (String, String) {
    let mut body = json!({ "name": "ci", "kind": "llm", "agent_id": default_agent_id(app).await });
    if let (Some(body), Some(extra)) = (body.as_object_mut(), extra.as_object()) {
        body.extend(extra.clone());
    }
    let created = register(app, TOKEN, body).await;
    (
        created["id"].as_str().expect("id").to_owned(),
        created["secret"].as_str().expect("secret").to_owned(),
    )
}

/// The signature header of `body` at `t` under `secret`, made independently of the gateway.
pub fn sign(secret: &str, t: i64, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes()).expect("any key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A call's status, headers and JSON body.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

/// POSTs `body` to `path` with `headers` from `client`.
pub async fn call(
    app: &TestApp,
    client: &reqwest::Client,
    path: &str,
    headers: &[(&str, String)],
    body: Vec<u8>,
) -> Answer {
    let mut request = client
        .post(app.url(path))
        .header("content-type", "application/json")
        .body(body);
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    let response = request.send().await.expect("call sent");
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    Answer {
        status,
        headers,
        body,
    }
}

/// A bearer call of `/v1/webhooks/llm`.
pub async fn llm_call(
    app: &TestApp,
    client: &reqwest::Client,
    secret: &str,
    body: Value,
) -> Answer {
    call(
        app,
        client,
        "/v1/webhooks/llm",
        &[("authorization", format!("Bearer {secret}"))],
        body.to_string().into_bytes(),
    )
    .await
}

/// One request the callback receiver got.
#[derive(Debug, Clone)]
pub struct Callback {
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

/// A loopback callback receiver answering each request with the next status of its script
/// (then 200), `Retry-After: 1` on a 429.
#[derive(Clone)]
pub struct Receiver {
    pub addr: SocketAddr,
    got: Arc<Mutex<Vec<Callback>>>,
    script: Arc<Mutex<Vec<u16>>>,
}

impl Receiver {
    pub async fn start(script: Vec<u16>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a callback port");
        let addr = listener.local_addr().expect("address");
        let receiver = Self {
            addr,
            got: Arc::default(),
            script: Arc::new(Mutex::new(script.into_iter().rev().collect())),
        };
        let app = axum::Router::new()
            .route("/cb", axum::routing::post(receive))
            .with_state(receiver.clone());
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        receiver
    }

    pub fn url(&self) -> String {
        format!("http://{}/cb", self.addr)
    }

    pub fn got(&self) -> Vec<Callback> {
        self.got.lock().expect("lock").clone()
    }

    /// Waits until `n` callbacks arrived (at most 30 s).
    pub async fn wait_for(&self, n: usize) -> Vec<Callback> {
        for _ in 0..600 {
            let got = self.got();
            if got.len() >= n {
                return got;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        panic!("{n} callbacks never arrived: {:?}", self.got());
    }
}

async fn receive(
    State(receiver): State<Receiver>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> impl IntoResponse {
    receiver.got.lock().expect("lock").push(Callback {
        headers,
        body: body.to_vec(),
    });
    let status = receiver.script.lock().expect("lock").pop().unwrap_or(200);
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::OK);
    let mut response = status.into_response();
    if status == StatusCode::TOO_MANY_REQUESTS {
        response
            .headers_mut()
            .insert("retry-after", axum::http::HeaderValue::from_static("1"));
    }
    response
}

/// One bare HTTP/1.1 call of the `llm` route from `source`; its status.
pub async fn raw_call(gateway: std::net::SocketAddr, source: std::net::Ipv4Addr) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let socket = tokio::net::TcpSocket::new_v4().expect("socket");
    socket
        .bind((source, 0).into())
        .expect("bind the source address");
    let mut stream = socket.connect(gateway).await.expect("connect");
    let request = "POST /v1/webhooks/llm HTTP/1.1\r\nHost: gateway\r\nContent-Type: application/json\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}";
    stream.write_all(request.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    stream.read_to_end(&mut answer).await.expect("read");
    let head = String::from_utf8_lossy(&answer);
    head.split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

pub async fn tracked_sources(app: &TestApp) -> f64 {
    let text = app
        .client
        .get(app.url("/metrics"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("scrape")
        .text()
        .await
        .expect("text");
    text.lines()
        .find_map(|l| l.strip_prefix("goclaw_webhook_sources_tracked "))
        .and_then(|v| v.trim().parse().ok())
        .expect("the gauge is exported")
}
