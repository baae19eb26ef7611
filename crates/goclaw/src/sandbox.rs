//! The sandbox of a running gateway: `agents.defaults.sandbox` turned into backend settings,
//! the router the sandboxed tools consult, and the background task that chooses its backend
//! (and logs the reason) and then prunes.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use goclaw_config::{LoadedConfig, SandboxBackend, SandboxConfig, SandboxMode, WorkspaceAccess};
use goclaw_sandbox::{BackendChoice, SandboxSettings, Selection, SystemClock, WorkspaceMount};
use goclaw_tools::sandbox::SandboxRouter;
use tokio::task::JoinHandle;

/// The hidden sub-command the native backend runs inside its sandboxes.
pub const INIT_SUBCOMMAND: &str = "sandbox-init";

/// The router the sandboxed tools consult, and the task that chooses its backend and then
/// prunes idle sandboxes.
#[derive(Debug)]
pub struct SandboxSetup {
    pub router: Arc<SandboxRouter>,
    /// Chooses the backend (when some call can be sandboxed) and then runs the pruner; `None`
    /// when nothing runs in a sandbox (`sandbox.mode` is `off` everywhere and
    /// `tools.host_exec_for_users` is on): no backend is probed.
    pub task: Option<JoinHandle<()>>,
}

impl SandboxSetup {
    /// Builds the router at once and, when some call can be sandboxed (some agent is, or users'
    /// runs are kept off the host), chooses the backend in the background — probing one takes
    /// tens of milliseconds that start-up does not wait for; sandboxed calls wait for it.
    pub fn start(loaded: &LoadedConfig) -> Self {
        let config = &loaded.config.agents.defaults.sandbox;
        let overrides = agent_modes(loaded);
        let host_for_users = loaded.config.tools.host_exec_for_users;
        let sandboxed = !host_for_users
            || config.mode != SandboxMode::Off
            || overrides.values().any(|m| *m != SandboxMode::Off);
        if !sandboxed {
            let router = SandboxRouter::new(config, overrides, None, "sandbox.mode is off")
                .with_host_for_users(host_for_users);
            return Self {
                router: Arc::new(router),
                task: None,
            };
        }
        let (router, chosen) = SandboxRouter::pending(config, overrides);
        let router = router.with_host_for_users(host_for_users);
        let settings = settings(config, loaded);
        let every = prune_interval(loaded);
        let task = tokio::spawn(async move {
            let selection = goclaw_sandbox::select(settings, Arc::new(SystemClock)).await;
            match &selection.sandbox {
                Some(_) => tracing::info!(
                    backend = selection.backend,
                    reason = %selection.reason,
                    "sandbox backend selected"
                ),
                None => tracing::warn!(
                    reason = %selection.reason,
                    "no sandbox backend: sandboxed agents' and non-admin users' exec and file tools are refused"
                ),
            }
            let sandbox = selection.sandbox.clone();
            chosen.set(selection.sandbox, selection.reason);
            if let Some(sandbox) = sandbox {
                prune_forever(sandbox, every).await;
            }
        });
        Self {
            router: Arc::new(router),
            task: Some(task),
        }
    }
}

/// How often idle and old sandboxes are pruned (`prune_interval_min`).
fn prune_interval(loaded: &LoadedConfig) -> Duration {
    let minutes = loaded
        .config
        .agents
        .defaults
        .sandbox
        .prune_interval_min
        .max(1);
    Duration::from_secs(u64::from(minutes) * 60)
}

/// Prunes `sandbox` every `every` until the task is aborted.
async fn prune_forever(sandbox: Arc<dyn goclaw_core::Sandbox>, every: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match sandbox.prune().await {
            Ok(report) if report.removed.is_empty() => {}
            Ok(report) => tracing::info!(removed = ?report.removed, "sandboxes pruned"),
            Err(error) => tracing::warn!(%error, "sandbox pruning failed"),
        }
    }
}

/// Probes the backend `sandbox.backend` asks for, as the gateway would use it.
pub async fn select(loaded: &LoadedConfig) -> Selection {
    let settings = settings(&loaded.config.agents.defaults.sandbox, loaded);
    goclaw_sandbox::select(settings, Arc::new(SystemClock)).await
}

/// Per-agent `sandbox.mode` overrides from `agents.list`.
fn agent_modes(loaded: &LoadedConfig) -> BTreeMap<String, SandboxMode> {
    loaded
        .config
        .agents
        .list
        .iter()
        .filter_map(|(id, spec)| Some((id.clone(), spec.sandbox.as_ref()?.mode)))
        .collect()
}

/// Backend settings from the `sandbox` section; native state lives under the data directory.
pub fn settings(config: &SandboxConfig, loaded: &LoadedConfig) -> SandboxSettings {
    let init = match &loaded.runtime.sandbox_init {
        Some(path) => path.to_string_lossy().into_owned(),
        None => std::env::current_exe()
            .map(|exe| exe.to_string_lossy().into_owned())
            .unwrap_or_else(|_| "goclaw".to_owned()),
    };
    let mut settings = SandboxSettings::new(
        loaded.config.data_dir.join("sandboxes"),
        vec![init, INIT_SUBCOMMAND.to_owned()],
    );
    settings.backend = match config.backend {
        SandboxBackend::Auto => BackendChoice::Auto,
        SandboxBackend::Docker => BackendChoice::Docker,
        SandboxBackend::Native => BackendChoice::Native,
        SandboxBackend::None => BackendChoice::None,
    };
    settings.image = config.image.clone();
    settings.workspace = match config.workspace_access {
        WorkspaceAccess::None => WorkspaceMount::None,
        WorkspaceAccess::Ro => WorkspaceMount::ReadOnly,
        WorkspaceAccess::Rw => WorkspaceMount::ReadWrite,
    };
    settings.memory_mb = config.memory_mb;
    settings.cpus = config.cpus;
    settings.timeout = Duration::from_secs(config.timeout_sec.max(1));
    settings.network_enabled = config.network_enabled;
    settings.read_only_root = config.read_only_root;
    settings.setup_command = config
        .setup_command
        .clone()
        .filter(|c| !c.trim().is_empty());
    settings.env = config
        .env
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    settings.user = config.user.clone().filter(|u| !u.trim().is_empty());
    settings.tmpfs_size_mb = config.tmpfs_size_mb;
    settings.allow_tmp_exec = config.allow_tmp_exec;
    settings.max_output_bytes = usize::try_from(config.max_output_bytes).unwrap_or(usize::MAX);
    settings.docker_host = loaded.runtime.docker_host.clone();
    settings.idle_hours = config.idle_hours;
    settings.max_age_days = config.max_age_days;
    settings
}
