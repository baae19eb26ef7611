//! Episodic memory wired into the application: the worker that summarizes idle and compacted
//! sessions with the agents' own models (and extracts a knowledge graph from each summary),
//! the recall that adds those summaries to later runs' prompts, and the adapters between
//! `goclaw-memory` and the runtime's traits.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_agent::{MemoryRecall, ProviderLookup, RetryPolicy, SessionObserver};
use goclaw_config::{AgentDefaults, LoadedConfig};
use goclaw_core::{
    Agent, ChatMessage, ChatRequest, EpisodicScope, SessionKey, Store, SystemPart, TenantId,
};
use goclaw_memory::episodic::{
    BackgroundModel, EpisodicRecall, EpisodicSettings, EpisodicWorker, ModelError, Trigger,
    auto_inject_settings,
};
use goclaw_memory::graph::GraphExtractor;

/// How long the worker's running jobs get at shutdown.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);
/// Longest summary asked of the model, in tokens.
const SUMMARY_MAX_TOKENS: u32 = 1024;
/// Longest wait for a knowledge-graph extraction.
const GRAPH_CALL_TIMEOUT: Duration = Duration::from_secs(30);

/// The episodic worker and recall of a running application.
#[derive(Clone)]
pub struct EpisodicSetup {
    pub worker: EpisodicWorker,
    pub recall: EpisodicRecall,
}

impl EpisodicSetup {
    /// The worker and recall as `agents.defaults.memory.episodic` says; `None` when memory or
    /// episodic memory is turned off. The worker is not started yet.
    pub fn build(
        loaded: &LoadedConfig,
        store: Arc<dyn Store>,
        providers: Arc<dyn ProviderLookup>,
        metrics: &goclaw_telemetry::Metrics,
        embedder: goclaw_memory::embed::EmbedderSlot,
    ) -> Option<Self> {
        let memory = &loaded.config.agents.defaults.memory;
        let config = &memory.episodic;
        if !memory.enabled || !config.enabled {
            return None;
        }
        let settings = EpisodicSettings {
            idle_after: Duration::from_millis(config.idle_timeout_ms),
            sweep_every: Duration::from_millis(config.sweep_interval_ms.max(10)),
            queue_capacity: config.queue_capacity.max(1) as usize,
            max_attempts: config.max_attempts.max(1),
            ttl: Duration::from_secs(u64::from(config.ttl_days.max(1)) * 24 * 3600),
            retry_base: retry_base(config.sweep_interval_ms),
            ..EpisodicSettings::default()
        };
        let model = Arc::new(AgentModel {
            providers,
            defaults: loaded.config.agents.defaults.clone(),
        });
        // Episodes embed with the provider memory embeds with; while there is none they are
        // found by their words, and the knowledge graph unites entities by their extraction ids.
        let graph = GraphExtractor::new(store.clone(), model.clone(), None, GRAPH_CALL_TIMEOUT)
            .with_embedder_slot(embedder.clone());
        let worker = EpisodicWorker::builder(store.clone(), model, settings)
            .embedder_slot(embedder.clone())
            .metrics(metrics.clone())
            .listener(Arc::new(graph))
            .build();
        Some(Self {
            worker,
            recall: EpisodicRecall::switchable(store, embedder),
        })
    }

    /// Stops the worker, giving running jobs a few seconds.
    pub async fn shutdown(&self) {
        self.worker.shutdown(SHUTDOWN_GRACE).await;
    }
}

/// The first retry waits a second, or less when sweeps are more frequent (as in tests).
fn retry_base(sweep_interval_ms: u64) -> Duration {
    Duration::from_millis(sweep_interval_ms.clamp(10, 1000))
}

/// An agent's model for background work (episodes, vault summaries), called as compaction
/// calls it.
pub fn agent_model(
    providers: Arc<dyn ProviderLookup>,
    defaults: &AgentDefaults,
) -> Arc<dyn BackgroundModel> {
    Arc::new(AgentModel {
        providers,
        defaults: defaults.clone(),
    })
}

/// An agent's model, called as compaction calls it: the agent's candidates with fallback,
/// once each (the worker retries a failed job itself, with its own backoff).
struct AgentModel {
    providers: Arc<dyn ProviderLookup>,
    defaults: AgentDefaults,
}

#[async_trait]
impl BackgroundModel for AgentModel {
    async fn complete(
        &self,
        agent: &Agent,
        system: &str,
        prompt: &str,
    ) -> Result<String, ModelError> {
        let candidates =
            goclaw_agent::resolve_candidates(agent, None, &self.defaults, self.providers.as_ref())
                .map_err(|e| ModelError(e.to_string()))?;
        let model = candidates
            .first()
            .map(|c| c.model.clone())
            .unwrap_or_default();
        let request = ChatRequest {
            model,
            system: vec![SystemPart {
                text: system.to_owned(),
                cacheable: false,
            }],
            messages: vec![ChatMessage::user(prompt)],
            tools: Vec::new(),
            max_tokens: SUMMARY_MAX_TOKENS,
            temperature: Some(0.2),
            thinking_budget: None,
        };
        let once = RetryPolicy {
            max_attempts: 1,
            ..RetryPolicy::default()
        };
        let mut ignore = |_| {};
        let response = goclaw_agent::call_model(&candidates, &request, &mut ignore, &once)
            .await
            .map_err(|e| ModelError(e.to_string()))?;
        Ok(goclaw_agent::sanitize_output(&response.text()))
    }
}

/// The runtime's memory recall: the user's most relevant episodes with this agent, as
/// GoClaw's auto-inject limits allow.
pub struct EpisodicPrompt {
    recall: EpisodicRecall,
}

impl EpisodicPrompt {
    pub fn new(recall: EpisodicRecall) -> Self {
        Self { recall }
    }
}

#[async_trait]
impl MemoryRecall for EpisodicPrompt {
    async fn recall(
        &self,
        tenant: TenantId,
        agent: &Agent,
        user_id: &str,
        message: &str,
    ) -> Option<String> {
        let scope = EpisodicScope::new(tenant, agent.id, user_id);
        match self
            .recall
            .auto_inject(&scope, message, auto_inject_settings(agent))
            .await
        {
            Ok(section) => section,
            Err(error) => {
                tracing::warn!(agent = %agent.agent_key, error = %error, "episodic recall failed");
                None
            }
        }
    }
}

/// Hands compacted sessions to the worker.
pub struct CompactionFeed {
    worker: EpisodicWorker,
}

impl CompactionFeed {
    pub fn new(worker: EpisodicWorker) -> Self {
        Self { worker }
    }
}

impl SessionObserver for CompactionFeed {
    fn compacted(&self, tenant: TenantId, session: &SessionKey) {
        self.worker
            .enqueue(tenant, session.clone(), Trigger::Compacted);
    }
}
