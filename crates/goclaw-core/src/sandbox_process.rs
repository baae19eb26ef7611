//! Long-running commands in a sandbox: [`SandboxSpawn`] says what to start, and the
//! [`SandboxProcess`] it becomes is talked to over its standard streams until it is dropped,
//! which kills it and every process it started.
//!
//! The streams are `futures-io` byte streams, which no async runtime owns; each backend adapts
//! its own pipes or sockets to them, and each caller adapts them to the IO it speaks.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::pin::Pin;

use futures_io::{AsyncRead, AsyncWrite};

/// The standard input of a spawned process.
pub type ProcessStdin = Pin<Box<dyn AsyncWrite + Send>>;
/// The standard output or standard error of a spawned process.
pub type ProcessOutput = Pin<Box<dyn AsyncRead + Send>>;

/// One long-running command to start in a sandbox. It is placed exactly as
/// [`SandboxExec`](crate::SandboxExec) is (same scope key, same sandbox, same limits and clean
/// environment) but has no wall-clock limit: it runs until its [`SandboxProcess`] is dropped or
/// it ends by itself.
#[derive(Debug, Clone)]
pub struct SandboxSpawn {
    /// Scope key: which sandbox (see [`SandboxExec::key`](crate::SandboxExec::key)).
    pub key: String,
    /// Host directory mounted at [`SANDBOX_WORKDIR`](crate::SANDBOX_WORKDIR).
    pub workspace: PathBuf,
    /// Program and arguments.
    pub argv: Vec<String>,
    /// Working directory inside the sandbox, absolute or relative to the workspace.
    pub workdir: Option<String>,
    /// Extra environment variables for this process only.
    pub env: BTreeMap<String, String>,
}

/// Ends a spawned process and every process it started. Called once, when the
/// [`SandboxProcess`] is killed or dropped; it must not block for long (a backend that needs
/// to wait starts that work in the background).
pub trait ProcessReaper: Send + Sync + std::fmt::Debug {
    fn kill(&mut self);
}

/// A process running in a sandbox, with its standard streams. Dropping it kills the process
/// and everything it started, inside the sandbox.
pub struct SandboxProcess {
    stdin: Option<ProcessStdin>,
    stdout: Option<ProcessOutput>,
    stderr: Option<ProcessOutput>,
    reaper: Option<Box<dyn ProcessReaper>>,
}

impl std::fmt::Debug for SandboxProcess {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxProcess")
            .field("stdin", &self.stdin.is_some())
            .field("stdout", &self.stdout.is_some())
            .field("stderr", &self.stderr.is_some())
            .field("reaper", &self.reaper)
            .finish()
    }
}

impl SandboxProcess {
    /// A started process: its streams, and what kills it.
    pub fn new(
        stdin: ProcessStdin,
        stdout: ProcessOutput,
        stderr: ProcessOutput,
        reaper: Box<dyn ProcessReaper>,
    ) -> Self {
        Self {
            stdin: Some(stdin),
            stdout: Some(stdout),
            stderr: Some(stderr),
            reaper: Some(reaper),
        }
    }

    /// Its standard input (once); closing it is how the process learns there is no more.
    pub fn take_stdin(&mut self) -> Option<ProcessStdin> {
        self.stdin.take()
    }

    /// Its standard output (once).
    pub fn take_stdout(&mut self) -> Option<ProcessOutput> {
        self.stdout.take()
    }

    /// Its standard error (once). Read it or drop it: a full, unread pipe stalls the process.
    pub fn take_stderr(&mut self) -> Option<ProcessOutput> {
        self.stderr.take()
    }

    /// Kills the process and everything it started (dropping it does the same).
    pub fn kill(&mut self) {
        if let Some(mut reaper) = self.reaper.take() {
            reaper.kill();
        }
    }
}

impl Drop for SandboxProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
