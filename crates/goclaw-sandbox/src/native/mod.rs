//! The native backend (being written).
use std::sync::Arc;

use goclaw_core::SandboxError;

use crate::clock::Clock;
use crate::settings::SandboxSettings;

/// bubblewrap.
#[derive(Debug)]
pub struct NativeSandbox;

impl NativeSandbox {
    /// Checks bubblewrap works.
    pub async fn probe(
        _settings: SandboxSettings,
        _clock: Arc<dyn Clock>,
    ) -> Result<Self, SandboxError> {
        Err(SandboxError::Unavailable("not built yet".into()))
    }
}

#[async_trait::async_trait]
impl goclaw_core::Sandbox for NativeSandbox {
    fn backend(&self) -> &'static str {
        "native"
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

pub mod init {
    //! Stub.
    pub fn main(_args: &[String]) -> i32 {
        1
    }
}
