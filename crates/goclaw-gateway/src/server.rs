//! Binding the listener and serving until shutdown, with a deadline for in-flight requests.

use std::net::SocketAddr;
use std::time::Duration;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::bind::{BindError, check_bind_security};
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
}

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
    #[error("server error: {0}")]
    Serve(#[source] std::io::Error),
}

/// A bound, not yet serving gateway.
pub struct Gateway {
    listener: TcpListener,
    state: AppState,
    drain_timeout: Duration,
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
        })
    }

    /// The address actually bound (useful with port 0).
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` is cancelled, then lets in-flight requests finish for at most
    /// the drain timeout.
    pub async fn serve(self, shutdown: CancellationToken) -> Result<(), GatewayError> {
        let app = router(self.state).into_make_service_with_connect_info::<SocketAddr>();
        let graceful = {
            let shutdown = shutdown.clone();
            async move { shutdown.cancelled().await }
        };
        // Replies and streamed events are small writes: send them at once instead of waiting for
        // the peer's delayed ACK (Nagle), which cost ~40 ms per WebSocket turn.
        let listener = self.listener.tap_io(|tcp| {
            if let Err(error) = tcp.set_nodelay(true) {
                tracing::debug!(%error, "cannot set TCP_NODELAY");
            }
        });
        let server = axum::serve(listener, app).with_graceful_shutdown(graceful);
        let mut server = std::pin::pin!(server.into_future());
        tokio::select! {
            result = &mut server => return result.map_err(GatewayError::Serve),
            () = shutdown.cancelled() => {}
        }
        tracing::info!(
            drain_timeout_ms = self.drain_timeout.as_millis() as u64,
            "gateway draining"
        );
        match tokio::time::timeout(self.drain_timeout, server).await {
            Ok(result) => result.map_err(GatewayError::Serve),
            Err(_) => {
                tracing::warn!("drain deadline passed; closing remaining connections");
                Ok(())
            }
        }
    }
}
