//! The `agents.defaults.sandbox` section: whether and how shell and code
//! tools run isolated from the host.
#![forbid(unsafe_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::SensitiveMap;

/// Isolation of tool execution.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct SandboxConfig {
    /// Which agents run their tools in a sandbox.
    pub mode: SandboxMode,
    /// Isolation mechanism; `auto` picks Docker when available, else the
    /// native backend.
    pub backend: SandboxBackend,
    /// Container image for the Docker backend.
    pub image: String,
    /// Access of sandboxed commands to the agent workspace.
    pub workspace_access: WorkspaceAccess,
    /// How sandboxes are shared.
    pub scope: SandboxScope,
    /// Memory limit in MiB.
    pub memory_mb: u32,
    /// CPU limit (fractions allowed).
    pub cpus: f64,
    /// Timeout of one command, in seconds.
    pub timeout_sec: u64,
    /// Give sandboxed commands network access.
    pub network_enabled: bool,
    /// Mount the container root filesystem read-only.
    pub read_only_root: bool,
    /// Command run once after a sandbox is created.
    pub setup_command: Option<String>,
    /// Extra environment variables inside the sandbox.
    pub env: SensitiveMap,
    /// User to run as inside the sandbox (e.g. `1000:1000`, `nobody`).
    pub user: Option<String>,
    /// Size of the tmpfs mounts in MiB; 0 uses the runtime's default.
    pub tmpfs_size_mb: u32,
    /// Drop `noexec` from the tmpfs mounts (keeps `nosuid,nodev`).
    pub allow_tmp_exec: bool,
    /// Maximum captured output of one command, in bytes.
    pub max_output_bytes: u64,
    /// Remove sandboxes idle for longer than this many hours.
    pub idle_hours: u32,
    /// Remove sandboxes older than this many days.
    pub max_age_days: u32,
    /// Interval of the sandbox pruner, in minutes.
    pub prune_interval_min: u32,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            mode: SandboxMode::default(),
            backend: SandboxBackend::default(),
            image: "goclaw-sandbox:bookworm-slim".to_owned(),
            workspace_access: WorkspaceAccess::default(),
            scope: SandboxScope::default(),
            memory_mb: 512,
            cpus: 1.0,
            timeout_sec: 300,
            network_enabled: false,
            read_only_root: true,
            setup_command: None,
            env: SensitiveMap::default(),
            user: None,
            tmpfs_size_mb: 0,
            allow_tmp_exec: false,
            max_output_bytes: 1_048_576,
            idle_hours: 24,
            max_age_days: 7,
            prune_interval_min: 5,
        }
    }
}

/// Which agents are sandboxed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SandboxMode {
    /// No sandbox: tools run on the host.
    #[default]
    Off,
    /// Every agent except `main`/`default` is sandboxed.
    NonMain,
    /// Every agent is sandboxed.
    All,
}

/// Isolation mechanism.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SandboxBackend {
    /// Docker when reachable, else native.
    #[default]
    Auto,
    /// Docker containers.
    Docker,
    /// OS-level isolation without containers.
    Native,
    /// No isolation available: commands that need a sandbox are refused.
    None,
}

/// Workspace mount mode inside the sandbox.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceAccess {
    /// Workspace not mounted.
    None,
    /// Mounted read-only.
    Ro,
    /// Mounted read-write.
    #[default]
    Rw,
}

/// Sharing of sandboxes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum SandboxScope {
    /// One sandbox per session.
    #[default]
    Session,
    /// One sandbox per agent.
    Agent,
    /// One sandbox for everything.
    Shared,
}
