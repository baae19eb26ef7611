//! The loop that fires due heartbeats: every second it claims the due slots of every tenant's
//! heartbeats at the clock's time and starts a run for each claim won. The claim moves the
//! slot on before the run starts, so a run that fails, or a gateway that stops during it,
//! never runs that slot again.

use std::time::Duration;

use goclaw_core::StoreError;
use goclaw_core::cron::to_millis;
use goclaw_core::heartbeat::next_run_at;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::routes::AppState;

/// How often due heartbeats are looked for.
const POLL: Duration = Duration::from_secs(1);
/// Slots claimed at most per pass; the rest wait for the next second.
const CLAIMS_PER_PASS: u32 = 100;

/// Claims the heartbeats due at the clock's time and starts their runs; returns how many
/// started.
pub async fn tick(state: &AppState) -> Result<usize, StoreError> {
    let now = to_millis(state.cron.clock.now());
    let heartbeats = state.store.heartbeats();
    let mut started = 0;
    for hb in heartbeats.due(now, CLAIMS_PER_PASS).await? {
        let Some(slot) = hb.next_run_at else {
            continue;
        };
        let next = next_run_at(now, hb.agent_id, hb.config.interval_sec, Some(slot));
        if !heartbeats.claim(hb.id, slot, next).await? {
            // Another gateway (or loop) won this slot.
            continue;
        }
        started += 1;
        let state = state.clone();
        tokio::spawn(async move { super::run::execute(&state, hb).await });
    }
    Ok(started)
}

/// Fires due heartbeats every second until `stop`.
pub fn spawn(state: AppState, stop: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(POLL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = ticker.tick() => {}
            }
            if let Err(error) = tick(&state).await {
                tracing::warn!(error = %error, "heartbeat.tick_failed");
            }
        }
    })
}
