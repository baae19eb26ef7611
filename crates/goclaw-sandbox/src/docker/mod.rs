//! The Docker backend (being written).
use std::sync::Arc;

use goclaw_core::SandboxError;

use crate::clock::Clock;
use crate::settings::SandboxSettings;

/// Containers through the Docker Engine API.
#[derive(Debug)]
pub struct DockerSandbox;

impl DockerSandbox {
    /// Connects and negotiates the API version.
    pub async fn connect(
        _settings: SandboxSettings,
        _clock: Arc<dyn Clock>,
    ) -> Result<Self, SandboxError> {
        Err(SandboxError::Unavailable("not built yet".into()))
    }
}

#[async_trait::async_trait]
impl goclaw_core::Sandbox for DockerSandbox {
    fn backend(&self) -> &'static str {
        "docker"
    }
    async fn exec(
        &self,
        _request: goclaw_core::SandboxExec,
    ) -> Result<goclaw_core::SandboxOutput, SandboxError> {
        Err(SandboxError::Unavailable("not built yet".into()))
    }
    async fn list(&self) -> Result<Vec<goclaw_core::SandboxInfo>, SandboxError> {
        Ok(Vec::new())
    }
    async fn prune(&self) -> Result<goclaw_core::PruneReport, SandboxError> {
        Ok(goclaw_core::PruneReport::default())
    }
    async fn remove_all(&self) -> Result<usize, SandboxError> {
        Ok(0)
    }
}
