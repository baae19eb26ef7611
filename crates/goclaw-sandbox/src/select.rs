//! Choosing a backend per `sandbox.backend`, and saying why.

use std::sync::Arc;

use goclaw_core::Sandbox;

use crate::clock::Clock;
use crate::docker::DockerSandbox;
use crate::native::NativeSandbox;
use crate::settings::{BackendChoice, SandboxSettings};

/// The backend in use, or none, with the reason for the choice.
#[derive(Debug, Clone)]
pub struct Selection {
    /// `None` when no backend can run: sandboxed tools must then be refused.
    pub sandbox: Option<Arc<dyn Sandbox>>,
    /// `docker`, `native` or `none`.
    pub backend: &'static str,
    /// One sentence an operator can act on.
    pub reason: String,
}

impl Selection {
    fn none(reason: String) -> Self {
        Self {
            sandbox: None,
            backend: "none",
            reason,
        }
    }

    fn with(sandbox: Arc<dyn Sandbox>, reason: String) -> Self {
        Self {
            backend: sandbox.backend(),
            sandbox: Some(sandbox),
            reason,
        }
    }
}

/// Picks the backend `settings.backend` asks for; `auto` tries Docker, then native.
pub async fn select(settings: SandboxSettings, clock: Arc<dyn Clock>) -> Selection {
    match settings.backend {
        BackendChoice::None => {
            Selection::none("sandbox.backend is \"none\": sandboxed tools are refused".to_owned())
        }
        BackendChoice::Docker => match DockerSandbox::connect(settings, clock).await {
            Ok(docker) => Selection::with(
                Arc::new(docker),
                "sandbox.backend is \"docker\" and the Docker API answers".to_owned(),
            ),
            Err(error) => Selection::none(format!(
                "sandbox.backend is \"docker\" but Docker is not usable: {error}"
            )),
        },
        BackendChoice::Native => match NativeSandbox::probe(settings, clock).await {
            Ok(native) => Selection::with(
                Arc::new(native),
                "sandbox.backend is \"native\" and bubblewrap works".to_owned(),
            ),
            Err(error) => Selection::none(format!(
                "sandbox.backend is \"native\" but it cannot run: {error}"
            )),
        },
        BackendChoice::Auto => {
            let docker_error = match DockerSandbox::connect(settings.clone(), clock.clone()).await {
                Ok(docker) => {
                    return Selection::with(
                        Arc::new(docker),
                        "sandbox.backend is \"auto\" and the Docker API answers".to_owned(),
                    );
                }
                Err(error) => error,
            };
            match NativeSandbox::probe(settings, clock).await {
                Ok(native) => Selection::with(
                    Arc::new(native),
                    format!(
                        "sandbox.backend is \"auto\", Docker is not usable ({docker_error}), \
                         bubblewrap works"
                    ),
                ),
                Err(native_error) => Selection::none(format!(
                    "sandbox.backend is \"auto\" and no backend can run: Docker: {docker_error}; \
                     native: {native_error}"
                )),
            }
        }
    }
}
