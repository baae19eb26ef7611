//! [`Runtime`], the entry point of the crate: it accepts messages (storing them first), queues
//! them per session, admits runs through the lanes, and lets callers watch, abort and compact.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use goclaw_config::AgentDefaults;
use goclaw_core::{
    Agent, AgentKey, AgentPatch, NewAgent, NewMessage, Role, SessionKey, SessionNamespace, Store,
    StoreError, TenantId, Trust,
};
use goclaw_providers::RetryPolicy;
use serde_json::json;
use tokio::sync::{broadcast, oneshot};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::compaction::{self, CompactionJob, Trigger};
use crate::error::RuntimeError;
use crate::events::{AgentEvent, AgentEventKind, EVENT_CAPACITY, RunEmitter};
use crate::injection;
use crate::model::{ProviderLookup, resolve_candidates};
use crate::scheduler::{LaneScheduler, LaneStats, QueuedMessage, SessionQueues, SessionRef};
use crate::settings::debounce;
use crate::tokens::{ModelTokenCounter, TokenCounter};
use crate::tools::ToolRegistry;
use crate::truncate::truncate_message;
use crate::types::{
    AbortOutcome, ChatInput, CompactOutcome, RunOutcome, RuntimeLimits, SessionRunStatus,
    Submission,
};
use crate::worker;

/// Key of the agent every tenant has.
pub const DEFAULT_AGENT_KEY: &str = "default";
/// Why a message is dropped when its session's queue is full.
pub const QUEUE_FULL_REASON: &str = "session queue full: message dropped";
/// Why queued messages are dropped at shutdown.
pub const SHUTTING_DOWN_REASON: &str = "gateway is shutting down, please retry shortly";
/// How long cancelled runs get to store their partial answers after the shutdown grace.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// What a runtime is built from.
pub struct RuntimeDeps {
    pub store: Arc<dyn Store>,
    pub providers: Arc<dyn ProviderLookup>,
    pub tools: ToolRegistry,
    pub defaults: AgentDefaults,
    pub limits: RuntimeLimits,
    /// Token estimates for compaction; the default is the model's tokenizer where known.
    pub token_counter: Arc<dyn TokenCounter>,
    /// How often a failed model call is repeated before falling back.
    pub retry: RetryPolicy,
    /// Where runs, turns and lane waits are counted; by default a registry nobody reads.
    pub metrics: goclaw_telemetry::Metrics,
    /// Where runs record their traces and spans; none by default.
    pub traces: Option<goclaw_telemetry::TraceRecorder>,
}

impl RuntimeDeps {
    /// Dependencies with the default token counter and retry policy.
    pub fn new(
        store: Arc<dyn Store>,
        providers: Arc<dyn ProviderLookup>,
        tools: ToolRegistry,
        defaults: AgentDefaults,
        limits: RuntimeLimits,
    ) -> Self {
        Self {
            store,
            providers,
            tools,
            defaults,
            limits,
            token_counter: Arc::new(ModelTokenCounter),
            retry: RetryPolicy::default(),
            metrics: goclaw_telemetry::Metrics::default(),
            traces: None,
        }
    }

    /// Records a trace per run (with its model and tool calls) into `recorder`.
    pub fn with_trace_recorder(mut self, recorder: goclaw_telemetry::TraceRecorder) -> Self {
        self.traces = Some(recorder);
        self
    }

    /// Records runs, turns and lane waits into `metrics`.
    pub fn with_metrics(mut self, metrics: goclaw_telemetry::Metrics) -> Self {
        self.metrics = metrics;
        self
    }
}

/// What runs and compactions use.
pub(crate) struct Services {
    pub store: Arc<dyn Store>,
    pub providers: Arc<dyn ProviderLookup>,
    pub tools: ToolRegistry,
    pub defaults: AgentDefaults,
    pub limits: RuntimeLimits,
    pub token_counter: Arc<dyn TokenCounter>,
    pub retry: RetryPolicy,
    pub events: broadcast::Sender<AgentEvent>,
    pub metrics: goclaw_telemetry::Metrics,
    pub traces: Option<goclaw_telemetry::TraceRecorder>,
}

/// The runtime's shared state.
pub(crate) struct Inner {
    pub services: Arc<Services>,
    pub lanes: LaneScheduler,
    pub sessions: SessionQueues,
    pub tasks: TaskTracker,
    pub shutdown: CancellationToken,
    accepting: AtomicBool,
}

