//! The file tools in a real turn: the fake model writes a file, reads it back and answers; the
//! file lands in the agent's workspace. A tool the policy denies is neither offered nor run.

use goclaw_testkit::{Reply, StoreBackend, TestApp, app_test, spawn_app_with_config};
use serde_json::json;

app_test!(
    model_writes_then_reads_a_workspace_file,
    |app: TestApp| async move {
        app.llm.push(Reply::tool_call(
            "call_w",
            "write_file",
            json!({"path": "notes/todo.txt", "content": "buy milk"}),
        ));
        app.llm.push(Reply::tool_call(
            "call_r",
            "read_file",
            json!({"path": "notes/todo.txt"}),
        ));
        app.llm.push(Reply::tool_call(
            "call_x",
            "Read",
            json!({"path": "../../config.json"}),
        ));
        app.llm.push(Reply::text("Your list says: buy milk."));
        let mut ws = app.ws_connect("carol").await;
        let payload = ws
            .call_ok("chat.send", json!({ "message": "remember to buy milk" }))
            .await;
        assert_eq!(payload["content"], "Your list says: buy milk.");

        // `default` is an open agent: each user has a workspace of their own under it.
        let written = app
            .data_dir
            .path()
            .join("workspace/default/carol/notes/todo.txt");
        assert_eq!(
            std::fs::read_to_string(&written).expect("file in the workspace"),
            "buy milk"
        );
        let requests = app.llm.requests();
        assert_eq!(requests.len(), 4);
        let first = requests[0].body.to_string();
        for tool in ["read_file", "write_file", "edit", "list_files"] {
            assert!(
                first.contains(&format!("\"{tool}\"")),
                "{tool} offered: {first}"
            );
        }
        assert!(!first.contains("\"Read\""), "aliases are not offered");
        let third = requests[2].body.to_string();
        assert!(
            third.contains("buy milk"),
            "read result reached the model: {third}"
        );
        let fourth = requests[3].body.to_string();
        assert!(
            fourth.contains("access denied: path outside workspace"),
            "{fourth}"
        );
    }
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn denied_tools_are_hidden_and_refused() {
    let config = r#"{ tools: { deny: ["write_file"] } }"#;
    let app = spawn_app_with_config(StoreBackend::Sqlite, config, &[])
        .await
        .expect("SQLite is always available");
    app.llm.push(Reply::tool_call(
        "call_w",
        "write_file",
        json!({"path": "x.txt", "content": "nope"}),
    ));
    app.llm.push(Reply::text("done"));
    let mut ws = app.ws_connect("dave").await;
    let payload = ws.call_ok("chat.send", json!({ "message": "write" })).await;
    assert_eq!(payload["content"], "done");
    let requests = app.llm.requests();
    let first = requests[0].body.to_string();
    assert!(!first.contains("\"write_file\""), "hidden: {first}");
    assert!(first.contains("\"read_file\""), "{first}");
    let second = requests[1].body.to_string();
    assert!(second.contains("Unknown tool"), "{second}");
    assert!(!app.data_dir.path().join("workspace/default/x.txt").exists());
}
