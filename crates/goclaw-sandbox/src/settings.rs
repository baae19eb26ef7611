//! What every backend is configured with: the `sandbox` section in plain types.

use std::path::PathBuf;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// Which backend to use (`sandbox.backend`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackendChoice {
    /// Docker when its API answers, else native, else none.
    Auto,
    Docker,
    Native,
    /// No backend: sandboxed tools are refused.
    None,
}

/// How the workspace is mounted at `/workspace` (`workspace_access`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkspaceMount {
    None,
    ReadOnly,
    ReadWrite,
}

/// Limits and layout shared by all backends. Its `Debug` shows the names of `env`, never
/// their values.
#[derive(Clone)]
pub struct SandboxSettings {
    pub backend: BackendChoice,
    /// Container image (Docker backend).
    pub image: String,
    pub workspace: WorkspaceMount,
    pub memory_mb: u32,
    pub cpus: f64,
    /// Cap on a command's run time when its request asks for more.
    pub timeout: Duration,
    pub network_enabled: bool,
    pub read_only_root: bool,
    /// Run once, with `sh -lc`, when a sandbox is created.
    pub setup_command: Option<String>,
    /// Environment given to every command (the gateway's own is never passed on).
    pub env: Vec<(String, String)>,
    /// `uid[:gid]` or a user name to run as (Docker); native runs as the mapped user.
    pub user: Option<String>,
    /// Size of each tmpfs in MiB; 0 leaves the default.
    pub tmpfs_size_mb: u32,
    /// Drop `noexec` from the tmpfs mounts.
    pub allow_tmp_exec: bool,
    /// Bytes kept of stdout and of stderr.
    pub max_output_bytes: usize,
    pub pids_limit: u32,
    pub idle_hours: u32,
    pub max_age_days: u32,
    /// Docker API endpoint (`unix:///…`, `tcp://…`); `None` uses `DOCKER_HOST` or the default socket.
    pub docker_host: Option<String>,
    /// Directory for native sandboxes' state (home directories, bookkeeping).
    pub state_dir: PathBuf,
    /// The program that finishes setting up a native sandbox from inside it, with the
    /// arguments that come before its own (`goclaw sandbox-init` ⇒ `[exe, "sandbox-init"]`).
    pub init_command: Vec<String>,
}

impl std::fmt::Debug for SandboxSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let env: Vec<&str> = self.env.iter().map(|(k, _)| k.as_str()).collect();
        f.debug_struct("SandboxSettings")
            .field("backend", &self.backend)
            .field("image", &self.image)
            .field("workspace", &self.workspace)
            .field("memory_mb", &self.memory_mb)
            .field("cpus", &self.cpus)
            .field("timeout", &self.timeout)
            .field("network_enabled", &self.network_enabled)
            .field("read_only_root", &self.read_only_root)
            .field("setup_command", &self.setup_command.is_some())
            .field("env", &env)
            .field("user", &self.user)
            .field("pids_limit", &self.pids_limit)
            .field("idle_hours", &self.idle_hours)
            .field("max_age_days", &self.max_age_days)
            .field("state_dir", &self.state_dir)
            .finish_non_exhaustive()
    }
}

impl SandboxSettings {
    /// GoClaw's defaults, with state under `state_dir`.
    pub fn new(state_dir: impl Into<PathBuf>, init_command: Vec<String>) -> Self {
        Self {
            backend: BackendChoice::Auto,
            image: "goclaw-sandbox:bookworm-slim".to_owned(),
            workspace: WorkspaceMount::ReadWrite,
            memory_mb: 512,
            cpus: 1.0,
            timeout: Duration::from_secs(300),
            network_enabled: false,
            read_only_root: true,
            setup_command: None,
            env: Vec::new(),
            user: None,
            tmpfs_size_mb: 0,
            allow_tmp_exec: false,
            max_output_bytes: 1_048_576,
            pids_limit: 256,
            idle_hours: 24,
            max_age_days: 7,
            docker_host: None,
            state_dir: state_dir.into(),
            init_command,
        }
    }

    /// Idle time after which the pruner removes a sandbox.
    pub fn idle_limit(&self) -> chrono::Duration {
        chrono::Duration::hours(i64::from(self.idle_hours))
    }

    /// Age after which the pruner removes a sandbox.
    pub fn age_limit(&self) -> chrono::Duration {
        chrono::Duration::days(i64::from(self.max_age_days))
    }
}

/// Prefix of every sandbox name (containers, state directories, cgroups).
pub const NAME_PREFIX: &str = "goclaw-sbx-";

/// The name of the sandbox for a scope key and host workspace: the prefix and 16 hex digits of
/// their SHA-256, so it is stable across restarts and safe in any namespace.
pub fn sandbox_name(key: &str, workspace: &std::path::Path) -> String {
    let mut hash = Sha256::new();
    hash.update(key.as_bytes());
    hash.update([0]);
    hash.update(workspace.as_os_str().as_encoded_bytes());
    let digest = hash.finalize();
    format!("{NAME_PREFIX}{}", hex::encode(&digest[..8]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn names_are_stable_and_distinct_per_key_and_workspace() {
        let a = sandbox_name("t/s1", Path::new("/w/a"));
        assert_eq!(a, sandbox_name("t/s1", Path::new("/w/a")));
        assert_ne!(a, sandbox_name("t/s2", Path::new("/w/a")));
        assert_ne!(a, sandbox_name("t/s1", Path::new("/w/b")));
        assert!(a.starts_with(NAME_PREFIX));
        assert_eq!(a.len(), NAME_PREFIX.len() + 16);
    }
}
