//! Running one command in a container: attach, feed stdin, collect capped output, time out.
//!
//! Every command gets a marker variable `GOCLAW_EXEC_ID=<uuid>` that its children inherit. When
//! the timeout passes, a second exec walks `/proc/[0-9]*/environ` and kills (`-9`) every process
//! carrying the marker, so background children die with the command. The killer runs as the
//! same user as the command: every capability is dropped, so even root could not signal or
//! inspect another user's processes.

use std::time::Duration;

use bollard::Docker;
use bollard::container::LogOutput;
use bollard::exec::{CreateExecOptions, StartExecOptions, StartExecResults};
use futures_util::StreamExt;
use goclaw_core::{SandboxError, SandboxOutput};
use tokio::io::AsyncWriteExt;

use super::container::status;

/// Name of the variable that marks a command and its children.
pub(crate) const MARKER: &str = "GOCLAW_EXEC_ID";
/// How long the killer exec may take.
const KILL_TIMEOUT: Duration = Duration::from_secs(10);
/// How long to wait for the daemon to report an exit code after the output ended.
const EXIT_WAIT: Duration = Duration::from_secs(2);

/// Kills every process whose environment holds `GOCLAW_EXEC_ID=$1`, repeating while it finds
/// some (a process may fork between the scan and the kill).
const KILL_SCRIPT: &str = r#"
m="GOCLAW_EXEC_ID=$1"; i=0
while [ "$i" -lt 20 ]; do
  n=0
  for f in /proc/[0-9]*/environ; do
    p=${f#/proc/}; p=${p%/environ}
    [ "$p" = "$$" ] && continue
    if tr '\0' '\n' < "$f" 2>/dev/null | grep -qxF "$m"; then
      kill -9 "$p" 2>/dev/null && n=$((n+1))
    fi
  done
  [ "$n" -eq 0 ] && break
  i=$((i+1))
done
"#;

/// One command to run in a running container.
#[derive(Debug)]
pub(crate) struct Command {
    pub argv: Vec<String>,
    pub workdir: String,
    /// `NAME=value` strings, the marker included.
    pub env: Vec<String>,
    pub user: Option<String>,
    pub stdin: Option<Vec<u8>>,
    pub timeout: Duration,
    pub max_output: usize,
    /// The marker's value.
    pub exec_id: String,
}

/// Why a command did not run to completion.
#[derive(Debug)]
pub(crate) enum ExecFailure {
    /// The container is gone or stopped: it may be recreated and the command retried.
    ContainerGone,
    Other(SandboxError),
}

/// Output kept up to a cap; the rest is drained and dropped.
#[derive(Debug, Default)]
struct Capped {
    bytes: Vec<u8>,
    truncated: bool,
}

impl Capped {
    fn push(&mut self, chunk: &[u8], cap: usize) {
        let room = cap.saturating_sub(self.bytes.len());
        if chunk.len() > room {
            self.truncated = true;
        }
        self.bytes
            .extend_from_slice(&chunk[..chunk.len().min(room)]);
    }
}

/// An attached exec: its id, its multiplexed output and its standard input.
pub(crate) struct Attached {
    pub id: String,
    pub output: std::pin::Pin<
        Box<dyn futures_util::Stream<Item = Result<LogOutput, bollard::errors::Error>> + Send>,
    >,
    pub input: std::pin::Pin<Box<dyn tokio::io::AsyncWrite + Send>>,
}

/// A failure of the daemon while doing `what` in `container`.
fn backend(container: &str, what: &str, error: bollard::errors::Error) -> ExecFailure {
    ExecFailure::Other(SandboxError::Backend(format!(
        "{what} in container {container}: {error}"
    )))
}

/// Creates and starts an exec of `command` in `container`, attached to its output (and its
/// input when `stdin`); a container that is gone is [`ExecFailure::ContainerGone`].
pub(crate) async fn attach(
    docker: &Docker,
    container: &str,
    command: &Command,
    stdin: bool,
) -> Result<Attached, ExecFailure> {
    let options = CreateExecOptions {
        attach_stdin: Some(stdin),
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        tty: Some(false),
        env: Some(command.env.clone()),
        cmd: Some(command.argv.clone()),
        user: command.user.clone(),
        working_dir: Some(command.workdir.clone()),
        ..Default::default()
    };
    let created = match docker.create_exec(container, options).await {
        Ok(created) => created,
        Err(error) if matches!(status(&error), Some(404 | 409)) => {
            return Err(ExecFailure::ContainerGone);
        }
        Err(error) => return Err(backend(container, "creating the exec", error)),
    };
    let started = docker
        .start_exec(&created.id, Some(StartExecOptions::default()))
        .await
        .map_err(|error| backend(container, "starting the exec", error))?;
    let StartExecResults::Attached { output, input } = started else {
        return Err(ExecFailure::Other(SandboxError::Backend(
            "the exec started detached".to_owned(),
        )));
    };
    Ok(Attached {
        id: created.id,
        output,
        input,
    })
}

/// Runs `command` in `container`; on timeout kills it and every process it started.
pub(crate) async fn run(
    docker: &Docker,
    container: &str,
    command: Command,
) -> Result<SandboxOutput, ExecFailure> {
    let Attached {
        id,
        mut output,
        input,
    } = attach(docker, container, &command, command.stdin.is_some()).await?;

    let writer = command.stdin.map(|bytes| {
        let mut input = input;
        tokio::spawn(async move {
            // A command that exits without reading its input makes this fail: that is fine.
            if input.write_all(&bytes).await.is_ok() {
                input.flush().await.ok();
            }
            input.shutdown().await.ok();
        })
    });

    let cap = command.max_output;
    let mut stdout = Capped::default();
    let mut stderr = Capped::default();
    let read = async {
        while let Some(item) = output.next().await {
            match item? {
                LogOutput::StdOut { message } | LogOutput::Console { message } => {
                    stdout.push(&message, cap);
                }
                LogOutput::StdErr { message } => stderr.push(&message, cap),
                LogOutput::StdIn { .. } => {}
            }
        }
        Ok::<(), bollard::errors::Error>(())
    };
    let finished = tokio::time::timeout(command.timeout, read).await;
    if let Some(writer) = writer {
        writer.abort();
    }
    drop(output);
    let mut result = SandboxOutput {
        truncated: stdout.truncated || stderr.truncated,
        stdout: stdout.bytes,
        stderr: stderr.bytes,
        exit_code: None,
        timed_out: false,
    };
    match finished {
        Err(_) => {
            kill_marked(docker, container, command.user.as_deref(), &command.exec_id).await;
            result.timed_out = true;
        }
        Ok(Err(error)) => return Err(backend(container, "reading the output", error)),
        Ok(Ok(())) => result.exit_code = exit_code(docker, &id).await?,
    }
    Ok(result)
}

/// The exit code of a finished exec (`None` if the daemon never reports one).
async fn exit_code(docker: &Docker, exec_id: &str) -> Result<Option<i32>, ExecFailure> {
    let deadline = tokio::time::Instant::now() + EXIT_WAIT;
    loop {
        let inspected = docker.inspect_exec(exec_id).await.map_err(|error| {
            ExecFailure::Other(SandboxError::Backend(format!(
                "inspecting the exec: {error}"
            )))
        })?;
        if inspected.running != Some(true) {
            return Ok(inspected
                .exit_code
                .map(|code| i32::try_from(code).unwrap_or(i32::MAX)));
        }
        if tokio::time::Instant::now() >= deadline {
            return Ok(None);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Kills every process in `container` marked with `exec_id`. Best effort: failures are logged.
pub(crate) async fn kill_marked(
    docker: &Docker,
    container: &str,
    user: Option<&str>,
    exec_id: &str,
) {
    let attempt = async {
        let options = CreateExecOptions {
            attach_stdout: Some(true),
            attach_stderr: Some(true),
            cmd: Some(vec![
                "sh".to_owned(),
                "-c".to_owned(),
                KILL_SCRIPT.to_owned(),
                "sh".to_owned(),
                exec_id.to_owned(),
            ]),
            user: user.map(str::to_owned),
            working_dir: Some("/".to_owned()),
            ..Default::default()
        };
        let created = docker.create_exec(container, options).await?;
        if let StartExecResults::Attached { mut output, .. } = docker
            .start_exec(&created.id, Some(StartExecOptions::default()))
            .await?
        {
            while let Some(item) = output.next().await {
                item?;
            }
        }
        Ok::<(), bollard::errors::Error>(())
    };
    match tokio::time::timeout(KILL_TIMEOUT, attempt).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::warn!(container, %error, "could not kill a timed-out command");
        }
        Err(_) => tracing::warn!(container, "killing a timed-out command took too long"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn capped_keeps_the_head_and_flags_the_rest() {
        let mut out = Capped::default();
        out.push(b"hello", 8);
        out.push(b"world", 8);
        assert_eq!(out.bytes, b"hellowor");
        assert!(out.truncated);
        let mut out = Capped::default();
        out.push(b"12345678", 8);
        assert!(!out.truncated);
    }
}
