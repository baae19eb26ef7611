//! The test MCP server (`fake-mcp`, crate `goclaw-fake-mcp`) for application tests: the path
//! of its binary — built on first use when the test run has not built it already — and
//! running instances on streamable HTTP and on HTTP+SSE.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::OnceLock;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// The `fake-mcp` executable. `GOCLAW_FAKE_MCP` names it when set; otherwise it is the one
/// beside this test's own target directory, built with `cargo build -p goclaw-fake-mcp`
/// once per test process (a no-op when it is up to date).
pub fn fake_mcp_binary() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| {
            if let Some(path) = std::env::var_os("GOCLAW_FAKE_MCP") {
                return PathBuf::from(path);
            }
            let exe = std::env::current_exe().expect("the test executable's path");
            // target/<profile>/deps/<test> → target/<profile>/fake-mcp
            let profile_dir = exe
                .parent()
                .and_then(|deps| deps.parent())
                .expect("the test executable lives in target/<profile>/deps");
            let workspace = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let mut build = std::process::Command::new(cargo);
            build
                .args(["build", "-p", "goclaw-fake-mcp", "--bin", "fake-mcp"])
                .current_dir(&workspace);
            if profile_dir.file_name().is_some_and(|n| n == "release") {
                build.arg("--release");
            }
            if let Some(target) = profile_dir.parent() {
                build.env("CARGO_TARGET_DIR", target);
            }
            let status = build.status().expect("cargo runs");
            assert!(status.success(), "building fake-mcp failed");
            profile_dir.join("fake-mcp")
        })
        .clone()
}

/// `fake-mcp` serving streamable HTTP on a loopback port; killed when dropped.
pub struct FakeMcpHttp {
    /// `http://127.0.0.1:PORT/mcp`.
    pub url: String,
    _child: Child,
}

impl FakeMcpHttp {
    /// Starts the server; with `required_header` (`NAME=VALUE`) it refuses requests without it.
    pub async fn start(required_header: Option<&str>) -> Self {
        let (url, child) = listen("--http", "127.0.0.1:0", required_header).await;
        Self { url, _child: child }
    }
}

/// `fake-mcp` serving the HTTP+SSE transport on a loopback port; killed when dropped. It can
/// be started again on the same port after its `crash` tool ended it.
pub struct FakeMcpSse {
    /// `http://127.0.0.1:PORT/sse`, the event stream.
    pub url: String,
    required_header: Option<String>,
    child: Child,
}

impl FakeMcpSse {
    /// Starts the server; with `required_header` (`NAME=VALUE`) it refuses requests without it.
    pub async fn start(required_header: Option<&str>) -> Self {
        let (url, child) = listen("--sse", "127.0.0.1:0", required_header).await;
        Self {
            url,
            required_header: required_header.map(str::to_owned),
            child,
        }
    }

    /// Waits (up to 10 s) for the process to have ended, killing it if it has not, and starts
    /// it again on the same address, as a supervisor would.
    pub async fn restart(&mut self) {
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            let _ = self.child.kill().await;
        }
        let addr = self
            .url
            .strip_prefix("http://")
            .and_then(|rest| rest.strip_suffix("/sse"))
            .expect("an http://ADDR/sse URL")
            .to_owned();
        let (url, child) = listen("--sse", &addr, self.required_header.as_deref()).await;
        assert_eq!(url, self.url, "restarted on the same address");
        self.child = child;
    }
}

/// Starts `fake-mcp MODE ADDR` and reads the URL from its `listening URL` line.
async fn listen(mode: &str, addr: &str, required_header: Option<&str>) -> (String, Child) {
    let mut command = Command::new(fake_mcp_binary());
    command.args([mode, addr]);
    if let Some(header) = required_header {
        command.args(["--require-header", header]);
    }
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("fake-mcp starts");
    let stdout = child.stdout.take().expect("piped stdout");
    let mut lines = BufReader::new(stdout).lines();
    let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
        .await
        .expect("fake-mcp says where it listens within 30 s")
        .expect("reading fake-mcp's stdout")
        .expect("fake-mcp printed a line");
    let url = line
        .strip_prefix("listening ")
        .expect("a `listening URL` line")
        .to_owned();
    (url, child)
}
