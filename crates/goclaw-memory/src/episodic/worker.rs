//! [`EpisodicWorker`]: the queue's consumers, the idle-session sweep and the pruning of
//! expired episodes, with the counters that make all three visible.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use chrono::Utc;
use goclaw_core::{
    Agent, Episode, EpisodicScope, NewEpisode, SessionKey, Store, StoreError, SweepCursor, TenantId,
};
use tokio::sync::{Mutex, mpsc};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::queue::{EpisodeJob, EpisodeQueue};
use super::summary::{parse_episode, prompt, transcript};
use super::{
    BackgroundModel, EPISODE_SYSTEM_PROMPT, Enqueued, EpisodeListener, EpisodicSettings, Trigger,
};
use crate::embed::{Embedder, EmbedderSlot};

/// Sessions read per page of a sweep.
const SWEEP_PAGE: u32 = 500;
/// Most messages of a session read for its summary (the latest ones).
const MAX_MESSAGES: i64 = 400;

/// Counts of what the worker did since it started.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EpisodicStats {
    pub enqueued: u64,
    /// Refused because the queue was full.
    pub rejected: u64,
    pub written: u64,
    /// Already summarized up to the same message.
    pub duplicate: u64,
    /// Nothing to summarize (no agent, no conversation, memory off for the agent).
    pub skipped: u64,
    /// Attempts that failed and were tried again.
    pub retried: u64,
    /// Jobs that failed every attempt.
    pub failed: u64,
    /// Listeners (the knowledge-graph extraction) that failed on a new episode.
    pub listener_failed: u64,
    /// Sessions waiting now.
    pub queued: u64,
}

/// What one sweep found.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SweepReport {
    pub found: usize,
    pub enqueued: usize,
    /// Left for the next sweep because the queue was full.
    pub deferred: bool,
}

#[derive(Default)]
struct Counters {
    enqueued: AtomicU64,
    rejected: AtomicU64,
    written: AtomicU64,
    duplicate: AtomicU64,
    skipped: AtomicU64,
    retried: AtomicU64,
    failed: AtomicU64,
    listener_failed: AtomicU64,
}

/// How a job ended.
enum Done {
    Written(Box<(Agent, Episode)>),
    Duplicate,
    Skipped(&'static str),
}

/// Why an attempt failed; every failure may be retried.
#[derive(Debug, thiserror::Error)]
enum JobError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("summary model: {0}")]
    Model(String),
    #[error("summary model: no answer within {0:?}")]
    Timeout(Duration),
}

struct Inner {
    store: Arc<dyn Store>,
    model: Arc<dyn BackgroundModel>,
    embedder: EmbedderSlot,
    listeners: Vec<Arc<dyn EpisodeListener>>,
    metrics: Option<goclaw_telemetry::Metrics>,
    settings: EpisodicSettings,
    queue: EpisodeQueue,
    receiver: Mutex<Option<mpsc::Receiver<EpisodeJob>>>,
    counters: Counters,
    /// Where the last sweep stopped: every session up to here has been queued.
    swept_until: Mutex<SweepCursor>,
    shutdown: CancellationToken,
    tasks: TaskTracker,
}

/// The episodic memory writer. Cheap to clone; clones share the queue and the counters.
#[derive(Clone)]
pub struct EpisodicWorker {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for EpisodicWorker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EpisodicWorker")
            .field("settings", &self.inner.settings)
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

/// Builds a worker; nothing runs until [`EpisodicWorker::start`].
pub struct EpisodicWorkerBuilder {
    store: Arc<dyn Store>,
    model: Arc<dyn BackgroundModel>,
    settings: EpisodicSettings,
    embedder: EmbedderSlot,
    listeners: Vec<Arc<dyn EpisodeListener>>,
    metrics: Option<goclaw_telemetry::Metrics>,
}

impl EpisodicWorkerBuilder {
    /// Episodes get embeddings (else they are found by their words only).
    pub fn embedder(mut self, embedder: Option<Arc<dyn Embedder>>) -> Self {
        self.embedder = EmbedderSlot::new(embedder);
        self
    }

    /// Embeds episodes with whatever `slot` holds when each is written.
    pub fn embedder_slot(mut self, slot: EmbedderSlot) -> Self {
        self.embedder = slot;
        self
    }

    /// `listener` hears of every stored episode.
    pub fn listener(mut self, listener: Arc<dyn EpisodeListener>) -> Self {
        self.listeners.push(listener);
        self
    }

