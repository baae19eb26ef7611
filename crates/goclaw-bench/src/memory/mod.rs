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
//! PostgreSQL databases are created on `GOCLAW_TEST_POSTGRES_DSN` and dropped afterwards.

pub mod exact;
pub mod quality;
pub mod search;
pub mod synthetic;

use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand, ValueEnum};
use goclaw_core::{AgentId, AgentKey, MASTER_TENANT_ID, NewAgent, Store, StoreBackend};
use goclaw_store::testing::{POSTGRES_DSN_ENV, TestDatabase};

/// Measures memory retrieval: quality on the labelled corpus, latency over many chunks.
#[derive(Debug, Parser)]
#[command(name = "goclaw-memory-bench")]
pub struct Options {
    /// Which store(s) to run on; PostgreSQL needs GOCLAW_TEST_POSTGRES_DSN (an admin DSN the
    /// bench creates and drops databases on).
    #[arg(long, value_enum, default_value_t = Backends::Both, global = true)]
    pub backend: Backends,
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
        let Some(db) = fresh_database(backend).await else {
            println!("\n{backend:?}: skipped, {POSTGRES_DSN_ENV} is not set");
            continue;
        };
        println!("\n## {backend:?}\n");
        match &options.measure {
            Measure::Quality(quality_options) => quality::run(&db, quality_options).await?,
            Measure::Search(search) => search::run(&db, search).await?,
        }
    }
    Ok(())
}

async fn fresh_database(backend: StoreBackend) -> Option<TestDatabase> {
    if backend == StoreBackend::Postgres
        && std::env::var(POSTGRES_DSN_ENV).map_or(true, |v| v.trim().is_empty())
    {
        return None;
    }
    TestDatabase::migrated(backend).await
}

/// A new agent of the master tenant, whose shared memory the bench fills.
pub(crate) async fn agent(store: &Arc<dyn Store>) -> Result<AgentId> {
    let key = AgentKey::parse("memory-bench").context("agent key")?;
    Ok(store
        .agents()
        .create(NewAgent::new(MASTER_TENANT_ID, key, "Memory bench"))
        .await
        .context("creating the agent")?
        .id)
}
