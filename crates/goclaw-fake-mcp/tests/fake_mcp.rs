//! `fake-mcp` answers as the gateway's tests expect, checked with rmcp's own client over
//! stdio: its tools are listed with their schemas, `add` and `echo` answer, `whereabouts` says
//! where it runs, `fail` is an error result, and `crash` ends the process so the call fails
//! instead of hanging. Its
//! HTTP+SSE mode is checked on the wire: the header it requires, the `endpoint` event, and an
//! answer posted back as a `message` event.
#![forbid(unsafe_code)]

use std::process::Stdio;
use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};

fn arguments(value: serde_json::Value) -> rmcp::model::JsonObject {
    value.as_object().cloned().unwrap_or_default()
}

#[tokio::test]
async fn stdio_server_lists_answers_and_crashes() {
    let process =
        TokioChildProcess::new(tokio::process::Command::new(env!("CARGO_BIN_EXE_fake-mcp")))
            .expect("fake-mcp starts");
    let client = ().serve(process).await.expect("MCP handshake");
    let tools = client.peer().list_all_tools().await.expect("tools/list");
    let mut names: Vec<String> = tools.iter().map(|t| t.name.to_string()).collect();
    names.sort();
    assert_eq!(
        names,
        [
            "add",
            "crash",
            "echo",
            "env",
            "fail",
            "picture",
            "slow",
            "whereabouts"
        ]
    );
    let add = tools.iter().find(|t| t.name == "add").expect("add");
    assert_eq!(add.input_schema["required"], json!(["a", "b"]));

    let sum = client
        .peer()
        .call_tool(
            CallToolRequestParams::new("add").with_arguments(arguments(json!({"a": 2, "b": 3}))),
        )
        .await
        .expect("add answers");
    assert_eq!(sum.content[0].as_text().map(|t| t.text.as_str()), Some("5"));
    let manifest = env!("CARGO_MANIFEST_DIR");
    let whereabouts = client
        .peer()
        .call_tool(
            CallToolRequestParams::new("whereabouts")
                .with_arguments(arguments(json!({"path": manifest}))),
        )
        .await
        .expect("whereabouts answers");
    let cwd = std::env::current_dir().expect("cwd");
    assert_eq!(
        whereabouts.content[0].as_text().map(|t| t.text.clone()),
        Some(format!(
            "host={} cwd={} path=visible",
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .expect("host name")
                .trim(),
            cwd.display()
        ))
    );
    let failed = client
        .peer()
        .call_tool(
            CallToolRequestParams::new("fail")
                .with_arguments(arguments(json!({"message": "boom"}))),
        )
        .await
        .expect("fail answers");
    assert_eq!(failed.is_error, Some(true));

    let crashed = tokio::time::timeout(
        Duration::from_secs(10),
        client.peer().call_tool(CallToolRequestParams::new("crash")),
    )
    .await
    .expect("a crash ends the call");
    assert!(crashed.is_err(), "{crashed:?}");
}

/// Reads `stream` until its text holds a complete event whose data contains `needle`, and
/// returns that event's data.
async fn event_with(stream: &mut reqwest::Response, seen: &mut String, needle: &str) -> String {
    loop {
        if let Some(data) = seen
            .split("\n\n")
            .filter_map(|event| event.lines().find_map(|l| l.strip_prefix("data: ")))
            .find(|data| data.contains(needle))
        {
            return data.to_owned();
        }
        let chunk = tokio::time::timeout(Duration::from_secs(10), stream.chunk())
            .await
            .expect("an event within 10 s")
            .expect("the stream reads")
            .expect("the stream stays open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn sse_server_names_its_endpoint_and_answers_on_the_stream() {
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_fake-mcp"))
        .args(["--sse", "127.0.0.1:0", "--require-header", "X-Key=sse-key"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("fake-mcp starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let line = BufReader::new(stdout)
        .lines()
        .next_line()
        .await
        .expect("stdout reads")
        .expect("a listening line");
    let url = line.strip_prefix("listening ").expect("listening URL");
    assert!(url.ends_with("/sse"), "{url}");
    let http = reqwest::Client::new();

    let refused = http.get(url).send().await.expect("GET");
    assert_eq!(refused.status(), 401);
    let mut stream = http
        .get(url)
        .header("X-Key", "sse-key")
        .header("Accept", "text/event-stream")
        .send()
        .await
        .expect("GET");
    assert_eq!(stream.status(), 200);
    let mut seen = String::new();
    let endpoint = event_with(&mut stream, &mut seen, "sessionId=").await;
    assert!(seen.starts_with("event: endpoint\n"), "{seen}");
    assert!(endpoint.starts_with("/message?sessionId="), "{endpoint}");

    let post = url.replace("/sse", &endpoint);
    let initialize = json!({"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
        "protocolVersion": "2024-11-05", "capabilities": {},
        "clientInfo": {"name": "wire-test", "version": "0"}}});
    let unkeyed = http
        .post(&post)
        .json(&initialize)
        .send()
        .await
        .expect("POST");
    assert_eq!(unkeyed.status(), 401);
    let accepted = http
        .post(&post)
        .header("X-Key", "sse-key")
        .json(&initialize)
        .send()
        .await
        .expect("POST");
    assert_eq!(accepted.status(), 202);
    let answer: Value =
        serde_json::from_str(&event_with(&mut stream, &mut seen, "serverInfo").await)
            .expect("a JSON-RPC answer");
    assert_eq!(answer["id"], 1);
    assert_eq!(answer["result"]["protocolVersion"], "2024-11-05");
    assert!(seen.contains("event: message\n"), "{seen}");

    let unknown = http
        .post(url.replace("/sse", "/message?sessionId=nope"))
        .header("X-Key", "sse-key")
        .json(&initialize)
        .send()
        .await
        .expect("POST");
    assert_eq!(unknown.status(), 404);
}
