//! The loop that fires due jobs: every second it claims the due times of every tenant's jobs
//! at the clock's time and starts a run for each claim won. Runs left `running` by a stopped
//! gateway are marked `interrupted` at start-up, and runs older than the longest a run can
//! take (all attempts at their timeout, with their retry delays) on every pass after.

use std::time::Duration;

use chrono::TimeDelta;
use goclaw_core::cron::claim_due;
use goclaw_core::{CronRunEnd, CronRunStatus, StoreError};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::routes::AppState;

/// How often due jobs are looked for.
const POLL: Duration = Duration::from_secs(1);
/// Due times claimed at most per pass; the rest wait for the next second.
const CLAIMS_PER_PASS: u32 = 100;
/// How often the loop looks for runs a crashed gateway left `running`.
const SWEEP_EVERY: u32 = 60;

/// Marks runs still `running` that started before the clock's time `interrupted`, as
/// found at start-up (a stopped gateway's runs); returns how many.
pub async fn interrupt_leftovers(state: &AppState) -> Result<usize, StoreError> {
    let now = state.cron.clock.now();
    interrupt_started_before(state, now, "the gateway stopped during the run").await
}

/// Marks runs started before `before` and still `running` as `interrupted`.
async fn interrupt_started_before(
    state: &AppState,
    before: chrono::DateTime<chrono::Utc>,
    reason: &str,
) -> Result<usize, StoreError> {
    let cron = state.store.cron();
    let leftovers = cron.running(before).await?;
    let now = state.cron.clock.now();
    let mut interrupted = 0;
    for run in leftovers {
        let end = CronRunEnd {
            status: CronRunStatus::Interrupted,
            ended_at: now,
            summary: None,
            error: Some(reason.to_owned()),
            input_tokens: 0,
            output_tokens: 0,
            run_id: None,
            session_key: None,
        };
        match cron.finish_run(run.id, end).await {
            Ok(_) => interrupted += 1,
            // Finished meanwhile (or its job was deleted): nothing to mark.
            Err(StoreError::NotFound(_)) => {}
            Err(error) => return Err(error),
        }
    }
    Ok(interrupted)
}

/// Claims the jobs due at the clock's time and starts their runs; returns how many started.
pub async fn tick(state: &AppState) -> Result<usize, StoreError> {
    let now = state.cron.clock.now();
    let claimed = claim_due(
        state.store.cron(),
        now,
        CLAIMS_PER_PASS,
        &state.cron.settings.default_timezone,
    )
    .await?;
    let started = claimed.len();
    for (job, run) in claimed {
        let state = state.clone();
        tokio::spawn(async move { super::run::execute(&state, job, run).await });
    }
    Ok(started)
}

/// The longest a run can take: every attempt at its timeout plus the retry delays.
fn longest_run(state: &AppState) -> TimeDelta {
    let settings = &state.cron.settings;
    let attempts = settings.max_retries.saturating_add(1);
    let span = settings.job_timeout.saturating_mul(attempts)
        + settings.retry_max.saturating_mul(settings.max_retries);
    TimeDelta::from_std(span).unwrap_or(TimeDelta::days(1)) + TimeDelta::minutes(1)
}

/// Fires due jobs every second until `stop`.
pub fn spawn(state: AppState, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(POLL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut passes: u32 = 0;
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if let Err(error) = tick(&state).await {
                tracing::warn!(error = %error, "cron.tick_failed");
            }
            passes = passes.wrapping_add(1);
            if passes.is_multiple_of(SWEEP_EVERY) {
                let before = state.cron.clock.now() - longest_run(&state);
                if let Err(error) =
                    interrupt_started_before(&state, before, "the run outlived its timeout").await
                {
                    tracing::warn!(error = %error, "cron.sweep_failed");
                }
            }
        }
    })
}
