//! Deadlines of an HTTP connection: a request head must be complete soon after it starts
//! (slow-header attacks), and a keep-alive connection may wait only so long for its next request.
//!
//! hyper starts one timer whenever a connection is ready to read a request head, whether or not
//! the client has sent anything, so one number would have to serve both purposes. [`HeadTimer`]
//! gives that timer two lengths: on a fresh connection, or once the first byte of a head has
//! arrived, the head must be complete within the header deadline; before the next request of a
//! keep-alive connection starts, the idle deadline applies. Reads are observed through
//! [`TrackedStream`], which also holds the connection's slot in the gate for as long as the
//! socket lives (a WebSocket upgrade included).

use std::future::Future;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use hyper::rt::{Sleep, Timer};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;

use super::gate::ConnectionPermit;

/// The deadlines every connection is held to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionDeadlines {
    /// Time to send a complete request head once the connection is ready for one.
    pub header_read: Duration,
    /// Time a keep-alive connection may wait for its next request.
    pub idle: Duration,
    /// Time a WebSocket has to authenticate with `connect`.
    pub ws_connect: Duration,
}

impl Default for ConnectionDeadlines {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            idle: Duration::from_secs(60),
            ws_connect: Duration::from_secs(10),
        }
    }
}

/// What one connection has done, shared by its stream, its service and its head timer.
#[derive(Debug)]
pub struct Activity {
    born: Instant,
    /// Nanoseconds after `born` of the last read that returned bytes, plus one (0: none yet).
    last_read: AtomicU64,
    /// Requests whose head was complete.
    requests: AtomicU64,
}

impl Activity {
    pub fn new() -> Arc<Self> {
        Arc::new(Self {
            born: Instant::now(),
            last_read: AtomicU64::new(0),
            requests: AtomicU64::new(0),
        })
    }

    /// A request head was parsed and handed to the router.
    pub fn request_started(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    fn bytes_read(&self) {
        let nanos = u64::try_from(self.born.elapsed().as_nanos()).unwrap_or(u64::MAX - 1);
        self.last_read.store(nanos + 1, Ordering::Relaxed);
    }

    fn last_read(&self) -> Option<Instant> {
        match self.last_read.load(Ordering::Relaxed) {
            0 => None,
            n => Some(self.born + Duration::from_nanos(n - 1)),
        }
    }

    fn served_any(&self) -> bool {
        self.requests.load(Ordering::Relaxed) > 0
    }
}

/// An accepted socket that records reads and keeps the connection's slot until it is dropped.
#[derive(Debug)]
pub struct TrackedStream {
    tcp: TcpStream,
    activity: Arc<Activity>,
    _permit: ConnectionPermit,
}

impl TrackedStream {
    pub fn new(tcp: TcpStream, activity: Arc<Activity>, permit: ConnectionPermit) -> Self {
        Self {
            tcp,
            activity,
            _permit: permit,
        }
    }
}

impl AsyncRead for TrackedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let polled = Pin::new(&mut this.tcp).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            this.activity.bytes_read();
        }
        polled
    }
}

impl AsyncWrite for TrackedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().tcp).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.tcp.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().tcp).poll_shutdown(cx)
    }
}

/// hyper's timer for one connection; see the module documentation.
#[derive(Debug, Clone)]
pub struct HeadTimer {
    activity: Arc<Activity>,
    header_read: Duration,
    idle: Duration,
}

impl HeadTimer {
    pub fn new(activity: Arc<Activity>, deadlines: &ConnectionDeadlines) -> Self {
        Self {
            activity,
            header_read: deadlines.header_read,
            idle: deadlines.idle,
        }
    }
}

impl Timer for HeadTimer {
    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Sleep>> {
        Box::pin(PlainSleep(Box::pin(tokio::time::sleep(duration))))
    }

    /// hyper asks for `now + header_read_timeout` when it starts waiting for a head; the
    /// deadline actually kept depends on what the client does meanwhile.
    fn sleep_until(&self, _deadline: Instant) -> Pin<Box<dyn Sleep>> {
        let started = Instant::now();
        let fresh = !self.activity.served_any();
        let mut head = HeadDeadline {
            started,
            fresh,
            head_started: None,
            timer: self.clone(),
            sleep: Box::pin(tokio::time::sleep_until(started.into())),
        };
        let deadline = head.deadline();
        head.sleep.as_mut().reset(deadline.into());
        Box::pin(head)
    }
}

/// The wait for one request head.
struct HeadDeadline {
    started: Instant,
    /// No request was served yet: the head is due within the header deadline from the start.
    fresh: bool,
    /// When the first byte of this head was seen.
    head_started: Option<Instant>,
    timer: HeadTimer,
    sleep: Pin<Box<tokio::time::Sleep>>,
}

impl HeadDeadline {
    fn deadline(&mut self) -> Instant {
        if self.fresh {
            return self.started + self.timer.header_read;
        }
        if self.head_started.is_none() {
            self.head_started = self
                .timer
                .activity
                .last_read()
                .filter(|read| *read >= self.started);
        }
        match self.head_started {
            Some(head) => (head + self.timer.header_read).min(self.started + self.timer.idle),
            None => self.started + self.timer.idle,
        }
    }
}

impl Future for HeadDeadline {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.get_mut();
        loop {
            let deadline = tokio::time::Instant::from_std(this.deadline());
            if this.sleep.deadline() != deadline {
                this.sleep.as_mut().reset(deadline);
            }
            match this.sleep.as_mut().poll(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(()) if this.deadline() == deadline.into_std() => return Poll::Ready(()),
                Poll::Ready(()) => continue,
            }
        }
    }
}

impl Sleep for HeadDeadline {}

/// A plain tokio sleep, for anything else hyper might time.
struct PlainSleep(Pin<Box<tokio::time::Sleep>>);

impl Future for PlainSleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.get_mut().0.as_mut().poll(cx)
    }
}

impl Sleep for PlainSleep {}
