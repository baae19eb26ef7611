//! MCP servers from `tools.mcp_servers`, with the test server `fake-mcp` (crate
//! `goclaw-fake-mcp`): its tools are offered as `mcp_fake__<tool>` and called in real turns over
//! stdio, streamable HTTP and HTTP+SSE on both backends; a server that dies mid-call (stdio or
//! SSE) gives the model a tool error and the next call reconnects; a call past `timeout_sec` ends quickly as a tool
//! error; `mcp_tool_search` finds tools; a denied MCP tool is neither offered nor run. The
//! real executable shows that a stdio server does not inherit the gateway's environment, that
//! no configured secret reaches the logs, and what `goclaw doctor` reports.

mod support;

use std::time::{Duration, Instant};

use goclaw_testkit::{
    FakeLlm, FakeMcpHttp, FakeMcpSse, Reply, StoreBackend, TestApp, app_test, fake_mcp_binary,
    spawn_app_with_config,
};
use serde_json::{Value, json};
use support::{Goclaw, home};

/// A config whose MCP server `fake` is `fake-mcp` over stdio, plus `extra` keys of `tools`.
fn stdio_config(server_keys: &str, tools_keys: &str) -> String {
    let command = fake_mcp_binary().display().to_string();
    format!(
        "{{ gateway: {{ rate_limit_rpm: 0 }}, tools: {{ {tools_keys} mcp_servers: {{ fake: {{ command: {command:?}, {server_keys} }} }} }} }}"
    )
}

async fn stdio_app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(backend, &stdio_config("", ""), &[]).await
}

/// The tool names a recorded model request offers (Anthropic or OpenAI wire).
fn offered(body: &Value) -> Vec<String> {
    body["tools"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|t| t["name"].as_str().or(t["function"]["name"].as_str()))
        .map(str::to_owned)
        .collect()
}

/// The tool results a recorded model request carries, in order (Anthropic or OpenAI wire).
fn tool_results(body: &Value) -> Vec<String> {
    let mut results = Vec::new();
    for message in body["messages"].as_array().into_iter().flatten() {
        if message["role"] == "tool" {
            results.push(text_of(&message["content"]));
        }
        for part in message["content"].as_array().into_iter().flatten() {
            if part["type"] == "tool_result" {
                results.push(text_of(&part["content"]));
            }
        }
    }
    results
}

fn text_of(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        other => other.to_string(),
    }
}

/// The last tool result the model was sent in request `n`.
fn last_result(llm: &FakeLlm, n: usize) -> String {
    let requests = llm.requests();
    tool_results(&requests[n].body)
        .pop()
        .unwrap_or_else(|| panic!("request {n} carries a tool result: {}", requests[n].body))
}

async fn chat(app: &TestApp, user: &str, message: &str) -> Value {
    let mut ws = app.ws_connect(user).await;
    ws.call_ok("chat.send", json!({ "message": message })).await
}

app_test!(
    a_stdio_servers_tool_is_offered_and_called_in_a_turn,
    stdio_app,
    |app: TestApp| async move {
        app.llm.push(Reply::tool_call(
            "call_e",
            "mcp_fake__echo",
            json!({"text": "hello from the fake server"}),
        ));
        app.llm.push(Reply::text("It said hello."));
        let payload = chat(&app, "ann", "ask the server").await;
        assert_eq!(payload["content"], "It said hello.");

        let requests = app.llm.requests();
        let tools = offered(&requests[0].body);
        for tool in [
            "mcp_fake__echo",
            "mcp_fake__add",
            "mcp_fake__slow",
            "mcp_tool_search",
        ] {
            assert!(tools.contains(&tool.to_owned()), "{tool} in {tools:?}");
        }
        let echo = requests[0].body["tools"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                if t["function"].is_object() {
                    t["function"].clone()
                } else {
                    t.clone()
                }
            })
            .find(|t| t["name"] == "mcp_fake__echo")
            .expect("echo definition");
        assert_eq!(echo["description"], "Echo the given text back unchanged");
        let schema = if echo["parameters"].is_object() {
            &echo["parameters"]
        } else {
            &echo["input_schema"]
        };
        assert_eq!(schema["required"], json!(["text"]));
        assert_eq!(schema["properties"]["text"]["type"], "string");
        let result = last_result(&app.llm, 1);
        assert!(result.contains("hello from the fake server"), "{result}");
        assert!(
            result.starts_with("<<<EXTERNAL_UNTRUSTED_CONTENT source=\"mcp:fake/echo\">>>"),
            "{result}"
        );
    }
);

