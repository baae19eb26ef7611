//! The Docker backend: one long-lived container per sandbox, through the Docker Engine API.
//!
//! A sandbox is the container named [`sandbox_name`]`(key, workspace)`, created on its first
//! command (see [`container`] for what it is made of) and reused until the pruner removes it
//! (idle longer than `idle_hours`, or older than `max_age_days`, by the backend's [`Clock`]).
//! Commands run as `docker exec`s (see [`exec`] for output caps and timeouts); long-running
//! ones ([`Sandbox::spawn`]) as execs whose streams stay attached (see [`spawn`]).
//!
//! **Ownership.** Every container carries the label `goclaw.instance`, a hash of the settings'
//! `state_dir` (see [`labels`]). On [`DockerSandbox::connect`] only containers of the same
//! instance are considered: one made with the current settings (`goclaw.config`) and still
//! running is adopted, any other is removed. Listing, pruning and [`remove_all`] are scoped the
//! same way, so gateways (or tests) with different state directories can share one daemon
//! without removing each other's sandboxes. Containers labelled `goclaw.sandbox=true` without an
//! instance label (made by something else) are left alone.
//!
//! Nothing is ever pulled: the image must already be on the Docker host.
//!
//! [`remove_all`]: goclaw_core::Sandbox::remove_all

mod connect;
mod container;
mod exec;
mod labels;
mod registry;
mod spawn;

use std::collections::HashMap;
use std::future::Future;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bollard::Docker;
use bollard::models::{ContainerSummary, ContainerSummaryStateEnum};
use bollard::query_parameters::ListContainersOptionsBuilder;
use chrono::DateTime;
use goclaw_core::{
    PruneReason, PruneReport, SANDBOX_WORKDIR, Sandbox, SandboxError, SandboxExec, SandboxInfo,
    SandboxOutput, SandboxProcess, SandboxSpawn,
};

use crate::clock::Clock;
use crate::settings::{SandboxSettings, sandbox_name};
use exec::{Command, ExecFailure};
use registry::{Registry, Tracked};

/// Bytes of a failed setup command's output kept in the error.
const SETUP_OUTPUT_IN_ERROR: usize = 4096;

/// Containers through the Docker Engine API.
pub struct DockerSandbox {
    docker: Docker,
    settings: SandboxSettings,
    clock: Arc<dyn Clock>,
    /// The endpoint, without credentials.
    endpoint: String,
    config_hash: String,
    instance: String,
    registry: Registry,
}

impl std::fmt::Debug for DockerSandbox {
    // By hand: the settings hold environment values, which are never printed.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DockerSandbox")
            .field("endpoint", &self.endpoint)
            .field("image", &self.settings.image)
            .field("instance", &self.instance)
            .field("config", &self.config_hash)
            .field("containers", &self.registry.len())
            .finish_non_exhaustive()
    }
}

