//! The scenarios and their order: per backend, idle memory on a fresh gateway, then turns
//! (instant and streaming profiles), the open loop and the soak on one gateway, cold starts on the database
//! that left behind, history growth on a fresh one, and the floor program last.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use goclaw_fake_llm::{FakeLlm, Reply};

use crate::database::{Backend, Database, postgres_admin_dsn};
use crate::load::{TURN_DEADLINE, Transport, run_turns};
use crate::open_loop::{OpenLoad, OpenOutcome, run_open};
use crate::process::{Launch, Server, stripped_size};
use crate::report::{Figure, Report, TurnRow, Verdict, mb, ms, slope};
use crate::{BackendChoice, Options, Scenario, idle};

/// Concurrent sessions of the turns scenario.
const SESSIONS: [usize; 4] = [1, 16, 64, 256];
/// Concurrent sessions of the streaming profile (each turn takes at least 250 ms there).
const STREAM_SESSIONS: [usize; 2] = [64, 256];
/// Session slots of the open-loop scenario.
const OPEN_SESSIONS: usize = 64;
/// Turns measured before and after the history fill.
const HISTORY_WINDOW: u64 = 1000;

/// Settings after `--quick` and the defaults are applied.
struct Settings {
    row_turns: u64,
    row_deadline: Duration,
    soak: Duration,
    soak_rate: u64,
    open_rate: u64,
    open: Duration,
    history_turns: u64,
    idle_clients: usize,
    starts: usize,
}

impl Settings {
    fn from(options: &Options) -> Self {
        let q = options.quick;
        Self {
            row_turns: options.row_turns.unwrap_or(if q { 300 } else { 2000 }),
            row_deadline: Duration::from_secs(options.row_secs.unwrap_or(if q { 2 } else { 6 })),
            soak: Duration::from_secs(options.soak_secs.unwrap_or(if q { 10 } else { 60 })),
            soak_rate: options.soak_rate,
            open_rate: options.open_rate,
            open: Duration::from_secs(options.open_secs.unwrap_or(if q { 2 } else { 5 })),
            history_turns: options
                .history_turns
                .unwrap_or(if q { 2000 } else { 10_000 }),
            idle_clients: options
                .idle_clients
                .unwrap_or(if q { 1000 } else { 10_000 }),
            starts: options.starts.unwrap_or(if q { 5 } else { 20 }),
        }
    }
}

/// What every step of one bench run shares.
struct Bench {
    settings: Settings,
    scenarios: Vec<Scenario>,
    goclaw: PathBuf,
    fake: FakeLlm,
    http: reqwest::Client,
    work: tempfile::TempDir,
    admin_dsn: Option<String>,
    report: Report,
    launches: u32,
}

/// Runs the selected scenarios and prints the tables.
pub async fn run(options: Options, command: String) -> Result<()> {
    let began = Instant::now();
    print_machine(&command);
    let settings = Settings::from(&options);
    let scenarios = if options.scenario.is_empty() {
        vec![
            Scenario::Binary,
            Scenario::Idle,
            Scenario::Turns,
            Scenario::Open,
            Scenario::Soak,
            Scenario::Start,
            Scenario::History,
            Scenario::Floor,
        ]
    } else {
        options.scenario.clone()
    };
    let goclaw = match &options.goclaw {
        Some(path) => path.clone(),
        None => build_gateway()?,
    };
    let fake = FakeLlm::start().await;
    fake.set_recording(false);
    let mut bench = Bench {
        settings,
        scenarios,
        goclaw,
        fake,
        http: reqwest::Client::builder()
            .pool_max_idle_per_host(1024)
            .build()?,
        work: tempfile::Builder::new().prefix("goclaw-bench-").tempdir()?,
        admin_dsn: postgres_admin_dsn(),
        report: Report::default(),
        launches: 0,
    };
    match idle::raise_fd_limit() {
        Ok(limit) => println!("open-file limit raised to {limit}"),
        Err(error) => bench
            .report
            .note(format!("could not raise the open-file limit: {error}")),
    }
    if bench.scenarios.contains(&Scenario::Binary) {
        bench.binary()?;
    }
    let backends: &[Backend] = match options.backend {
        BackendChoice::Sqlite => &[Backend::Sqlite],
        BackendChoice::Postgres => &[Backend::Postgres],
        BackendChoice::Both => &[Backend::Sqlite, Backend::Postgres],
    };
    for &backend in backends {
        if backend == Backend::Postgres && bench.admin_dsn.is_none() {
            bench.report.note("postgres skipped: set GOCLAW_BENCH_POSTGRES_DSN (or GOCLAW_TEST_POSTGRES_DSN); scripts/postgres.sh starts a server and prints its DSN");
            continue;
        }
        println!("\n== {backend} ==");
        bench.backend(backend).await?;
    }
    if bench.wants(Scenario::History) {
        bench.report.note(format!(
            "history: {} stored turns before the second window (budget stated at 100000; --history-turns N)",
            bench.settings.history_turns
        ));
    }
    bench.report.note(format!(
        "whole run took {:.0} s",
        began.elapsed().as_secs_f64()
    ));
    println!("\n## Results\n\n`{command}` on {} cores\n", cores());
    println!("{}", bench.report.render());
    Ok(())
}

