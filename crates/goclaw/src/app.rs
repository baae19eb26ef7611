//! The running application: the database opened and migrated as policy says, and the gateway
//! bound. `goclaw serve` and the test kit build it the same way.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use goclaw_config::LoadedConfig;
use goclaw_core::Store;
use goclaw_gateway::{AppState, Gateway, GatewaySettings, check_bind_security};
use goclaw_store::OpenedStore;
use tokio_util::sync::CancellationToken;

use crate::database;

/// How long in-flight requests may run after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound gateway over an open, up-to-date database.
pub struct Application {
    gateway: Gateway,
    opened: OpenedStore,
    addr: SocketAddr,
}

impl Application {
    /// Checks the bind rule, opens the database, brings its schema up to date (or refuses,
    /// see [`database::prepare_for_serve`]) and binds the listener.
    pub async fn build(loaded: &LoadedConfig) -> anyhow::Result<Self> {
        let settings = gateway_settings(loaded);
        // Before touching the database: an unsafe bind is a configuration error.
        check_bind_security(
            &settings.host,
            settings.token_configured,
            settings.allow_insecure_no_auth,
        )?;
        let opened = database::open(&loaded.runtime).await?;
        database::prepare_for_serve(&opened, &loaded.runtime).await?;
        let state = AppState {
            store: opened.store(),
            version: crate::VERSION.to_owned(),
        };
        let gateway = Gateway::bind(&settings, state).await?;
        let addr = gateway
            .local_addr()
            .context("cannot read the bound address")?;
        Ok(Self {
            gateway,
            opened,
            addr,
        })
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the gateway listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The store the gateway uses.
    pub fn store(&self) -> Arc<dyn Store> {
        self.opened.store()
    }

    /// Serves until `shutdown` is cancelled, drains, then closes the database pool.
    pub async fn run_until(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let result = self.gateway.serve(shutdown).await;
        self.opened.close().await;
        result.context("gateway stopped with an error")
    }
}

fn gateway_settings(loaded: &LoadedConfig) -> GatewaySettings {
    let gateway = &loaded.config.gateway;
    GatewaySettings {
        host: gateway.host.clone(),
        port: gateway.port,
        token_configured: gateway.token.as_ref().is_some_and(|t| !t.is_empty()),
        allow_insecure_no_auth: loaded.runtime.allow_insecure_no_auth,
        drain_timeout: DRAIN_TIMEOUT,
    }
}
