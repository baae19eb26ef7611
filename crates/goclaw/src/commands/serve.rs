//! `goclaw` / `goclaw serve`: runs the gateway until SIGINT or SIGTERM.

use std::process::ExitCode;

use goclaw_config::LoadedConfig;
use tokio_util::sync::CancellationToken;

use crate::app::Application;
use crate::database;
use crate::logging::{self, LogRole};

pub async fn run(loaded: LoadedConfig, verbose: bool) -> anyhow::Result<ExitCode> {
    logging::init(&loaded, verbose, LogRole::Server)?;
    tracing::info!(
        version = crate::VERSION,
        config = %loaded.path.display(),
        config_found = loaded.file_found,
        database = %database::describe(&loaded.runtime),
        "goclaw starting"
    );
    let app = Application::build(&loaded).await?;
    tracing::info!(addr = %app.local_addr(), protocol = goclaw_core::PROTOCOL_VERSION, "gateway listening");

    let shutdown = CancellationToken::new();
    tokio::spawn(cancel_on_signal(shutdown.clone()));
    app.run_until(shutdown).await?;
    tracing::info!("goclaw stopped");
    Ok(ExitCode::SUCCESS)
}

/// Cancels `shutdown` on the first SIGINT or SIGTERM.
async fn cancel_on_signal(shutdown: CancellationToken) {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %error, "cannot listen for SIGINT");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(error = %error, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!(signal = "SIGINT", "shutting down"),
        () = terminate => tracing::info!(signal = "SIGTERM", "shutting down"),
    }
    shutdown.cancel();
}
