//! Running the real `goclaw` executable in tests: one-shot commands with captured output, and a
//! gateway process whose log lines are collected and whose bound address is read from them.

#![allow(dead_code)]

pub mod callers;
pub mod http;
pub mod tenancy;
pub mod wire;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

/// How long a test waits for the gateway to log that it is listening.
const START_DEADLINE: Duration = Duration::from_secs(30);

/// A `goclaw` invocation with a clean environment: only `PATH`, a private `HOME` and what the
/// test adds.
pub struct Goclaw {
    command: Command,
}

/// What a finished command printed.
#[derive(Debug)]
pub struct Finished {
    pub success: bool,
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Goclaw {
    pub fn new(home: &Path) -> Self {
        let mut command = Command::new(env!("CARGO_BIN_EXE_goclaw"));
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("HOME", home)
            .env("GOCLAW_CONFIG", home.join("config.json"))
            .current_dir(home)
            .stdin(Stdio::null())
            .kill_on_drop(true);
        Self { command }
    }

    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    pub fn args(mut self, args: &[&str]) -> Self {
        self.command.args(args);
        self
    }

    /// Runs to completion.
    pub async fn run(mut self) -> Finished {
        let output = tokio::time::timeout(Duration::from_secs(60), self.command.output())
            .await
            .expect("goclaw finished within 60 s")
            .expect("goclaw executable runs");
        Finished {
            success: output.status.success(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Runs to completion with `input` on standard input.
    pub async fn run_with_stdin(mut self, input: &str) -> Finished {
        use tokio::io::AsyncWriteExt;
        self.command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("goclaw executable starts");
        let mut stdin = child.stdin.take().expect("piped stdin");
        stdin
            .write_all(input.as_bytes())
            .await
            .expect("write stdin");
        drop(stdin);
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("goclaw finished within 60 s")
            .expect("goclaw executable runs");
        Finished {
            success: output.status.success(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    /// Starts the gateway and waits until it logs `gateway listening`, or until it exits.
    pub async fn start(mut self) -> Result<Server, Finished> {
        self.command.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = self.command.spawn().expect("goclaw executable starts");
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let err_lines = Arc::new(Mutex::new(Vec::<String>::new()));
        tokio::spawn(collect(BufReader::new(stdout), Arc::clone(&lines)));
        tokio::spawn(collect(BufReader::new(stderr), Arc::clone(&err_lines)));

        let deadline = tokio::time::Instant::now() + START_DEADLINE;
        loop {
            if let Some(addr) = listening_addr(&lines) {
                return Ok(Server {
                    child,
                    addr,
                    stdout: lines,
                    stderr: err_lines,
                });
            }
            if let Ok(Some(status)) = child.try_wait() {
                // Let the readers drain what is left.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return Err(Finished {
                    success: status.success(),
                    code: status.code(),
                    stdout: joined(&lines),
                    stderr: joined(&err_lines),
                });
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "gateway did not start within {START_DEADLINE:?}; stdout:\n{}\nstderr:\n{}",
                joined(&lines),
                joined(&err_lines)
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A gateway process started by a test.
pub struct Server {
    child: Child,
    pub addr: SocketAddr,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// The process id of the gateway.
    pub fn pid(&self) -> u32 {
        self.child.id().expect("running child has a pid")
    }

    /// Everything the process wrote to stdout so far.
    pub fn stdout(&self) -> String {
        joined(&self.stdout)
    }

    /// Kills the process with SIGKILL — no shutdown, nothing flushed — and waits until it is
    /// gone; returns how it ended.
    pub async fn kill(mut self) -> std::process::ExitStatus {
        self.child
            .start_kill()
            .expect("sending SIGKILL to the gateway");
        tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("the gateway is gone within 30 s of SIGKILL")
            .expect("waiting for the gateway")
    }

    /// Everything the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        joined(&self.stderr)
    }

    /// Sends SIGTERM and waits for the process to exit; returns its exit code.
    pub async fn terminate(mut self) -> (Option<i32>, String, String) {
        let pid = self.child.id().expect("running child has a pid");
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .expect("kill runs");
        assert!(status.success(), "kill -TERM {pid}");
        let exit = tokio::time::timeout(Duration::from_secs(30), self.child.wait())
            .await
            .expect("gateway exits within 30 s of SIGTERM")
            .expect("waiting for the gateway");
        tokio::time::sleep(Duration::from_millis(100)).await;
        (exit.code(), joined(&self.stdout), joined(&self.stderr))
    }
}

async fn collect<R>(mut reader: BufReader<R>, into: Arc<Mutex<Vec<String>>>)
where
    R: tokio::io::AsyncRead + Unpin,
{
    let mut line = String::new();
    loop {
        line.clear();
        match reader.read_line(&mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => into
                .lock()
                .expect("log buffer lock")
                .push(line.trim_end().to_owned()),
        }
    }
}

fn joined(lines: &Arc<Mutex<Vec<String>>>) -> String {
    lines.lock().expect("log buffer lock").join("\n")
}

fn listening_addr(lines: &Arc<Mutex<Vec<String>>>) -> Option<SocketAddr> {
    let lines = lines.lock().expect("log buffer lock");
    lines.iter().find_map(|line| {
        let value: serde_json::Value = serde_json::from_str(line).ok()?;
        if value.get("message")?.as_str()? != "gateway listening" {
            return None;
        }
        value.get("addr")?.as_str()?.parse().ok()
    })
}

/// A private home directory for one test.
pub fn home() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("goclaw-cli-")
        .tempdir()
        .expect("temporary home directory")
}

/// GET `url`, returning status and body.
pub async fn get(url: &str) -> (u16, String) {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.unwrap_or_default())
}

/// Path of the default SQLite database under `home`.
pub fn default_db(home: &Path) -> PathBuf {
    home.join(".goclaw/data/goclaw.db")
}

/// `goclaw serve` on loopback with its data under `home`, on `db`, with the `anthropic` and
/// `openai` providers pointed at the fake model at `llm_base`, 256 main-lane slots, and the
/// built executable as the sandbox's init; the caller adds its own variables.
pub fn serve_on(home: &Path, db: &goclaw_testkit::TestDatabase, llm_base: &str) -> Goclaw {
    let data = home.join("data");
    let goclaw = Goclaw::new(home)
        .env("GOCLAW_HOST", "127.0.0.1")
        .env("GOCLAW_PORT", "0")
        .env("GOCLAW_DATA_DIR", &data)
        .env("GOCLAW_WORKSPACE", data.join("workspace"))
        .env("GOCLAW_LANE_MAIN", "256")
        .env("GOCLAW_SANDBOX_INIT", env!("CARGO_BIN_EXE_goclaw"))
        .env("GOCLAW_ANTHROPIC_API_KEY", "test-anthropic-key")
        .env("GOCLAW_ANTHROPIC_BASE_URL", llm_base)
        .env("GOCLAW_OPENAI_API_KEY", "test-openai-key")
        .env("GOCLAW_OPENAI_BASE_URL", llm_base)
        .args(&["serve"]);
    match db.options() {
        goclaw_store::StoreOptions::Sqlite(sqlite) => goclaw
            .env("GOCLAW_STORAGE_BACKEND", "sqlite")
            .env("GOCLAW_SQLITE_PATH", &sqlite.path),
        goclaw_store::StoreOptions::Postgres(pg) => goclaw
            .env("GOCLAW_STORAGE_BACKEND", "postgres")
            .env("GOCLAW_POSTGRES_DSN", pg.expose_dsn()),
    }
}
