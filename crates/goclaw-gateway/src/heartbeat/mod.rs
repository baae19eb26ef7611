//! Heartbeats at work: the loop that fires due slots (`runner.rs`), one run with its skips,
//! retries, `HEARTBEAT_OK` suppression and delivery (`run.rs`), and the JSON shapes the
//! `heartbeat.*` methods and the `heartbeat` event use (`wire.rs`).
//!
//! **Once per slot.** The loop claims each due slot with the store's compare-and-set
//! ([`goclaw_core::HeartbeatStore::claim`]), moving it to the next slot; any number of loops
//! (and gateways) may race for it and one wins. Heartbeats read the cron clock
//! (`AppState::cron`), so tests move time by hand, and retry and time out with the cron
//! settings (`cron.retry_base_delay`, `cron.retry_max_delay`, `cron.job_timeout`).
//!
//! **Runs.** A run outside the heartbeat's active hours, or of an agent whose `HEARTBEAT.md`
//! is empty, is recorded as `skipped` with its reason. Otherwise it is an agent turn on the
//! `cron` lane (channel `heartbeat`) in session `agent:{agent}:heartbeat` — a fresh one per
//! run, deleted after it, when the heartbeat is isolated — with the checklist and the
//! `HEARTBEAT_OK` rule in an extra system prompt. An answer containing `HEARTBEAT_OK` is
//! `suppressed` (kept in the log only); any other is `ok` and posted to the heartbeat's
//! channel and chat. Every step is told to the agent's tenant as a `heartbeat` event.

mod run;
pub mod runner;
pub mod wire;

use goclaw_core::{AgentId, TenantId};

pub use run::{DEFAULT_PROMPT, execute};
pub use runner::{spawn, tick};

/// Runs `agent`'s heartbeat now, if it has one (`heartbeat.test`, cron jobs with
/// `wakeHeartbeat`); its schedule is left as it is. Returns whether there was one to run.
pub async fn wake(state: &crate::routes::AppState, tenant: TenantId, agent: AgentId) -> bool {
    match state.store.heartbeats().get(tenant, agent).await {
        Ok(Some(hb)) => {
            execute(state, hb).await;
            true
        }
        Ok(None) => false,
        Err(error) => {
            tracing::warn!(agent = %agent, error = %error, "heartbeat.wake_failed");
            false
        }
    }
}
