//! The labels every managed container carries, and the hashes they hold.
//!
//! * `goclaw.sandbox=true` marks a container as a goclaw sandbox.
//! * `goclaw.sandbox.key` is the scope key it serves.
//! * `goclaw.created_at` is its creation time (RFC 3339, from the backend's clock).
//! * `goclaw.config` hashes every setting that shapes the container (image, limits, network,
//!   read-only root, workspace access, user, tmpfs, environment, setup command), so a container
//!   made under other settings is never reused.
//! * `goclaw.instance` hashes the settings' `state_dir`: it scopes adoption, listing, pruning and
//!   removal to the gateway (or test) that owns that directory, so two gateways sharing a Docker
//!   daemon never remove each other's sandboxes.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::settings::{SandboxSettings, WorkspaceMount};

/// Marks a goclaw sandbox (value `true`).
pub(crate) const SANDBOX: &str = "goclaw.sandbox";
/// The scope key a sandbox serves.
pub(crate) const KEY: &str = "goclaw.sandbox.key";
/// Creation time, RFC 3339.
pub(crate) const CREATED_AT: &str = "goclaw.created_at";
/// Last use, RFC 3339 (read when present; this backend keeps last use in memory).
pub(crate) const LAST_USED_AT: &str = "goclaw.last_used_at";
/// Hash of the settings the container was made with.
pub(crate) const CONFIG: &str = "goclaw.config";
/// Hash of the owning instance's state directory.
pub(crate) const INSTANCE: &str = "goclaw.instance";

/// Hash of every setting that changes what a container is.
pub(crate) fn config_hash(settings: &SandboxSettings) -> String {
    let mut hash = Sha256::new();
    let mut field = |name: &str, value: &[u8]| {
        hash.update(name.as_bytes());
        hash.update([0]);
        hash.update((value.len() as u64).to_le_bytes());
        hash.update(value);
    };
    field("image", settings.image.as_bytes());
    let workspace = match settings.workspace {
        WorkspaceMount::None => "none",
        WorkspaceMount::ReadOnly => "ro",
        WorkspaceMount::ReadWrite => "rw",
    };
    field("workspace", workspace.as_bytes());
    field("memory_mb", &settings.memory_mb.to_le_bytes());
    field("cpus", &settings.cpus.to_bits().to_le_bytes());
    field("pids_limit", &settings.pids_limit.to_le_bytes());
    field("network", &[u8::from(settings.network_enabled)]);
    field("read_only_root", &[u8::from(settings.read_only_root)]);
    field("user", settings.user.as_deref().unwrap_or("").as_bytes());
    field("tmpfs_size_mb", &settings.tmpfs_size_mb.to_le_bytes());
    field("allow_tmp_exec", &[u8::from(settings.allow_tmp_exec)]);
    for (name, value) in &settings.env {
        field("env.name", name.as_bytes());
        field("env.value", value.as_bytes());
    }
    field(
        "setup",
        settings.setup_command.as_deref().unwrap_or("").as_bytes(),
    );
    hex::encode(&hash.finalize()[..16])
}

/// Hash naming the instance that owns a container (its state directory).
pub(crate) fn instance_hash(settings: &SandboxSettings) -> String {
    let mut hash = Sha256::new();
    hash.update(b"goclaw-instance\0");
    hash.update(settings.state_dir.as_os_str().as_encoded_bytes());
    hex::encode(&hash.finalize()[..8])
}

/// Docker filter selecting this instance's sandboxes.
pub(crate) fn filter(instance: &str) -> HashMap<String, Vec<String>> {
    HashMap::from([(
        "label".to_owned(),
        vec![format!("{SANDBOX}=true"), format!("{INSTANCE}={instance}")],
    )])
}

/// Parses an RFC 3339 label value.
pub(crate) fn parse_time(labels: &HashMap<String, String>, name: &str) -> Option<DateTime<Utc>> {
    labels
        .get(name)
        .and_then(|value| DateTime::parse_from_rfc3339(value).ok())
        .map(|time| time.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_hash_changes_with_every_shaping_setting() {
        let base = SandboxSettings::new("/state", Vec::new());
        let h = config_hash(&base);
        assert_eq!(h, config_hash(&base.clone()));
        let mut other = base.clone();
        other.network_enabled = true;
        assert_ne!(h, config_hash(&other));
        let mut other = base.clone();
        other.env.push(("A".into(), "1".into()));
        assert_ne!(h, config_hash(&other));
        let mut other = base.clone();
        other.workspace = WorkspaceMount::ReadOnly;
        assert_ne!(h, config_hash(&other));
        // Where the daemon is and where state lives do not change the container.
        let mut other = base.clone();
        other.docker_host = Some("unix:///x".into());
        assert_eq!(h, config_hash(&other));
    }

    #[test]
    fn instance_hash_follows_state_dir() {
        let a = SandboxSettings::new("/a", Vec::new());
        let b = SandboxSettings::new("/b", Vec::new());
        assert_ne!(instance_hash(&a), instance_hash(&b));
    }
}
