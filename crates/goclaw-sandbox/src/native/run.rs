//! Running one host process with a deadline: separate capped stdout/stderr, stdin fed then
//! closed, and on timeout the whole process group killed (plus a caller-supplied clean-up).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use goclaw_core::{SandboxError, SandboxOutput};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::bwrap::SANDBOX_PATH;

/// How long output may keep arriving after the process itself has ended or been killed.
const DRAIN_GRACE: Duration = Duration::from_secs(2);

/// One process to run.
#[derive(Debug)]
pub struct RunSpec {
    pub program: String,
    pub args: Vec<String>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
    pub max_output: usize,
}

#[derive(Debug, Default)]
struct Capture {
    bytes: Vec<u8>,
    truncated: bool,
}

/// Runs the process; `on_timeout` runs (blocking) after its group was killed on timeout.
pub async fn run(
    spec: RunSpec,
    on_timeout: impl FnOnce() + Send + 'static,
) -> Result<SandboxOutput, SandboxError> {
    let mut command = tokio::process::Command::new(&spec.program);
    command
        .args(&spec.args)
        .env_clear()
        .env("PATH", SANDBOX_PATH)
        .stdin(if spec.stdin.is_some() {
            std::process::Stdio::piped()
        } else {
            std::process::Stdio::null()
        })
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    let mut child = command
        .spawn()
        .map_err(|e| SandboxError::Backend(format!("cannot start {}: {e}", spec.program)))?;
    let pid = child
        .id()
        .and_then(|id| i32::try_from(id).ok())
        .and_then(rustix::process::Pid::from_raw);

    if let (Some(bytes), Some(mut stdin)) = (spec.stdin, child.stdin.take()) {
        tokio::spawn(async move {
            // A command that does not read its input is not an error.
            let _ = stdin.write_all(&bytes).await;
            let _ = stdin.shutdown().await;
        });
    }
    let stdout = Arc::new(Mutex::new(Capture::default()));
    let stderr = Arc::new(Mutex::new(Capture::default()));
    let readers = [
        child
            .stdout
            .take()
            .map(|out| tokio::spawn(drain(out, stdout.clone(), spec.max_output))),
        child
            .stderr
            .take()
            .map(|err| tokio::spawn(drain(err, stderr.clone(), spec.max_output))),
    ];

    let kill_group = move || {
        if let Some(pid) = pid {
            let _ = rustix::process::kill_process_group(pid, rustix::process::Signal::KILL);
        }
    };
    let (exit_code, timed_out) = match tokio::time::timeout(spec.timeout, child.wait()).await {
        Ok(Ok(status)) => (status.code(), false),
        Ok(Err(error)) => {
            kill_group();
            return Err(SandboxError::Backend(format!(
                "waiting for the sandbox: {error}"
            )));
        }
        Err(_) => {
            kill_group();
            let _ = tokio::task::spawn_blocking(on_timeout).await;
            let _ = child.wait().await;
            (None, true)
        }
    };
    for reader in readers.into_iter().flatten() {
        let abort = reader.abort_handle();
        if tokio::time::timeout(DRAIN_GRACE, reader).await.is_err() {
            abort.abort();
        }
    }
    let take = |capture: &Arc<Mutex<Capture>>| {
        let mut capture = capture.lock().unwrap_or_else(|e| e.into_inner());
        std::mem::take(&mut *capture)
    };
    let (out, err) = (take(&stdout), take(&stderr));
    Ok(SandboxOutput {
        truncated: out.truncated || err.truncated,
        stdout: out.bytes,
        stderr: err.bytes,
        exit_code,
        timed_out,
    })
}

/// Reads everything, keeping the first `cap` bytes.
async fn drain(mut from: impl AsyncRead + Unpin, into: Arc<Mutex<Capture>>, cap: usize) {
    let mut buffer = vec![0u8; 64 * 1024];
    loop {
        match from.read(&mut buffer).await {
            Ok(0) | Err(_) => return,
            Ok(n) => {
                let mut capture = into.lock().unwrap_or_else(|e| e.into_inner());
                let room = cap.saturating_sub(capture.bytes.len());
                let keep = n.min(room);
                capture.bytes.extend_from_slice(&buffer[..keep]);
                if keep < n {
                    capture.truncated = true;
                }
            }
        }
    }
}
