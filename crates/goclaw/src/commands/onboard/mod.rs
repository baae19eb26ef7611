//! `goclaw onboard [--non-interactive]`: first-time setup. Chooses the database (SQLite, or
//! PostgreSQL by DSN), an optional provider key and the bind address; generates
//! `GOCLAW_ENCRYPTION_KEY` and `GOCLAW_GATEWAY_TOKEN` when neither the environment nor the env
//! file has them; connects, migrates, checks the key against stored secrets and seeds the
//! default agent; then completes the env file (0600, existing values kept) and, when there is
//! none yet, writes a config.json without secrets. Generated secrets are printed once.

mod env_file;
mod prompt;

use std::path::Path;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use goclaw_config::{DEFAULT_PROVIDER, Environment, ProvidersConfig, Secret};
use goclaw_core::{AgentKey, AgentPatch, MASTER_TENANT_ID, NewAgent, Store, StoreError};
use goclaw_store::{MigrationInfo, SchemaState};
use serde_json::json;

use crate::cli::OnboardArgs;
use crate::database;
use prompt::{Answers, TerminalPrompter};

const KEY_VAR: &str = "GOCLAW_ENCRYPTION_KEY";
const TOKEN_VAR: &str = "GOCLAW_GATEWAY_TOKEN";
const DSN_VAR: &str = "GOCLAW_POSTGRES_DSN";

/// How long onboarding waits for the database to answer.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

pub async fn run(
    explicit: Option<&Path>,
    env: &Environment,
    args: &OnboardArgs,
) -> anyhow::Result<ExitCode> {
    let saved = env_file::read(&args.env_file)?;
    // The environment first, then what an earlier run wrote.
    let known = |var: &str| -> Option<String> {
        env.get(var)
            .map(str::to_owned)
            .or_else(|| saved.get(var).filter(|v| !v.is_empty()).cloned())
    };
    let providers = provider_names();
    let provider = args.provider.clone().or_else(|| known("GOCLAW_PROVIDER"));
    let defaults = Answers {
        postgres_dsn: args.postgres_dsn.clone().or_else(|| known(DSN_VAR)),
        api_key: args
            .api_key
            .clone()
            .or_else(|| provider.as_deref().and_then(|p| known(&key_var(p)))),
        provider,
        host: args
            .host
            .clone()
            .or_else(|| known("GOCLAW_HOST"))
            .unwrap_or_else(|| "127.0.0.1".to_owned()),
    };
    let answers = if args.non_interactive {
        defaults
    } else {
        if !dialoguer::console::Term::stderr().is_term() {
            bail!(
                "no terminal to ask questions on: run `goclaw onboard --non-interactive` with flags"
            );
        }
        prompt::ask(&mut TerminalPrompter, defaults, &providers)?
    };
    if let Some(provider) = &answers.provider
        && !providers.contains(&provider.as_str())
    {
        bail!(
            "unknown provider {provider:?}; one of: {}",
            providers.join(", ")
        );
    }
    if answers.host.is_empty() {
        bail!("the bind address must not be empty");
    }

    let mut generated = Vec::new();
    let key = match known(KEY_VAR) {
        Some(key) => {
            crate::secrets::parse_key(KEY_VAR, &Secret::new(key.clone()))?;
            key
        }
        None => {
            let key = random_hex();
            generated.push((KEY_VAR, key.clone()));
            key
        }
    };
    let token = match known(TOKEN_VAR) {
        Some(token) => token,
        None => {
            let token = random_hex();
            generated.push((TOKEN_VAR, token.clone()));
            token
        }
    };

    let mut pairs: Vec<(String, String)> =
        vec![(KEY_VAR.to_owned(), key), (TOKEN_VAR.to_owned(), token)];
    match &answers.postgres_dsn {
        Some(dsn) => pairs.push((DSN_VAR.to_owned(), dsn.clone())),
        None if env.get(DSN_VAR).is_some() || saved.contains_key(DSN_VAR) => {
            pairs.push(("GOCLAW_STORAGE_BACKEND".to_owned(), "sqlite".to_owned()));
        }
        None => {}
    }
    if let (Some(provider), Some(api_key)) = (&answers.provider, &answers.api_key) {
        pairs.push((key_var(provider), api_key.clone()));
    }
    for (var, value) in &pairs {
        if saved.get(var).is_some_and(|old| old != value) {
            println!(
                "Note: {var} given here differs from the one in {}; the file's value is kept \
                 and used.",
                args.env_file.display()
            );
        }
    }
    // As the gateway will see it once the env file is loaded.
    let run_env = env
        .with_vars(pairs.iter().cloned())
        .with_vars(saved.iter().map(|(k, v)| (k.clone(), v.clone())));
    let loaded = goclaw_config::load(explicit, &run_env).context("invalid configuration")?;

    prepare_database(&loaded).await?;

    let written = env_file::merge(&args.env_file, &pairs)?;
    let config_written = write_config(&loaded.path, &answers)?;
    report(
        args,
        &answers,
        &generated,
        &written,
        config_written,
        &loaded.path,
    );
    Ok(ExitCode::SUCCESS)
}

fn provider_names() -> Vec<&'static str> {
    ProvidersConfig::default()
        .api_providers()
        .iter()
        .map(|(name, _)| *name)
        .collect()
}

fn key_var(provider: &str) -> String {
    format!("GOCLAW_{}_API_KEY", provider.to_ascii_uppercase())
}

/// 32 random bytes, hex-encoded: 64 characters.
fn random_hex() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