    /// Outcomes and the queue depth are recorded in `metrics`.
    pub fn metrics(mut self, metrics: goclaw_telemetry::Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    pub fn build(self) -> EpisodicWorker {
        let (queue, receiver) = EpisodeQueue::new(self.settings.queue_capacity);
        let lookback = chrono::Duration::from_std(self.settings.lookback).unwrap_or_default();
        EpisodicWorker {
            inner: Arc::new(Inner {
                store: self.store,
                model: self.model,
                embedder: self.embedder,
                listeners: self.listeners,
                metrics: self.metrics,
                settings: self.settings,
                queue,
                receiver: Mutex::new(Some(receiver)),
                counters: Counters::default(),
                swept_until: Mutex::new(SweepCursor::after(Utc::now() - lookback)),
                shutdown: CancellationToken::new(),
                tasks: TaskTracker::new(),
            }),
        }
    }
}

impl EpisodicWorker {
    /// A worker writing episodes to `store` with summaries from `model`.
    pub fn builder(
        store: Arc<dyn Store>,
        model: Arc<dyn BackgroundModel>,
        settings: EpisodicSettings,
    ) -> EpisodicWorkerBuilder {
        EpisodicWorkerBuilder {
            store,
            model,
            settings,
            embedder: EmbedderSlot::default(),
            listeners: Vec::new(),
            metrics: None,
        }
    }

    /// Starts the consumers, the periodic sweep and the pruning; a second call does nothing.
    pub async fn start(&self) {
        let Some(receiver) = self.inner.receiver.lock().await.take() else {
            return;
        };
        let receiver = Arc::new(Mutex::new(receiver));
        for _ in 0..self.inner.settings.concurrency.max(1) {
            let worker = self.clone();
            let receiver = receiver.clone();
            self.inner
                .tasks
                .spawn(async move { worker.consume(receiver).await });
        }
        let worker = self.clone();
        self.inner
            .tasks
            .spawn(async move { worker.sweep_periodically().await });
        let worker = self.clone();
        self.inner
            .tasks
            .spawn(async move { worker.prune_periodically().await });
    }

    /// Stops taking jobs and waits up to `grace` for the running ones.
    pub async fn shutdown(&self, grace: Duration) {
        self.inner.shutdown.cancel();
        self.inner.tasks.close();
        if tokio::time::timeout(grace, self.inner.tasks.wait())
            .await
            .is_err()
        {
            tracing::warn!("episodic worker: jobs still running at shutdown were abandoned");
        }
    }

    /// Hands a session to the worker without waiting: queued, already waiting, or refused
    /// (and counted) when the queue is full.
    pub fn enqueue(&self, tenant: TenantId, session: SessionKey, trigger: Trigger) -> Enqueued {
        let outcome = self.inner.queue.push(EpisodeJob {
            tenant,
            session,
            trigger,
        });
        match outcome {
            Enqueued::Queued => self.count(&self.inner.counters.enqueued, "enqueued"),
            Enqueued::Rejected => self.count(&self.inner.counters.rejected, "rejected"),
            Enqueued::AlreadyQueued | Enqueued::Closed => {}
        }
        self.record_depth();
        outcome
    }

    /// What the worker did so far.
    pub fn stats(&self) -> EpisodicStats {
        let c = &self.inner.counters;
        let load = |n: &AtomicU64| n.load(Ordering::Relaxed);
        EpisodicStats {
            enqueued: load(&c.enqueued),
            rejected: load(&c.rejected),
            written: load(&c.written),
            duplicate: load(&c.duplicate),
            skipped: load(&c.skipped),
            retried: load(&c.retried),
            failed: load(&c.failed),
            listener_failed: load(&c.listener_failed),
            queued: self.inner.queue.depth() as u64,
        }
    }

    /// Queues the sessions that went idle since the last sweep: no change for
    /// `idle_after`. When the queue fills, the rest wait for the next sweep, which resumes
    /// right after the last session queued.
    pub async fn sweep(&self) -> Result<SweepReport, StoreError> {
        let idle = chrono::Duration::from_std(self.inner.settings.idle_after).unwrap_or_default();
        let until = Utc::now() - idle;
        let mut swept = self.inner.swept_until.lock().await;
        let mut report = SweepReport::default();
        while swept.updated_at < until {
            let page = self
                .inner
                .store
                .episodic()
                .idle_sessions(*swept, until, SWEEP_PAGE)
                .await?;
            report.found += page.len();
            for session in &page {
                if let Ok(key) = SessionKey::parse(&session.session_key) {
                    match self.enqueue(session.tenant_id, key, Trigger::Idle) {
                        Enqueued::Queued => report.enqueued += 1,
                        Enqueued::AlreadyQueued => {}
                        Enqueued::Rejected | Enqueued::Closed => {
                            report.deferred = true;
                            return Ok(report);
                        }
                    }
                }
                *swept = session.cursor();
            }
            if page.len() < SWEEP_PAGE as usize {
                *swept = SweepCursor::after(until);
            }
        }
        Ok(report)
    }

