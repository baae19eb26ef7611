//! The configuration service behind `config.*`: the effective configuration and the file
//! layer it was built from, the hash clients echo back as `baseHash`, edits written to the
//! config file atomically, `gateway.owner_ids` applied at once, and one `config.applied` log
//! line per change naming the changed keys (never a value).
//!
//! The hash is an HMAC of the unmasked configuration under a key drawn at start-up: it
//! changes whenever any value (a secret included) changes, yet reveals nothing about the
//! values, and a hash from before a restart is simply stale.

use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_config::{Config, EditMode, Environment, LoadedConfig};
use goclaw_core::{MASTER_TENANT_ID, Store};
use goclaw_gateway::auth::OwnerIds;
use goclaw_gateway::config_admin::{
    ConfigAdmin, ConfigApplied, ConfigEditError, ConfigView, EditKind,
};
use hmac::{Hmac, Mac};
use serde_json::Value;
use sha2::Sha256;

/// The configuration as the API sees and changes it.
pub(crate) struct ConfigService {
    current: Mutex<Current>,
    env: Environment,
    path: PathBuf,
    hash_key: [u8; 32],
    owners: OwnerIds,
    /// Where GoClaw's `system_configs` mirror of some keys is kept.
    store: Arc<dyn Store>,
}

struct Current {
    config: Config,
    /// Defaults and the file, without the environment: what an edit starts from and writes.
    file: Value,
}

impl ConfigService {
    /// The service for the configuration the gateway started with; `owners` is the handle
    /// authentication reads `gateway.owner_ids` from.
    pub(crate) fn new(
        loaded: &LoadedConfig,
        owners: OwnerIds,
        store: Arc<dyn Store>,
    ) -> anyhow::Result<Self> {
        let text = match fs::read_to_string(&loaded.path) {
            Ok(text) => Some(text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let file = goclaw_config::file_layer(text.as_deref(), &loaded.path)?;
        Ok(Self {
            current: Mutex::new(Current {
                config: loaded.config.clone(),
                file,
            }),
            env: loaded.env.clone(),
            path: loaded.path.clone(),
            hash_key: rand::random(),
            owners,
            store,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Current> {
        match self.current.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        }
    }

    fn view_of(&self, config: &Config) -> ConfigView {
        ConfigView {
            config: goclaw_config::masked_for_api(config),
            hash: self.hash(config),
            path: self.path.display().to_string(),
        }
    }

    /// Writes the `system_configs` mirror of the configuration for the master tenant; a
    /// failure is logged, the file being already saved.
    async fn mirror(&self, values: &[(&'static str, String)]) {
        let configs = self.store.system_configs();
        for (key, value) in values {
            if let Err(error) = configs.set(MASTER_TENANT_ID, key, value).await {
                tracing::warn!(key, %error, "cannot update the system config");
            }
        }
    }

    /// Hex of the first 8 bytes of an HMAC-SHA256 of the configuration.
    fn hash(&self, config: &Config) -> String {
        let bytes = serde_json::to_vec(config).unwrap_or_default();
        let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(&self.hash_key) else {
            return String::new();
        };
        mac.update(&bytes);
        hex::encode(&mac.finalize().into_bytes()[..8])
    }
}

#[async_trait]
impl ConfigAdmin for ConfigService {
    fn view(&self) -> ConfigView {
        let current = self.lock();
        self.view_of(&current.config)
    }

    async fn edit(
        &self,
        kind: EditKind,
        raw: &str,
        base_hash: Option<&str>,
        actor: &str,
    ) -> Result<ConfigApplied, ConfigEditError> {
        let mode = match kind {
            EditKind::Apply => EditMode::Replace,
            EditKind::Patch => EditMode::Patch,
        };
        let (applied, mirrored) = {
            let mut current = self.lock();
            if base_hash.is_some_and(|hash| hash != self.hash(&current.config)) {
                return Err(ConfigEditError::Stale);
            }
            let edit = goclaw_config::edit(
                &current.config,
                &current.file,
                raw,
                mode,
                &self.env,
                &self.path,
            )
            .map_err(|e| ConfigEditError::Invalid(e.to_string()))?;
            write_atomically(&self.path, &edit.file).map_err(|e| {
                tracing::error!(path = %self.path.display(), error = %e, "cannot save the config");
                ConfigEditError::Save(e.to_string())
            })?;
            if edit
                .changed
                .iter()
                .any(|p| p.starts_with("gateway.owner_ids"))
            {
                self.owners.set(edit.config.gateway.owner_ids.clone());
            }
            tracing::info!(
                actor,
                method = match kind {
                    EditKind::Apply => "config.apply",
                    EditKind::Patch => "config.patch",
                },
                changed = %edit.changed.join(","),
                restart = edit.restart,
                "config.applied"
            );
            let mirrored = goclaw_config::system_config_values(&edit.config);
            current.config = edit.config;
            current.file = edit.file;
            let applied = ConfigApplied {
                view: self.view_of(&current.config),
                restart: edit.restart,
            };
            (applied, mirrored)
        };
        self.mirror(&mirrored).await;
        Ok(applied)
    }

    fn schema(&self) -> Value {
        Config::json_schema()
    }

    fn defaults(&self) -> Value {
        goclaw_config::defaults_for_api()
    }
}

/// Writes `value` as indented JSON to `path` through a temporary file in the same directory
/// and a rename, keeping the file's permissions (0600 for a new file).
fn write_atomically(path: &Path, value: &Value) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "config.json".to_owned());
    let temp = dir.join(format!(".{name}.{:016x}.tmp", rand::random::<u64>()));
    let mut text = serde_json::to_string_pretty(value).map_err(std::io::Error::other)?;
    text.push('\n');
    let result = (|| {
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&temp)?;
        set_permissions(&file, path)?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        fs::rename(&temp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&temp);
    }
    result
}

#[cfg(unix)]
fn set_permissions(file: &fs::File, path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match fs::metadata(path) {
        Ok(meta) => meta.permissions().mode() & 0o7777,
        Err(_) => 0o600,
    };
    file.set_permissions(fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_permissions(_: &fs::File, _: &Path) -> std::io::Result<()> {
    Ok(())
}