/// Connects, applies pending migrations, checks the encryption key against the secrets the
/// database already holds and makes sure the default agent exists.
async fn prepare_database(loaded: &goclaw_config::LoadedConfig) -> anyhow::Result<()> {
    let runtime = &loaded.runtime;
    println!("Database: {}", database::describe(runtime));
    if let Some(parent) = runtime.database.sqlite_path.parent()
        && runtime.database.backend == goclaw_config::StorageBackend::Sqlite
    {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let opened = tokio::time::timeout(CONNECT_TIMEOUT, database::open(runtime))
        .await
        .map_err(|_| anyhow::anyhow!("the database did not answer within 10 s"))??;
    println!("  connection OK");
    let migrator = opened.migrator();
    let status = migrator
        .status()
        .await
        .context("cannot read the schema version")?;
    match status.state {
        SchemaState::UpToDate => println!("  schema up to date (version {})", status.required),
        SchemaState::Dirty => bail!(
            "the schema is DIRTY at version {}: check the database, then `goclaw migrate force <version>`",
            status.current.unwrap_or(0)
        ),
        SchemaState::BinaryTooOld => bail!(
            "the schema (version {}) is newer than this binary supports ({})",
            status.current.unwrap_or(0),
            status.required
        ),
        SchemaState::UpgradeNeeded { .. } => {
            if opened.backend() == goclaw_core::StoreBackend::Sqlite && status.current.is_some() {
                let backup = database::backup_path(&runtime.database.sqlite_path);
                goclaw_store::backup_sqlite(&opened, &backup)
                    .await
                    .with_context(|| {
                        format!("cannot back up the database to {}", backup.display())
                    })?;
                println!("  backed up to {}", backup.display());
            }
            let mut applied = 0;
            migrator
                .up(|_: &MigrationInfo, _| applied += 1)
                .await
                .context("schema migration failed")?;
            println!(
                "  applied {applied} migrations ({})",
                database::transition(&status)
            );
        }
    }
    let store = opened.store();
    crate::secrets::check_encryption_key(store.as_ref(), runtime.encryption_key.as_ref()).await?;
    let created = ensure_default_agent(store.as_ref()).await?;
    println!(
        "  default agent {}",
        if created {
            "created"
        } else {
            "already present"
        }
    );
    opened.close().await;
    Ok(())
}

/// The same rule as the runtime's `ensure_default_agent`, without starting a runtime: the
/// master tenant gets the agent `default` unless it already has a default agent. Returns
/// whether it was created.
async fn ensure_default_agent(store: &dyn Store) -> anyhow::Result<bool> {
    let agents = store.agents();
    if agents.get_default(MASTER_TENANT_ID).await?.is_some() {
        return Ok(false);
    }
    let key = AgentKey::parse(goclaw_agent::DEFAULT_AGENT_KEY)
        .map_err(|e| anyhow::anyhow!("default agent key: {e}"))?;
    let mark_default = AgentPatch {
        is_default: Some(true),
        ..AgentPatch::default()
    };
    match agents.get_by_key(MASTER_TENANT_ID, &key).await {
        Ok(_) => {
            agents.update(MASTER_TENANT_ID, &key, mark_default).await?;
            return Ok(false);
        }
        Err(StoreError::NotFound(_)) => {}
        Err(error) => return Err(error.into()),
    }
    let mut agent = NewAgent::new(MASTER_TENANT_ID, key.clone(), "Default Agent");
    agent.is_default = true;
    match agents.create(agent).await {
        Ok(_) => Ok(true),
        Err(StoreError::Conflict(_)) => {
            agents.update(MASTER_TENANT_ID, &key, mark_default).await?;
            Ok(false)
        }
        Err(error) => Err(error.into()),
    }
}

/// Writes a config.json with the non-secret answers when there is none yet; an existing file
/// is never rewritten (it may hold comments and choices of its own).
fn write_config(path: &Path, answers: &Answers) -> anyhow::Result<bool> {
    if path.exists() {
        return Ok(false);
    }
    let mut config = json!({ "gateway": { "host": answers.host } });
    if let Some(provider) = answers
        .provider
        .as_deref()
        .filter(|p| *p != DEFAULT_PROVIDER)
    {
        config["agents"] = json!({ "defaults": { "provider": provider } });
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    let text = serde_json::to_string_pretty(&config).context("cannot render config.json")?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("cannot write {}", path.display()))?;
    Ok(true)
}

fn report(
    args: &OnboardArgs,
    answers: &Answers,
    generated: &[(&str, String)],
    written: &[String],
    config_written: bool,
    config_path: &Path,
) {
    let env_path = args.env_file.display();
    println!();
    if written.is_empty() {
        println!("{env_path}: already complete, nothing changed");
    } else {
        println!("{env_path}: wrote {} (mode 0600)", written.join(", "));
    }
    if config_written {
        println!("{}: written (no secrets)", config_path.display());
    } else if answers.host != "127.0.0.1" {
        println!(
            "{}: exists and was left as it is; set gateway.host to {:?} there if needed",
            config_path.display(),
            answers.host
        );
    }
    if answers.provider.is_some() && answers.api_key.is_none() {
        println!("No API key given: set it in {env_path} or add the provider in the dashboard.");
    }
    if !generated.is_empty() {
        println!();
        println!("Generated secrets (shown only this once):");
        for (var, value) in generated {
            println!("  {var}={value}");
        }
        if generated.iter().any(|(var, _)| *var == KEY_VAR) {
            println!(
                "WARNING: back up {KEY_VAR} in a secrets manager now. Losing it means losing \
                 every API key stored encrypted in the database."
            );
        }
    }
    let dot = if args.env_file.is_absolute() || args.env_file.starts_with(".") {
        env_path.to_string()
    } else {
        format!("./{env_path}")
    };
    println!();
    println!("Next:");
    println!("  set -a; . {dot}; set +a    # or: source {env_path} with auto-export");
    println!("  goclaw doctor");
    println!("  goclaw");
}