    /// Deletes expired episodes; how many.
    pub async fn prune(&self) -> Result<u64, StoreError> {
        let pruned = self
            .inner
            .store
            .episodic()
            .prune_expired_episodes(Utc::now())
            .await?;
        if pruned > 0 {
            tracing::info!(pruned, "episodic memory: expired episodes deleted");
        }
        Ok(pruned)
    }

    fn count(&self, counter: &AtomicU64, outcome: &str) {
        counter.fetch_add(1, Ordering::Relaxed);
        if let Some(metrics) = &self.inner.metrics {
            metrics.episodic_job(outcome);
        }
    }

    fn record_depth(&self) {
        if let Some(metrics) = &self.inner.metrics {
            metrics.set_episodic_queue_depth(self.inner.queue.depth());
        }
    }

    async fn consume(&self, receiver: Arc<Mutex<mpsc::Receiver<EpisodeJob>>>) {
        loop {
            let job = {
                let mut receiver = receiver.lock().await;
                tokio::select! {
                    _ = self.inner.shutdown.cancelled() => return,
                    job = receiver.recv() => job,
                }
            };
            let Some(job) = job else { return };
            self.inner.queue.taken(&job);
            self.record_depth();
            self.run_with_retries(&job).await;
        }
    }

    async fn run_with_retries(&self, job: &EpisodeJob) {
        let settings = &self.inner.settings;
        let counters = &self.inner.counters;
        let mut attempt = 1;
        loop {
            match self.summarize(job).await {
                Ok(Done::Written(written)) => {
                    self.count(&counters.written, "written");
                    let (agent, episode) = *written;
                    self.tell_listeners(&agent, &episode).await;
                    return;
                }
                Ok(Done::Duplicate) => return self.count(&counters.duplicate, "duplicate"),
                Ok(Done::Skipped(reason)) => {
                    tracing::debug!(session_key = %job.session, reason, "episodic memory: skipped");
                    return self.count(&counters.skipped, "skipped");
                }
                Err(error) if attempt < settings.max_attempts => {
                    self.count(&counters.retried, "retried");
                    let wait = backoff(settings, attempt);
                    tracing::warn!(
                        session_key = %job.session,
                        attempt,
                        error = %error,
                        retry_in_ms = wait.as_millis() as u64,
                        "episodic memory: summary failed; retrying"
                    );
                    tokio::select! {
                        _ = self.inner.shutdown.cancelled() => return,
                        _ = tokio::time::sleep(wait) => {}
                    }
                    attempt += 1;
                }
                Err(error) => {
                    tracing::warn!(
                        session_key = %job.session,
                        attempts = attempt,
                        error = %error,
                        "episodic memory: summary failed"
                    );
                    return self.count(&counters.failed, "failed");
                }
            }
        }
    }

    async fn tell_listeners(&self, agent: &Agent, episode: &Episode) {
        for listener in &self.inner.listeners {
            if let Err(error) = listener.episode_created(agent, episode).await {
                self.count(&self.inner.counters.listener_failed, "listener_failed");
                tracing::warn!(
                    episode = %episode.id,
                    error = %error,
                    "episodic memory: a listener failed"
                );
            }
        }
    }

