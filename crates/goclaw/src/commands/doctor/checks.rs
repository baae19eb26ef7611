//! The plain doctor's sections: runtime, config file, database, provider keys, external tools,
//! sandbox, memory and workspace directories (channels are in `channels.rs`, MCP servers in
//! `mcp.rs`).

use goclaw_config::{LoadedConfig, Secret, StorageBackend};
use goclaw_core::PROTOCOL_VERSION;
use goclaw_store::SchemaState;

use super::probe::{self, DatabaseProbe};
use super::{Check, ConfigState, Section, Status};

/// Every section of `goclaw doctor`, in the order they print.
pub async fn all(state: &ConfigState) -> Vec<Section> {
    let loaded = &state.loaded;
    let db = probe::database(loaded).await;
    // One Memory section: the embedding provider, then episodic memory.
    let mut memory = memory(loaded, &db).await;
    memory
        .checks
        .extend(super::memory::section(loaded).await.checks);
    let sections = vec![
        runtime(loaded),
        config(state),
        database(loaded, &db),
        providers(loaded),
        memory,
        super::channels::section(loaded, &db).await,
        tools().await,
        super::mcp::section(loaded).await,
        super::sandbox::section(loaded).await,
        workspace(loaded),
    ];
    if let Some(opened) = &db.opened {
        opened.close().await;
    }
    sections
}

fn runtime(loaded: &LoadedConfig) -> Section {
    const S: &str = "runtime";
    Section::new(
        "Runtime",
        vec![
            Check::ok(S, "version", crate::version_line()),
            Check::ok(S, "protocol", PROTOCOL_VERSION.to_string()),
            Check::ok(
                S,
                "platform",
                format!("{}/{}", std::env::consts::OS, std::env::consts::ARCH),
            ),
            Check::ok(S, "pid", std::process::id().to_string()),
            Check::ok(S, "data dir", loaded.config.data_dir.display().to_string()),
        ],
    )
}

fn config(state: &ConfigState) -> Section {
    const S: &str = "config";
    let loaded = &state.loaded;
    let path = loaded.path.display().to_string();
    let mut checks = vec![if loaded.file_found || state.error.is_some() {
        Check::ok(S, "file", format!("{path} (found)"))
    } else {
        Check::ok(
            S,
            "file",
            format!("{path} (not found: defaults and environment only)"),
        )
    }];
    checks.push(match &state.error {
        None => Check::ok(S, "validation", "valid"),
        Some(error) => Check::fail(S, "validation", error.to_string())
            .fix("correct the file (`goclaw config validate` shows the same error)"),
    });
    for warning in &loaded.warnings {
        checks.push(
            Check::warn(S, warning.path.clone(), warning.message.clone())
                .fix("remove or correct the key in config.json"),
        );
    }
    Section::new("Config file", checks)
}

fn database(loaded: &LoadedConfig, db: &DatabaseProbe) -> Section {
    const S: &str = "database";
    let backend = match db.backend {
        StorageBackend::Sqlite => "sqlite",
        StorageBackend::Postgres => "postgres",
    };
    let mut checks = vec![Check::ok(
        S,
        "backend",
        format!("{backend}: {}", db.describe),
    )];
    if db.not_created {
        checks.push(
            Check::warn(S, "connection", "the SQLite file does not exist yet")
                .fix("run `goclaw onboard` (or start goclaw, which creates it)"),
        );
        return Section::new("Database", checks);
    }
    if let Some(error) = &db.error {
        checks.push(Check::fail(S, "connection", error.clone()).fix(match db.backend {
            StorageBackend::Postgres => {
                "check GOCLAW_POSTGRES_DSN and that the server is up (PostgreSQL 15+ with pgvector)"
            }
            StorageBackend::Sqlite => "check GOCLAW_SQLITE_PATH and its directory's permissions",
        }));
    } else {
        checks.push(Check::ok(S, "connection", "OK"));
    }
    if let Some(info) = &db.info {
        checks.push(Check::ok(S, "server version", info.version.clone()));
        let vector = match (&info.vector_version, db.backend) {
            (Some(v), StorageBackend::Postgres) => Check::ok(S, "pgvector", v.clone()),
            (None, StorageBackend::Postgres) => {
                Check::warn(S, "pgvector", "the vector extension is not created yet")
                    .fix("run `goclaw upgrade` (the first migration creates it)")
            }
            (Some(v), StorageBackend::Sqlite) => Check::ok(S, "sqlite-vec", v.clone()),
            (None, StorageBackend::Sqlite) => Check::warn(S, "sqlite-vec", "not loaded"),
        };
        checks.push(vector);
    }
    if let Some(status) = &db.status {
        let label = super::super::upgrade::state_label(status);
        let detail = format!(
            "{label} (current {}, required {}, {} pending)",
            status
                .current
                .map_or_else(|| "none".to_owned(), |v| v.to_string()),
            status.required,
            status.pending.len()
        );
        checks.push(match status.state {
            SchemaState::UpToDate => Check::ok(S, "schema", detail),
            // SQLite, and PostgreSQL with GOCLAW_AUTO_UPGRADE=true, migrate at start-up.
            SchemaState::UpgradeNeeded { .. }
                if db.backend == StorageBackend::Sqlite || loaded.runtime.auto_upgrade =>
            {
                Check::warn(S, "schema", detail)
                    .fix("run `goclaw upgrade` (goclaw would also upgrade at start-up)")
            }
            SchemaState::UpgradeNeeded { .. } => {
                Check::fail(S, "schema", detail).fix("run `goclaw upgrade`")
            }
            SchemaState::BinaryTooOld => {
                Check::fail(S, "schema", detail).fix("upgrade the goclaw binary")
            }
            SchemaState::Dirty => Check::fail(S, "schema", detail).fix(
                "check the database, then `goclaw migrate force <version>` and `goclaw upgrade`",
            ),
        });
    }
    Section::new("Database", checks)
}

