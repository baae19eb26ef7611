//! Tokio pipes and sockets as the runtime-neutral byte streams of a
//! [`SandboxProcess`](goclaw_core::SandboxProcess).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use goclaw_core::{ProcessOutput, ProcessStdin};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// A tokio stream seen through the `futures-io` traits. Closing a writer drops the tokio
/// stream: a child's stdin pipe only closes when dropped, and the process waits for that.
#[derive(Debug)]
pub struct NeutralStream<T>(Option<T>);

/// `stdin` as a process's standard input.
pub fn stdin(stdin: impl AsyncWrite + Send + Unpin + 'static) -> ProcessStdin {
    Box::pin(NeutralStream(Some(stdin)))
}

/// `output` as a process's standard output or error.
pub fn output(output: impl AsyncRead + Send + Unpin + 'static) -> ProcessOutput {
    Box::pin(NeutralStream(Some(output)))
}

fn closed() -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, "the stream was closed")
}

impl<T: AsyncRead + Unpin> futures_io::AsyncRead for NeutralStream<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let Some(inner) = self.0.as_mut() else {
            return Poll::Ready(Ok(0));
        };
        let mut read = ReadBuf::new(buf);
        match Pin::new(inner).poll_read(cx, &mut read) {
            Poll::Ready(Ok(())) => Poll::Ready(Ok(read.filled().len())),
            Poll::Ready(Err(error)) => Poll::Ready(Err(error)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<T: AsyncWrite + Unpin> futures_io::AsyncWrite for NeutralStream<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.0.as_mut() {
            Some(inner) => Pin::new(inner).poll_write(cx, buf),
            None => Poll::Ready(Err(closed())),
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.0.as_mut() {
            Some(inner) => Pin::new(inner).poll_flush(cx),
            None => Poll::Ready(Ok(())),
        }
    }

    fn poll_close(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let Some(inner) = self.0.as_mut() else {
            return Poll::Ready(Ok(()));
        };
        let shut = Pin::new(inner).poll_shutdown(cx);
        if shut.is_ready() {
            self.0 = None;
        }
        shut
    }
}

#[cfg(test)]
mod tests {
    use std::future::poll_fn;

    use super::*;

    #[tokio::test]
    async fn bytes_pass_through_and_closing_ends_the_stream() {
        let (near, far) = tokio::io::duplex(64);
        let (far_read, _far_write) = tokio::io::split(far);
        let mut to_far = stdin(near);
        let mut from_far = output(far_read);
        let written = poll_fn(|cx| to_far.as_mut().poll_write(cx, b"ping")).await;
        assert_eq!(written.expect("write"), 4);
        poll_fn(|cx| to_far.as_mut().poll_close(cx))
            .await
            .expect("close");
        let mut received = Vec::new();
        loop {
            let mut chunk = [0u8; 16];
            let n = poll_fn(|cx| from_far.as_mut().poll_read(cx, &mut chunk))
                .await
                .expect("read");
            if n == 0 {
                break;
            }
            received.extend_from_slice(&chunk[..n]);
        }
        assert_eq!(received, b"ping");
    }
}
