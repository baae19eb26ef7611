//! The printed results: one row per run of turns (throughput, gateway overhead percentiles, CPU
//! per turn) and one line per other figure, each next to its budget from DESIGN.md §7 with a
//! verdict. Rows print as they finish and again, as two Markdown tables, at the end.

use std::fmt::Write as _;
use std::time::Duration;

use crate::load::Outcome;

/// Whether a figure meets its budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Met,
    Missed,
    /// No budget applies; printed for reading the others.
    Info,
}

impl Verdict {
    pub fn of(met: bool) -> Self {
        if met { Self::Met } else { Self::Missed }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Met => "met",
            Self::Missed => "MISSED",
            Self::Info => "-",
        }
    }
}

/// One run of turns, summarized.
#[derive(Debug, Clone)]
pub struct TurnRow {
    pub backend: String,
    /// `gateway` or `floor`.
    pub server: &'static str,
    /// `instant` or `stream` (50 tokens 5 ms apart).
    pub profile: &'static str,
    pub transport: String,
    pub sessions: usize,
    pub turns: u64,
    pub turns_per_sec: f64,
    /// Gateway overhead: client latency minus the fake LLM's mean time per call.
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
    pub errors: u64,
    pub cpu_per_turn: Option<Duration>,
    /// LLM calls the fake answered per turn.
    pub llm_calls_per_turn: f64,
    pub fake_time: Duration,
}

impl TurnRow {
    /// Summarizes `outcome`, subtracting `fake_time` (the fake's mean time per call) from each
    /// latency.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        backend: &str,
        server: &'static str,
        profile: &'static str,
        transport: String,
        sessions: usize,
        outcome: &Outcome,
        fake_time: Duration,
        llm_calls: u64,
        cpu: Option<Duration>,
    ) -> Self {
        let mut overhead: Vec<Duration> = outcome
            .latencies
            .iter()
            .map(|l| l.saturating_sub(fake_time))
            .collect();
        overhead.sort_unstable();
        let turns = outcome.turns();
        Self {
            backend: backend.to_owned(),
            server,
            profile,
            transport,
            sessions,
            turns,
            turns_per_sec: outcome.turns_per_sec(),
            p50: percentile(&overhead, 0.50),
            p99: percentile(&overhead, 0.99),
            max: overhead.last().copied().unwrap_or_default(),
            errors: outcome.errors,
            cpu_per_turn: cpu
                .filter(|_| turns > 0)
                .map(|c| c / u32::try_from(turns).unwrap_or(u32::MAX)),
            llm_calls_per_turn: llm_calls as f64 / turns.max(1) as f64,
            fake_time,
        }
    }

    pub const HEADER: &'static str = "| backend | server | profile | transport | sessions | turns | turns/s | overhead p50 ms | p99 ms | max ms | errors | CPU ms/turn | LLM calls/turn | fake ms/call |\n|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|";

    pub fn line(&self) -> String {
        let cpu = self
            .cpu_per_turn
            .map_or_else(|| "-".to_owned(), |c| format!("{:.3}", ms(c)));
        format!(
            "| {} | {} | {} | {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.1} | {} | {} | {:.2} | {:.2} |",
            self.backend,
            self.server,
            self.profile,
            self.transport,
            self.sessions,
            self.turns,
            self.turns_per_sec,
            ms(self.p50),
            ms(self.p99),
            ms(self.max),
            self.errors,
            cpu,
            self.llm_calls_per_turn,
            ms(self.fake_time),
        )
    }
}

/// A figure that is not a row of turns (start-up, memory, binary size, soak slope, history).
#[derive(Debug, Clone)]
pub struct Figure {
    pub backend: String,
    pub scenario: &'static str,
    pub what: String,
    pub value: String,
    pub budget: String,
    pub verdict: Verdict,
}

impl Figure {
    pub const HEADER: &'static str = "| backend | scenario | figure | value | budget (DESIGN.md §7) | verdict |\n|---|---|---|---|---|---|";

    pub fn line(&self) -> String {
        format!(
            "| {} | {} | {} | {} | {} | {} |",
            self.backend,
            self.scenario,
            self.what,
            self.value,
            self.budget,
            self.verdict.label()
        )
    }
}

/// Everything a bench run printed, for the final tables.
#[derive(Debug, Default)]
pub struct Report {
    pub rows: Vec<TurnRow>,
    pub figures: Vec<Figure>,
    pub notes: Vec<String>,
}

impl Report {
    pub fn row(&mut self, row: TurnRow) {
        println!("row    {}", row.line());
        self.rows.push(row);
    }

    pub fn figure(&mut self, figure: Figure) {
        println!("figure {}", figure.line());
        self.figures.push(figure);
    }

    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        println!("note   {note}");
        self.notes.push(note);
    }

    /// The two tables and the notes, as Markdown.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "{}", TurnRow::HEADER);
        for row in &self.rows {
            let _ = writeln!(out, "{}", row.line());
        }
        let _ = writeln!(out, "\n{}", Figure::HEADER);
        for figure in &self.figures {
            let _ = writeln!(out, "{}", figure.line());
        }
        if !self.notes.is_empty() {
            let _ = writeln!(out);
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }
}

/// Milliseconds as a float.
pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Megabytes (MiB) as a float.
pub fn mb(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// The `q` quantile of sorted values (nearest rank).
pub fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Least-squares slope of `(minutes, megabytes)` samples, in MB per minute.
pub fn slope(samples: &[(f64, f64)]) -> f64 {
    let n = samples.len() as f64;
    if samples.len() < 2 {
        return 0.0;
    }
    let mean_x = samples.iter().map(|s| s.0).sum::<f64>() / n;
    let mean_y = samples.iter().map(|s| s.1).sum::<f64>() / n;
    let cov: f64 = samples
        .iter()
        .map(|s| (s.0 - mean_x) * (s.1 - mean_y))
        .sum();
    let var: f64 = samples.iter().map(|s| (s.0 - mean_x).powi(2)).sum();
    if var == 0.0 { 0.0 } else { cov / var }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_and_slopes() {
        let values: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&values, 0.5), Duration::from_millis(50));
        assert_eq!(percentile(&values, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&[], 0.99), Duration::ZERO);
        assert!((slope(&[(0.0, 10.0), (1.0, 12.0), (2.0, 14.0)]) - 2.0).abs() < 1e-9);
        assert_eq!(slope(&[(0.0, 10.0)]), 0.0);
    }
}
