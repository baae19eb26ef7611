//! `goclaw-memory-bench`: memory retrieval figures, measured in process on fresh databases
//! of either engine (no gateway involved).
//!
//! - `quality`: the labelled corpus of `goclaw-memory` written through `MemoryIndex` with the
//!   real embedding client against the fake LLM's `/v1/embeddings` (or, with
//!   `--embeddings-url`, any OpenAI-compatible embeddings API); recall@5 and MRR for full
//!   text, vectors and hybrid ([`quality`]).
//! - `search`: hybrid `memory_search` over 100,000 synthetic chunks: ingest rate, then p50/p99
//!   latency of hybrid, full-text-only and vector-only searches ([`search`]), and the recall
//!   of the store's vector search against an exact scan ([`exact`]).
//!
//! PostgreSQL databases are created on `GOCLAW_TEST_POSTGRES_DSN` and dropped afterwards, unless
//! `--keep-postgres NAME` names one to keep and reuse: `search` then writes only the chunks it
//! does not find there, so a later run measures searches without another ingest.

pub mod exact;
mod kept;
pub mod quality;
pub mod search;
pub mod synthetic;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use goclaw_core::{AgentId, AgentKey, MASTER_TENANT_ID, NewAgent, Store, StoreBackend};
use goclaw_store::testing::{POSTGRES_DSN_ENV, TestDatabase, postgres_test_dsn};

/// Measures memory retrieval: quality on the labelled corpus, latency over many chunks.
#[derive(Debug, Parser)]
#[command(name = "goclaw-memory-bench")]
pub struct Options {
    /// Which store(s) to run on; PostgreSQL needs GOCLAW_TEST_POSTGRES_DSN (an admin DSN the
    /// bench creates and drops databases on).
    #[arg(long, value_enum, default_value_t = Backends::Both, global = true)]
    pub backend: Backends,
    /// Keep the PostgreSQL database as `goclaw_bench_memory_NAME` and reuse it when it exists
    /// (drop it by hand when done). A reused database is not written to again, so its ingest
    /// rate is not measured.
    #[arg(long, value_name = "NAME", value_parser = kept_name, global = true)]
    pub keep_postgres: Option<String>,
    #[command(subcommand)]
    pub measure: Measure,
}

#[derive(Debug, Subcommand)]
pub enum Measure {
    /// Recall@5 and MRR of full text, vectors and hybrid on the labelled corpus.
    Quality(quality::QualityOptions),
    /// Ingest rate and search latency over many chunks.
    Search(search::SearchLoad),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Backends {
    Sqlite,
    Postgres,
    Both,
}

impl Backends {
    fn list(self) -> Vec<StoreBackend> {
        match self {
            Self::Sqlite => vec![StoreBackend::Sqlite],
            Self::Postgres => vec![StoreBackend::Postgres],
            Self::Both => vec![StoreBackend::Sqlite, StoreBackend::Postgres],
        }
    }
}

/// The whole program.
pub fn main() -> ExitCode {
    let options = Options::parse();
    let result = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")
        .and_then(|rt| rt.block_on(run(options)));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("goclaw-memory-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(options: Options) -> Result<()> {
    println!(
        "# goclaw-memory-bench: {}",
        std::env::args().collect::<Vec<_>>().join(" ")
    );
    for backend in options.backend.list() {
        let admin = (backend == StoreBackend::Postgres)
            .then(postgres_test_dsn)
            .flatten();
        if backend == StoreBackend::Postgres && admin.is_none() {
            println!("\n{backend:?}: skipped, {POSTGRES_DSN_ENV} is not set");
            continue;
        }
        let db = match (&options.keep_postgres, admin) {
            (Some(name), Some(admin)) if backend == StoreBackend::Postgres => {
                Database::Kept(kept::open_kept(&admin, name).await?)
            }
            _ => Database::Fresh(
                TestDatabase::migrated(backend)
                    .await
                    .context("a fresh database")?,
            ),
        };
        println!("\n## {backend:?}\n");
        if let Some(buffers) = db.opened().shared_buffers().await? {
            println!("server: shared_buffers = {buffers}\n");
        }
        match &options.measure {
            Measure::Quality(quality_options) => quality::run(db.store(), quality_options).await?,
            Measure::Search(search) => search::run(db.store(), search).await?,
        }
    }
    Ok(())
}

/// The database one backend's measures run on.
enum Database {
    /// Dropped when the run ends.
    Fresh(TestDatabase),
    /// Named by `--keep-postgres`, left in place.
    Kept(goclaw_store::OpenedStore),
}

impl Database {
    fn opened(&self) -> &goclaw_store::OpenedStore {
        match self {
            Self::Fresh(db) => db.opened(),
            Self::Kept(opened) => opened,
        }
    }

    fn store(&self) -> Arc<dyn Store> {
        self.opened().store()
    }
}

/// A `--keep-postgres` name: it becomes part of a database name.
fn kept_name(raw: &str) -> Result<String, String> {
    let valid = !raw.is_empty()
        && raw.len() <= 32
        && raw
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if valid {
        Ok(raw.to_owned())
    } else {
        Err("1 to 32 of a-z, 0-9 and _".to_owned())
    }
}

/// The agent of the master tenant whose shared memory the bench fills: created, or found in a
/// kept database.
pub(crate) async fn agent(store: &Arc<dyn Store>) -> Result<AgentId> {
    let key = AgentKey::parse("memory-bench").context("agent key")?;
    if let Ok(agent) = store.agents().get_by_key(MASTER_TENANT_ID, &key).await {
        return Ok(agent.id);
    }
    Ok(store
        .agents()
        .create(NewAgent::new(MASTER_TENANT_ID, key, "Memory bench"))
        .await
        .context("creating the agent")?
        .id)
}
