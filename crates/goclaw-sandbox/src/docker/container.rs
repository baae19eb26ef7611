//! One container: what it is made of, creating and starting it, running its setup, removing it.
//!
//! The container runs `sleep infinity` under Docker's init (which reaps the orphans a killed
//! command leaves behind, so they do not count against the pids limit), with every capability
//! dropped, `no-new-privileges`, the configured memory (no swap), CPU and pids limits, a
//! read-only root when asked, no network unless enabled, `noexec,nosuid,nodev` tmpfs on `/tmp`,
//! `/var/tmp` and `/run`, and the workspace bound at `/workspace` read-only or read-write.
//! Its environment is `settings.env` only: nothing of the gateway's own is passed on.

use std::collections::HashMap;
use std::path::Path;

use bollard::Docker;
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountTypeEnum};
use bollard::query_parameters::{CreateContainerOptionsBuilder, RemoveContainerOptionsBuilder};
use chrono::{DateTime, SecondsFormat, Utc};
use goclaw_core::{SANDBOX_WORKDIR, SandboxError};

use super::labels;
use crate::settings::{SandboxSettings, WorkspaceMount};

/// Directories given a private tmpfs.
const TMPFS_DIRS: [&str; 3] = ["/tmp", "/var/tmp", "/run"];

/// Everything needed to make one container.
#[derive(Debug)]
pub(crate) struct Spec<'a> {
    pub name: &'a str,
    pub key: &'a str,
    pub workspace: &'a Path,
    pub created_at: DateTime<Utc>,
    pub config_hash: &'a str,
    pub instance: &'a str,
}

/// `NAME=value` strings for `settings.env`, refusing malformed names.
pub(crate) fn env_pairs<'a>(
    pairs: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> Result<Vec<String>, SandboxError> {
    pairs
        .into_iter()
        .map(|(name, value)| {
            if name.is_empty() || name.contains('=') || name.contains('\0') || value.contains('\0')
            {
                // Only the name is shown: values may be secrets.
                return Err(SandboxError::Invalid(format!(
                    "environment variable name {name:?} (or its value) is not valid"
                )));
            }
            Ok(format!("{name}={value}"))
        })
        .collect()
}

/// The mount options of each tmpfs.
fn tmpfs_options(settings: &SandboxSettings) -> String {
    let mut options = if settings.allow_tmp_exec {
        "nosuid,nodev".to_owned()
    } else {
        "noexec,nosuid,nodev".to_owned()
    };
    if settings.tmpfs_size_mb > 0 {
        options.push_str(&format!(",size={}m", settings.tmpfs_size_mb));
    }
    options
}

/// The create request for `spec` under `settings`.
pub(crate) fn create_body(
    settings: &SandboxSettings,
    spec: &Spec<'_>,
) -> Result<ContainerCreateBody, SandboxError> {
    let mounts = match settings.workspace {
        WorkspaceMount::None => Vec::new(),
        access => {
            if !spec.workspace.is_absolute() {
                return Err(SandboxError::Invalid(
                    "the workspace must be an absolute host path".to_owned(),
                ));
            }
            if !spec.workspace.is_dir() {
                return Err(SandboxError::Invalid(format!(
                    "the workspace {} is not a directory",
                    spec.workspace.display()
                )));
            }
            vec![Mount {
                target: Some(SANDBOX_WORKDIR.to_owned()),
                source: Some(spec.workspace.to_string_lossy().into_owned()),
                typ: Some(MountTypeEnum::BIND),
                read_only: Some(access == WorkspaceMount::ReadOnly),
                ..Default::default()
            }]
        }
    };
    let tmpfs: HashMap<String, String> = TMPFS_DIRS
        .iter()
        .map(|dir| ((*dir).to_owned(), tmpfs_options(settings)))
        .collect();
    let memory = (settings.memory_mb > 0).then(|| i64::from(settings.memory_mb) * 1024 * 1024);
    let nano_cpus = (settings.cpus.is_finite() && settings.cpus > 0.0)
        .then(|| (settings.cpus * 1e9).round() as i64);
    let host_config = HostConfig {
        memory,
        memory_swap: memory,
        nano_cpus,
        pids_limit: (settings.pids_limit > 0).then(|| i64::from(settings.pids_limit)),
        cap_drop: Some(vec!["ALL".to_owned()]),
        security_opt: Some(vec!["no-new-privileges".to_owned()]),
        readonly_rootfs: Some(settings.read_only_root),
        network_mode: (!settings.network_enabled).then(|| "none".to_owned()),
        tmpfs: Some(tmpfs),
        mounts: Some(mounts),
        init: Some(true),
        ..Default::default()
    };
    let labels = HashMap::from([
        (labels::SANDBOX.to_owned(), "true".to_owned()),
        (labels::KEY.to_owned(), spec.key.to_owned()),
        (
            labels::CREATED_AT.to_owned(),
            spec.created_at.to_rfc3339_opts(SecondsFormat::Millis, true),
        ),
        (labels::CONFIG.to_owned(), spec.config_hash.to_owned()),
        (labels::INSTANCE.to_owned(), spec.instance.to_owned()),
    ]);
    Ok(ContainerCreateBody {
        image: Some(settings.image.clone()),
        entrypoint: Some(vec!["sleep".to_owned()]),
        cmd: Some(vec!["infinity".to_owned()]),
        labels: Some(labels),
        env: Some(env_pairs(settings.env.iter().map(|(k, v)| (k, v)))?),
        working_dir: Some(SANDBOX_WORKDIR.to_owned()),
        user: settings.user.clone().filter(|user| !user.is_empty()),
        tty: Some(false),
        open_stdin: Some(false),
        host_config: Some(host_config),
        ..Default::default()
    })
}

