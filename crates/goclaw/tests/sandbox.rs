//! Sandbox routing in real turns: with `sandbox.mode: "non-main"` a created agent's `exec`
//! and file tools, and the stdio MCP servers it calls (configured or registered through the
//! API), run inside the native sandbox while the `default` agent's run on the host; with no
//! backend, sandboxed tools (MCP ones included) are refused and nothing runs on the host.

use goclaw_testkit::{Reply, StoreBackend, TestApp, fake_mcp_binary, spawn_app_with_config};
use serde_json::json;

/// The goclaw executable, which native sandboxes run as their init.
const GOCLAW: &str = env!("CARGO_BIN_EXE_goclaw");

/// Whether bubblewrap is installed; under `CI=true` its absence fails the test.
/// Held by each test that starts a sandbox: a Docker container's overlay mount appearing while
/// bubblewrap remounts the host read-only makes that remount fail, so the Docker test and the
/// native ones must not overlap (tests of one binary run in parallel).
static SANDBOXES: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn bwrap_available() -> bool {
    let found = std::process::Command::new("bwrap")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "bubblewrap is required under CI=true: run scripts/sandbox.sh"
        );
        eprintln!("skipping: bubblewrap is not installed (scripts/sandbox.sh installs it)");
    }
    found
}

/// An app with `sandbox` as its sandbox settings. Users' tools are allowed on the host
/// (`tools.host_exec_for_users`), so what routes a call here is the agent's `sandbox.mode`
/// alone (tests/multi_user.rs covers the users' side).
async fn app(sandbox: &str) -> TestApp {
    app_with_tools(sandbox, "").await
}

/// [`app`] with more keys of `tools`.
async fn app_with_tools(sandbox: &str, tools_keys: &str) -> TestApp {
    app_with(sandbox, tools_keys, &[]).await
}

/// [`app_with_tools`] with more environment variables.
async fn app_with(sandbox: &str, tools_keys: &str, env: &[(&str, &str)]) -> TestApp {
    let config = format!(
        "{{ tools: {{ host_exec_for_users: true, {tools_keys} }}, agents: {{ defaults: {{ sandbox: {sandbox} }} }} }}"
    );
    let mut env = env.to_vec();
    env.push(("GOCLAW_SANDBOX_INIT", GOCLAW));
    spawn_app_with_config(StoreBackend::Sqlite, &config, &env)
        .await
        .expect("SQLite is always available")
}

fn host_name() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .expect("reading the host name")
        .trim()
        .to_owned()
}

