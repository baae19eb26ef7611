//! Secrets never reach the logs or API responses: one gateway process is driven through every
//! path that handles a secret — token and API-key authentication (good, wrong, revoked), key
//! creation, provider credentials stored encrypted and used for a real call, WebSocket and HTTP
//! chat, secrets in request URLs — with debug logging on, and everything it printed, and every
//! response it gave, is scanned for each secret value.

mod support;

use goclaw_testkit::{FakeLlm, Reply, WsClient};
use serde_json::{Value, json};
use support::{Goclaw, home};

const TOKEN: &str = "gw-scan-token-6b0e1f2a9c8d7e6f";
const ENCRYPTION_KEY: &str = "9f8e7d6c5b4a39281706f5e4d3c2b1a09f8e7d6c5b4a39281706f5e4d3c2b1a0";
const ANTHROPIC_KEY: &str = "sk-ant-scan-0a1b2c3d4e5f6a7b8c9d";
const PROVIDER_KEY: &str = "sk-or-scan-11aa22bb33cc44dd55ee";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_secret_reaches_logs_or_responses() {
    let llm = FakeLlm::start().await;
    let home = home();
    let server = Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_GATEWAY_TOKEN", TOKEN)
        .env("GOCLAW_ENCRYPTION_KEY", ENCRYPTION_KEY)
        .env("GOCLAW_ANTHROPIC_API_KEY", ANTHROPIC_KEY)
        .env("GOCLAW_ANTHROPIC_BASE_URL", llm.base_url())
        .args(&["-v", "serve"])
        .start()
        .await
        .expect("gateway starts");
    let http = reqwest::Client::new();
    let mut responses = String::new();
    let call = async |method: reqwest::Method, path: &str, bearer: &str, body: Option<Value>| {
        let mut request = http.request(method, server.url(path)).bearer_auth(bearer);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let text = response.text().await.unwrap_or_default();
        (status, text)
    };

    // An API key, created with the gateway token and used for a chat.
    let (status, created) = call(
        reqwest::Method::POST,
        "/v1/api-keys",
        TOKEN,
        Some(json!({ "name": "scan", "scopes": ["operator.write"] })),
    )
    .await;
    assert_eq!(status, 201, "{created}");
    let created: Value = serde_json::from_str(&created).expect("JSON");
    let api_key = created["key"]
        .as_str()
        .expect("plaintext key once")
        .to_owned();
    let key_id = created["id"].as_str().expect("id").to_owned();

    llm.push(Reply::text("hello via key"));
    let (status, text) = call(
        reqwest::Method::POST,
        "/v1/chat/completions",
        &api_key,
        Some(
            json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": "hi" }] }),
        ),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    responses.push_str(&text);

    // Provider credentials stored encrypted, then used by the default agent.
    let (status, text) = call(
        reqwest::Method::POST,
        "/v1/providers",
        TOKEN,
        Some(json!({ "name": "scanprov", "provider_type": "openai_compat", "api_base": llm.base_url(), "api_key": PROVIDER_KEY })),
    )
    .await;
    assert!(status == 200 || status == 201, "{status} {text}");
    responses.push_str(&text);
    let (status, text) = call(reqwest::Method::GET, "/v1/providers", TOKEN, None).await;
    assert_eq!(status, 200, "{text}");
    responses.push_str(&text);
    let (status, text) = call(
        reqwest::Method::PUT,
        "/v1/agents/default",
        TOKEN,
        Some(json!({ "provider": "scanprov", "model": "scan-model" })),
    )
    .await;
    assert_eq!(status, 200, "{text}");
    llm.push(Reply::text("hello via stored provider"));
    let mut ws = WsClient::open(&format!("ws://{}/ws", server.addr)).await;
    ws.call_ok("connect", json!({ "token": TOKEN, "user_id": "scanner" }))
        .await;
    let reply = ws
        .call_ok("chat.send", json!({ "message": "use the stored provider" }))
        .await;
    assert_eq!(reply["content"], "hello via stored provider");
    let used = llm
        .requests()
        .pop()
        .expect("the stored provider was called");
    assert_eq!(
        used.header("authorization"),
        Some(format!("Bearer {PROVIDER_KEY}").as_str()),
        "the decrypted key reached the provider"
    );
    responses.push_str(&reply.to_string());

    // Rejections: wrong token, revoked key, secrets in URLs.
    let (status, text) = call(
        reqwest::Method::GET,
        "/v1/agents",
        "wrong-token-value",
        None,
    )
    .await;
    assert_eq!(status, 401);
    responses.push_str(&text);
    let (status, _) = call(
        reqwest::Method::POST,
        &format!("/v1/api-keys/{key_id}/revoke"),
        TOKEN,
        None,
    )
    .await;
    assert_eq!(status, 200);
    let (status, text) = call(reqwest::Method::GET, "/v1/agents", &api_key, None).await;
    assert_eq!(status, 401, "revoked key refused: {text}");
    responses.push_str(&text);
    for secret in [
        TOKEN,
        ENCRYPTION_KEY,
        ANTHROPIC_KEY,
        PROVIDER_KEY,
        api_key.as_str(),
    ] {
        let (status, _) = call(
            reqwest::Method::GET,
            &format!("/health?t={secret}"),
            "",
            None,
        )
        .await;
        assert_eq!(status, 200);
    }
    let mut bad = WsClient::open(&format!("ws://{}/ws", server.addr)).await;
    let res = bad
        .call("connect", json!({ "token": api_key, "user_id": "x" }))
        .await;
    assert_eq!(res["ok"], false);
    responses.push_str(&res.to_string());

    let (code, stdout, stderr) = server.terminate().await;
    assert_eq!(code, Some(0));
    assert!(
        stdout.contains("/health?t=***"),
        "debug request log is present and masked"
    );
    for secret in [
        TOKEN,
        ENCRYPTION_KEY,
        ANTHROPIC_KEY,
        PROVIDER_KEY,
        api_key.as_str(),
        &api_key[7..],
    ] {
        assert!(!stdout.contains(secret), "secret in stdout: {secret}");
        assert!(!stderr.contains(secret), "secret in stderr: {secret}");
        assert!(
            !responses.contains(secret),
            "secret in an API response: {secret}"
        );
    }
}
