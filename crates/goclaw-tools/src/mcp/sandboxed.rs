//! A stdio MCP server's process inside a sandbox: started with [`Sandbox::spawn`] (so it gets
//! the sandbox's clean environment plus the server's configured `env`, and nothing of the
//! gateway's), its stdout and stdin handed to rmcp as the transport, its stderr sent to the
//! log. The process lives as long as the transport: dropping the rmcp session drops the
//! stdout reader, which holds the [`SandboxProcess`] and so kills it in the sandbox.

use std::io;
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use goclaw_config::McpServerConfig;
use goclaw_core::{
    ProcessOutput, ProcessStdin, Sandbox, SandboxError, SandboxProcess, SandboxSpawn,
};
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, BufReader, ReadBuf};

use super::link::MAX_STDERR_LINE;

/// The sandbox a stdio server runs in: the backend, the scope key and the workspace.
#[derive(Debug, Clone)]
pub struct SandboxSeat {
    pub sandbox: Arc<dyn Sandbox>,
    pub key: String,
    pub workspace: PathBuf,
}

/// Starts `config`'s command in `seat` and returns its stdout (which owns the process) and
/// its stdin, ready to be an rmcp transport.
pub async fn start(
    server: &str,
    config: &McpServerConfig,
    seat: &SandboxSeat,
) -> Result<(ProcessReader, ProcessWriter), SandboxError> {
    let program = config
        .command
        .as_deref()
        .filter(|c| !c.is_empty())
        .ok_or_else(|| SandboxError::Invalid("the server has no command".to_owned()))?;
    let mut argv = vec![program.to_owned()];
    argv.extend(config.args.iter().cloned());
    let request = SandboxSpawn {
        key: seat.key.clone(),
        workspace: seat.workspace.clone(),
        argv,
        workdir: None,
        env: config.env.0.clone(),
    };
    let mut process = seat.sandbox.spawn(request).await?;
    let (Some(stdin), Some(stdout)) = (process.take_stdin(), process.take_stdout()) else {
        return Err(SandboxError::Backend(
            "the sandboxed process has no standard streams".to_owned(),
        ));
    };
    if let Some(stderr) = process.take_stderr() {
        tokio::spawn(forward_stderr(server.to_owned(), stderr));
    }
    let reader = ProcessReader {
        stdout: Stream(stdout),
        _process: process,
    };
    Ok((reader, Stream(stdin)))
}

/// A sandboxed server's stdout; the process is killed when this is dropped.
pub struct ProcessReader {
    stdout: Stream<ProcessOutput>,
    _process: SandboxProcess,
}

/// A sandboxed server's stdin.
pub type ProcessWriter = Stream<ProcessStdin>;

/// A process stream seen through tokio's IO traits.
pub struct Stream<T>(T);

impl AsyncRead for ProcessReader {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stdout).poll_read(cx, buf)
    }
}

impl AsyncRead for Stream<ProcessOutput> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let room = buf.initialize_unfilled();
        match self.0.as_mut().poll_read(cx, room) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl AsyncWrite for Stream<ProcessStdin> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.as_mut().poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.0.as_mut().poll_close(cx)
    }
}

/// Sends a sandboxed server's stderr to the log, line by line, at debug level.
async fn forward_stderr(server: String, stderr: ProcessOutput) {
    let mut lines = BufReader::new(Stream(stderr)).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let line: String = line.chars().take(MAX_STDERR_LINE).collect();
        tracing::debug!(server = %server, line = %line, "mcp.server.stderr");
    }
}
