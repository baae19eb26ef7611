//! Tests of the `spawn` tool's argument handling and answers, against a spawner that records
//! what it was asked and answers from a script.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goclaw_core::{MASTER_TENANT_ID, SessionKey, ToolContext, Trust};
use serde_json::{Value, json};

use super::*;

/// What the tool asked the spawner, one line per call.
#[derive(Default)]
struct Recording {
    calls: Mutex<Vec<String>>,
    /// The status `wait` reports.
    wait_status: Mutex<String>,
}

struct FakeSpawner(Arc<Recording>);

fn info(id: &str, status: &str, result: Option<&str>) -> SubagentInfo {
    SubagentInfo {
        id: id.to_owned(),
        label: "lbl".to_owned(),
        status: status.to_owned(),
        depth: 1,
        session_key: "agent:a:subagent:lbl-1".to_owned(),
        result: result.map(str::to_owned),
    }
}

impl FakeSpawner {
    fn record(&self, call: String) {
        self.0.calls.lock().expect("calls").push(call);
    }
}

#[async_trait]
impl SubagentSpawner for FakeSpawner {
    async fn spawn(&self, _: &ToolContext, r: SpawnRequest) -> Result<SubagentInfo, String> {
        self.record(format!(
            "spawn task={} label={:?} announce={}",
            r.task, r.label, r.announce
        ));
        if r.task == "over the limit" {
            return Err("max concurrent subagents reached (1/1)".to_owned());
        }
        Ok(info("t1", "running", None))
    }

    async fn list(&self, _: &ToolContext) -> Result<Vec<SubagentInfo>, String> {
        self.record("list".to_owned());
        Ok(vec![
            info("t1", "completed", Some("done")),
            info("t2", "running", None),
        ])
    }

    async fn cancel(
        &self,
        _: &ToolContext,
        which: TaskSelector,
    ) -> Result<Vec<SubagentInfo>, String> {
        self.record(format!("cancel {which:?}"));
        Ok(vec![info("t2", "cancelled", Some(""))])
    }

    async fn steer(
        &self,
        _: &ToolContext,
        which: TaskSelector,
        message: &str,
    ) -> Result<SubagentInfo, String> {
        self.record(format!("steer {which:?} {message}"));
        Ok(info("t3", "running", None))
    }

    async fn wait(
        &self,
        _: &ToolContext,
        which: TaskSelector,
        timeout: Option<Duration>,
    ) -> Result<Vec<SubagentInfo>, String> {
        self.record(format!("wait {which:?} {timeout:?}"));
        let status = self.0.wait_status.lock().expect("status").clone();
        Ok(vec![info("t1", &status, Some("the result"))])
    }
}

fn ctx() -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "a".to_owned(),
        session_key: SessionKey::parse("agent:a:ws:direct:1").expect("key"),
        user_id: "u1".to_owned(),
        trust: Trust::User,
        run_id: "run-1".to_owned(),
        channel: "ws".to_owned(),
        workspace: PathBuf::from("/nonexistent"),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

/// Calls the tool with `args` (the wait status `completed`); checks the spawner calls it made
/// and whether the answer was an error containing `expected`.
async fn check(args: Value, calls: &[&str], is_error: bool, expected: &str) {
    check_with(args, "completed", calls, is_error, expected).await;
}

async fn check_with(
    args: Value,
    wait_status: &str,
    calls: &[&str],
    is_error: bool,
    expected: &str,
) {
    let recording = Arc::new(Recording::default());
    *recording.wait_status.lock().expect("status") = wait_status.to_owned();
    let tool = spawn_tool(Arc::new(FakeSpawner(recording.clone())));
    let out = tool.call(&ctx(), args.clone()).await;
    let made = recording.calls.lock().expect("calls").clone();
    assert_eq!(made, calls, "calls for {args}");
    assert_eq!(out.is_error, is_error, "{args}: {}", out.content);
    assert!(
        out.content.contains(expected),
        "{args}: {:?} lacks {expected:?}",
        out.content
    );
}

#[tokio::test]
async fn spawn_actions_reach_the_spawner() {
    check(
        json!({"task": "find x", "label": "finder"}),
        &["spawn task=find x label=Some(\"finder\") announce=true"],
        false,
        "Spawned subagent 'lbl' (id=t1, depth=1) for task: find x",
    )
    .await;
    check(
        json!({"action": "spawn", "task": "find x", "mode": "async"}),
        &["spawn task=find x label=None announce=true"],
        false,
        "id=t1",
    )
    .await;
    check(
        json!({"task": "find x", "mode": "sync"}),
        &[
            "spawn task=find x label=None announce=false",
            "wait Id(\"t1\") None",
        ],
        false,
        "the result",
    )
    .await;
    check_with(
        json!({"task": "find x", "mode": "sync"}),
        "failed",
        &[
            "spawn task=find x label=None announce=false",
            "wait Id(\"t1\") None",
        ],
        true,
        "subagent failed: the result",
    )
    .await;
    check(
        json!({"task": "  "}),
        &[],
        true,
        "task parameter is required",
    )
    .await;
    check(
        json!({"task": "x", "mode": "later"}),
        &[],
        true,
        "unknown mode",
    )
    .await;
    check(
        json!({"task": "over the limit"}),
        &["spawn task=over the limit label=None announce=true"],
        true,
        "max concurrent subagents reached (1/1)",
    )
    .await;
    check(
        json!({"action": "list"}),
        &["list"],
        false,
        "\"running\": 1",
    )
    .await;
    check(
        json!({"action": "cancel", "id": "all"}),
        &["cancel All"],
        false,
        "cancelled",
    )
    .await;
    check(
        json!({"action": "cancel", "id": "last"}),
        &["cancel Last"],
        false,
        "t2",
    )
    .await;
    check(
        json!({"action": "cancel", "id": "abc"}),
        &["cancel Id(\"abc\")"],
        false,
        "t2",
    )
    .await;
    check(json!({"action": "cancel"}), &[], true, "give `id`").await;
    check(
        json!({"action": "steer", "message": "focus on y"}),
        &["steer Last focus on y"],
        false,
        "id=t3",
    )
    .await;
    check(
        json!({"action": "steer", "id": "t1", "message": "focus on y"}),
        &["steer Id(\"t1\") focus on y"],
        false,
        "id=t3",
    )
    .await;
    check(json!({"action": "steer"}), &[], true, "`message`").await;
    check(
        json!({"action": "wait"}),
        &["wait All Some(300s)"],
        false,
        "the result",
    )
    .await;
    check(
        json!({"action": "wait", "id": "t1", "timeout": 9999}),
        &["wait Id(\"t1\") Some(300s)"],
        false,
        "the result",
    )
    .await;
    check(
        json!({"action": "wait", "timeout": 5}),
        &["wait All Some(5s)"],
        false,
        "completed",
    )
    .await;
    check(json!({"action": "fly"}), &[], true, "unknown action").await;
}

#[test]
fn labels_default_to_the_start_of_the_task() {
    let cases = [
        ("task", None, "task"),
        ("first line\nsecond", None, "first line"),
        ("task", Some("  mine "), "mine"),
        ("task", Some("   "), "task"),
    ];
    for (task, label, expected) in cases {
        assert_eq!(label_for(task, label), expected, "{task:?} {label:?}");
    }
    assert_eq!(label_for(&"x".repeat(80), None).chars().count(), 50);
}
