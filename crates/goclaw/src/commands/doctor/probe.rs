//! What the doctor learns by looking rather than by reading the config: the database (connection,
//! engine versions, schema status, `max_connections`), the secrets written into the config file
//! itself, and the external programs on `PATH`.

use std::path::Path;
use std::time::Duration;

use goclaw_config::{ConfigError, Environment, LoadedConfig, StorageBackend};
use goclaw_store::{OpenedStore, SchemaStatus, ServerInfo};
use serde_json::Value;

/// How long the doctor waits for the database before calling it unreachable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The database as found.
pub struct DatabaseProbe {
    pub backend: StorageBackend,
    /// What the database is, without secrets.
    pub describe: String,
    /// The SQLite file does not exist yet (nothing was opened, nothing created).
    pub not_created: bool,
    /// Why it could not be opened or read.
    pub error: Option<String>,
    pub opened: Option<OpenedStore>,
    pub info: Option<ServerInfo>,
    pub status: Option<SchemaStatus>,
    pub max_connections: Option<u32>,
    /// The vault tables the live schema lacks; `None` when it could not be read.
    pub missing_vault_tables: Option<Vec<String>>,
}

pub async fn database(loaded: &LoadedConfig) -> DatabaseProbe {
    let runtime = &loaded.runtime;
    let mut probe = DatabaseProbe {
        backend: runtime.database.backend,
        describe: crate::database::describe(runtime),
        not_created: false,
        error: None,
        opened: None,
        info: None,
        status: None,
        max_connections: None,
        missing_vault_tables: None,
    };
    if runtime.database.backend == StorageBackend::Sqlite && !runtime.database.sqlite_path.exists()
    {
        probe.not_created = true;
        return probe;
    }
    let opened = match tokio::time::timeout(CONNECT_TIMEOUT, crate::database::open(runtime)).await {
        Ok(Ok(opened)) => opened,
        Ok(Err(error)) => {
            probe.error = Some(crate::one_line(&error));
            return probe;
        }
        Err(_) => {
            probe.error = Some(format!("no answer within {}s", CONNECT_TIMEOUT.as_secs()));
            return probe;
        }
    };
    match opened.server_info().await {
        Ok(info) => probe.info = Some(info),
        Err(error) => probe.error = Some(format!("cannot read the server version: {error}")),
    }
    match opened.migrator().status().await {
        Ok(status) => probe.status = Some(status),
        Err(error) => probe.error = Some(format!("cannot read the schema version: {error}")),
    }
    if let Ok(max) = opened.max_connections().await {
        probe.max_connections = max;
    }
    probe.missing_vault_tables = opened.missing_tables(&super::vault::TABLES).await.ok();
    probe.opened = Some(opened);
    probe
}

/// What the config file itself holds, read without the environment: secrets written into it
/// (by key path) and process-level secrets the loader refuses outright.
pub struct FileSecrets {
    /// Dotted key paths of secret values in the file.
    pub paths: Vec<String>,
    /// A DSN or encryption key in the file: its key path and the variable that must carry it.
    pub refused: Option<(String, &'static str)>,
    /// The file has a `database` section (ignored by the loader).
    pub database_keys: Vec<String>,
}

pub fn file_secrets(
    loaded: &LoadedConfig,
    error: Option<&ConfigError>,
    env: &Environment,
) -> FileSecrets {
    let mut found = FileSecrets {
        paths: Vec::new(),
        refused: None,
        database_keys: loaded
            .warnings
            .iter()
            .filter(|w| w.path == "database" || w.path.starts_with("database."))
            .map(|w| w.path.clone())
            .collect(),
    };
    if let Some(ConfigError::SecretInFile { path, env_var, .. }) = error {
        found.refused = Some((path.clone(), env_var));
    }
    let Ok(text) = std::fs::read_to_string(&loaded.path) else {
        return found;
    };
    // The file alone: only HOME, so `~` expands as usual and no GOCLAW_* value is mixed in.
    let home: Vec<(&str, &str)> = env.get("HOME").map(|h| ("HOME", h)).into_iter().collect();
    let Ok(file_only) =
        goclaw_config::load_str(&text, &loaded.path, &Environment::from_pairs(home))
    else {
        return found;
    };
    // Where the masked view differs from the plain one, the schema says there is a secret.
    let plain = serde_json::to_value(&file_only.config).unwrap_or(Value::Null);
    let masked = file_only.masked_json();
    diff_paths(&plain, &masked, "", &mut found.paths);
    found
}

fn diff_paths(plain: &Value, masked: &Value, path: &str, out: &mut Vec<String>) {
    match (plain, masked) {
        (Value::Object(a), Value::Object(b)) => {
            for (key, value) in a {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if let Some(other) = b.get(key) {
                    diff_paths(value, other, &child, out);
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for (index, (x, y)) in a.iter().zip(b).enumerate() {
                diff_paths(x, y, &format!("{path}[{index}]"), out);
            }
        }
        (a, b) if a != b => out.push(path.to_owned()),
        _ => {}
    }
}

/// The first line of `program --version`, or `None` when it cannot be run.
pub async fn program_version(program: &str) -> Option<String> {
    let run = tokio::process::Command::new(program)
        .arg("--version")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(5), run)
        .await
        .ok()?
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let line = text.lines().next().unwrap_or("").trim().to_owned();
    Some(if line.is_empty() {
        "found".to_owned()
    } else {
        line
    })
}

/// Whether `dir` is (or could be created as) a writable directory: `Ok(true)` when it exists
/// and a file can be created in it, `Ok(false)` when it does not exist but its nearest existing
/// ancestor is writable, else the reason.
pub fn writable_dir(dir: &Path) -> Result<bool, String> {
    if dir.exists() {
        if !dir.is_dir() {
            return Err("exists but is not a directory".to_owned());
        }
        return try_write(dir).map(|()| true);
    }
    let mut ancestor = dir.parent();
    while let Some(candidate) = ancestor {
        if candidate.as_os_str().is_empty() {
            return try_write(Path::new(".")).map(|()| false);
        }
        if candidate.exists() {
            return try_write(candidate)
                .map(|()| false)
                .map_err(|e| format!("cannot be created: {} {e}", candidate.display()));
        }
        ancestor = candidate.parent();
    }
    Err("no existing parent directory".to_owned())
}

fn try_write(dir: &Path) -> Result<(), String> {
    let probe = dir.join(format!(".goclaw-doctor-{}", std::process::id()));
    match std::fs::File::create(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(())
        }
        Err(e) => Err(format!("is not writable ({e})")),
    }
}