/// A turn over streamable HTTP against a server that refuses requests without its API key.
async fn streamable_http_case(backend: StoreBackend) {
    let server = FakeMcpHttp::start(Some("X-Api-Key=mcp-header-secret-0042")).await;
    let config = format!(
        "{{ tools: {{ mcp_servers: {{ web: {{ transport: 'streamable-http', url: {:?}, headers: {{ 'X-Api-Key': 'mcp-header-secret-0042' }}, tool_prefix: 'mcp_remote' }} }} }} }}",
        server.url
    );
    let Some(app) = spawn_app_with_config(backend, &config, &[]).await else {
        return;
    };
    app.llm.push(Reply::tool_call(
        "call_a",
        "mcp_remote__add",
        json!({"a": 40, "b": 2}),
    ));
    app.llm.push(Reply::tool_call(
        "call_f",
        "mcp_remote__fail",
        json!({"message": "nothing to see"}),
    ));
    app.llm
        .push(Reply::tool_call("call_p", "mcp_remote__picture", json!({})));
    app.llm.push(Reply::text("42"));
    let payload = chat(&app, "bob", "add 40 and 2").await;
    assert_eq!(payload["content"], "42");
    let added = last_result(&app.llm, 1);
    assert!(added.contains("\n42\n"), "{added}");
    let failed = last_result(&app.llm, 2);
    assert_eq!(failed, "nothing to see", "isError is a tool error");
    let picture = last_result(&app.llm, 3);
    assert!(
        picture.contains("a red dot\n[image: image/png, 70 bytes]"),
        "{picture}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamable_http_servers_tool_is_called_with_its_headers_sqlite() {
    streamable_http_case(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_streamable_http_servers_tool_is_called_with_its_headers_postgres() {
    streamable_http_case(StoreBackend::Postgres).await;
}

/// A turn over HTTP+SSE against a server that refuses requests without its API key; the
/// same server configured without the key offers nothing.
async fn sse_case(backend: StoreBackend) {
    let server = FakeMcpSse::start(Some("X-Api-Key=mcp-sse-secret-0043")).await;
    let config = format!(
        "{{ tools: {{ mcp_servers: {{
            legacy: {{ transport: 'sse', url: {url:?}, headers: {{ 'X-Api-Key': 'mcp-sse-secret-0043' }} }},
            keyless: {{ transport: 'sse', url: {url:?}, timeout_sec: 5 }},
        }} }} }}",
        url = server.url
    );
    let Some(app) = spawn_app_with_config(backend, &config, &[]).await else {
        return;
    };
    app.llm.push(Reply::tool_call(
        "call_e",
        "mcp_legacy__echo",
        json!({"text": "over the event stream"}),
    ));
    app.llm.push(Reply::tool_call(
        "call_a",
        "mcp_legacy__add",
        json!({"a": 40, "b": 2}),
    ));
    app.llm.push(Reply::text("42 it is"));
    let payload = chat(&app, "gus", "ask the legacy server").await;
    assert_eq!(payload["content"], "42 it is");

    let tools = offered(&app.llm.requests()[0].body);
    for tool in [
        "mcp_legacy__echo",
        "mcp_legacy__add",
        "mcp_legacy__crash",
        "mcp_tool_search",
    ] {
        assert!(tools.contains(&tool.to_owned()), "{tool} in {tools:?}");
    }
    assert!(
        !tools.iter().any(|t| t.starts_with("mcp_keyless__")),
        "a server refusing the request offers nothing: {tools:?}"
    );
    let echoed = last_result(&app.llm, 1);
    assert!(
        echoed.starts_with("<<<EXTERNAL_UNTRUSTED_CONTENT source=\"mcp:legacy/echo\">>>"),
        "{echoed}"
    );
    assert!(echoed.contains("\nover the event stream\n"), "{echoed}");
    let added = last_result(&app.llm, 2);
    assert!(added.contains("\n42\n"), "{added}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_servers_tool_is_called_with_its_headers_sqlite() {
    sse_case(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_servers_tool_is_called_with_its_headers_postgres() {
    sse_case(StoreBackend::Postgres).await;
}

/// An SSE server whose process exits mid-call: the call is a tool error at once (its stream
/// ended), and once the server is back the next call opens a new stream.
async fn sse_crash_case(backend: StoreBackend) {
    let mut server = FakeMcpSse::start(None).await;
    let config = format!(
        "{{ tools: {{ mcp_servers: {{ legacy: {{ transport: 'sse', url: {:?} }} }} }} }}",
        server.url
    );
    let Some(app) = spawn_app_with_config(backend, &config, &[]).await else {
        return;
    };
    app.llm
        .push(Reply::tool_call("call_c", "mcp_legacy__crash", json!({})));
    app.llm.push(Reply::text("it went away"));
    let started = Instant::now();
    let payload = chat(&app, "hal", "crash it").await;
    assert_eq!(payload["content"], "it went away");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the ended stream did not hold the turn up to the call timeout"
    );
    assert_eq!(
        last_result(&app.llm, 1),
        "MCP server \"legacy\" connection lost during the call; the next call reconnects"
    );

    server.restart().await;
    app.llm.push(Reply::tool_call(
        "call_e",
        "mcp_legacy__echo",
        json!({"text": "back again"}),
    ));
    app.llm.push(Reply::text("recovered"));
    let payload = chat(&app, "hal", "try again").await;
    assert_eq!(payload["content"], "recovered");
    let echoed = last_result(&app.llm, 3);
    assert!(echoed.contains("\nback again\n"), "{echoed}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_server_that_dies_mid_call_is_a_tool_error_and_the_next_call_reconnects_sqlite() {
    sse_crash_case(StoreBackend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_sse_server_that_dies_mid_call_is_a_tool_error_and_the_next_call_reconnects_postgres() {
    sse_crash_case(StoreBackend::Postgres).await;
}

app_test!(
    a_server_that_dies_mid_call_is_a_tool_error_and_the_next_call_reconnects,
    stdio_app,
    |app: TestApp| async move {
        app.llm
            .push(Reply::tool_call("call_c", "mcp_fake__crash", json!({})));
        app.llm.push(Reply::tool_call(
            "call_e",
            "mcp_fake__echo",
            json!({"text": "back again"}),
        ));
        app.llm.push(Reply::text("recovered"));
        let started = Instant::now();
        let payload = chat(&app, "cid", "crash it").await;
        assert_eq!(payload["content"], "recovered");
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the lost server did not hold the turn up to the call timeout"
        );
        let lost = last_result(&app.llm, 1);
        assert_eq!(
            lost,
            "MCP server \"fake\" connection lost during the call; the next call reconnects"
        );
        let echoed = last_result(&app.llm, 2);
        assert!(echoed.contains("back again"), "{echoed}");
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_past_the_timeout_is_a_tool_error_and_the_connection_stays() {
    let config = stdio_config("timeout_sec: 1", "");
    let app = spawn_app_with_config(StoreBackend::Sqlite, &config, &[])
        .await
        .expect("SQLite is always available");
    app.llm.push(Reply::tool_call(
        "call_s",
        "mcp_fake__slow",
        json!({"ms": 20_000}),
    ));
    app.llm.push(Reply::tool_call(
        "call_e",
        "mcp_fake__echo",
        json!({"text": "still here"}),
    ));
    app.llm.push(Reply::text("done waiting"));
    let started = Instant::now();
    let payload = chat(&app, "dee", "be slow").await;
    assert_eq!(payload["content"], "done waiting");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        last_result(&app.llm, 1),
        "MCP server \"fake\" did not answer within 1 s"
    );
    assert!(last_result(&app.llm, 2).contains("still here"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_tool_search_finds_tools_by_words() {
    let app = stdio_app(StoreBackend::Sqlite)
        .await
        .expect("SQLite is always available");
    app.llm.push(Reply::tool_call(
        "call_q",
        "mcp_tool_search",
        json!({"query": "ADD integers", "max_results": 3}),
    ));
    app.llm.push(Reply::tool_call(
        "call_n",
        "ToolSearch",
        json!({"query": "teleport"}),
    ));
    app.llm.push(Reply::text("found it"));
    let payload = chat(&app, "eve", "which tool adds?").await;
    assert_eq!(payload["content"], "found it");
    let found: Value = serde_json::from_str(&last_result(&app.llm, 1)).expect("JSON answer");
    assert_eq!(
        found,
        json!({"tools": [{"name": "mcp_fake__add", "description": "Add two integers and answer their sum"}]})
    );
    assert_eq!(
        last_result(&app.llm, 2),
        "No MCP tool matches \"teleport\"."
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_denied_mcp_tool_is_neither_offered_nor_run() {
    let config = stdio_config("", "deny: ['mcp_fake__add'],");
    let app = spawn_app_with_config(StoreBackend::Sqlite, &config, &[])
        .await
        .expect("SQLite is always available");
    app.llm.push(Reply::tool_call(
        "call_a",
        "mcp_fake__add",
        json!({"a": 1, "b": 1}),
    ));
    app.llm.push(Reply::text("not allowed"));
    let payload = chat(&app, "fay", "add").await;
    assert_eq!(payload["content"], "not allowed");
    let tools = offered(&app.llm.requests()[0].body);
    assert!(tools.contains(&"mcp_fake__echo".to_owned()), "{tools:?}");
    assert!(!tools.contains(&"mcp_fake__add".to_owned()), "{tools:?}");
    let refused = last_result(&app.llm, 1);
    assert!(!refused.contains("\n2\n"), "the denied tool ran: {refused}");
}

/// The real executable: the stdio server sees its configured `env` but not the gateway's
/// token; crashing it and calling it and an SSE server again logs nothing secret; `goclaw doctor` counts the
/// servers that connect.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stdio_servers_get_a_minimal_environment_and_secrets_stay_out_of_logs() {
    const GATEWAY_TOKEN: &str = "gw-token-secret-0099";
    const ENV_SECRET: &str = "mcp-env-secret-0077";
    const HEADER_SECRET: &str = "mcp-header-secret-0055";
    const SSE_SECRET: &str = "mcp-sse-secret-0066";
    let http = FakeMcpHttp::start(Some(&format!("Authorization=Bearer {HEADER_SECRET}"))).await;
    let sse = FakeMcpSse::start(Some(&format!("X-Api-Key={SSE_SECRET}"))).await;
    let home = home();
    let config = format!(
        "{{ tools: {{ mcp_servers: {{
            fake: {{ command: {command:?}, env: {{ FAKE_MCP_SECRET: '{ENV_SECRET}' }} }},
            web: {{ transport: 'streamable-http', url: {url:?}, headers: {{ Authorization: 'Bearer {HEADER_SECRET}' }} }},
            broken: {{ command: '/nonexistent/mcp-server', timeout_sec: 2 }},
            stream: {{ transport: 'sse', url: {sse_url:?}, headers: {{ 'X-Api-Key': '{SSE_SECRET}' }} }},
            legacy: {{ transport: 'sse', url: 'https://mcp.invalid/sse', enabled: false }},
        }} }} }}",
        command = fake_mcp_binary().display().to_string(),
        url = http.url,
        sse_url = sse.url,
    );
    std::fs::write(home.path().join("config.json"), config).expect("write config");
    let llm = FakeLlm::start().await;
    let gateway = |home: &std::path::Path| {
        Goclaw::new(home)
            .env("GOCLAW_PORT", "0")
            .env("GOCLAW_LOG_LEVEL", "debug")
            .env("GOCLAW_GATEWAY_TOKEN", GATEWAY_TOKEN)
            .env("GOCLAW_ANTHROPIC_API_KEY", "test-key")
            .env("GOCLAW_ANTHROPIC_BASE_URL", llm.base_url())
    };
    let server = gateway(home.path()).start().await.expect("gateway starts");
    for (id, tool, arguments) in [
        (
            "c1",
            "mcp_fake__env",
            json!({"name": "GOCLAW_GATEWAY_TOKEN"}),
        ),
        ("c2", "mcp_fake__env", json!({"name": "FAKE_MCP_SECRET"})),
        ("c3", "mcp_fake__env", json!({"name": "PATH"})),
        ("c4", "mcp_fake__crash", json!({})),
        ("c5", "mcp_web__echo", json!({"text": "over http"})),
        ("c6", "mcp_stream__echo", json!({"text": "over sse"})),
    ] {
        llm.push(Reply::tool_call(id, tool, arguments));
    }
    llm.push(Reply::text("checked"));
    let response = reqwest::Client::new()
        .post(server.url("/v1/chat/completions"))
        .bearer_auth(GATEWAY_TOKEN)
        .json(&json!({ "model": "goclaw:default", "messages": [{ "role": "user", "content": "check the environment" }] }))
        .send()
        .await
        .expect("POST");
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["choices"][0]["message"]["content"], "checked");

    assert!(last_result(&llm, 1).contains("GOCLAW_GATEWAY_TOKEN is unset"));
    let passed = last_result(&llm, 2);
    assert!(passed.contains("FAKE_MCP_SECRET="), "{passed}");
    assert!(
        !passed.contains(ENV_SECRET),
        "the value is scrubbed: {passed}"
    );
    assert!(last_result(&llm, 3).contains("PATH=/"));
    assert!(last_result(&llm, 4).contains("connection lost"));
    assert!(last_result(&llm, 5).contains("over http"));
    assert!(last_result(&llm, 6).contains("over sse"));

    let (code, stdout, stderr) = server.terminate().await;
    assert_eq!(code, Some(0), "{stderr}");
    let logs = format!("{stdout}\n{stderr}");
    assert!(logs.contains("mcp.server.connection_lost"), "{logs}");
    assert!(logs.contains("mcp.server.unavailable"), "{logs}");
    for secret in [GATEWAY_TOKEN, ENV_SECRET, HEADER_SECRET, SSE_SECRET] {
        assert!(!logs.contains(secret), "{secret} in the logs:\n{logs}");
    }

    let doctor = gateway(home.path()).args(&["doctor", "--json"]).run().await;
    let report: Value = serde_json::from_str(&doctor.stdout).expect("doctor JSON");
    let detail = |name: &str| {
        report["checks"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|c| c["section"] == "mcp" && c["name"] == name)
            .map(|c| (c["status"].clone(), c["detail"].clone()))
    };
    assert_eq!(
        detail("mcp servers"),
        Some((json!("warn"), json!("3 connected / 4 configured")))
    );
    assert_eq!(detail("fake"), Some((json!("ok"), json!("stdio, 8 tools"))));
    assert_eq!(detail("stream"), Some((json!("ok"), json!("sse, 8 tools"))));
    assert_eq!(
        detail("broken"),
        Some((
            json!("warn"),
            json!("MCP server \"broken\" could not be reached")
        ))
    );
    assert_eq!(
        detail("legacy"),
        Some((json!("ok"), json!("sse, disabled")))
    );
    for secret in [GATEWAY_TOKEN, ENV_SECRET, HEADER_SECRET, SSE_SECRET] {
        assert!(!doctor.stdout.contains(secret) && !doctor.stderr.contains(secret));
    }
}
