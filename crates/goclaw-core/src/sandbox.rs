//! The `Sandbox` trait: somewhere isolated from the host where agent commands run.
//!
//! A sandbox is identified by a scope key (a session, an agent, or one shared sandbox) and
//! the host workspace it sees at `/workspace`. Backends (containers, OS namespaces) implement
//! the trait; tools call [`Sandbox::exec`] for one command and [`Sandbox::spawn`] for a
//! long-running one they talk to over its standard streams (a stdio MCP server).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

use crate::sandbox_process::{SandboxProcess, SandboxSpawn};

/// Where the workspace appears inside every sandbox.
pub const SANDBOX_WORKDIR: &str = "/workspace";

/// One command to run in a sandbox.
#[derive(Debug, Clone)]
pub struct SandboxExec {
    /// Scope key: which sandbox (e.g. `<tenant>/<session key>`, `<tenant>/agent:<id>`, `shared`).
    pub key: String,
    /// Host directory mounted at [`SANDBOX_WORKDIR`] (per `workspace_access`).
    pub workspace: PathBuf,
    /// Program and arguments; shell command lines are `["sh", "-c", line]`.
    pub argv: Vec<String>,
    /// Working directory inside the sandbox, absolute or relative to [`SANDBOX_WORKDIR`].
    pub workdir: Option<String>,
    /// Extra environment variables for this command only.
    pub env: BTreeMap<String, String>,
    /// Bytes written to the command's standard input, which is then closed.
    pub stdin: Option<Vec<u8>>,
    /// Wall-clock limit; the command and every process it started are killed when it passes.
    pub timeout: Duration,
}

impl SandboxExec {
    /// A shell command line run with `sh -c` in the workspace.
    pub fn shell(key: impl Into<String>, workspace: impl Into<PathBuf>, line: &str) -> Self {
        Self {
            key: key.into(),
            workspace: workspace.into(),
            argv: vec!["sh".to_owned(), "-c".to_owned(), line.to_owned()],
            workdir: None,
            env: BTreeMap::new(),
            stdin: None,
            timeout: Duration::from_secs(300),
        }
    }
}

/// What a sandboxed command produced.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SandboxOutput {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    /// Exit code; `None` when killed by a signal or the timeout.
    pub exit_code: Option<i32>,
    pub timed_out: bool,
    /// Output went past the configured cap and was cut.
    pub truncated: bool,
}

impl SandboxOutput {
    /// Whether the command exited with status 0.
    pub fn success(&self) -> bool {
        self.exit_code == Some(0) && !self.timed_out
    }

    /// Standard output then standard error, as text.
    pub fn combined(&self) -> String {
        let mut bytes = self.stdout.clone();
        if !self.stderr.is_empty() {
            if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                bytes.push(b'\n');
            }
            bytes.extend_from_slice(&self.stderr);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    }
}

/// A live sandbox as its backend sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SandboxInfo {
    /// Backend name of the sandbox (container name, state directory name).
    pub name: String,
    pub key: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
}

/// Why the pruner removed a sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PruneReason {
    /// Unused for longer than `idle_hours`.
    Idle,
    /// Created longer ago than `max_age_days`.
    MaxAge,
}

/// Sandboxes removed by one pruning pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PruneReport {
    pub removed: Vec<(String, PruneReason)>,
}

/// Failures of the sandbox itself (not of the command, which reports its exit code).
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// No isolation is available; the command was not run anywhere.
    #[error("sandbox unavailable: {0}")]
    Unavailable(String),
    /// The request cannot be honoured (bad working directory, empty command).
    #[error("invalid sandbox request: {0}")]
    Invalid(String),
    /// The backend failed to create the sandbox or run the command.
    #[error("sandbox failure: {0}")]
    Backend(String),
}

/// An isolated place to run commands.
#[async_trait]
pub trait Sandbox: Send + Sync + std::fmt::Debug {
    /// Backend name: `docker` or `native`.
    fn backend(&self) -> &'static str;

    /// One line on what this backend enforces here (for `goclaw doctor`).
    fn describe(&self) -> String {
        self.backend().to_owned()
    }

    /// Runs one command, creating the sandbox for `request.key` first when needed.
    async fn exec(&self, request: SandboxExec) -> Result<SandboxOutput, SandboxError>;

    /// Starts one long-running command in the sandbox of `request.key` (created first when
    /// needed), placed as [`Sandbox::exec`] places its commands. Backends that cannot keep a
    /// process's streams open answer [`SandboxError::Unavailable`].
    async fn spawn(&self, request: SandboxSpawn) -> Result<SandboxProcess, SandboxError> {
        let _ = request;
        Err(SandboxError::Unavailable(format!(
            "the {} sandbox cannot run long-lived processes",
            self.backend()
        )))
    }

    /// The sandboxes that exist now.
    async fn list(&self) -> Result<Vec<SandboxInfo>, SandboxError>;

    /// Removes sandboxes idle longer than `idle_hours` or older than `max_age_days`.
    async fn prune(&self) -> Result<PruneReport, SandboxError>;

    /// Removes every sandbox this backend manages (used at shutdown and by tests).
    async fn remove_all(&self) -> Result<usize, SandboxError>;
}
