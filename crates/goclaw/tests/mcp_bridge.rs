//! `/mcp/bridge` over real HTTP on both backends: an rmcp client with the gateway token lists
//! the agent tools and calls them (a file written through the bridge is read back from the
//! agent's workspace for the signed user); the tool policy of the config and of the agent named
//! by `X-Agent-ID` hides and refuses tools; a wrong or tampered `X-Bridge-Sig` gets 403, a wrong
//! bearer or an API key 401, and a gateway without a token answers GoClaw's 403 (the real
//! executable also logs `security.mcp_bridge_disabled` at start-up).

mod support;

use std::collections::HashMap;

use goclaw_testkit::{StoreBackend, TestApp, app_test, spawn_app, spawn_app_with_config};
use hmac::{Hmac, Mac};
use rmcp::model::{CallToolRequestParams, CallToolResult};
use rmcp::service::RunningService;
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
use rmcp::{RoleClient, ServiceExt};
use serde_json::{Value, json};
use sha2::Sha256;

const TOKEN: &str = "bridge-test-token-6b1f0c2a";

/// The signed context headers, in GoClaw's signing order.
const ORDER: [&str; 9] = [
    "X-Agent-ID",
    "X-User-ID",
    "X-Channel",
    "X-Chat-ID",
    "X-Peer-Kind",
    "X-Workspace",
    "X-Tenant-ID",
    "X-Local-Key",
    "X-Session-Key",
];

async fn bridge_app(backend: StoreBackend) -> Option<TestApp> {
    spawn_app_with_config(
        backend,
        "{ gateway: { rate_limit_rpm: 0 }, tools: { deny: ['exec'] } }",
        &[("GOCLAW_GATEWAY_TOKEN", TOKEN)],
    )
    .await
}

/// `context` plus its `X-Bridge-Sig`: hex HMAC-SHA256 under `key` of the nine values joined
/// by `|` (absent ones empty).
fn signed(key: &str, context: &[(&str, &str)]) -> Vec<(String, String)> {
    let value = |name: &str| {
        context
            .iter()
            .find(|(n, _)| *n == name)
            .map_or("", |(_, v)| *v)
    };
    let payload: Vec<&str> = ORDER.iter().map(|name| value(name)).collect();
    let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes()).expect("any key length");
    mac.update(payload.join("|").as_bytes());
    let mut headers: Vec<(String, String)> = context
        .iter()
        .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
        .collect();
    headers.push((
        "X-Bridge-Sig".into(),
        hex::encode(mac.finalize().into_bytes()),
    ));
    headers
}

async fn connect(app: &TestApp, headers: &[(String, String)]) -> RunningService<RoleClient, ()> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let headers: HashMap<http::HeaderName, http::HeaderValue> = headers
        .iter()
        .map(|(n, v)| {
            (
                http::HeaderName::try_from(n.as_str()).expect("header name"),
                http::HeaderValue::try_from(v.as_str()).expect("header value"),
            )
        })
        .collect();
    let config = StreamableHttpClientTransportConfig::with_uri(app.url("/mcp/bridge"))
        .auth_header(TOKEN)
        .custom_headers(headers);
    ().serve(StreamableHttpClientTransport::from_config(config))
        .await
        .expect("the bridge initializes")
}

async fn tool_names(client: &RunningService<RoleClient, ()>) -> Vec<String> {
    let tools = client.peer().list_all_tools().await.expect("tools/list");
    tools.into_iter().map(|t| t.name.to_string()).collect()
}

async fn call(
    client: &RunningService<RoleClient, ()>,
    tool: &str,
    arguments: Value,
) -> Result<CallToolResult, rmcp::ServiceError> {
    let Value::Object(arguments) = arguments else {
        panic!("arguments are an object");
    };
    client
        .peer()
        .call_tool(CallToolRequestParams::new(tool.to_owned()).with_arguments(arguments))
        .await
}

fn text(result: &CallToolResult) -> String {
    result
        .content
        .iter()
        .filter_map(|c| c.as_text().map(|t| t.text.clone()))
        .collect()
}

