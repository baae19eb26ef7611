//! The native backend: bubblewrap namespaces plus Landlock, seccomp, rlimits and cgroups, with
//! no daemon.
//!
//! Every command runs as `[init enter …] bwrap … /run/goclaw/init inner … -- argv`:
//! `enter` (on the host) joins the sandbox's cgroups and execs bubblewrap; bubblewrap builds
//! the namespaces and mounts; `inner` applies rlimits, Landlock and seccomp and execs the
//! command. A sandbox (one per scope key and workspace) is its state directory (home, bookkeeping)
//! plus its cgroup; see [`init`] for the init's command line.
//!
//! [`Sandbox::spawn`] runs the same command line without a deadline and with its standard
//! streams kept open ([`spawn`]); dropping the process kills its process group and cgroup.

mod bwrap;
mod cgroup;
pub mod init;
mod run;
mod spawn;
mod state;

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goclaw_core::{
    PruneReason, PruneReport, Sandbox, SandboxError, SandboxExec, SandboxInfo, SandboxOutput,
    SandboxProcess, SandboxSpawn,
};

use crate::clock::Clock;
use crate::settings::{SandboxSettings, WorkspaceMount, sandbox_name};

pub use bwrap::{HOME_INSIDE, INIT_INSIDE, SANDBOX_PATH};
pub use cgroup::Controller;
use cgroup::{Cgroups, Limits};
use init::{Enforcement, InnerOptions};
use state::Meta;

/// How long the probe may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// Construction options beyond [`SandboxSettings`].
#[derive(Debug, Clone)]
pub struct NativeOptions {
    /// Use cgroups when writable (default); `false` relies on rlimits alone.
    pub cgroups: bool,
    /// Root of the cgroup file system.
    pub cgroup_root: PathBuf,
}

impl Default for NativeOptions {
    fn default() -> Self {
        Self {
            cgroups: true,
            cgroup_root: PathBuf::from("/sys/fs/cgroup"),
        }
    }
}

/// One command placed in sandbox `name`: what runs, where, with which extra variables.
struct Placed<'a> {
    name: &'a str,
    workspace: &'a Path,
    argv: &'a [String],
    workdir: Option<&'a str>,
    env: &'a BTreeMap<String, String>,
}