/// Runs one turn of `agent` in which the model calls `tool` with `arguments`, and returns the
/// tool result as the model saw it (the body of the follow-up request).
async fn turn(app: &TestApp, agent: &str, tool: &str, arguments: serde_json::Value) -> String {
    let before = app.llm.requests().len();
    app.llm.push(Reply::tool_call("c1", tool, arguments));
    app.llm.push(Reply::text("done"));
    let mut ws = app.ws_connect("alice").await;
    let payload = ws
        .call_ok("chat.send", json!({ "agentId": agent, "message": "go" }))
        .await;
    assert_eq!(payload["content"], "done", "{payload}");
    let requests = app.llm.requests();
    assert_eq!(requests.len(), before + 2);
    requests[before + 1].body.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn non_main_agent_runs_exec_in_the_sandbox_and_default_on_the_host() {
    let _one_at_a_time = SANDBOXES.lock().await;
    if !bwrap_available() {
        return;
    }
    let app = app(r#"{ mode: "non-main", backend: "native" }"#).await;
    // Without a gateway token, loopback HTTP callers are admins.
    let created = app
        .client
        .post(app.url("/v1/agents"))
        .json(&json!({ "name": "Coder" }))
        .send()
        .await
        .expect("POST /v1/agents");
    assert!(created.status().is_success(), "{}", created.status());

    let probe = json!({ "command": "echo \"host=$(hostname) cwd=$(pwd)\"" });
    let sandboxed = turn(&app, "coder", "exec", probe.clone()).await;
    assert!(
        sandboxed.contains("host=sandbox cwd=/workspace"),
        "the coder agent's exec did not run in the sandbox: {sandboxed}"
    );
    let on_host = turn(&app, "default", "exec", probe).await;
    let host = format!("host={} ", host_name());
    assert!(
        on_host.contains(&host) && !on_host.contains("cwd=/workspace"),
        "the default agent's exec did not run on the host: {on_host}"
    );

    // The file tools go through the same sandbox and reach the (rw) workspace.
    let wrote = turn(
        &app,
        "coder",
        "write_file",
        json!({ "path": "notes/a.txt", "content": "from the sandbox" }),
    )
    .await;
    assert!(wrote.contains("Wrote 16 bytes"), "{wrote}");
    let read = turn(
        &app,
        "coder",
        "exec",
        json!({ "command": "cat notes/a.txt" }),
    )
    .await;
    assert!(read.contains("from the sandbox"), "{read}");
    let listed = turn(&app, "coder", "list_files", json!({ "path": "notes" })).await;
    assert!(listed.contains("a.txt"), "{listed}");
    remove_native_sandboxes(&app).await;
}

/// Removes the native sandboxes (state and cgroups) the app created; the gateway itself leaves
/// them to the pruner.
async fn remove_native_sandboxes(app: &TestApp) {
    let settings = goclaw_sandbox::SandboxSettings::new(
        app.data_dir.path().join("sandboxes"),
        vec![GOCLAW.to_owned(), "sandbox-init".to_owned()],
    );
    let native = goclaw_sandbox::native::NativeSandbox::probe(
        settings,
        std::sync::Arc::new(goclaw_sandbox::SystemClock),
    )
    .await
    .expect("bubblewrap works");
    let removed = goclaw_core::Sandbox::remove_all(&native)
        .await
        .expect("removing the test's sandboxes");
    assert!(removed > 0, "the app created no native sandbox");
}

/// The MCP server `fake` over stdio. The host path of `fake-mcp` is not visible in a sandbox,
/// so the command starts the copy in the agent's workspace when there is one (inside) and the
/// built one otherwise (on the host, where tools are listed at start-up).
fn fake_mcp_server() -> String {
    let launch = "if [ -x /workspace/fake-mcp ]; then exec /workspace/fake-mcp; fi; exec \"$0\"";
    format!(
        "mcp_servers: {{ fake: {{ command: 'sh', args: ['-c', {launch:?}, {:?}] }} }},",
        fake_mcp_binary().display().to_string()
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandboxed_agents_stdio_mcp_server_runs_in_its_sandbox_and_defaults_on_the_host() {
    let _one_at_a_time = SANDBOXES.lock().await;
    if !bwrap_available() {
        return;
    }
    let app = app_with_tools(
        r#"{ mode: "non-main", backend: "native" }"#,
        &fake_mcp_server(),
    )
    .await;
    let created = app
        .client
        .post(app.url("/v1/agents"))
        .json(&json!({ "name": "Coder" }))
        .send()
        .await
        .expect("POST /v1/agents");
    assert!(created.status().is_success(), "{}", created.status());
    let agent: serde_json::Value = created.json().await.expect("the created agent");
    // An `open` agent gives each user a workspace of their own.
    let mut workspace = app.data_dir.path().join("workspace/coder");
    if agent["agent_type"] == "open" {
        workspace.push("alice");
    }
    std::fs::create_dir_all(&workspace).expect("the coder's workspace");
    std::fs::copy(fake_mcp_binary(), workspace.join("fake-mcp")).expect("copying fake-mcp");

    let data_dir = app.data_dir.path().display().to_string();
    let probe = json!({ "path": data_dir });
    let sandboxed = turn(&app, "coder", "mcp_fake__whereabouts", probe.clone()).await;
    assert!(
        sandboxed.contains("host=sandbox cwd=/workspace path=hidden"),
        "the coder agent's MCP server did not run in its sandbox: {sandboxed}"
    );
    let env = turn(&app, "coder", "mcp_fake__env", json!({ "name": "HOME" })).await;
    assert!(env.contains("HOME=/home/sandbox"), "{env}");

    let on_host = turn(&app, "default", "mcp_fake__whereabouts", probe).await;
    let host = format!("host={} ", host_name());
    assert!(
        on_host.contains(&host) && on_host.contains("path=visible"),
        "the default agent's MCP server did not run on the host: {on_host}"
    );
    remove_native_sandboxes(&app).await;
}

/// A stdio server registered through `/v1/mcp/servers` and granted to a sandboxed agent runs in
/// that agent's sandbox too. Its `PATH` finds the built `fake-mcp` on the host (where its tools
/// are listed) and the copy in the workspace inside.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registered_stdio_server_runs_in_the_sandbox_of_a_sandboxed_agent() {
    let _one_at_a_time = SANDBOXES.lock().await;
    if !bwrap_available() {
        return;
    }
    let app = app_with(
        r#"{ mode: "all", backend: "native" }"#,
        "mcp_allowed_commands: ['fake-mcp'],",
        &[(
            "GOCLAW_ENCRYPTION_KEY",
            "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
        )],
    )
    .await;
    // `default` is an open agent: each user has a workspace of their own under it.
    let workspace = app.data_dir.path().join("workspace/default/alice");
    std::fs::create_dir_all(&workspace).expect("alice's workspace");
    std::fs::copy(fake_mcp_binary(), workspace.join("fake-mcp")).expect("copying fake-mcp");
    let built = fake_mcp_binary();
    let built_dir = built.parent().expect("the build directory");
    let path = format!("{}:/workspace:/usr/bin:/bin", built_dir.display());
    let registered = app
        .client
        .post(app.url("/v1/mcp/servers"))
        .json(
            &json!({ "name": "local", "transport": "stdio", "command": "fake-mcp",
                       "env": { "PATH": path } }),
        )
        .send()
        .await
        .expect("POST /v1/mcp/servers");
    assert_eq!(registered.status(), 201);
    let server: serde_json::Value = registered.json().await.expect("the stored server");
    let id = server["id"].as_str().expect("its id");
    let granted = app
        .client
        .post(app.url(&format!("/v1/mcp/servers/{id}/grants/agent")))
        .json(&json!({ "agent_id": "default" }))
        .send()
        .await
        .expect("granting the server");
    assert_eq!(granted.status(), 201);

    let data_dir = app.data_dir.path().display().to_string();
    let result = turn(
        &app,
        "default",
        "mcp_local__whereabouts",
        json!({ "path": data_dir }),
    )
    .await;
    assert!(
        result.contains("host=sandbox cwd=/workspace path=hidden"),
        "the registered server did not run in the agent's sandbox: {result}"
    );
    remove_native_sandboxes(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_workspace_refuses_writes_from_sandboxed_tools() {
    let _one_at_a_time = SANDBOXES.lock().await;
    if !bwrap_available() {
        return;
    }
    let app = app(r#"{ mode: "all", backend: "native", workspace_access: "ro" }"#).await;
    let wrote = turn(
        &app,
        "default",
        "write_file",
        json!({ "path": "a.txt", "content": "x" }),
    )
    .await;
    assert!(wrote.contains("cannot write a.txt"), "{wrote}");
    let touched = turn(&app, "default", "exec", json!({ "command": "touch b.txt" })).await;
    assert!(touched.contains("[exit code"), "{touched}");
    remove_native_sandboxes(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_backend_sandboxed_tools_are_refused_not_run_on_the_host() {
    let app = app_with_tools(r#"{ mode: "all", backend: "none" }"#, &fake_mcp_server()).await;
    let marker = app.data_dir.path().join("ran-on-host");
    let command = format!("touch {}", marker.display());
    let result = turn(&app, "default", "exec", json!({ "command": command })).await;
    assert!(
        result.contains("must run in a sandbox and none is available"),
        "{result}"
    );
    assert!(!marker.exists(), "the command ran on the host");
    let wrote = turn(
        &app,
        "default",
        "write_file",
        json!({ "path": "a.txt", "content": "x" }),
    )
    .await;
    assert!(wrote.contains("none is available"), "{wrote}");
    let called = turn(
        &app,
        "default",
        "mcp_fake__echo",
        json!({ "text": "from the host" }),
    )
    .await;
    assert!(
        called.contains("MCP server \\\"fake\\\": this agent's tools must run in a sandbox"),
        "{called}"
    );
    assert!(
        !called.contains("mcp:fake/echo"),
        "the server ran on the host: {called}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn docker_backend_runs_the_turns_exec_in_a_container() {
    let _one_at_a_time = SANDBOXES.lock().await;
    let (Ok(docker_host), Ok(image)) = (
        std::env::var("GOCLAW_TEST_DOCKER_HOST"),
        std::env::var("GOCLAW_TEST_SANDBOX_IMAGE"),
    ) else {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "GOCLAW_TEST_DOCKER_HOST and GOCLAW_TEST_SANDBOX_IMAGE are required under CI=true: \
             run scripts/sandbox.sh"
        );
        eprintln!("skipping: no test Docker daemon (scripts/sandbox.sh starts one)");
        return;
    };
    let app = spawn_app_with_config(
        StoreBackend::Sqlite,
        r#"{ agents: { defaults: { sandbox: { mode: "all", backend: "docker" } } } }"#,
        &[
            ("DOCKER_HOST", &docker_host),
            ("GOCLAW_SANDBOX_IMAGE", &image),
        ],
    )
    .await
    .expect("SQLite is always available");
    let probe = json!({ "command": "echo \"host=$(hostname) cwd=$(pwd)\"; touch /rootfile" });
    let result = turn(&app, "default", "exec", probe).await;
    let host = format!("host={} ", host_name());
    assert!(
        result.contains("cwd=/workspace") && !result.contains(&host),
        "exec did not run in a container: {result}"
    );
    assert!(result.contains("Read-only file system"), "{result}");

    // The gateway leaves its containers for the pruner; this test removes them.
    let mut settings =
        goclaw_sandbox::SandboxSettings::new(app.data_dir.path().join("sandboxes"), Vec::new());
    settings.docker_host = Some(docker_host);
    settings.image = image;
    let docker = goclaw_sandbox::docker::DockerSandbox::connect(
        settings,
        std::sync::Arc::new(goclaw_sandbox::SystemClock),
    )
    .await
    .expect("the test daemon answers");
    goclaw_core::Sandbox::remove_all(&docker)
        .await
        .expect("removing the test's containers");
}