impl DockerSandbox {
    /// Connects (the settings' `docker_host`, else `DOCKER_HOST`, else the default socket),
    /// negotiates the API version, pings, then adopts this instance's running containers made
    /// with the same settings and removes its others.
    pub async fn connect(
        settings: SandboxSettings,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, SandboxError> {
        let endpoint = connect::endpoint(settings.docker_host.as_deref());
        let docker = connect::connect(&endpoint).await?;
        connect::require_image(&docker, &settings.image).await?;
        let sandbox = Self {
            docker,
            endpoint: connect::redacted(&endpoint),
            config_hash: labels::config_hash(&settings),
            instance: labels::instance_hash(&settings),
            settings,
            clock,
            registry: Registry::default(),
        };
        sandbox.adopt_or_remove().await?;
        Ok(sandbox)
    }

    /// The settings this backend runs with.
    pub fn settings(&self) -> &SandboxSettings {
        &self.settings
    }

    /// This instance's containers, running or not.
    async fn managed(&self) -> Result<Vec<ContainerSummary>, SandboxError> {
        let options = ListContainersOptionsBuilder::new()
            .all(true)
            .filters(&labels::filter(&self.instance))
            .build();
        self.docker
            .list_containers(Some(options))
            .await
            .map_err(|error| SandboxError::Backend(format!("listing containers: {error}")))
    }

    /// Adopts running containers made with the current settings; removes the others.
    async fn adopt_or_remove(&self) -> Result<(), SandboxError> {
        for summary in self.managed().await? {
            let Some(name) = summary_name(&summary) else {
                continue;
            };
            let labels = summary.labels.clone().unwrap_or_default();
            let running = summary.state == Some(ContainerSummaryStateEnum::RUNNING);
            let same = labels.get(labels::CONFIG) == Some(&self.config_hash);
            if running && same {
                let tracked = self.tracked_from_labels(&labels, summary.created);
                tracing::debug!(container = %name, "adopting Docker sandbox");
                self.registry.insert(&name, tracked);
            } else {
                tracing::info!(container = %name, running, "removing stale Docker sandbox");
                container::remove(&self.docker, &name).await?;
            }
        }
        Ok(())
    }

    /// Creation and last use as recorded in a container's labels.
    fn tracked_from_labels(
        &self,
        labels: &HashMap<String, String>,
        created_unix: Option<i64>,
    ) -> Tracked {
        let created_at = labels::parse_time(labels, labels::CREATED_AT)
            .or_else(|| created_unix.and_then(|secs| DateTime::from_timestamp(secs, 0)))
            .unwrap_or_else(|| self.clock.now());
        let last_used_at = labels::parse_time(labels, labels::LAST_USED_AT).unwrap_or(created_at);
        Tracked {
            key: labels.get(labels::KEY).cloned().unwrap_or_default(),
            created_at,
            last_used_at: last_used_at.max(created_at),
        }
    }

    /// Makes sure the container `name` exists and runs, creating it (once) when needed.
    async fn ensure(&self, name: &str, key: &str, workspace: &Path) -> Result<(), SandboxError> {
        if self.registry.get(name).is_some() {
            return Ok(());
        }
        let lock = self.registry.lock_for(name);
        let _guard = lock.lock().await;
        if self.registry.get(name).is_some() {
            return Ok(());
        }
        // A container of that name may exist already: adopt it if it is ours, current and
        // running, else make room.
        match self
            .docker
            .inspect_container(
                name,
                None::<bollard::query_parameters::InspectContainerOptions>,
            )
            .await
        {
            Ok(found) => {
                let labels = found
                    .config
                    .as_ref()
                    .and_then(|config| config.labels.clone())
                    .unwrap_or_default();
                let running = found.state.as_ref().and_then(|state| state.running) == Some(true);
                if running
                    && labels.get(labels::INSTANCE) == Some(&self.instance)
                    && labels.get(labels::CONFIG) == Some(&self.config_hash)
                {
                    self.registry
                        .insert(name, self.tracked_from_labels(&labels, None));
                    return Ok(());
                }
                container::remove(&self.docker, name).await?;
            }
            Err(error) if container::status(&error) == Some(404) => {}
            Err(error) => {
                return Err(SandboxError::Backend(format!(
                    "inspecting container {name}: {error}"
                )));
            }
        }
        let now = self.clock.now();
        let spec = container::Spec {
            name,
            key,
            workspace,
            created_at: now,
            config_hash: &self.config_hash,
            instance: &self.instance,
        };
        container::create_and_start(&self.docker, &self.settings, &spec).await?;
        if let Some(setup) = self.settings.setup_command.as_deref() {
            self.run_setup(name, setup).await?;
        }
        self.registry.insert(
            name,
            Tracked {
                key: key.to_owned(),
                created_at: now,
                last_used_at: now,
            },
        );
        Ok(())
    }

    /// Runs the setup command once in a new container; on failure removes the container.
    async fn run_setup(&self, name: &str, setup: &str) -> Result<(), SandboxError> {
        let command = self.command(
            vec!["sh".to_owned(), "-lc".to_owned(), setup.to_owned()],
            SANDBOX_WORKDIR.to_owned(),
            &std::collections::BTreeMap::new(),
            None,
            self.settings.timeout,
        )?;
        let outcome = match exec::run(&self.docker, name, command).await {
            Ok(output) if output.success() => Ok(()),
            Ok(output) => {
                let mut text = output.combined();
                if text.len() > SETUP_OUTPUT_IN_ERROR {
                    let mut end = SETUP_OUTPUT_IN_ERROR;
                    while !text.is_char_boundary(end) {
                        end -= 1;
                    }
                    text.truncate(end);
                    text.push('…');
                }
                let how = if output.timed_out {
                    "timed out".to_owned()
                } else {
                    match output.exit_code {
                        Some(code) => format!("exited with {code}"),
                        None => "was killed".to_owned(),
                    }
                };
                Err(SandboxError::Backend(format!(
                    "the sandbox setup command {how}: {}",
                    text.trim_end()
                )))
            }
            Err(ExecFailure::ContainerGone) => Err(SandboxError::Backend(format!(
                "container {name} stopped during setup"
            ))),
            Err(ExecFailure::Other(error)) => Err(error),
        };
        if outcome.is_err() {
            container::remove(&self.docker, name).await.ok();
        }
        outcome
    }

    /// An exec of `argv` with the settings' and the request's environment and a fresh marker.
    fn command(
        &self,
        argv: Vec<String>,
        workdir: String,
        extra_env: &std::collections::BTreeMap<String, String>,
        stdin: Option<Vec<u8>>,
        timeout: Duration,
    ) -> Result<Command, SandboxError> {
        let exec_id = uuid::Uuid::new_v4().to_string();
        let mut env = container::env_pairs(self.settings.env.iter().map(|(k, v)| (k, v)))?;
        env.extend(container::env_pairs(
            extra_env
                .iter()
                .filter(|(name, _)| name.as_str() != exec::MARKER),
        )?);
        env.push(format!("{}={exec_id}", exec::MARKER));
        Ok(Command {
            argv,
            workdir,
            env,
            user: self.settings.user.clone().filter(|user| !user.is_empty()),
            stdin,
            timeout,
            max_output: self.settings.max_output_bytes,
            exec_id,
        })
    }

    /// Runs `attempt` against the container `name` (created when needed), once more on a new
    /// container when the old one went away behind our back; records the use.
    async fn in_container<T, F>(
        &self,
        name: &str,
        key: &str,
        workspace: &Path,
        mut attempt: impl FnMut() -> Result<F, SandboxError>,
    ) -> Result<T, SandboxError>
    where
        F: Future<Output = Result<T, ExecFailure>>,
    {
        let mut retried = false;
        loop {
            self.ensure(name, key, workspace).await?;
            self.registry.touch(name, self.clock.now());
            match attempt()?.await {
                Ok(done) => {
                    self.registry.touch(name, self.clock.now());
                    return Ok(done);
                }
                Err(ExecFailure::ContainerGone) if !retried => {
                    tracing::info!(container = %name, "Docker sandbox vanished; recreating it");
                    self.remove_named(name).await?;
                    retried = true;
                }
                Err(ExecFailure::ContainerGone) => {
                    return Err(SandboxError::Backend(format!(
                        "container {name} stopped before the command could run"
                    )));
                }
                Err(ExecFailure::Other(error)) => return Err(error),
            }
        }
    }

    /// Removes one container under its lock and forgets it.
    async fn remove_named(&self, name: &str) -> Result<(), SandboxError> {
        let lock = self.registry.lock_for(name);
        let _guard = lock.lock().await;
        container::remove(&self.docker, name).await?;
        self.registry.forget(name);
        Ok(())
    }
}

/// A container's name without Docker's leading slash.
fn summary_name(summary: &ContainerSummary) -> Option<String> {
    summary
        .names
        .as_ref()?
        .first()
        .map(|name| name.trim_start_matches('/').to_owned())
}

/// Refuses an empty command or an argument Docker could not pass on.
fn check_argv(argv: &[String]) -> Result<(), SandboxError> {
    if argv.first().is_none_or(String::is_empty) {
        return Err(SandboxError::Invalid("the command is empty".to_owned()));
    }
    if argv.iter().any(|arg| arg.contains('\0')) {
        return Err(SandboxError::Invalid(
            "a command argument contains a NUL byte".to_owned(),
        ));
    }
    Ok(())
}

/// The working directory inside the sandbox: absolute, or relative to `/workspace`.
fn resolve_workdir(workdir: Option<&str>) -> Result<String, SandboxError> {
    match workdir.map(str::trim) {
        None | Some("") | Some(".") => Ok(SANDBOX_WORKDIR.to_owned()),
        Some(dir) if dir.contains('\0') => Err(SandboxError::Invalid(
            "the working directory contains a NUL byte".to_owned(),
        )),
        Some(dir) if dir.starts_with('/') => Ok(dir.to_owned()),
        Some(dir) => Ok(format!(
            "{SANDBOX_WORKDIR}/{}",
            dir.trim_start_matches("./")
        )),
    }
}

#[async_trait::async_trait]
impl Sandbox for DockerSandbox {
    fn backend(&self) -> &'static str {
        "docker"
    }

