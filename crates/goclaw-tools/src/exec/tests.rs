//! Unit tests of the exec tool: timeouts kill the whole process group, output is capped, the
//! environment is minimal, the working directory stays in the workspace, approvals gate runs.

use std::time::{Duration, Instant};

use goclaw_core::{MASTER_TENANT_ID, SessionKey, Tool, ToolContext};
use serde_json::json;

use super::*;

fn context(workspace: &std::path::Path) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "default".to_owned(),
        session_key: SessionKey::parse("agent:default:test").expect("key"),
        user_id: "u1".to_owned(),
        trust: goclaw_core::Trust::Admin,
        run_id: "r1".to_owned(),
        channel: "ws".to_owned(),
        workspace: workspace.to_path_buf(),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

fn tool(settings: ExecSettings) -> ExecTool {
    ExecTool::new(settings, None, None)
}

#[tokio::test]
async fn runs_in_the_workspace() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tool(ExecSettings::default())
        .call(&context(dir.path()), json!({"command": "echo hi && pwd"}))
        .await;
    assert!(!out.is_error, "{}", out.content);
    let root = dir.path().canonicalize().expect("canonical");
    assert!(out.content.contains("hi"));
    assert!(
        out.content.contains(&root.display().to_string()),
        "{}",
        out.content
    );
}

#[tokio::test]
async fn timeout_kills_children() {
    let dir = tempfile::tempdir().expect("tempdir");
    let marker = dir.path().join("survived");
    let command = format!("(sleep 2; touch {}) & sleep 30", marker.display());
    let started = Instant::now();
    let out = tool(ExecSettings::default())
        .call(
            &context(dir.path()),
            json!({"command": command, "timeout": 1}),
        )
        .await;
    assert!(out.is_error);
    assert!(out.content.contains("timed out"), "{}", out.content);
    assert!(started.elapsed() < Duration::from_secs(10));
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert!(
        !marker.exists(),
        "a child of the timed-out command kept running"
    );
}

#[tokio::test]
async fn output_is_capped() {
    let dir = tempfile::tempdir().expect("tempdir");
    let settings = ExecSettings {
        max_output: 1000,
        ..ExecSettings::default()
    };
    let out = tool(settings)
        .call(
            &context(dir.path()),
            json!({"command": "yes abcdefgh | head -c 50000"}),
        )
        .await;
    assert!(
        out.content.contains("[output truncated at 1000 bytes]"),
        "{}",
        out.content
    );
    assert!(out.content.len() < 1100);
}

#[tokio::test]
async fn environment_is_minimal() {
    let dir = tempfile::tempdir().expect("tempdir");
    // `cargo test` gives this process CARGO_MANIFEST_DIR; the command must not inherit it.
    assert!(std::env::var_os("CARGO_MANIFEST_DIR").is_some());
    let out = tool(ExecSettings::default())
        .call(
            &context(dir.path()),
            json!({"command": "echo \"home=$HOME manifest=$CARGO_MANIFEST_DIR\""}),
        )
        .await;
    assert!(!out.is_error, "{}", out.content);
    let expected = format!("home={} manifest=", dir.path().display());
    assert_eq!(out.content.trim(), expected);
}

#[tokio::test]
async fn gateway_variables_are_absent() {
    let dir = tempfile::tempdir().expect("tempdir");
    let listing = dir.path().join("env.txt");
    // Write the environment with a program the guard does not know as a dump (`awk ENVIRON`).
    let command = format!(
        "awk 'BEGIN {{ for (k in ENVIRON) print k }}' > {}",
        listing.display()
    );
    let out = tool(ExecSettings::default())
        .call(&context(dir.path()), json!({"command": command}))
        .await;
    assert!(!out.is_error, "{}", out.content);
    let text = std::fs::read_to_string(&listing).expect("listing");
    let mut names: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
    names.sort_unstable();
    names.retain(|n| {
        !matches!(
            *n,
            "PWD" | "SHLVL" | "_" | "AWKPATH" | "AWKLIBPATH" | "OLDPWD"
        )
    });
    assert_eq!(names, vec!["HOME", "LANG", "PATH", "TERM"]);
}

#[tokio::test]
async fn cwd_escape_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let workspace = dir.path().join("ws");
    std::fs::create_dir_all(workspace.join("sub")).expect("mkdir");
    let exec = tool(ExecSettings::default());
    let ctx = context(&workspace);
    for escape in ["..", "/", "sub/../.."] {
        let out = exec
            .call(&ctx, json!({"command": "ls", "working_dir": escape}))
            .await;
        assert!(
            out.is_error && out.content.contains("outside workspace"),
            "{escape}: {}",
            out.content
        );
    }
    let out = exec
        .call(&ctx, json!({"command": "pwd", "working_dir": "sub"}))
        .await;
    assert!(
        !out.is_error && out.content.trim().ends_with("sub"),
        "{}",
        out.content
    );
}

#[tokio::test]
async fn denied_commands_never_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = tool(ExecSettings::default())
        .call(&context(dir.path()), json!({"command": "ls && rm -rf ."}))
        .await;
    assert!(
        out.is_error && out.content.contains("destructive_ops"),
        "{}",
        out.content
    );
}

#[tokio::test]
async fn approvals_gate_the_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    let broker = ApprovalBroker::new(Duration::from_secs(5));
    let settings = ExecSettings {
        policy: ExecPolicy {
            security: ExecSecurity::Full,
            ask: ExecAsk::Always,
            allowlist: Vec::new(),
        },
        ..ExecSettings::default()
    };
    let exec = ExecTool::new(settings, None, Some(broker.clone()));
    let mut events = broker.subscribe();
    let ctx = context(dir.path());
    let call = tokio::spawn({
        let exec = exec.clone();
        let ctx = ctx.clone();
        async move { exec.call(&ctx, json!({"command": "echo approved"})).await }
    });
    let Ok(ApprovalEvent::Requested(request)) = events.recv().await else {
        panic!("no request event");
    };
    broker
        .resolve(
            MASTER_TENANT_ID,
            &request.id,
            ApprovalDecision::AllowAlways,
            "op",
        )
        .await
        .expect("resolves");
    let out = call.await.expect("joins");
    assert_eq!(out.content.trim(), "approved");
    // Allowed always: the same program runs without a prompt.
    let out = exec.call(&ctx, json!({"command": "echo again"})).await;
    assert_eq!(out.content.trim(), "again");

    let quick = ExecTool::new(
        ExecSettings {
            policy: ExecPolicy {
                ask: ExecAsk::Always,
                ..ExecPolicy::default()
            },
            ..ExecSettings::default()
        },
        None,
        Some(ApprovalBroker::new(Duration::from_millis(100))),
    );
    let out = quick.call(&ctx, json!({"command": "ls"})).await;
    assert!(
        out.is_error && out.content.contains("denied"),
        "{}",
        out.content
    );
}