/// Creates and starts the container (the image must already be present: nothing is pulled).
pub(crate) async fn create_and_start(
    docker: &Docker,
    settings: &SandboxSettings,
    spec: &Spec<'_>,
) -> Result<(), SandboxError> {
    let body = create_body(settings, spec)?;
    let options = CreateContainerOptionsBuilder::new().name(spec.name).build();
    docker
        .create_container(Some(options), body)
        .await
        .map_err(|error| match status(&error) {
            Some(404) => SandboxError::Backend(format!(
                "image {} is not present on the Docker host (it is never pulled; build or \
                 load it first)",
                settings.image
            )),
            _ => SandboxError::Backend(format!("creating container {}: {error}", spec.name)),
        })?;
    if let Err(error) = docker
        .start_container(
            spec.name,
            None::<bollard::query_parameters::StartContainerOptions>,
        )
        .await
    {
        remove(docker, spec.name).await.ok();
        return Err(SandboxError::Backend(format!(
            "starting container {}: {error}",
            spec.name
        )));
    }
    Ok(())
}

/// Force-removes a container and its anonymous volumes; a missing one counts as removed.
pub(crate) async fn remove(docker: &Docker, name: &str) -> Result<(), SandboxError> {
    let options = RemoveContainerOptionsBuilder::new()
        .force(true)
        .v(true)
        .build();
    match docker.remove_container(name, Some(options)).await {
        Ok(()) => Ok(()),
        Err(error) if status(&error) == Some(404) => Ok(()),
        // Already being removed by someone else.
        Err(error) if status(&error) == Some(409) => Ok(()),
        Err(error) => Err(SandboxError::Backend(format!(
            "removing container {name}: {error}"
        ))),
    }
}

/// The HTTP status of a daemon error, if it is one.
pub(crate) fn status(error: &bollard::errors::Error) -> Option<u16> {
    match error {
        bollard::errors::Error::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn body_carries_the_limits() {
        let dir = std::env::temp_dir();
        let mut settings = SandboxSettings::new("/state", Vec::new());
        settings.env.push(("A".into(), "1".into()));
        settings.tmpfs_size_mb = 16;
        let spec = Spec {
            name: "goclaw-sbx-0",
            key: "k",
            workspace: &dir,
            created_at: Utc::now(),
            config_hash: "c",
            instance: "i",
        };
        let body = create_body(&settings, &spec).unwrap();
        let host = body.host_config.unwrap();
        assert_eq!(host.memory, Some(512 * 1024 * 1024));
        assert_eq!(host.memory_swap, host.memory);
        assert_eq!(host.network_mode.as_deref(), Some("none"));
        assert_eq!(host.cap_drop, Some(vec!["ALL".to_owned()]));
        assert_eq!(
            host.tmpfs.unwrap().get("/tmp").map(String::as_str),
            Some("noexec,nosuid,nodev,size=16m")
        );
        assert_eq!(body.env, Some(vec!["A=1".to_owned()]));
        let mut bad = settings.clone();
        bad.env.push(("B=C".into(), "secret".into()));
        let error = create_body(&bad, &spec).unwrap_err().to_string();
        assert!(!error.contains("secret"));
    }
}