    /// One attempt at a job.
    async fn summarize(&self, job: &EpisodeJob) -> Result<Done, JobError> {
        let store = self.inner.store.as_ref();
        let settings = &self.inner.settings;
        let session = match store.sessions().get(job.tenant, &job.session).await {
            Ok(session) => session,
            Err(StoreError::NotFound(_)) => return Ok(Done::Skipped("session deleted")),
            Err(error) => return Err(error.into()),
        };
        let Some(agent_id) = session.agent_id else {
            return Ok(Done::Skipped("session without agent"));
        };
        let Some(agent) = store
            .agents()
            .list(job.tenant)
            .await?
            .into_iter()
            .find(|a| a.id == agent_id)
        else {
            return Ok(Done::Skipped("agent deleted"));
        };
        if agent.other_config.get("consolidation_enabled") == Some(&serde_json::Value::Bool(false))
        {
            return Ok(Done::Skipped("consolidation off for the agent"));
        }
        let scope = EpisodicScope::new(job.tenant, agent.id, session.user_id.clone());
        let source_id = format!("{}#{}", session.session_key, session.message_count);
        if store.episodic().episode_exists(&scope, &source_id).await? {
            return Ok(Done::Duplicate);
        }
        let after = (session.message_count - MAX_MESSAGES).max(0);
        let messages = store
            .messages()
            .list(session.id, after, MAX_MESSAGES as u32)
            .await?;
        let turn_count = messages
            .iter()
            .filter(|m| m.role == goclaw_core::Role::User)
            .count();
        if turn_count == 0 {
            return Ok(Done::Skipped("no user message"));
        }
        let text = transcript(
            session.summary.as_deref(),
            &messages,
            settings.max_transcript_chars,
        );
        let answer = tokio::time::timeout(
            settings.call_timeout,
            self.inner
                .model
                .complete(&agent, EPISODE_SYSTEM_PROMPT, &prompt(&text)),
        )
        .await
        .map_err(|_| JobError::Timeout(settings.call_timeout))?
        .map_err(|e| JobError::Model(e.0))?;
        let Some(draft) = parse_episode(&answer) else {
            return Err(JobError::Model("the model returned no summary".to_owned()));
        };
        let embedding = self.embed(&draft.l0_abstract, &draft.summary).await;
        let ttl = agent
            .other_config
            .get("episodic_ttl_days")
            .and_then(serde_json::Value::as_u64)
            .map(|days| chrono::Duration::days(days.min(36_500) as i64))
            .unwrap_or_else(|| chrono::Duration::from_std(settings.ttl).unwrap_or_default());
        let new = NewEpisode {
            scope,
            session_key: session.session_key.to_string(),
            summary: draft.summary,
            l0_abstract: draft.l0_abstract,
            key_topics: draft.topics,
            embedding,
            source_type: "session".to_owned(),
            source_id,
            turn_count: turn_count as i64,
            token_count: (text.chars().count() / 4) as i64,
            expires_at: Some(Utc::now() + ttl),
        };
        match store.episodic().insert_episode(new).await {
            Ok(Some(episode)) => {
                tracing::info!(
                    session_key = %session.session_key,
                    agent = %agent.agent_key,
                    episode = %episode.id,
                    trigger = ?job.trigger,
                    "episodic memory: episode written"
                );
                Ok(Done::Written(Box::new((agent, episode))))
            }
            Ok(None) => Ok(Done::Duplicate),
            Err(StoreError::NotFound(_)) => Ok(Done::Skipped("agent deleted")),
            Err(error) => Err(error.into()),
        }
    }

    /// The episode's vector, or none: without an embedder, or when embedding fails (the
    /// episode is then found by its words).
    async fn embed(&self, l0_abstract: &str, summary: &str) -> Option<Vec<f32>> {
        let embedder = self.inner.embedder.current()?;
        match embedder.embed(&[format!("{l0_abstract}\n{summary}")]).await {
            Ok(mut vectors) if !vectors.is_empty() => Some(vectors.swap_remove(0)),
            Ok(_) => None,
            Err(error) => {
                tracing::warn!(error = %error, "episodic memory: episode not embedded");
                None
            }
        }
    }

    async fn sweep_periodically(&self) {
        let mut ticks = tokio::time::interval(self.inner.settings.sweep_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.inner.shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if let Err(error) = self.sweep().await {
                tracing::warn!(error = %error, "episodic memory: idle-session sweep failed");
            }
        }
    }

    async fn prune_periodically(&self) {
        let mut ticks = tokio::time::interval(self.inner.settings.prune_every);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = self.inner.shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if let Err(error) = self.prune().await {
                tracing::warn!(error = %error, "episodic memory: pruning failed");
            }
        }
    }
}

/// The wait after failed attempt `attempt` (1-based): `retry_base` doubled per attempt,
/// capped at `retry_max`.
fn backoff(settings: &EpisodicSettings, attempt: u32) -> Duration {
    let factor = 2u32.saturating_pow(attempt.saturating_sub(1));
    settings
        .retry_base
        .saturating_mul(factor)
        .min(settings.retry_max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_the_cap() {
        let settings = EpisodicSettings {
            retry_base: Duration::from_millis(100),
            retry_max: Duration::from_millis(350),
            ..EpisodicSettings::default()
        };
        let waits: Vec<u128> = (1..=5)
            .map(|attempt| backoff(&settings, attempt).as_millis())
            .collect();
        assert_eq!(waits, [100, 200, 350, 350, 350]);
    }
}