/// The agent runtime. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    pub fn new(deps: RuntimeDeps) -> Self {
        let (events, _) = broadcast::channel(EVENT_CAPACITY);
        let lanes = LaneScheduler::new(&deps.limits.lanes);
        let services = Services {
            store: deps.store,
            providers: deps.providers,
            tools: deps.tools,
            defaults: deps.defaults,
            limits: deps.limits,
            token_counter: deps.token_counter,
            retry: deps.retry,
            events,
            metrics: deps.metrics,
            traces: deps.traces,
        };
        Self {
            inner: Arc::new(Inner {
                services: Arc::new(services),
                lanes,
                sessions: SessionQueues::default(),
                tasks: TaskTracker::new(),
                shutdown: CancellationToken::new(),
                accepting: AtomicBool::new(true),
            }),
        }
    }

    /// Makes sure the tenant has a default agent, creating the agent `default` (or marking it
    /// default) when it has none.
    pub async fn ensure_default_agent(&self, tenant: TenantId) -> Result<Agent, RuntimeError> {
        let agents = self.inner.services.store.agents();
        if let Some(agent) = agents.get_default(tenant).await? {
            return Ok(agent);
        }
        let key = AgentKey::parse(DEFAULT_AGENT_KEY).expect("the default agent key is valid");
        let mark_default = AgentPatch {
            is_default: Some(true),
            ..AgentPatch::default()
        };
        match agents.get_by_key(tenant, &key).await {
            Ok(_) => return Ok(agents.update(tenant, &key, mark_default).await?),
            Err(StoreError::NotFound(_)) => {}
            Err(error) => return Err(error.into()),
        }
        let mut agent = NewAgent::new(tenant, key.clone(), "Default Agent");
        agent.is_default = true;
        match agents.create(agent).await {
            Ok(agent) => {
                tracing::info!(tenant = %tenant, agent = %agent.agent_key, "default agent created");
                Ok(agent)
            }
            // Another replica or task created it meanwhile.
            Err(StoreError::Conflict(_)) => Ok(agents.update(tenant, &key, mark_default).await?),
            Err(error) => Err(error.into()),
        }
    }

    /// Accepts a user message: cuts it to `max_message_chars`, runs the prompt-injection guard
    /// (which may refuse it), stores it in its session (created if needed), and queues it for a
    /// run. Returns before the run executes.
    pub async fn submit(&self, input: ChatInput) -> Result<Submission, RuntimeError> {
        if !self.is_accepting() {
            return Err(RuntimeError::ShuttingDown);
        }
        let services = &self.inner.services;
        let truncated = truncate_message(&input.message, services.limits.max_message_chars);
        if let Some(original_len) = truncated.original_len {
            tracing::warn!(
                session_key = %input.session_key,
                agent = %input.agent_key,
                user_id = %input.user_id,
                original_len,
                truncated_to = services.limits.max_message_chars,
                "security.message_truncated"
            );
        }
        // Before anything is stored: a blocked message leaves no session and no message behind.
        injection::guard(services.limits.injection_action, &truncated.text, &input)?;
        let store = services.store.as_ref();
        let agent = match store
            .agents()
            .get_by_key(input.tenant_id, &input.agent_key)
            .await
        {
            Ok(agent) => agent,
            Err(StoreError::NotFound(_)) => {
                return Err(RuntimeError::AgentNotFound(input.agent_key.to_string()));
            }
            Err(error) => return Err(error.into()),
        };
        if agent.status == "inactive" {
            return Err(RuntimeError::AgentInactive(input.agent_key.to_string()));
        }
        let session = owned_session(store, &input, &agent).await?;
        let session_ref = SessionRef {
            tenant: input.tenant_id,
            key: input.session_key.clone(),
        };
        let entry = self.inner.sessions.checkout(&session_ref);
        let result = async {
            let _intake = entry.intake.lock().await;
            if !self.is_accepting() {
                return Err(RuntimeError::ShuttingDown);
            }
            let mut message = NewMessage::text(Role::User, truncated.text);
            message.metadata = json!({ "channel": input.channel, "user_id": input.user_id });
            let stored = store.messages().append(session.id, message).await?;
            let (reply, outcome) = oneshot::channel();
            let queued = QueuedMessage {
                seq: stored.seq,
                content: stored.content.clone(),
                agent_key: input.agent_key.clone(),
                user_id: input.user_id.clone(),
                trust: input.trust,
                channel: input.channel.clone(),
                reply,
            };
            let joined = entry.state().join(
                queued,
                input.lane,
                debounce(&agent, services.limits.inbound_debounce_ms),
                services.limits.session_queue_cap,
                Instant::now(),
            );
            if let Some(dropped) = joined.dropped {
                tracing::warn!(
                    session_key = %input.session_key,
                    agent = %input.agent_key,
                    run_id = %joined.run_id,
                    dropped_seq = dropped.seq,
                    "session queue full: oldest queued message dropped"
                );
                let _ = dropped.reply.send(RunOutcome::Dropped {
                    reason: QUEUE_FULL_REASON.to_owned(),
                });
                let mut marker = NewMessage::text(Role::System, "[message dropped: queue full]");
                marker.metadata = json!({ "dropped_seq": dropped.seq });
                store.messages().append(session.id, marker).await?;
            }
            if joined.start_worker {
                worker::spawn(self.inner.clone(), session_ref.clone(), entry.clone());
            }
            Ok(Submission {
                run_id: joined.run_id,
                session_key: input.session_key.clone(),
                user_message: stored,
                outcome,
            })
        }
        .await;
        self.inner.sessions.release(&session_ref, entry);
        result
    }

    /// Every event of every run from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AgentEvent> {
        self.inner.services.events.subscribe()
    }

    /// Cancels the session's running run and its queued run. Stored user messages stay.
    pub async fn abort(&self, tenant: TenantId, session: &SessionKey) -> AbortOutcome {
        let session_ref = SessionRef {
            tenant,
            key: session.clone(),
        };
        let taken = self.inner.sessions.with(&session_ref, |entry| {
            let mut state = entry.state();
            let active = state.active.as_ref().map(|active| {
                active.cancel.cancel();
                active.run_id
            });
            (active, std::mem::take(&mut state.pending))
        });
        let Some((active, pending)) = taken else {
            return AbortOutcome::default();
        };
        let mut run_ids: Vec<_> = active.into_iter().collect();
        for pending in pending {
            pending.cancel.cancel();
            run_ids.push(pending.run_id);
            if let Some(last) = pending.messages.last() {
                RunEmitter::new(
                    self.inner.services.events.clone(),
                    tenant,
                    last.agent_key.to_string(),
                    session.clone(),
                    pending.run_id,
                    last.user_id.clone(),
                    last.channel.clone(),
                )
                .emit(AgentEventKind::RunCancelled);
            }
            for message in pending.messages {
                let _ = message.reply.send(RunOutcome::Cancelled {
                    run_id: pending.run_id,
                    partial: String::new(),
                });
            }
        }
        tracing::info!(session_key = %session, runs = run_ids.len(), "session aborted");
        AbortOutcome {
            aborted: !run_ids.is_empty(),
            run_ids,
        }
    }

    /// Longest user message, in bytes, the runtime lets into a prompt uncut
    /// (`gateway.max_message_chars`, 0 = no limit); the gateway caps other writes into a
    /// transcript with it.
    pub fn max_message_chars(&self) -> usize {
        self.inner.services.limits.max_message_chars
    }

    /// How many tools agents can call.
    pub fn tool_count(&self) -> usize {
        self.inner.services.tools.len()
    }

    /// Keys of the tenant's agents with a run executing now.
    pub fn running_agents(&self, tenant: TenantId) -> std::collections::HashSet<String> {
        let mut running = std::collections::HashSet::new();
        self.inner.sessions.for_each(|entry| {
            if let Some(active) = entry.state().active.as_ref().filter(|a| a.tenant == tenant) {
                running.insert(active.agent_key.clone());
            }
        });
        running
    }

    /// Whether the session is running, and where its run is.
    pub fn session_status(&self, tenant: TenantId, session: &SessionKey) -> SessionRunStatus {
        let session_ref = SessionRef {
            tenant,
            key: session.clone(),
        };
        self.inner
            .sessions
            .with(&session_ref, |entry| {
                let state = entry.state();
                let queued_messages = state.queued_messages();
                match &state.active {
                    Some(active) => {
                        let (phase, tool, iteration) = active.progress.get();
                        SessionRunStatus {
                            is_running: true,
                            run_id: Some(active.run_id),
                            phase: Some(phase),
                            tool,
                            iteration,
                            queued_messages,
                        }
                    }
                    None => SessionRunStatus {
                        queued_messages,
                        ..SessionRunStatus::default()
                    },
                }
            })
            .unwrap_or_default()
    }

    /// Summarizes the session's history now, keeping the last `keep_last` messages
    /// (0: `compaction.keepLastMessages`). Waits for a running run to finish first.
    pub async fn compact(
        &self,
        tenant: TenantId,
        session: &SessionKey,
        keep_last: usize,
    ) -> Result<CompactOutcome, RuntimeError> {
        let services = &self.inner.services;
        let store = services.store.as_ref();
        let found = match store.sessions().get(tenant, session).await {
            Ok(found) => found,
            Err(StoreError::NotFound(_)) => {
                return Err(RuntimeError::SessionNotFound(session.to_string()));
            }
            Err(error) => return Err(error.into()),
        };
        let agents = store.agents().list(tenant).await?;
        let agent = match agents.iter().find(|a| Some(a.id) == found.agent_id) {
            Some(agent) => agent.clone(),
            None => store
                .agents()
                .get_default(tenant)
                .await?
                .ok_or_else(|| RuntimeError::AgentNotFound(DEFAULT_AGENT_KEY.to_owned()))?,
        };
        let candidates = resolve_candidates(
            &agent,
            Some(&found),
            &services.defaults,
            services.providers.as_ref(),
        )?;
        let session_ref = SessionRef {
            tenant,
            key: session.clone(),
        };
        let entry = self.inner.sessions.checkout(&session_ref);
        let result = async {
            let _turn = entry.turn.lock().await;
            let fresh = store.sessions().get(tenant, session).await?;
            let job = CompactionJob {
                agent: &agent,
                session: &fresh,
                candidates: &candidates,
                keep_last,
                trigger: Trigger::Force,
                current: None,
            };
            compaction::compact(services, job).await
        }
        .await;
        self.inner.sessions.release(&session_ref, entry);
        result
    }

    /// Load of each lane.
    pub fn lane_stats(&self) -> Vec<LaneStats> {
        self.inner.lanes.stats()
    }

    /// Stops accepting messages, drops queued runs (their submitters get `Dropped`), lets
    /// running runs finish within `limits.shutdown_grace`, then cancels what is left.
    pub async fn shutdown(&self) {
        self.inner.accepting.store(false, Ordering::SeqCst);
        self.inner.shutdown.cancel();
        self.inner
            .sessions
            .for_each(|entry| worker::drop_pending(&mut entry.state(), SHUTTING_DOWN_REASON));
        self.inner.tasks.close();
        let grace = self.inner.services.limits.shutdown_grace;
        if tokio::time::timeout(grace, self.inner.tasks.wait())
            .await
            .is_ok()
        {
            return;
        }
        tracing::warn!("runs still running at the shutdown deadline; cancelling them");
        self.inner.sessions.for_each(|entry| {
            if let Some(active) = &entry.state().active {
                active.cancel.cancel();
            }
        });
        let _ = tokio::time::timeout(CANCEL_GRACE, self.inner.tasks.wait()).await;
    }

    fn is_accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::SeqCst)
    }
}

