//! Episodic memory (GoClaw's L1 tier): summaries of finished stretches of sessions, written in
//! the background and found again by later sessions of the same user.
//!
//! - [`EpisodicWorker`] (`worker.rs`) owns a bounded queue of sessions to summarize
//!   (`queue.rs`). Sessions get there when they go idle — a periodic sweep finds those whose
//!   last message is older than [`EpisodicSettings::idle_after`] — or when they are compacted.
//!   A full queue refuses the session and counts it: enqueuing never waits, so a turn is never
//!   held up by memory. Each job asks the agent's model (through [`BackgroundModel`], with a
//!   30 s timeout) for a summary, a one-sentence abstract and topics (`summary.rs`), embeds them
//!   when an embedder is configured, and stores the episode, de-duplicated by its source (the
//!   session and its message count). Failures are retried with backoff and counted; expired
//!   episodes are pruned periodically.
//! - [`EpisodicRecall`] (`recall.rs`) searches episodes with the shared ranking (text 0.7 /
//!   vector 0.3, as GoClaw weighs episodic hits) and builds the auto-inject section of the
//!   system prompt.
//! - [`EpisodeListener`]s hear of every new episode (the knowledge-graph extraction is one).

mod queue;
mod recall;
mod summary;
mod worker;

use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::{Agent, Episode};

pub use queue::Enqueued;
pub use recall::{
    AutoInject, EpisodeHit, EpisodicRecall, EpisodicSearchOptions, auto_inject_settings,
};
pub use summary::{EPISODE_SYSTEM_PROMPT, EpisodeDraft, parse_episode};
pub use worker::{EpisodicStats, EpisodicWorker, EpisodicWorkerBuilder, SweepReport};

/// Why a session was handed to the worker.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trigger {
    /// No new message for [`EpisodicSettings::idle_after`].
    Idle,
    /// Its history was just compacted.
    Compacted,
}

/// How the worker runs.
#[derive(Debug, Clone, PartialEq)]
pub struct EpisodicSettings {
    /// A session with no new message for this long is summarized.
    pub idle_after: Duration,
    /// How often idle sessions are looked for.
    pub sweep_every: Duration,
    /// How far back the first sweep after start looks.
    pub lookback: Duration,
    /// Sessions that may wait in the queue; more are refused and counted.
    pub queue_capacity: usize,
    /// Jobs run at once.
    pub concurrency: usize,
    /// Attempts per job before it counts as failed.
    pub max_attempts: u32,
    /// Wait before the first retry; doubled for each further one.
    pub retry_base: Duration,
    /// Longest wait between attempts.
    pub retry_max: Duration,
    /// Longest wait for the model's summary.
    pub call_timeout: Duration,
    /// How long an episode is kept (an agent's `episodic_ttl_days` overrides it).
    pub ttl: Duration,
    /// How often expired episodes are deleted.
    pub prune_every: Duration,
    /// Longest transcript, in characters, given to the model (the latest part is kept).
    pub max_transcript_chars: usize,
}

impl Default for EpisodicSettings {
    /// GoClaw's figures where it has them: a queue of 1000 and 2 workers, a 30 s summary
    /// timeout, 90 days of life, pruning every 6 hours; sessions idle for 10 minutes.
    fn default() -> Self {
        Self {
            idle_after: Duration::from_secs(600),
            sweep_every: Duration::from_secs(60),
            lookback: Duration::from_secs(24 * 3600),
            queue_capacity: 1000,
            concurrency: 2,
            max_attempts: 3,
            retry_base: Duration::from_secs(2),
            retry_max: Duration::from_secs(60),
            call_timeout: Duration::from_secs(30),
            ttl: Duration::from_secs(90 * 24 * 3600),
            prune_every: Duration::from_secs(6 * 3600),
            max_transcript_chars: 24_000,
        }
    }
}

/// Why a background model call failed.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct ModelError(pub String);

/// One non-streamed model call on behalf of an agent, outside any run: the provider
/// abstraction of the runtime (its candidates, retries and fallback), reached without a wire
/// format.
#[async_trait]
pub trait BackgroundModel: Send + Sync {
    /// `agent`'s model answering `prompt` under `system`; the answer's text.
    async fn complete(
        &self,
        agent: &Agent,
        system: &str,
        prompt: &str,
    ) -> Result<String, ModelError>;
}

/// Hears of every episode the worker stores.
#[async_trait]
pub trait EpisodeListener: Send + Sync {
    /// Called after `episode` of `agent` is stored; an error is logged, never retried.
    async fn episode_created(&self, agent: &Agent, episode: &Episode) -> Result<(), ModelError>;
}