impl Bench {
    fn wants(&self, scenario: Scenario) -> bool {
        self.scenarios.contains(&scenario)
    }

    async fn backend(&mut self, backend: Backend) -> Result<()> {
        if self.wants(Scenario::Idle) {
            self.idle(backend).await?;
        }
        let turns_db = self.database(backend, "turns").await?;
        if self.wants(Scenario::Turns) || self.wants(Scenario::Open) || self.wants(Scenario::Soak) {
            let server = self.gateway(&turns_db).await?;
            if self.wants(Scenario::Turns) {
                self.turn_rows(
                    backend,
                    "gateway",
                    &server,
                    &[Transport::Ws, Transport::Http],
                )
                .await?;
            }
            if self.wants(Scenario::Open) {
                for transport in [Transport::Http, Transport::Ws] {
                    self.open(backend, &server, transport).await?;
                }
            }
            if self.wants(Scenario::Soak) {
                self.soak(backend, &server).await?;
            }
            server.stop().await?;
        }
        if self.wants(Scenario::Start) {
            self.starts(backend, &turns_db).await?;
        }
        turns_db.remove().await?;
        if self.wants(Scenario::History) {
            self.history(backend).await?;
        }
        if self.wants(Scenario::Floor) {
            let db = self.database(backend, "floor").await?;
            let server = self.floor(&db).await?;
            self.turn_rows(backend, "floor", &server, &[Transport::Http])
                .await?;
            server.stop().await?;
            db.remove().await?;
        }
        Ok(())
    }

    async fn database(&self, backend: Backend, label: &str) -> Result<Database> {
        Database::fresh(backend, self.work.path(), self.admin_dsn.as_deref(), label).await
    }

