//! Binding the listener and serving until shutdown: the accept loop, admission through the
//! connection gate, one hyper HTTP/1 connection per socket with its deadlines, and a deadline
//! for in-flight requests once shutdown begins.

use std::net::SocketAddr;
use std::time::Duration;

use std::sync::Arc;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::bind::{BindError, check_bind_security};
use crate::connections::{
    Activity, BurstLog, ConnectionDeadlines, ConnectionGate, ConnectionLimits, ConnectionPermit,
    HeadTimer, TrackedStream,
};
use crate::routes::{AppState, router};

/// What the gateway needs to listen.
#[derive(Debug, Clone)]
pub struct GatewaySettings {
    pub host: String,
    /// 0 picks a free port (tests).
    pub port: u16,
    pub token_configured: bool,
    pub allow_insecure_no_auth: bool,
    /// How long in-flight requests may take to finish after shutdown begins.
    pub drain_timeout: Duration,
    /// Caps on open connections, in all and per client address.
    pub limits: ConnectionLimits,
}

/// The answer to a connection beyond a cap.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\ncontent-type: text/plain\r\n\
    content-length: 20\r\nconnection: close\r\n\r\ntoo many connections";
/// Pause after a failed `accept` (e.g. out of file descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(50);

/// Why the gateway could not start or stopped abnormally.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error(transparent)]
    Insecure(#[from] BindError),
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: String,
        #[source]
        source: std::io::Error,
    },
}

/// A bound, not yet serving gateway.
pub struct Gateway {
    listener: TcpListener,
    state: AppState,
    drain_timeout: Duration,
    limits: ConnectionLimits,
}

impl Gateway {
    /// Checks the bind rule and binds the listener.
    pub async fn bind(settings: &GatewaySettings, state: AppState) -> Result<Self, GatewayError> {
        check_bind_security(
            &settings.host,
            settings.token_configured,
            settings.allow_insecure_no_auth,
        )?;
        let host = settings.host.trim_start_matches('[').trim_end_matches(']');
        let addr = if host.contains(':') {
            format!("[{host}]:{}", settings.port)
        } else {
            format!("{host}:{}", settings.port)
        };
        let listener = TcpListener::bind(&addr)
            .await
            .map_err(|source| GatewayError::Bind { addr, source })?;
        Ok(Self {
            listener,
            state,
            drain_timeout: settings.drain_timeout,
            limits: settings.limits,
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` is cancelled, then lets in-flight requests finish for at most
    /// the drain timeout.
    ///
    /// Each accepted socket must first get a slot from the connection gate (else it is
    /// answered 503 and closed), and is then served by hyper's HTTP/1 connection with the
    /// header and idle deadlines; upgrades (WebSocket) keep the socket's slot.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<(), GatewayError> {
        let gate = ConnectionGate::new(self.limits);
        let deadlines = self.state.deadlines;
        let app = router(self.state);
        let mut accept_errors = BurstLog::default();
        loop {
            let accepted = tokio::select! {
                accepted = self.listener.accept() => accepted,
                () = shutdown.cancelled() => break,
            };
            let (tcp, remote) = match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors or memory: back off instead of spinning.
                    if let Some(failures) = accept_errors.record(std::time::Instant::now()) {
                        tracing::warn!(%error, failures, "cannot accept connections");
                    }
                    tokio::select! {
                        () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                        () = shutdown.cancelled() => break,
                    }
                }
            };
            let permit = match gate.admit(remote.ip()) {
                Ok(permit) => permit,
                Err(_) => {
                    // Never waits: a peer that does not read gets nothing.
                    let _ = tcp.try_write(REFUSED);
                    continue;
                }
            };
            // Replies and streamed events are small writes: send them at once instead of
            // waiting for the peer's delayed ACK (Nagle), which cost ~40 ms per WebSocket turn.
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
            tokio::spawn(serve_connection(
                TrackedConnection {
                    tcp,
                    remote,
                    permit,
                },
                app.clone(),
                deadlines,
                shutdown.clone(),
            ));
        }
        drop(self.listener);
        tracing::info!(
            drain_timeout_ms = self.drain_timeout.as_millis() as u64,
            open_connections = gate.open(),
            "gateway draining"
        );
        if tokio::time::timeout(self.drain_timeout, gate.drained())
            .await
            .is_err()
        {
            tracing::warn!(
                open_connections = gate.open(),
                "drain deadline passed; closing remaining connections"
            );
        }
        Ok(())
    }
}

/// An admitted socket, before hyper takes it.
struct TrackedConnection {
    tcp: TcpStream,
    remote: SocketAddr,
    permit: ConnectionPermit,
}

/// Serves one connection until it closes, is upgraded, or the gateway shuts down (then the
/// request in flight may finish, and the connection is closed after it).
async fn serve_connection(
    accepted: TrackedConnection,
    app: Router,
    deadlines: ConnectionDeadlines,
    shutdown: CancellationToken,
) {
    let TrackedConnection {
        tcp,
        remote,
        permit,
    } = accepted;
    let activity = Activity::new();
    let io = TokioIo::new(TrackedStream::new(tcp, Arc::clone(&activity), permit));
    let service = {
        let activity = Arc::clone(&activity);
        hyper::service::service_fn(move |mut request: Request<Incoming>| {
            activity.request_started();
            request.extensions_mut().insert(ConnectInfo(remote));
            app.clone().oneshot(request)
        })
    };
    let mut builder = http1::Builder::new();
    builder
        .timer(HeadTimer::new(activity, &deadlines))
        .header_read_timeout(deadlines.header_read)
        .keep_alive(true);
    let connection = builder.serve_connection(io, service).with_upgrades();
    let mut connection = std::pin::pin!(connection);
    let result = tokio::select! {
        result = connection.as_mut() => result,
        () = shutdown.cancelled() => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
    };
    if let Err(error) = result {
        tracing::debug!(remote = %remote, %error, "connection closed with an error");
    }
}