fn providers(loaded: &LoadedConfig) -> Section {
    const S: &str = "providers";
    let mut checks: Vec<Check> = loaded
        .config
        .providers
        .api_providers()
        .into_iter()
        .filter(|(_, p)| p.is_configured())
        .map(|(name, p)| Check::ok(S, name, masked(p.api_key.as_ref())))
        .collect();
    if checks.is_empty() {
        checks.push(
            Check::warn(S, "api keys", "no LLM provider API key configured").fix(
                "set e.g. GOCLAW_ANTHROPIC_API_KEY or GOCLAW_OPENAI_API_KEY, or add a provider \
                 through the dashboard",
            ),
        );
    }
    Section::new("Provider keys", checks)
}

/// Which provider memory embeds with, chosen as the gateway chooses it at start-up.
async fn memory(loaded: &LoadedConfig, db: &DatabaseProbe) -> Section {
    const S: &str = "memory";
    const FIX: &str = "set the system config embedding.provider (PUT \
                       /v1/system-configs/embedding.provider) or enable embedding in a stored \
                       provider's settings ({\"embedding\":{\"enabled\":true}})";
    let up_to_date = db
        .status
        .as_ref()
        .is_some_and(|status| matches!(status.state, SchemaState::UpToDate));
    let Some(opened) = db.opened.as_ref().filter(|_| up_to_date) else {
        return Section::new(
            "Memory",
            vec![Check::warn(
                S,
                "embedding",
                "not checked: the database is not readable or not up to date",
            )],
        );
    };
    let store = opened.store();
    let defaults = &loaded.config.agents.defaults.memory;
    let chosen = crate::embedding::choose(store.as_ref(), &loaded.config.providers, defaults).await;
    let mut checks = Vec::new();
    match chosen {
        Err(error) => checks.push(Check::fail(S, "embedding", error.to_string())),
        Ok(chosen) => {
            checks.push(match &chosen.choice {
                Some(choice) => Check::ok(
                    S,
                    "embedding",
                    format!(
                        "{} {} at {} (from {})",
                        choice.provider,
                        choice.model,
                        choice.base_url,
                        choice.source.describe()
                    ),
                ),
                None => Check::warn(
                    S,
                    "embedding",
                    "no embedding provider: memory is searched by full text only",
                )
                .fix(FIX),
            });
            for skipped in &chosen.skipped {
                checks.push(
                    Check::warn(
                        S,
                        format!("embedding provider {}", skipped.provider),
                        format!("not usable: {}", skipped.reason),
                    )
                    .fix(FIX),
                );
            }
        }
    }
    Section::new("Memory", checks)
}

/// `abcd****wxyz`, or `(empty)`.
pub fn masked(secret: Option<&Secret>) -> String {
    match secret.filter(|s| !s.is_empty()) {
        Some(secret) => secret.masked(),
        None => "(empty)".to_owned(),
    }
}

async fn tools() -> Section {
    const S: &str = "tools";
    let mut checks = Vec::new();
    for program in ["docker", "curl", "git"] {
        checks.push(match probe::program_version(program).await {
            Some(version) => Check::ok(S, program, version),
            None => Check::new(S, program, Status::Warn, "not found (informational)"),
        });
    }
    Section::new("External tools", checks)
}

fn workspace(loaded: &LoadedConfig) -> Section {
    const S: &str = "workspace";
    let config = &loaded.config;
    let mut dirs = vec![
        ("data_dir".to_owned(), config.data_dir.clone()),
        (
            "agents.defaults.workspace".to_owned(),
            config.agents.defaults.workspace.clone(),
        ),
    ];
    for (id, spec) in &config.agents.list {
        if let Some(workspace) = &spec.workspace {
            dirs.push((format!("agents.list.{id}.workspace"), workspace.clone()));
        }
    }
    let checks = dirs
        .into_iter()
        .map(|(name, dir)| {
            let shown = dir.display().to_string();
            match probe::writable_dir(&dir) {
                Ok(true) => Check::ok(S, name, format!("{shown} (exists, writable)")),
                Ok(false) => Check::ok(S, name, format!("{shown} (missing, will be created)")),
                Err(reason) => Check::fail(S, name, format!("{shown} {reason}"))
                    .fix("create the directory and make it writable by the goclaw user"),
            }
        })
        .collect();
    Section::new("Workspace", checks)
}
