//! Secrets never reach the logs or API responses: one gateway process is driven through every
//! path that handles a secret — token and API-key authentication (good, wrong, revoked), key
//! creation, provider credentials stored encrypted and used for a real call, WebSocket and HTTP
//! chat, secrets in request URLs — with debug logging on, and everything it printed, and every
//! response it gave, is scanned for each secret value. A tool result that carries the gateway's
//! secrets base64-, hex- or rev-encoded reaches neither the model, the stored messages, the
//! trace nor the events.

mod support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
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
    encoded_tool_output_is_scrubbed(&llm, &mut ws, &server, home.path()).await;

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

/// The gateway's secrets as a tool might print them: encoded, inside other output.
fn encoded_secrets() -> Vec<String> {
    vec![
        STANDARD.encode(TOKEN),
        STANDARD.encode(format!("PATH=/bin\nGOCLAW_GATEWAY_TOKEN={TOKEN}\n")),
        URL_SAFE_NO_PAD.encode(format!("k={ENCRYPTION_KEY}")),
        hex::encode(ANTHROPIC_KEY),
        hex::encode_upper(TOKEN),
        TOKEN.chars().rev().collect(),
        STANDARD.encode(PROVIDER_KEY),
    ]
}

/// The model writes a probe file, the test fills it with encoded secrets, the model reads it:
/// the result must be scrubbed everywhere it goes.
async fn encoded_tool_output_is_scrubbed(
    llm: &FakeLlm,
    ws: &mut WsClient,
    server: &support::Server,
    home: &Path,
) {
    llm.push(Reply::tool_call(
        "call_probe",
        "write_file",
        json!({ "path": "probe.txt", "content": "probe" }),
    ));
    llm.push(Reply::text("probe written"));
    ws.call_ok("chat.send", json!({ "message": "write the probe" }))
        .await;
    let probe = find_file(home, "probe.txt").expect("the probe file is in a workspace");
    let encoded = encoded_secrets();
    std::fs::write(&probe, format!("output:\n{}\nend\n", encoded.join("\n"))).expect("probe");
    llm.push(Reply::tool_call(
        "call_read",
        "read_file",
        json!({ "path": "probe.txt" }),
    ));
    llm.push(Reply::text("probe read"));
    let reply = ws
        .call_ok("chat.send", json!({ "message": "read the probe" }))
        .await;
    assert_eq!(reply["content"], "probe read");

    let seen_by_model = llm.requests().last().expect("requests").body.to_string();
    let events: String = ws.events.iter().map(Value::to_string).collect();
    let history = ws
        .call_ok("chat.history", json!({ "sessionKey": reply["sessionKey"] }))
        .await
        .to_string();
    let traces = trace_with(server, "call_read").await;
    for (place, text) in [
        ("the model request", &seen_by_model),
        ("the events", &events),
        ("the stored messages", &history),
        ("the trace", &traces),
    ] {
        assert!(
            text.contains("[REDACTED]"),
            "the tool result reached {place}: {text}"
        );
        for form in &encoded {
            assert!(!text.contains(form.as_str()), "{form} in {place}: {text}");
        }
    }
}

/// Every trace (with its spans) once one of them mentions `needle`; the recorder flushes on a
/// timer, so this polls with a deadline.
async fn trace_with(server: &support::Server, needle: &str) -> String {
    let http = reqwest::Client::new();
    let get = async |path: &str| -> Value {
        let response = http
            .get(server.url(path))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("request");
        response.json().await.expect("JSON")
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = get("/v1/traces").await;
        let mut all = String::new();
        for trace in list["traces"].as_array().into_iter().flatten() {
            let id = trace["id"].as_str().unwrap_or_default();
            all.push_str(&get(&format!("/v1/traces/{id}")).await.to_string());
        }
        if all.contains(needle) {
            return all;
        }
        assert!(Instant::now() < deadline, "no trace mentions {needle}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn find_file(dir: &Path, name: &str) -> Option<PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find_file(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}
