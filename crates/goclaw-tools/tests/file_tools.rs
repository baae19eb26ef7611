//! The file tools against a temp workspace: ranges of lines, binary refusal, the output cap,
//! append, exact and ambiguous edits, and listings.

use std::fs;

use goclaw_core::{MASTER_TENANT_ID, SessionKey, Tool, ToolContext, ToolOutput};
use goclaw_tools::files::{EditTool, ListFilesTool, READ_MAX_CHARS, ReadFileTool, WriteFileTool};
use serde_json::{Value, json};

fn context(dir: &tempfile::TempDir) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "default".into(),
        session_key: SessionKey::parse("agent:default:test").expect("session key"),
        user_id: "u".into(),
        trust: goclaw_core::Trust::Admin,
        run_id: "r".into(),
        channel: "test".into(),
        workspace: dir.path().join("ws"),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

async fn call(tool: &dyn Tool, dir: &tempfile::TempDir, args: Value) -> ToolOutput {
    tool.call(&context(dir), args).await
}

fn ok(output: ToolOutput) -> String {
    assert!(!output.is_error, "{output:?}");
    output.content
}

fn err(output: ToolOutput) -> String {
    assert!(output.is_error, "{output:?}");
    output.content
}

#[tokio::test]
async fn read_honours_offset_and_limit() {
    let dir = tempfile::tempdir().expect("tempdir");
    let write = json!({"path": "a.txt", "content": "l0\nl1\nl2\nl3\n"});
    ok(call(&WriteFileTool, &dir, write).await);
    let read = |args| call(&ReadFileTool, &dir, args);
    assert_eq!(ok(read(json!({"path": "a.txt"})).await), "l0\nl1\nl2\nl3\n");
    assert_eq!(
        ok(read(json!({"path": "a.txt", "offset": 1, "limit": 2})).await),
        "l1\nl2\n"
    );
    assert_eq!(
        ok(read(json!({"path": "a.txt", "offset": 3})).await),
        "l3\n"
    );
    assert_eq!(ok(read(json!({"path": "a.txt", "limit": 1})).await), "l0\n");
    assert_eq!(ok(read(json!({"path": "a.txt", "offset": 9})).await), "");
    assert!(err(read(json!({"path": "missing.txt"})).await).contains("cannot read"));
    assert!(err(read(json!({"offset": 1})).await).contains("invalid arguments"));
    assert!(err(read(json!({"path": "."})).await).contains("directory"));
}

#[tokio::test]
async fn read_refuses_binary_and_caps_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = dir.path().join("ws");
    fs::create_dir_all(&ws).expect("mkdir");
    fs::write(ws.join("bin"), b"ELF\0\x01\x02").expect("bin");
    fs::write(ws.join("big.txt"), "x".repeat(READ_MAX_CHARS + 10)).expect("big");
    let binary = err(call(&ReadFileTool, &dir, json!({"path": "bin"})).await);
    assert!(binary.contains("binary"), "{binary}");
    let big = ok(call(&ReadFileTool, &dir, json!({"path": "big.txt"})).await);
    assert!(big.starts_with(&"x".repeat(READ_MAX_CHARS)));
    assert!(
        big.contains("[output truncated at 50000 characters"),
        "{}",
        &big[READ_MAX_CHARS..]
    );
}

#[tokio::test]
async fn write_creates_dirs_and_appends() {
    let dir = tempfile::tempdir().expect("tempdir");
    let first = json!({"path": "deep/er/f.txt", "content": "one"});
    assert_eq!(
        ok(call(&WriteFileTool, &dir, first).await),
        "Wrote 3 bytes to deep/er/f.txt"
    );
    let more = json!({"path": "deep/er/f.txt", "content": "+two", "append": true});
    ok(call(&WriteFileTool, &dir, more).await);
    let path = dir.path().join("ws/deep/er/f.txt");
    assert_eq!(fs::read_to_string(&path).expect("read"), "one+two");
    let replace = json!({"path": "deep/er/f.txt", "content": "new"});
    ok(call(&WriteFileTool, &dir, replace).await);
    assert_eq!(fs::read_to_string(&path).expect("read"), "new");
}

#[tokio::test]
async fn edit_replaces_exact_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("ws/e.txt");
    let write = json!({"path": "e.txt", "content": "a b a c"});
    ok(call(&WriteFileTool, &dir, write).await);
    let edit = |old: &str, new: &str, all: bool| {
        call(
            &EditTool,
            &dir,
            json!({"path": "e.txt", "old_string": old, "new_string": new, "replace_all": all}),
        )
    };
    assert!(err(edit("zzz", "y", false).await).contains("not found"));
    assert!(err(edit("a", "y", false).await).contains("occurs 2 times"));
    assert_eq!(
        fs::read_to_string(&path).expect("read"),
        "a b a c",
        "untouched"
    );
    ok(edit("b", "B", false).await);
    assert_eq!(fs::read_to_string(&path).expect("read"), "a B a c");
    assert!(ok(edit("a", "x", true).await).contains("2 occurrence"));
    assert_eq!(fs::read_to_string(&path).expect("read"), "x B x c");
    assert!(err(edit("", "x", true).await).contains("empty"));
    let missing = json!({"path": "nope.txt", "old_string": "a", "new_string": "b"});
    assert!(call(&EditTool, &dir, missing).await.is_error);
}

#[tokio::test]
async fn list_is_one_sorted_level() {
    let dir = tempfile::tempdir().expect("tempdir");
    let ws = dir.path().join("ws");
    for d in ["zdir/inner", "adir", ".goclaw"] {
        fs::create_dir_all(ws.join(d)).expect("mkdir");
    }
    fs::write(ws.join("b.txt"), "").expect("file");
    fs::write(ws.join("zdir/inner/deep.txt"), "").expect("file");
    let listing = ok(call(&ListFilesTool, &dir, json!({})).await);
    assert_eq!(listing, "adir/\nb.txt\nzdir/");
    assert_eq!(
        ok(call(&ListFilesTool, &dir, json!({"path": "zdir"})).await),
        "inner/"
    );
    assert!(ok(call(&ListFilesTool, &dir, json!({"path": "adir"})).await).contains("empty"));
    assert!(err(call(&ListFilesTool, &dir, json!({"path": ".."})).await).contains("outside"));
}
