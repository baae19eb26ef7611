//! `fake-mcp` answers as the gateway's tests expect, checked with rmcp's own client over
//! stdio: its tools are listed with their schemas, `add` and `echo` answer, `fail` is an
//! error result, and `crash` ends the process so the call fails instead of hanging.
#![forbid(unsafe_code)]

use std::time::Duration;

use rmcp::ServiceExt;
use rmcp::model::CallToolRequestParams;
use rmcp::transport::TokioChildProcess;
use serde_json::json;

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
        ["add", "crash", "echo", "env", "fail", "picture", "slow"]
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
