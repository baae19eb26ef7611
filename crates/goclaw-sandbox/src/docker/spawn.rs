//! Long-running commands in a container: an exec attached to standard input, output and
//! error, with no deadline.
//!
//! The daemon multiplexes the exec's output on one connection; a task splits it into the
//! process's stdout and stderr streams (bounded pipes, so a reader that falls behind holds the
//! process up rather than growing a buffer). Like every exec the command carries the marker
//! variable (see [`exec`](super::exec)), so killing the process — on close or drop — kills
//! every process in the container that carries it.

use bollard::Docker;
use bollard::container::LogOutput;
use futures_util::StreamExt;
use goclaw_core::{ProcessReaper, SandboxProcess};
use tokio::io::AsyncWriteExt;
use tokio::task::AbortHandle;

use super::exec::{Attached, Command, ExecFailure, attach, kill_marked};
use crate::streams;

/// Bytes of output buffered per stream before the process has to wait for its reader.
const PIPE_BYTES: usize = 64 * 1024;

/// Starts `command` in `container` with its streams attached.
pub(crate) async fn start(
    docker: &Docker,
    container: &str,
    command: Command,
) -> Result<SandboxProcess, ExecFailure> {
    let Attached {
        mut output, input, ..
    } = attach(docker, container, &command, true).await?;

    let (mut stdout_in, stdout_out) = tokio::io::duplex(PIPE_BYTES);
    let (mut stderr_in, stderr_out) = tokio::io::duplex(PIPE_BYTES);
    let split = tokio::spawn(async move {
        // A stream whose reader went away is skipped; the other one keeps flowing.
        let (mut stdout_open, mut stderr_open) = (true, true);
        while let Some(Ok(item)) = output.next().await {
            match item {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    stdout_open = stdout_open && stdout_in.write_all(&message).await.is_ok();
                }
                LogOutput::StdErr { message } => {
                    stderr_open = stderr_open && stderr_in.write_all(&message).await.is_ok();
                }
                LogOutput::StdIn { .. } => {}
            }
        }
        // Dropping the writers ends both streams.
    });
    let reaper = MarkedReaper {
        docker: docker.clone(),
        container: container.to_owned(),
        user: command.user,
        exec_id: command.exec_id,
        split: split.abort_handle(),
    };
    Ok(SandboxProcess::new(
        streams::stdin(input),
        streams::output(stdout_out),
        streams::output(stderr_out),
        Box::new(reaper),
    ))
}

/// Kills every process of one exec (by its marker) and stops reading its output.
#[derive(Debug)]
struct MarkedReaper {
    docker: Docker,
    container: String,
    user: Option<String>,
    exec_id: String,
    split: AbortHandle,
}

impl ProcessReaper for MarkedReaper {
    fn kill(&mut self) {
        self.split.abort();
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            tracing::warn!(container = %self.container, "no runtime left to kill a sandboxed process");
            return;
        };
        let docker = self.docker.clone();
        let container = std::mem::take(&mut self.container);
        let user = self.user.take();
        let exec_id = std::mem::take(&mut self.exec_id);
        runtime.spawn(async move {
            kill_marked(&docker, &container, user.as_deref(), &exec_id).await;
        });
    }
}
