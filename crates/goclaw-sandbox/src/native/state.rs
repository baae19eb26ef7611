//! Bookkeeping of native sandboxes: `state_dir/<name>/meta.json` (key, workspace, creation and
//! last use) next to the sandbox's home directory, so it survives gateway restarts.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use goclaw_core::SandboxInfo;

use crate::settings::NAME_PREFIX;

const META: &str = "meta.json";

/// What is recorded about one sandbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Meta {
    pub name: String,
    pub key: String,
    pub workspace: PathBuf,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
}

impl Meta {
    pub fn info(&self) -> SandboxInfo {
        SandboxInfo {
            name: self.name.clone(),
            key: self.key.clone(),
            created_at: self.created_at,
            last_used_at: self.last_used_at,
        }
    }

    fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "name": self.name,
            "key": self.key,
            "workspace": self.workspace.to_string_lossy(),
            "created_at": self.created_at.to_rfc3339(),
            "last_used_at": self.last_used_at.to_rfc3339(),
        })
    }

    fn from_json(value: &serde_json::Value) -> Option<Self> {
        let text = |field: &str| value.get(field)?.as_str().map(str::to_owned);
        let time = |field: &str| {
            DateTime::parse_from_rfc3339(value.get(field)?.as_str()?)
                .ok()
                .map(|t| t.with_timezone(&Utc))
        };
        Some(Self {
            name: text("name")?,
            key: text("key")?,
            workspace: PathBuf::from(text("workspace")?),
            created_at: time("created_at")?,
            last_used_at: time("last_used_at")?,
        })
    }
}

/// The directory of sandbox `name`.
pub fn sandbox_dir(state_dir: &Path, name: &str) -> PathBuf {
    state_dir.join(name)
}

/// The home directory of sandbox `name`.
pub fn home_dir(state_dir: &Path, name: &str) -> PathBuf {
    sandbox_dir(state_dir, name).join("home")
}

/// Writes the record (atomically: a temporary file renamed over it).
pub fn save(state_dir: &Path, meta: &Meta) -> std::io::Result<()> {
    let dir = sandbox_dir(state_dir, &meta.name);
    let tmp = dir.join(format!(".{META}.{}", uuid::Uuid::new_v4().simple()));
    std::fs::write(&tmp, meta.to_json().to_string())?;
    std::fs::rename(&tmp, dir.join(META)).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

/// Every sandbox recorded under `state_dir` (unreadable records are skipped with a warning).
pub fn load_all(state_dir: &Path) -> Vec<Meta> {
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return Vec::new();
    };
    let mut all = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if !name.starts_with(NAME_PREFIX) {
            continue;
        }
        let parsed = std::fs::read(entry.path().join(META))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Value>(&bytes).ok())
            .and_then(|value| Meta::from_json(&value))
            .filter(|meta| meta.name == name);
        match parsed {
            Some(meta) => all.push(meta),
            None => tracing::warn!(sandbox = %name, "native sandbox without a readable meta.json"),
        }
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    all
}

/// Names of every sandbox directory under `state_dir`, recorded or not.
pub fn dir_names(state_dir: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(state_dir) else {
        return Vec::new();
    };
    entries
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(NAME_PREFIX))
        .collect()
}