/// The session `input` goes to, created if needed — as long as its sender may use it: a session
/// belongs to the user who created it, and a new key must lie in the sender's own namespace
/// (see [`SessionNamespace`]). Admins may use any session of their tenant.
async fn owned_session(
    store: &dyn Store,
    input: &ChatInput,
    agent: &Agent,
) -> Result<goclaw_core::Session, RuntimeError> {
    let refuse = |why: &str| {
        tracing::warn!(
            session_key = %input.session_key,
            user_id = %input.user_id,
            channel = %input.channel,
            reason = why,
            "security.session_access_denied"
        );
        RuntimeError::SessionNotOwned(input.session_key.to_string())
    };
    let admin = input.trust == Trust::Admin;
    let sessions = store.sessions();
    if !SessionNamespace::of(&input.session_key).admits(&input.user_id, input.trust) {
        // Rare: a key in someone else's (or a channel's) namespace is only usable when the
        // session already exists and is the sender's own.
        return match sessions.get(input.tenant_id, &input.session_key).await {
            Ok(session) if session.user_id == input.user_id => Ok(session),
            Ok(_) => Err(refuse("session of another user")),
            Err(StoreError::NotFound(_)) => Err(refuse("key in another namespace")),
            Err(error) => Err(error.into()),
        };
    }
    let session = sessions
        .get_or_create(
            input.tenant_id,
            &input.session_key,
            Some(agent),
            &input.user_id,
            &input.channel,
        )
        .await?;
    if !admin && session.user_id != input.user_id {
        return Err(refuse("session of another user"));
    }
    Ok(session)
}