/// Sandboxes made of bubblewrap namespaces on this host.
#[derive(Debug)]
pub struct NativeSandbox {
    settings: SandboxSettings,
    clock: Arc<dyn Clock>,
    bwrap: PathBuf,
    bwrap_version: String,
    init_exe: PathBuf,
    init_args: Vec<String>,
    cgroups: Cgroups,
    /// Kernel Landlock ABI, `None` when Landlock is unavailable.
    landlock_abi: Option<i32>,
    seccomp: bool,
    sandboxes: Mutex<BTreeMap<String, Meta>>,
    creating: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

impl NativeSandbox {
    /// Checks that bubblewrap works and the init program runs inside it, finds which limits are
    /// enforceable, and loads the sandboxes recorded under `state_dir`.
    pub async fn probe(
        settings: SandboxSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SandboxError> {
        Self::probe_with(settings, clock, NativeOptions::default()).await
    }

    /// [`probe`](Self::probe) with explicit options (e.g. without cgroups).
    pub async fn probe_with(
        settings: SandboxSettings,
        clock: Arc<dyn Clock>,
        options: NativeOptions,
    ) -> Result<Self, SandboxError> {
        let bwrap = bwrap::find_program("bwrap").ok_or_else(|| {
            SandboxError::Unavailable(
                "bubblewrap (bwrap) is not on PATH; install the bubblewrap package".to_owned(),
            )
        })?;
        let (init_program, init_args) = settings.init_command.split_first().ok_or_else(|| {
            SandboxError::Unavailable("sandbox init command is not configured".to_owned())
        })?;
        let init_exe = bwrap::find_program(init_program)
            .and_then(|p| std::fs::canonicalize(p).ok())
            .ok_or_else(|| {
                SandboxError::Unavailable(format!(
                    "sandbox init program {init_program} does not exist"
                ))
            })?;
        let init_args = init_args.to_vec();
        let bwrap_version = probe_output(&bwrap, &["--version".to_owned()])
            .await
            .map(|(_, out)| out.trim().to_owned())
            .unwrap_or_else(|_| "bubblewrap".to_owned());

        // bwrap works with the namespaces we use, and the init runs inside it.
        let mut args: Vec<String> = [
            "--unshare-user",
            "--unshare-pid",
            "--unshare-ipc",
            "--unshare-uts",
            "--unshare-net",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--ro-bind",
            "/",
            "/",
            "--proc",
            "/proc",
            "--dev",
            "/dev",
            "--",
        ]
        .map(str::to_owned)
        .to_vec();
        args.push(init_exe.to_string_lossy().into_owned());
        args.extend(init_args.iter().cloned());
        args.push("probe".to_owned());
        let (ok, report) = probe_output(&bwrap, &args).await?;
        if !ok {
            return Err(SandboxError::Unavailable(format!(
                "bubblewrap cannot create a sandbox here (user namespaces disabled?): {}",
                report.trim()
            )));
        }
        let field = |name: &str| {
            report
                .split_whitespace()
                .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
                .map(str::to_owned)
        };
        let landlock_abi = field("landlock").and_then(|v| v.parse::<i32>().ok());
        let seccomp = field("seccomp").as_deref() == Some("ok");
        if landlock_abi.is_none() {
            tracing::warn!("Landlock is not available: native sandboxes rely on mounts alone");
        }
        if !seccomp {
            tracing::warn!("seccomp is not available: native sandboxes run without a filter");
        }

        let cgroups = if options.cgroups {
            let root = options.cgroup_root.clone();
            tokio::task::spawn_blocking(move || Cgroups::detect(&root))
                .await
                .unwrap_or(Cgroups::None)
        } else {
            Cgroups::None
        };
        std::fs::create_dir_all(&settings.state_dir).map_err(|e| {
            SandboxError::Unavailable(format!(
                "cannot create sandbox state directory {}: {e}",
                settings.state_dir.display()
            ))
        })?;
        let sandboxes = state::load_all(&settings.state_dir)
            .into_iter()
            .map(|meta| (meta.name.clone(), meta))
            .collect();
        Ok(Self {
            settings,
            clock,
            bwrap,
            bwrap_version,
            init_exe,
            init_args,
            cgroups,
            landlock_abi,
            seccomp,
            sandboxes: Mutex::new(sandboxes),
            creating: Mutex::new(HashMap::new()),
        })
    }

    /// One line on what this backend enforces (for `goclaw doctor`).
    pub fn describe(&self) -> String {
        let landlock = match self.landlock_abi {
            Some(abi) => format!("Landlock ABI {abi}"),
            None => "no Landlock".to_owned(),
        };
        let seccomp = if self.seccomp {
            "seccomp filter"
        } else {
            "no seccomp"
        };
        let mut rlimits = vec!["CPU", "core"];
        if !self.cgroups.has(Controller::Memory) {
            rlimits.push("AS");
        }
        if !self.cgroups.has(Controller::Pids) {
            rlimits.push("NPROC");
        }
        format!(
            "native: {} at {}; {}; rlimits {}; {landlock}; {seccomp}",
            self.bwrap_version,
            self.bwrap.display(),
            self.cgroups.describe(),
            rlimits.join("+"),
        )
    }

    /// Whether `controller` is enforced through cgroups (else through rlimits, if at all).
    pub fn cgroup_enforces(&self, controller: Controller) -> bool {
        self.cgroups.has(controller)
    }

    /// The cgroup directories of sandbox `name` (empty without cgroups).
    pub fn cgroup_paths(&self, name: &str) -> Vec<PathBuf> {
        self.cgroups.sandbox_paths(name)
    }

    /// The state directory of sandbox `name` (home and bookkeeping).
    pub fn state_path(&self, name: &str) -> PathBuf {
        state::sandbox_dir(&self.settings.state_dir, name)
    }

    fn sandboxes(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, Meta>> {
        self.sandboxes.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn limits(&self) -> Limits {
        Limits {
            memory_bytes: u64::from(self.settings.memory_mb) << 20,
            pids: self.settings.pids_limit,
            cpus: self.settings.cpus,
        }
    }

    /// Creates the sandbox when it does not exist yet (running `setup_command` once), else
    /// makes sure its cgroup is there; records the use.
    async fn ensure(&self, name: &str, key: &str, workspace: &Path) -> Result<(), SandboxError> {
        let lock = {
            let mut creating = self.creating.lock().unwrap_or_else(|e| e.into_inner());
            creating.entry(name.to_owned()).or_default().clone()
        };
        let _guard = lock.lock().await;
        let home = state::home_dir(&self.settings.state_dir, name);
        let known = self.sandboxes().contains_key(name) && home.is_dir();
        let cgroups = self.cgroups.clone();
        let limits = self.limits();
        let cgroup_name = name.to_owned();
        let cgroup =
            tokio::task::spawn_blocking(move || cgroups.ensure_sandbox(&cgroup_name, limits))
                .await
                .map_err(|e| SandboxError::Backend(format!("cgroup set-up panicked: {e}")))?;
        if let Err(error) = cgroup {
            return Err(SandboxError::Backend(format!(
                "cannot set up the cgroup of sandbox {name}: {error}"
            )));
        }
        let now = self.clock.now();
        if known {
            let meta = {
                let mut sandboxes = self.sandboxes();
                let Some(meta) = sandboxes.get_mut(name) else {
                    return Err(SandboxError::Backend(format!("sandbox {name} vanished")));
                };
                meta.last_used_at = now;
                meta.clone()
            };
            if let Err(error) = state::save(&self.settings.state_dir, &meta) {
                tracing::warn!(sandbox = %name, %error, "cannot record sandbox use");
            }
            return Ok(());
        }
        std::fs::create_dir_all(&home).map_err(|e| {
            SandboxError::Backend(format!("cannot create the home of sandbox {name}: {e}"))
        })?;
        let meta = Meta {
            name: name.to_owned(),
            key: key.to_owned(),
            workspace: workspace.to_path_buf(),
            created_at: now,
            last_used_at: now,
        };
        state::save(&self.settings.state_dir, &meta)
            .map_err(|e| SandboxError::Backend(format!("cannot record sandbox {name}: {e}")))?;
        self.sandboxes().insert(name.to_owned(), meta);
        tracing::info!(sandbox = %name, "native sandbox created");
        if let Some(setup) = self.settings.setup_command.clone() {
            let argv = vec!["sh".to_owned(), "-lc".to_owned(), setup];
            let command = Placed {
                name,
                workspace,
                argv: &argv,
                workdir: None,
                env: &BTreeMap::new(),
            };
            let output = self.run_in(&command, None, self.settings.timeout).await;
            let failure = match output {
                Ok(output) if output.success() => None,
                Ok(output) if output.timed_out => Some("timed out".to_owned()),
                Ok(output) => Some(format!("exited with {:?}", output.exit_code)),
                Err(error) => Some(error.to_string()),
            };
            if let Some(failure) = failure {
                self.remove(name).await;
                return Err(SandboxError::Backend(format!(
                    "setup_command of sandbox {name} failed: {failure}"
                )));
            }
        }
        Ok(())
    }

    /// Runs `command` in its sandbox (which exists) within `timeout`.
    async fn run_in(
        &self,
        command: &Placed<'_>,
        stdin: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<SandboxOutput, SandboxError> {
        let cpu_seconds = Some(timeout.as_secs().saturating_add(1));
        let (program, args, exec_cgroup) = self.launch(command, cpu_seconds)?;
        let exec_cgroup = Arc::new(exec_cgroup);
        let on_timeout = {
            let exec_cgroup = exec_cgroup.clone();
            move || exec_cgroup.kill_all()
        };
        let spec = run::RunSpec {
            program,
            args,
            stdin,
            timeout,
            max_output: self.settings.max_output_bytes,
        };
        let result = run::run(spec, on_timeout).await;
        let _ = tokio::task::spawn_blocking(move || exec_cgroup.remove()).await;
        result
    }

    /// The host command line that runs `command` in its sandbox — `[init enter …] bwrap …
    /// init inner … -- argv` — and the cgroup it runs in. `cpu_seconds` is its CPU-time rlimit.
    fn launch(
        &self,
        command: &Placed<'_>,
        cpu_seconds: Option<u64>,
    ) -> Result<(String, Vec<String>, cgroup::ExecCgroup), SandboxError> {
        let s = &self.settings;
        let name = command.name;
        let workspace = command.workspace;
        let workdir = bwrap::resolve_workdir(command.workdir).map_err(SandboxError::Invalid)?;
        let mut all_env: Vec<(String, String)> = vec![
            ("PATH".to_owned(), SANDBOX_PATH.to_owned()),
            ("HOME".to_owned(), HOME_INSIDE.to_owned()),
            ("LANG".to_owned(), "C.UTF-8".to_owned()),
            ("TERM".to_owned(), "dumb".to_owned()),
        ];
        all_env.extend(s.env.iter().cloned());
        all_env.extend(command.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        for (name, value) in &all_env {
            bwrap::check_env(name, value).map_err(SandboxError::Invalid)?;
        }
        let (rw, rw_files, noexec) = bwrap::landlock_dirs(s);
        let enforce = |available: bool| {
            if available {
                Enforcement::Require
            } else {
                Enforcement::BestEffort
            }
        };
        let inner = InnerOptions {
            rw,
            rw_files,
            noexec,
            landlock: enforce(self.landlock_abi.is_some()),
            seccomp: enforce(self.seccomp),
            rlimit_as: (!self.cgroups.has(Controller::Memory) && s.memory_mb > 0)
                .then(|| u64::from(s.memory_mb) << 20),
            rlimit_nproc: (!self.cgroups.has(Controller::Pids) && s.pids_limit > 0)
                .then(|| u64::from(s.pids_limit)),
            rlimit_cpu: cpu_seconds,
            argv: command.argv.to_vec(),
        };
        if s.workspace != WorkspaceMount::None && !workspace.is_dir() {
            std::fs::create_dir_all(workspace).map_err(|e| {
                SandboxError::Invalid(format!(
                    "workspace {} cannot be created: {e}",
                    workspace.display()
                ))
            })?;
        }
        let home = state::home_dir(&s.state_dir, name);
        let plan = bwrap::BwrapPlan {
            settings: s,
            init_exe: &self.init_exe,
            init_args: &self.init_args,
            workspace,
            home: &home,
            workdir: &workdir,
            env: all_env,
            inner,
        };
        let bwrap_args = plan.args();

        let exec_id = uuid::Uuid::new_v4().simple().to_string();
        let exec_cgroup = self.cgroups.create_exec(name, &exec_id).map_err(|e| {
            SandboxError::Backend(format!("cannot create a cgroup in sandbox {name}: {e}"))
        })?;
        let procs = exec_cgroup.procs_files();
        if procs.is_empty() {
            return Ok((
                self.bwrap.to_string_lossy().into_owned(),
                bwrap_args,
                exec_cgroup,
            ));
        }
        let mut argv = vec![self.bwrap.to_string_lossy().into_owned()];
        argv.extend(bwrap_args);
        let enter = init::EnterOptions {
            procs: procs
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect(),
            argv,
        };
        let mut args = self.init_args.clone();
        args.push("enter".to_owned());
        args.extend(enter.to_args());
        Ok((
            self.init_exe.to_string_lossy().into_owned(),
            args,
            exec_cgroup,
        ))
    }

    /// Removes sandbox `name`: kills its processes, removes its cgroup and state directory.
    async fn remove(&self, name: &str) -> bool {
        let cgroups = self.cgroups.clone();
        let state_dir = state::sandbox_dir(&self.settings.state_dir, name);
        let cgroup_name = name.to_owned();
        let removed = tokio::task::spawn_blocking(move || {
            if let Err(error) = cgroups.remove_sandbox(&cgroup_name) {
                tracing::warn!(sandbox = %cgroup_name, %error, "cannot remove sandbox cgroup");
            }
            match std::fs::remove_dir_all(&state_dir) {
                Ok(()) => true,
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => true,
                Err(error) => {
                    tracing::warn!(sandbox = %cgroup_name, %error, "cannot remove sandbox state");
                    false
                }
            }
        })
        .await
        .unwrap_or(false);
        if removed {
            self.sandboxes().remove(name);
        }
        removed
    }
}

/// Runs a probe command; returns whether it succeeded and its stdout (or stderr on failure).
async fn probe_output(program: &Path, args: &[String]) -> Result<(bool, String), SandboxError> {
    let output = tokio::time::timeout(
        PROBE_TIMEOUT,
        tokio::process::Command::new(program)
            .args(args)
            .env_clear()
            .env("PATH", SANDBOX_PATH)
            .stdin(std::process::Stdio::null())
            .kill_on_drop(true)
            .output(),
    )
    .await
    .map_err(|_| SandboxError::Unavailable(format!("{} did not answer", program.display())))?
    .map_err(|e| SandboxError::Unavailable(format!("cannot run {}: {e}", program.display())))?;
    let ok = output.status.success();
    let text = if ok { output.stdout } else { output.stderr };
    Ok((ok, String::from_utf8_lossy(&text).into_owned()))
}

#[async_trait::async_trait]
impl Sandbox for NativeSandbox {
    fn backend(&self) -> &'static str {
        "native"
    }

    fn describe(&self) -> String {
        NativeSandbox::describe(self)
    }

    async fn exec(&self, request: SandboxExec) -> Result<SandboxOutput, SandboxError> {
        if request.argv.is_empty() {
            return Err(SandboxError::Invalid("empty command".to_owned()));
        }
        let name = sandbox_name(&request.key, &request.workspace);
        self.ensure(&name, &request.key, &request.workspace).await?;
        let timeout = request.timeout.min(self.settings.timeout);
        let command = Placed {
            name: &name,
            workspace: &request.workspace,
            argv: &request.argv,
            workdir: request.workdir.as_deref(),
            env: &request.env,
        };
        self.run_in(&command, request.stdin, timeout).await
    }

    async fn spawn(&self, request: SandboxSpawn) -> Result<SandboxProcess, SandboxError> {
        if request.argv.is_empty() {
            return Err(SandboxError::Invalid("empty command".to_owned()));
        }
        let name = sandbox_name(&request.key, &request.workspace);
        self.ensure(&name, &request.key, &request.workspace).await?;
        let command = Placed {
            name: &name,
            workspace: &request.workspace,
            argv: &request.argv,
            workdir: request.workdir.as_deref(),
            env: &request.env,
        };
        // No wall clock, so no CPU-time rlimit either: the cgroup's CPU share still applies.
        let (program, args, exec_cgroup) = self.launch(&command, None)?;
        spawn::start(&program, &args, exec_cgroup)
    }

    async fn list(&self) -> Result<Vec<SandboxInfo>, SandboxError> {
        Ok(self.sandboxes().values().map(Meta::info).collect())
    }

    async fn prune(&self) -> Result<PruneReport, SandboxError> {
        let now = self.clock.now();
        let idle = self.settings.idle_limit();
        let age = self.settings.age_limit();
        let doomed: Vec<(String, PruneReason)> = self
            .sandboxes()
            .values()
            .filter_map(|meta| {
                if now - meta.last_used_at > idle {
                    Some((meta.name.clone(), PruneReason::Idle))
                } else if now - meta.created_at > age {
                    Some((meta.name.clone(), PruneReason::MaxAge))
                } else {
                    None
                }
            })
            .collect();
        let mut report = PruneReport::default();
        for (name, reason) in doomed {
            if self.remove(&name).await {
                tracing::info!(sandbox = %name, ?reason, "native sandbox pruned");
                report.removed.push((name, reason));
            }
        }
        Ok(report)
    }

    async fn remove_all(&self) -> Result<usize, SandboxError> {
        let mut names: Vec<String> = self.sandboxes().keys().cloned().collect();
        for name in state::dir_names(&self.settings.state_dir) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let mut removed = 0;
        for name in names {
            if self.remove(&name).await {
                removed += 1;
            }
        }
        Ok(removed)
    }
}