    fn describe(&self) -> String {
        let s = &self.settings;
        format!(
            "docker: {} image {}; memory {} MiB, cpus {}, pids {}, network {}, root {}, \
             capabilities dropped, no-new-privileges",
            self.endpoint,
            s.image,
            s.memory_mb,
            s.cpus,
            s.pids_limit,
            if s.network_enabled { "bridge" } else { "none" },
            if s.read_only_root {
                "read-only"
            } else {
                "writable"
            },
        )
    }

    async fn exec(&self, request: SandboxExec) -> Result<SandboxOutput, SandboxError> {
        check_argv(&request.argv)?;
        let workdir = resolve_workdir(request.workdir.as_deref())?;
        let name = sandbox_name(&request.key, &request.workspace);
        let timeout = request.timeout.min(self.settings.timeout);
        self.in_container(&name, &request.key, &request.workspace, || {
            let command = self.command(
                request.argv.clone(),
                workdir.clone(),
                &request.env,
                request.stdin.clone(),
                timeout,
            )?;
            Ok(exec::run(&self.docker, &name, command))
        })
        .await
    }

    async fn spawn(&self, request: SandboxSpawn) -> Result<SandboxProcess, SandboxError> {
        check_argv(&request.argv)?;
        let workdir = resolve_workdir(request.workdir.as_deref())?;
        let name = sandbox_name(&request.key, &request.workspace);
        self.in_container(&name, &request.key, &request.workspace, || {
            let command = self.command(
                request.argv.clone(),
                workdir.clone(),
                &request.env,
                None,
                self.settings.timeout,
            )?;
            Ok(spawn::start(&self.docker, &name, command))
        })
        .await
    }