    /// `goclaw serve` on `db`, rate limit, debounce and connection caps off, the fake as the
    /// Anthropic provider.
    fn gateway_launch(&mut self, db: &Database) -> Result<Launch> {
        self.launches += 1;
        let dir = self.work.path().join(format!("gateway-{}", self.launches));
        std::fs::create_dir_all(&dir)?;
        let config = dir.join("config.json");
        std::fs::write(
            &config,
            // The connection caps are off: the idle scenario alone holds 10,000 connections
            // from one address, and an open loop past saturation opens hundreds.
            r#"{ "gateway": { "rate_limit_rpm": 0, "inbound_debounce_ms": 0,
                 "max_connections": 0, "max_connections_per_ip": 0 } }"#,
        )?;
        let dir_s = dir.to_string_lossy().into_owned();
        let mut env: Vec<(String, String)> = vec![
            ("PATH".into(), std::env::var("PATH").unwrap_or_default()),
            ("HOME".into(), dir_s.clone()),
            ("GOCLAW_HOST".into(), "127.0.0.1".into()),
            ("GOCLAW_DATA_DIR".into(), dir_s.clone()),
            ("GOCLAW_WORKSPACE".into(), format!("{dir_s}/workspace")),
            (
                "GOCLAW_CONFIG".into(),
                config.to_string_lossy().into_owned(),
            ),
            ("GOCLAW_ANTHROPIC_API_KEY".into(), "x".into()),
            ("GOCLAW_ANTHROPIC_BASE_URL".into(), self.fake.base_url()),
        ];
        env.extend(db.gateway_env());
        Ok(Launch {
            program: self.goclaw.clone(),
            args: vec!["serve".into()],
            env,
            log: dir.join("gateway.log"),
        })
    }

    async fn gateway(&mut self, db: &Database) -> Result<Server> {
        let launch = self.gateway_launch(db)?;
        Server::start(&launch).await
    }

    async fn floor(&mut self, db: &Database) -> Result<Server> {
        let log = self.work.path().join("floor.log");
        let launch = Launch {
            program: std::env::current_exe().context("locating goclaw-bench")?,
            args: vec!["__floor".into(), db.url(), self.fake.base_url()],
            env: vec![("PATH".into(), std::env::var("PATH").unwrap_or_default())],
            log,
        };
        Server::start(&launch).await
    }

    /// The turn rows of one server: both profiles, every session count, each transport.
    async fn turn_rows(
        &mut self,
        backend: Backend,
        server_kind: &'static str,
        server: &Server,
        transports: &[Transport],
    ) -> Result<()> {
        let profiles: [(&'static str, Reply, &[usize]); 2] = [
            ("instant", Reply::text("Paris"), &SESSIONS),
            (
                "stream",
                Reply::tokens(50).chunk_delay(Duration::from_millis(5)),
                &STREAM_SESSIONS,
            ),
        ];
        for (profile, reply, sessions) in profiles {
            self.fake.set_default(reply);
            for &n in sessions {
                for &transport in transports {
                    let tag = format!("{backend}-{server_kind}-{profile}-{transport}-{n}");
                    let row = self
                        .turn_row(
                            backend,
                            server_kind,
                            profile,
                            server,
                            transport,
                            n,
                            self.settings.row_turns,
                            self.settings.row_deadline,
                            &tag,
                        )
                        .await?;
                    if profile == "instant" && n == 64 && server_kind == "gateway" {
                        self.turn_budgets(&row);
                    }
                    self.report.row(row);
                }
            }
        }
        self.fake.set_default(Reply::text("Paris"));
        Ok(())
    }

    /// The three budgets of a 64-session instant row, as figures.
    fn turn_budgets(&mut self, row: &TurnRow) {
        let what = |w: &str| format!("{w}, 64 sessions over {}", row.transport);
        let cpu = row.cpu_per_turn.unwrap_or_default();
        for (figure, value, budget, met) in [
            (
                "turns/s",
                format!("{:.0}", row.turns_per_sec),
                "≥ 1,000",
                row.turns_per_sec >= 1000.0,
            ),
            (
                "p99 gateway overhead",
                format!("{:.1} ms", ms(row.p99)),
                "≤ 5 ms",
                row.p99 <= Duration::from_millis(5),
            ),
            (
                "CPU per turn",
                format!("{:.2} ms", ms(cpu)),
                "≤ 1 ms",
                cpu <= Duration::from_millis(1),
            ),
        ] {
            self.report.figure(Figure {
                backend: row.backend.clone(),
                scenario: "turns",
                what: what(figure),
                value,
                budget: budget.into(),
                verdict: Verdict::of(met),
            });
        }
    }

    #[allow(clippy::too_many_arguments)]
    async fn turn_row(
        &self,
        backend: Backend,
        server_kind: &'static str,
        profile: &'static str,
        server: &Server,
        transport: Transport,
        sessions: usize,
        turns: u64,
        deadline: Duration,
        tag: &str,
    ) -> Result<TurnRow> {
        let (calls0, fake0) = self.fake.served();
        let cpu0 = server.cpu()?;
        let outcome = run_turns(
            &server.addr(),
            &self.http,
            transport,
            sessions,
            turns,
            deadline,
            tag,
        )
        .await?;
        let cpu = server.cpu()?.saturating_sub(cpu0);
        let (calls1, fake1) = self.fake.served();
        let calls = calls1 - calls0;
        let fake_time = (fake1 - fake0) / u32::try_from(calls.max(1)).unwrap_or(u32::MAX);
        if let Some(error) = &outcome.first_error {
            println!("note   {tag}: {} errors, first: {error}", outcome.errors);
        }
        Ok(TurnRow::new(
            &backend.to_string(),
            server_kind,
            profile,
            transport.to_string(),
            sessions,
            &outcome,
            fake_time,
            calls,
            Some(cpu),
        ))
    }

    fn binary(&mut self) -> Result<()> {
        let size = stripped_size(&self.goclaw)?;
        let budget = 25 * 1024 * 1024;
        self.report.figure(Figure {
            backend: "-".into(),
            scenario: "binary",
            what: "release binary, stripped".into(),
            value: format!("{:.1} MB", mb(size)),
            budget: "≤ 25 MB".into(),
            verdict: Verdict::of(size <= budget),
        });
        Ok(())
    }

    async fn idle(&mut self, backend: Backend) -> Result<()> {
        let db = self.database(backend, "idle").await?;
        let server = self.gateway(&db).await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let rss = server.rss()?;
        self.report.figure(Figure {
            backend: backend.to_string(),
            scenario: "idle",
            what: "RSS after start".into(),
            value: format!("{:.1} MB", mb(rss)),
            budget: "≤ 15 MB".into(),
            verdict: Verdict::of(rss <= 15 * 1024 * 1024),
        });
        let wanted = self.settings.idle_clients;
        let began = Instant::now();
        let (clients, refusal) = idle::connect_idle(&server.addr(), wanted).await;
        let took = began.elapsed();
        tokio::time::sleep(Duration::from_secs(2)).await;
        let rss_clients = server.rss()?;
        let connected = clients.len();
        if let Some(why) = refusal {
            self.report.note(format!(
                "{backend} idle: {connected} of {wanted} clients connected; first refusal: {why}"
            ));
        }
        // The budget is for 10,000 clients; fewer are scaled to it per client above the idle RSS.
        let per_client = rss_clients.saturating_sub(rss) as f64 / connected.max(1) as f64;
        let at_10k = rss as f64 + per_client * 10_000.0;
        self.report.figure(Figure {
            backend: backend.to_string(),
            scenario: "idle",
            what: format!(
                "RSS with {connected} idle WebSocket clients (connected in {:.1} s)",
                took.as_secs_f64()
            ),
            value: format!(
                "{:.1} MB ({:.1} KB/client)",
                mb(rss_clients),
                per_client / 1024.0
            ),
            budget: "≤ 150 MB at 10,000".into(),
            verdict: Verdict::of(at_10k <= 150.0 * 1024.0 * 1024.0 && connected > 0),
        });
        drop(clients);
        server.stop().await?;
        db.remove().await
    }

    /// The open loop over one transport: `--open-rate` turns/s for `--open-secs` over 64
    /// sessions, its row, and the verdict on the p99 overhead budget.
    async fn open(
        &mut self,
        backend: Backend,
        server: &Server,
        transport: Transport,
    ) -> Result<()> {
        self.fake.set_default(Reply::text("Paris"));
        let rate = self.settings.open_rate;
        let load = OpenLoad {
            transport,
            rate,
            duration: self.settings.open,
            sessions: OPEN_SESSIONS,
            tag: format!("{backend}-open-{transport}"),
        };
        // One turn first, so one-time set-up (the tokenizer's tables, prepared statements)
        // is not counted against the load.
        let warm = format!("{}-warm", load.tag);
        run_turns(
            &server.addr(),
            &self.http,
            transport,
            1,
            1,
            TURN_DEADLINE,
            &warm,
        )
        .await?;
        let cpu0 = server.cpu()?;
        let (calls0, fake0) = self.fake.served();
        let mut announced = false;
        // Printed once the clients are connected, when the first turn is due.
        let announce = |_| {
            if !std::mem::replace(&mut announced, true) {
                println!(
                    "open: {rate} turns/s over {transport} for {} s",
                    load.duration.as_secs()
                );
            }
        };
        let open = run_open(&server.addr(), &self.http, &load, load.duration, announce).await?;
        let cpu = server.cpu()?.saturating_sub(cpu0);
        let (calls1, fake1) = self.fake.served();
        let calls = calls1 - calls0;
        let fake_time = (fake1 - fake0) / u32::try_from(calls.max(1)).unwrap_or(u32::MAX);
        if let Some(error) = &open.outcome.first_error {
            println!(
                "note   {}: {} errors, first: {error}",
                load.tag, open.outcome.errors
            );
        }
        let row = TurnRow::new(
            &backend.to_string(),
            "gateway",
            "open",
            format!("{transport}@{rate}/s"),
            OPEN_SESSIONS,
            &open.outcome,
            fake_time,
            calls,
            Some(cpu),
        );
        let met = row.p99 <= Duration::from_millis(5)
            && row.turns > 0
            && open.outcome.errors == 0
            && open.unsent == 0
            && open.unanswered == 0;
        self.report.figure(Figure {
            backend: backend.to_string(),
            scenario: "open",
            what: format!(
                "p99 gateway overhead at {rate} turns/s open loop, {OPEN_SESSIONS} sessions over \
                 {transport} ({} turns in {:.1} s, {} errors, {} ticks not sent, {} unanswered, \
                 send lag up to {:.1} ms)",
                row.turns,
                load.duration.as_secs_f64(),
                open.outcome.errors,
                open.unsent,
                open.unanswered,
                ms(open.max_lag),
            ),
            value: format!(
                "{:.2} ms (p50 {:.2}, max {:.1} ms; CPU {:.3} ms/turn)",
                ms(row.p99),
                ms(row.p50),
                ms(row.max),
                ms(row.cpu_per_turn.unwrap_or_default()),
            ),
            budget: "≤ 5 ms at 500 turns/s open loop".into(),
            verdict: Verdict::of(met),
        });
        self.report.row(row);
        Ok(())
    }

    async fn soak(&mut self, backend: Backend, server: &Server) -> Result<()> {
        self.fake.set_default(Reply::text("Paris"));
        let duration = self.settings.soak;
        println!(
            "soak: {} turns/s for {} s, RSS every 10 s",
            self.settings.soak_rate,
            duration.as_secs()
        );
        let mut samples: Vec<(f64, f64)> = Vec::new();
        let pid = server.pid;
        let cpu0 = server.cpu()?;
        let (calls0, fake0) = self.fake.served();
        let load = OpenLoad {
            transport: Transport::Http,
            rate: self.settings.soak_rate,
            duration,
            sessions: 256,
            tag: format!("{backend}-soak"),
        };
        let OpenOutcome {
            outcome,
            unsent: dropped,
            ..
        } = run_open(
            &server.addr(),
            &self.http,
            &load,
            Duration::from_secs(10),
            |at| {
                if let Ok(rss) = crate::process::rss_bytes(pid) {
                    println!(
                        "soak   t={:>5.0} s  RSS {:.1} MB",
                        at.as_secs_f64(),
                        mb(rss)
                    );
                    samples.push((at.as_secs_f64() / 60.0, mb(rss)));
                }
            },
        )
        .await?;
        let cpu = server.cpu()?.saturating_sub(cpu0);
        let (calls1, fake1) = self.fake.served();
        let calls = calls1 - calls0;
        let fake_time = (fake1 - fake0) / u32::try_from(calls.max(1)).unwrap_or(u32::MAX);
        let row = TurnRow::new(
            &backend.to_string(),
            "gateway",
            "soak",
            format!("http@{}/s", self.settings.soak_rate),
            256,
            &outcome,
            fake_time,
            calls,
            Some(cpu),
        );
        self.report.row(row);
        let mb_per_min = slope(&samples);
        let first = samples.first().map_or(0.0, |s| s.1).max(1e-9);
        let last = samples.last().map_or(0.0, |s| s.1);
        // Extrapolated to the 30-minute soak the budget names.
        let change_30 = mb_per_min * 30.0 / first;
        self.report.figure(Figure {
            backend: backend.to_string(),
            scenario: "soak",
            what: format!("RSS slope over {} s at {}/s ({} turns, {} errors, {dropped} ticks dropped)", duration.as_secs(), self.settings.soak_rate, outcome.turns(), outcome.errors),
            value: format!("{mb_per_min:+.2} MB/min ({first:.1} → {last:.1} MB; {:+.0}% per 30 min extrapolated)", change_30 * 100.0),
            budget: "flat within 10% over 30 min".into(),
            verdict: Verdict::of(change_30.abs() <= 0.10),
        });
        Ok(())
    }

    async fn starts(&mut self, backend: Backend, db: &Database) -> Result<()> {
        // One uncounted start first, so the database exists and is migrated.
        let launch = self.gateway_launch(db)?;
        Server::start(&launch).await?.stop().await?;
        let mut times = Vec::with_capacity(self.settings.starts);
        for _ in 0..self.settings.starts.max(1) {
            let launch = self.gateway_launch(db)?;
            let server = Server::start(&launch).await?;
            times.push(server.started_in);
            server.stop().await?;
        }
        times.sort_unstable();
        let median = times[times.len() / 2];
        let (min, max) = (times[0], times[times.len() - 1]);
        let sqlite = backend == Backend::Sqlite;
        self.report.figure(Figure {
            backend: backend.to_string(),
            scenario: "start",
            what: format!(
                "cold start to /health 200, median of {} (min {:.1}, max {:.1} ms)",
                times.len(),
                ms(min),
                ms(max)
            ),
            value: format!("{:.1} ms", ms(median)),
            budget: if sqlite {
                "≤ 25 ms (SQLite)".into()
            } else {
                "- (budget is for SQLite)".into()
            },
            verdict: if sqlite {
                Verdict::of(median <= Duration::from_millis(25))
            } else {
                Verdict::Info
            },
        });
        Ok(())
    }

    async fn history(&mut self, backend: Backend) -> Result<()> {
        self.fake.set_default(Reply::text("Paris"));
        let db = self.database(backend, "history").await?;
        let server = self.gateway(&db).await?;
        let window = |tag: &str| format!("{backend}-history-{tag}");
        let deadline = Duration::from_secs(120);
        let first = self
            .turn_row(
                backend,
                "gateway",
                "history:first",
                &server,
                Transport::Http,
                64,
                HISTORY_WINDOW,
                deadline,
                &window("first"),
            )
            .await?;
        let fill = self.settings.history_turns.saturating_sub(HISTORY_WINDOW);
        let began = Instant::now();
        let filled = run_turns(
            &server.addr(),
            &self.http,
            Transport::Http,
            64,
            fill,
            Duration::from_secs(3600),
            &window("fill"),
        )
        .await?;
        println!(
            "history: filled {} turns in {:.0} s ({:.0} turns/s, {} errors)",
            filled.turns(),
            began.elapsed().as_secs_f64(),
            filled.turns_per_sec(),
            filled.errors
        );
        let stored = HISTORY_WINDOW + filled.turns();
        let after = self
            .turn_row(
                backend,
                "gateway",
                "history:after",
                &server,
                Transport::Http,
                64,
                HISTORY_WINDOW,
                deadline,
                &window("after"),
            )
            .await?;
        server.stop().await?;
        db.remove().await?;
        let ratio = after.turns_per_sec / first.turns_per_sec.max(1e-9);
        self.report.figure(Figure {
            backend: backend.to_string(),
            scenario: "history",
            what: format!("turns/s of {HISTORY_WINDOW} turns (64 HTTP sessions) after {stored} stored turns vs. the first {HISTORY_WINDOW}"),
            value: format!("{:.0} vs {:.0} turns/s ({:+.0}%)", after.turns_per_sec, first.turns_per_sec, (ratio - 1.0) * 100.0),
            budget: "within 10% after 100,000".into(),
            verdict: Verdict::of(ratio >= 0.9),
        });
        self.report.row(first);
        self.report.row(after);
        Ok(())
    }
}

/// `cargo build --release -p goclaw` in this workspace; the path of the binary.
fn build_gateway() -> Result<PathBuf> {
    let root = workspace_root();
    println!("building the gateway: cargo build --release -p goclaw");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args(["build", "--release", "-p", "goclaw"])
        .current_dir(&root)
        .status()
        .context("running cargo build --release -p goclaw")?;
    if !status.success() {
        bail!("cargo build --release -p goclaw failed; build it by hand or pass --goclaw PATH");
    }
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| root.join("target"), PathBuf::from);
    Ok(target.join("release/goclaw"))
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

/// The command line, cores, CPU model and date, printed first.
fn print_machine(command: &str) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, model)| model.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let date = std::process::Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .unwrap_or_default();
    println!("command: {command}");
    println!("machine: {} cores (nproc), {cpu}, {}", cores(), date.trim());
}
