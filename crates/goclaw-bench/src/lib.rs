//! `goclaw-bench`: the benchmark instrument of DESIGN.md §7. It builds and starts the release
//! `goclaw serve` as a separate process against a fresh SQLite or PostgreSQL database, points it
//! at an in-process fake LLM on loopback, and prints throughput, gateway overhead, CPU per turn,
//! memory, start-up, soak and binary-size figures next to their budgets. Benchmarks print
//! numbers; no test asserts a time. See docs/benchmarks.md.
#![forbid(unsafe_code)]

pub mod database;
pub mod floor;
pub mod idle;
pub mod load;
pub mod memory;
pub mod open_loop;
pub mod process;
pub mod report;
pub mod scenarios;

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, ValueEnum};

/// Benchmarks the release gateway against a fake LLM and prints a table of figures.
#[derive(Debug, Parser)]
#[command(name = "goclaw-bench")]
pub struct Options {
    /// Which store(s) to run on; PostgreSQL needs GOCLAW_BENCH_POSTGRES_DSN or
    /// GOCLAW_TEST_POSTGRES_DSN (an admin DSN the bench creates and drops databases on).
    #[arg(long, value_enum, default_value_t = BackendChoice::Both)]
    pub backend: BackendChoice,
    /// Smaller counts and shorter runs everywhere, for a smoke run (about a minute per backend).
    #[arg(long)]
    pub quick: bool,
    /// Scenarios to run (comma-separated); all when not given.
    #[arg(long, value_enum, value_delimiter = ',')]
    pub scenario: Vec<Scenario>,
    /// Soak duration in seconds (default 60, 10 with --quick; 1800 for the 30-minute budget).
    #[arg(long)]
    pub soak_secs: Option<u64>,
    /// Soak load in turns per second.
    #[arg(long, default_value_t = 200)]
    pub soak_rate: u64,
    /// Offered load of the open-loop scenario, in turns per second (64 sessions).
    #[arg(long, default_value_t = 500)]
    pub open_rate: u64,
    /// How long the open-loop scenario offers its load per transport, in seconds (default 5,
    /// 2 with --quick).
    #[arg(long)]
    pub open_secs: Option<u64>,
    /// Stored turns before the second history measurement (default 10000, 2000 with --quick;
    /// the budget is stated at 100000).
    #[arg(long)]
    pub history_turns: Option<u64>,
    /// Idle WebSocket clients (default 10000, 1000 with --quick).
    #[arg(long)]
    pub idle_clients: Option<usize>,
    /// Turns per row of the turns and floor scenarios (default 2000, 300 with --quick).
    #[arg(long)]
    pub row_turns: Option<u64>,
    /// Longest a row may run, in seconds (default 6, 2 with --quick).
    #[arg(long)]
    pub row_secs: Option<u64>,
    /// Cold starts to take the median of (default 20, 5 with --quick).
    #[arg(long)]
    pub starts: Option<usize>,
    /// The gateway binary; by default target/release/goclaw, built first with
    /// `cargo build --release -p goclaw`.
    #[arg(long)]
    pub goclaw: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BackendChoice {
    Sqlite,
    Postgres,
    Both,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Scenario {
    Turns,
    /// Fixed-rate arrivals (`--open-rate`) over HTTP and WebSocket: overhead below saturation.
    Open,
    History,
    Start,
    Idle,
    Soak,
    Binary,
    Floor,
}

/// The whole program: the bench, or the floor server when started as `__floor`.
pub fn main() -> ExitCode {
    let argv: Vec<String> = std::env::args().collect();
    let result = match argv.get(1).map(String::as_str) {
        // The floor program runs as a child of the bench, measured like the gateway.
        Some("__floor") => runtime().and_then(|rt| {
            let database = argv
                .get(2)
                .context("__floor <database-url> <fake-base-url>")?;
            let fake = argv
                .get(3)
                .context("__floor <database-url> <fake-base-url>")?;
            rt.block_on(floor::serve(database, fake))
        }),
        _ => {
            let options = Options::parse();
            runtime().and_then(|rt| rt.block_on(scenarios::run(options, argv.join(" "))))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("goclaw-bench: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the tokio runtime")
}