/// A raw POST of `initialize` to the bridge with `bearer` and `headers`: (status, body).
async fn post(app: &TestApp, bearer: Option<&str>, headers: &[(String, String)]) -> (u16, String) {
    let mut request = app
        .client
        .post(app.url("/mcp/bridge"))
        .header("Accept", "application/json, text/event-stream")
        .json(&json!({
            "jsonrpc": "2.0", "id": 1, "method": "initialize",
            "params": { "protocolVersion": "2025-03-26", "capabilities": {},
                        "clientInfo": { "name": "probe", "version": "1" } }
        }));
    if let Some(bearer) = bearer {
        request = request.bearer_auth(bearer);
    }
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let response = request.send().await.expect("POST /mcp/bridge");
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

app_test!(
    a_client_lists_and_calls_the_agent_tools,
    bridge_app,
    |app: TestApp| async move {
        let client = connect(&app, &[]).await;
        let names = tool_names(&client).await;
        for tool in ["datetime", "read_file", "write_file"] {
            assert!(names.contains(&tool.to_owned()), "{tool} in {names:?}");
        }
        let now = call(&client, "datetime", json!({}))
            .await
            .expect("datetime");
        assert_ne!(now.is_error, Some(true), "{now:?}");
        assert!(text(&now).contains(&chrono_year()), "{}", text(&now));
        client.cancel().await.expect("closed");

        // Alice's signed context: the file lands in the workspace her runs use.
        let alice = signed(TOKEN, &[("X-User-ID", "alice"), ("X-Channel", "telegram")]);
        let client = connect(&app, &alice).await;
        let wrote = call(
            &client,
            "write_file",
            json!({"path": "notes/bridge.txt", "content": "via the bridge"}),
        )
        .await
        .expect("write_file");
        assert_ne!(wrote.is_error, Some(true), "{wrote:?}");
        let read = call(&client, "read_file", json!({"path": "notes/bridge.txt"}))
            .await
            .expect("read_file");
        assert!(text(&read).contains("via the bridge"), "{read:?}");
        client.cancel().await.expect("closed");
        let found = find(app.data_dir.path(), "bridge.txt").expect("the file is on disk");
        assert!(
            found.components().any(|c| c.as_os_str() == "alice"),
            "in alice's workspace: {}",
            found.display()
        );

        // The unsigned (owner) context does not see alice's file.
        let client = connect(&app, &[]).await;
        let elsewhere = call(&client, "read_file", json!({"path": "notes/bridge.txt"}))
            .await
            .expect("read_file");
        assert_eq!(elsewhere.is_error, Some(true), "{elsewhere:?}");
        client.cancel().await.expect("closed");
    }
);

app_test!(
    the_tool_policy_hides_and_refuses_tools,
    bridge_app,
    |app: TestApp| async move {
        // Denied by the config for every agent.
        let client = connect(&app, &[]).await;
        assert!(!tool_names(&client).await.contains(&"exec".to_owned()));
        assert!(
            call(&client, "exec", json!({"command": "echo hi"}))
                .await
                .is_err()
        );
        client.cancel().await.expect("closed");

        // Denied by the agent's own policy; the agent is named by its id, as GoClaw does.
        let created = app
            .client
            .post(app.url("/v1/agents"))
            .bearer_auth(TOKEN)
            .json(
                &json!({ "name": "Scribe", "other_config": { "tools": { "deny": ["datetime"] } } }),
            )
            .send()
            .await
            .expect("POST /v1/agents");
        assert_eq!(created.status(), 201);
        let agent: Value = created.json().await.expect("JSON");
        let id = agent["id"].as_str().expect("id").to_owned();
        let scribe = signed(TOKEN, &[("X-Agent-ID", &id), ("X-User-ID", "alice")]);
        let client = connect(&app, &scribe).await;
        let names = tool_names(&client).await;
        assert!(!names.contains(&"datetime".to_owned()), "{names:?}");
        assert!(names.contains(&"read_file".to_owned()), "{names:?}");
        assert!(call(&client, "datetime", json!({})).await.is_err());
        client.cancel().await.expect("closed");

        // The default agent still has it.
        let client = connect(&app, &[]).await;
        assert!(tool_names(&client).await.contains(&"datetime".to_owned()));
        client.cancel().await.expect("closed");
    }
);

app_test!(
    credentials_and_signatures_are_checked,
    bridge_app,
    |app: TestApp| async move {
        let alice = signed(TOKEN, &[("X-User-ID", "alice")]);
        let (status, _) = post(&app, Some(TOKEN), &alice).await;
        assert_eq!(status, 200, "a valid signature");
        let (status, _) = post(&app, Some(TOKEN), &[]).await;
        assert_eq!(status, 200, "no context at all");

        let mut forged = alice.clone();
        forged.retain(|(n, _)| n != "X-Bridge-Sig");
        forged.push(("X-Bridge-Sig".into(), "00".repeat(32)));
        let (status, body) = post(&app, Some(TOKEN), &forged).await;
        assert_eq!(
            (status, body.as_str()),
            (403, r#"{"error":"invalid bridge context signature"}"#)
        );

        let mut tampered = alice.clone();
        tampered.retain(|(n, _)| n != "X-User-ID");
        tampered.push(("X-User-ID".into(), "bob".into()));
        assert_eq!(
            post(&app, Some(TOKEN), &tampered).await.0,
            403,
            "a changed user"
        );
        let mut added = alice.clone();
        added.push((
            "X-Tenant-ID".into(),
            "0193a5b0-7000-7000-8000-000000000009".into(),
        ));
        assert_eq!(
            post(&app, Some(TOKEN), &added).await.0,
            403,
            "an added header"
        );
        let unsigned = vec![("X-Channel".to_owned(), "telegram".to_owned())];
        assert_eq!(
            post(&app, Some(TOKEN), &unsigned).await.0,
            403,
            "no signature"
        );
        let other_key = signed("not-the-token", &[("X-User-ID", "alice")]);
        assert_eq!(
            post(&app, Some(TOKEN), &other_key).await.0,
            403,
            "signed with another key"
        );

        let (status, body) = post(&app, Some("wrong-token"), &alice).await;
        assert_eq!(
            (status, body.as_str()),
            (401, r#"{"error":"unauthorized"}"#)
        );
        assert_eq!(post(&app, None, &alice).await.0, 401, "no bearer");
        let (_, key) = app
            .create_api_key(
                TOKEN,
                json!({ "name": "admin", "scopes": ["operator.admin"] }),
            )
            .await;
        assert_eq!(post(&app, Some(&key), &[]).await.0, 401, "an API key");
    }
);

app_test!(
    without_a_gateway_token_the_bridge_is_disabled,
    spawn_app,
    |app: TestApp| async move {
        for bearer in [None, Some(TOKEN)] {
            let (status, body) = post(&app, bearer, &[]).await;
            assert_eq!(status, 403);
            assert_eq!(
                body,
                r#"{"error":"mcp bridge disabled: set GOCLAW_GATEWAY_TOKEN to enable"}"#
            );
        }
    }
);

#[tokio::test]
async fn a_gateway_without_a_token_logs_that_the_bridge_is_off() {
    let home = support::home();
    let server = support::Goclaw::new(home.path())
        .env("GOCLAW_PORT", "0")
        .start()
        .await
        .expect("gateway starts");
    let response = reqwest::Client::new()
        .post(server.url("/mcp/bridge"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("POST /mcp/bridge");
    assert_eq!(response.status(), 403);
    let (code, stdout, _) = server.terminate().await;
    assert_eq!(code, Some(0));
    assert!(
        stdout
            .lines()
            .any(|l| l.contains("security.mcp_bridge_disabled") && l.contains("WARN")),
        "{stdout}"
    );
}

/// The current year, as the `datetime` tool's answer contains it.
fn chrono_year() -> String {
    use chrono::Datelike;
    chrono::Utc::now().year().to_string()
}

/// The first file called `name` under `dir`.
fn find(dir: &std::path::Path, name: &str) -> Option<std::path::PathBuf> {
    for entry in std::fs::read_dir(dir).ok()?.filter_map(Result::ok) {
        let path = entry.path();
        if path.is_dir() {
            if let Some(found) = find(&path, name) {
                return Some(found);
            }
        } else if path.file_name().is_some_and(|n| n == name) {
            return Some(path);
        }
    }
    None
}
