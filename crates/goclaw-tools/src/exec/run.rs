//! Running a screened command on the host: `sh -c` in its own process group, a minimal
//! environment (never the gateway's), a timeout that kills the whole group, and an output cap.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// `PATH` given to commands.
const SAFE_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What a finished (or killed) command produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// Combined stdout and stderr, capped.
    pub output: String,
    /// Exit code, `None` when killed by a signal or the timeout.
    pub code: Option<i32>,
    pub timed_out: bool,
    pub truncated: bool,
}

/// Runs `command` with `sh -c` in `cwd`; `home` becomes `$HOME`.
pub async fn run(
    command: &str,
    cwd: &Path,
    home: &Path,
    timeout: Duration,
    max_output: usize,
) -> std::io::Result<Outcome> {
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .current_dir(cwd)
        .env_clear()
        .env("PATH", SAFE_PATH)
        .env("HOME", home)
        .env("LANG", "C.UTF-8")
        .env("TERM", "dumb")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()?;
    let pid = child.id();
    let stdout = child.stdout.take();
    let stderr = child.stderr.take();
    let collect = async {
        let (out, err) = tokio::join!(
            read_capped(stdout, max_output),
            read_capped(stderr, max_output)
        );
        let status = child.wait().await;
        (out, err, status)
    };
    let (out, err, status, timed_out) = match tokio::time::timeout(timeout, collect).await {
        Ok((out, err, status)) => (out, err, status.ok().and_then(|s| s.code()), false),
        Err(_) => {
            if let Some(pid) = pid {
                kill_group(pid).await;
            }
            ((Vec::new(), false), (Vec::new(), false), None, true)
        }
    };
    let (mut bytes, out_cut) = out;
    let (err_bytes, err_cut) = err;
    if !err_bytes.is_empty() {
        if !bytes.is_empty() && !bytes.ends_with(b"\n") {
            bytes.push(b'\n');
        }
        bytes.extend_from_slice(&err_bytes);
    }
    let truncated = out_cut || err_cut || bytes.len() > max_output;
    bytes.truncate(max_output);
    let mut output = String::from_utf8_lossy(&bytes).into_owned();
    if truncated {
        output.push_str(&format!("\n[output truncated at {max_output} bytes]"));
    }
    Ok(Outcome {
        output,
        code: status,
        timed_out,
        truncated,
    })
}

/// Reads at most `cap` bytes, then keeps draining so the child is never blocked on a full pipe.
async fn read_capped(reader: Option<impl AsyncRead + Unpin>, cap: usize) -> (Vec<u8>, bool) {
    let Some(mut reader) = reader else {
        return (Vec::new(), false);
    };
    let mut kept = Vec::new();
    let mut cut = false;
    let mut buf = [0u8; 8192];
    loop {
        match reader.read(&mut buf).await {
            Ok(0) | Err(_) => return (kept, cut),
            Ok(n) => {
                let room = cap.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
                cut |= n > room;
            }
        }
    }
}

/// Kills the process group `pid` leads (the shell and everything it started).
async fn kill_group(pid: u32) {
    let status = Command::new("kill")
        .arg("-KILL")
        .arg("--")
        .arg(format!("-{pid}"))
        .env_clear()
        .env("PATH", SAFE_PATH)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .await;
    if let Err(error) = status {
        tracing::warn!(pid, %error, "cannot kill the command's process group");
    }
}