    async fn list(&self) -> Result<Vec<SandboxInfo>, SandboxError> {
        let mut infos = Vec::new();
        for summary in self.managed().await? {
            let Some(name) = summary_name(&summary) else {
                continue;
            };
            let tracked = match self.registry.get(&name) {
                Some(tracked) => tracked,
                None => self.tracked_from_labels(
                    &summary.labels.clone().unwrap_or_default(),
                    summary.created,
                ),
            };
            infos.push(SandboxInfo {
                name,
                key: tracked.key,
                created_at: tracked.created_at,
                last_used_at: tracked.last_used_at,
            });
        }
        infos.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(infos)
    }

    async fn prune(&self) -> Result<PruneReport, SandboxError> {
        let now = self.clock.now();
        let mut report = PruneReport::default();
        for info in self.list().await? {
            let reason = if now - info.created_at > self.settings.age_limit() {
                PruneReason::MaxAge
            } else if now - info.last_used_at > self.settings.idle_limit() {
                PruneReason::Idle
            } else {
                continue;
            };
            self.remove_named(&info.name).await?;
            tracing::info!(container = %info.name, ?reason, "pruned Docker sandbox");
            report.removed.push((info.name, reason));
        }
        Ok(report)
    }

    async fn remove_all(&self) -> Result<usize, SandboxError> {
        let mut removed = 0;
        for summary in self.managed().await? {
            if let Some(name) = summary_name(&summary) {
                self.remove_named(&name).await?;
                removed += 1;
            }
        }
        self.registry.clear();
        Ok(removed)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn workdirs_resolve_under_the_workspace() {
        assert_eq!(resolve_workdir(None).unwrap(), "/workspace");
        assert_eq!(resolve_workdir(Some("src")).unwrap(), "/workspace/src");
        assert_eq!(resolve_workdir(Some("./src")).unwrap(), "/workspace/src");
        assert_eq!(resolve_workdir(Some("/tmp")).unwrap(), "/tmp");
        assert!(resolve_workdir(Some("a\0b")).is_err());
    }
}
