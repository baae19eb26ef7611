//! [`Runtime`], the entry point of the crate: it accepts messages (storing them first), queues
//! them per session, admits runs through the lanes, and lets callers watch, abort and compact.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use goclaw_config::AgentDefaults;
use goclaw_core::{
    Agent, AgentKey, AgentPatch, NewAgent, NewMessage, NewTurn, Role, Session, SessionKey,
    SessionNamespace, Store, StoreError, TenantId, Trust, TurnEnd, TurnStatus,
};
use goclaw_providers::RetryPolicy;
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::compaction::{self, CompactionJob, Trigger};
pub use crate::deps::RuntimeDeps;
use crate::error::RuntimeError;
use crate::events::{AgentEventKind, RunEmitter, RunId};
use crate::hub::{Detail, EventHub, EventWatch, RunEvents, StreamError, WatchScope};
use crate::injection;
use crate::model::{ProviderLookup, resolve_candidates};
use crate::scheduler::{
    Admission, Lane, LaneScheduler, LaneStats, QueuedMessage, SessionQueues, SessionRef,
};
use crate::settings::debounce;
use crate::tokens::TokenCounter;
use crate::tools::ToolRegistry;
use crate::truncate::truncate_message;
use crate::types::{
    AbortOutcome, ChatInput, CompactOutcome, RuntimeLimits, SessionRunStatus, TurnHandle,
};
use crate::{recovery, replay, worker};

/// Key of the agent every tenant has.
pub const DEFAULT_AGENT_KEY: &str = "default";
/// Why a message is dropped when its session's queue is full.
pub const QUEUE_FULL_REASON: &str = "session queue full: message dropped";
/// Why queued messages are dropped at shutdown.
pub const SHUTTING_DOWN_REASON: &str = "gateway is shutting down, please retry shortly";
/// How long cancelled runs get to store their partial answers after the shutdown grace.
const CANCEL_GRACE: Duration = Duration::from_secs(2);

/// What runs and compactions use.
pub(crate) struct Services {
    pub store: Arc<dyn Store>,
    pub providers: Arc<dyn ProviderLookup>,
    pub tools: ToolRegistry,
    pub defaults: AgentDefaults,
    pub limits: RuntimeLimits,
    pub token_counter: Arc<dyn TokenCounter>,
    pub retry: RetryPolicy,
    pub events: EventHub,
    pub metrics: goclaw_telemetry::Metrics,
    pub traces: Option<goclaw_telemetry::TraceRecorder>,
    pub prices: Arc<goclaw_core::PriceList>,
    pub recall: Option<Arc<dyn crate::recall::MemoryRecall>>,
    pub observer: Option<Arc<dyn crate::recall::SessionObserver>>,
    pub skill_commands: Option<Arc<dyn crate::skill_commands::SkillCommands>>,
    pub tool_source: Option<Arc<dyn crate::tool_source::ToolSource>>,
    pub hooks: Option<crate::hooks::HookEngine>,
    pub quota: Option<Arc<dyn crate::quota::TurnQuota>>,
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
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime").finish_non_exhaustive()
    }
}

impl Runtime {
    pub fn new(deps: RuntimeDeps) -> Self {
        let events = EventHub::new(deps.limits.event_buffer);
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
            prices: deps.prices,
            recall: deps.recall,
            observer: deps.observer,
            skill_commands: deps.skill_commands,
            tool_source: deps.tool_source,
            hooks: deps.hooks,
            quota: deps.quota,
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

    /// The workspace `agent_key`'s runs for `user_id` work in — the directory its file
    /// tools see, one per user for `open` agents — so that what arrives with a message
    /// (a channel's files) lands where the run finds it.
    pub async fn workspace_of(
        &self,
        tenant: TenantId,
        agent_key: &AgentKey,
        user_id: &str,
    ) -> Result<std::path::PathBuf, RuntimeError> {
        let services = &self.inner.services;
        let agent = match services.store.agents().get_by_key(tenant, agent_key).await {
            Ok(agent) => agent,
            Err(StoreError::NotFound(_)) => {
                return Err(RuntimeError::AgentNotFound(agent_key.to_string()));
            }
            Err(error) => return Err(error.into()),
        };
        let settings = crate::settings::RunSettings::resolve(&agent, &services.defaults);
        Ok(crate::settings::user_workspace(
            &agent, &settings, tenant, user_id,
        ))
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

    /// Starts a turn — the only way a run begins. The message is cut to
    /// `max_message_chars`, checked by the prompt-injection guard (which may refuse it), and
    /// stored with its turn record in its session (created if needed, and only if the sender
    /// may use it); then it joins the session's queue. Returns once the message is stored,
    /// with the run's own event stream (`detail` says which events it carries), registered
    /// before the run can emit anything.
    ///
    /// A retried request (the same `idempotency_key` from the same tenant and user) gets the
    /// first request's turn back — a stream of how its run ends (whole, never joined
    /// mid-answer), from the live run or the store — and starts nothing.
    pub async fn start_turn(
        &self,
        input: ChatInput,
        detail: Detail,
    ) -> Result<TurnHandle, RuntimeError> {
        if !self.is_accepting() {
            return Err(RuntimeError::ShuttingDown);
        }
        let services = &self.inner.services;
        let store = services.store.as_ref();
        if let Some(key) = input.idempotency_key.as_deref() {
            replay::check_key(key)?;
            if let Some(turn) = store
                .turns()
                .by_idempotency_key(input.tenant_id, &input.user_id, key)
                .await?
            {
                return replay::resume(services, &input, turn).await;
            }
        }
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
        if let Some(quota) = &services.quota {
            quota.admit(&input, &agent).await?;
        }
        let session = owned_session(store, &input, &agent).await?;
        let session_ref = SessionRef {
            tenant: input.tenant_id,
            key: input.session_key.clone(),
        };
        let admission = admission(&agent, &input.channel, &services.limits);
        let entry = self.inner.sessions.checkout(&session_ref);
        let result = async {
            let _intake = entry.intake.lock().await;
            if !self.is_accepting() {
                return Err(RuntimeError::ShuttingDown);
            }
            // The run is chosen before the message is stored (the turn record names it); the
            // intake lock keeps the choice valid until the message has joined it.
            let (run_id, new_run) = entry.state().run_to_join(admission);
            let mut message = NewMessage::text(Role::User, truncated.text);
            message.metadata = json!({ "channel": input.channel, "user_id": input.user_id });
            if !input.media.is_empty() {
                message.metadata["media_refs"] = json!(input.media);
            }
            let turn = NewTurn {
                tenant_id: input.tenant_id,
                run_id: run_id.as_uuid(),
                user_id: input.user_id.clone(),
                idempotency_key: input.idempotency_key.clone(),
            };
            let stored = match store.turns().accept(session.id, message, turn).await {
                Ok((stored, _)) => stored,
                Err(StoreError::Conflict(_)) if input.idempotency_key.is_some() => {
                    return Ok(None); // the same request, accepted meanwhile
                }
                Err(error) => return Err(error.into()),
            };
            if new_run {
                services.events.open_run(run_id);
            }
            let events = services
                .events
                .subscribe_run(run_id, stored.seq, detail)
                .unwrap_or_else(|| RunEvents::failed(run_id, StreamError::Closed));
            let queued = QueuedMessage {
                seq: stored.seq,
                content: stored.content.clone(),
                agent_key: input.agent_key.clone(),
                user_id: input.user_id.clone(),
                trust: input.trust,
                channel: input.channel.clone(),
                overrides: input.overrides.clone(),
            };
            let joined = entry.state().join(
                queued,
                run_id,
                admission,
                services.limits.session_queue_cap,
                Instant::now(),
            );
            if let Some((dropped_run, dropped)) = joined.dropped {
                tracing::warn!(
                    session_key = %input.session_key,
                    agent = %input.agent_key,
                    run_id = %dropped_run,
                    dropped_seq = dropped.seq,
                    "session queue full: oldest queued message dropped"
                );
                services.events.end_turn(
                    dropped_run,
                    dropped.seq,
                    StreamError::Dropped(QUEUE_FULL_REASON.to_owned()),
                );
                let mut marker = NewMessage::text(Role::System, "[message dropped: queue full]");
                marker.metadata = json!({ "dropped_seq": dropped.seq });
                let end = TurnEnd {
                    status: TurnStatus::Dropped,
                    error: Some(QUEUE_FULL_REASON.to_owned()),
                    message: Some(marker),
                };
                store
                    .turns()
                    .finish_message(session.id, dropped.seq, end)
                    .await?;
            }
            if joined.start_worker {
                worker::spawn(self.inner.clone(), session_ref.clone(), entry.clone());
            }
            Ok(Some(TurnHandle {
                run_id,
                session_key: input.session_key.clone(),
                user_message: stored,
                replayed: false,
                events,
            }))
        }
        .await;
        self.inner.sessions.release(&session_ref, entry);
        match result? {
            Some(handle) => Ok(handle),
            None => {
                let key = input.idempotency_key.as_deref().unwrap_or_default();
                let turn = store
                    .turns()
                    .by_idempotency_key(input.tenant_id, &input.user_id, key)
                    .await?
                    .ok_or(StoreError::NotFound("turn"))?;
                replay::resume(services, &input, turn).await
            }
        }
    }

    /// Events of every run `scope` covers, from now on, until the returned watch is dropped.
    /// A watcher that falls `gateway.event_buffer` events behind is cut off with an error.
    pub fn watch(&self, scope: WatchScope) -> EventWatch {
        self.inner.services.events.watch(scope)
    }

    /// Ends the turns a previous process left unfinished (stored, acknowledged, but neither
    /// answered nor failed — the process stopped first): each is marked failed, with a
    /// message in its session saying so. Nothing is run again. Call once at start-up, before
    /// accepting turns. Returns how many turns were ended.
    pub async fn recover_unfinished_turns(&self) -> Result<usize, RuntimeError> {
        recovery::fail_unfinished(self.inner.services.store.as_ref()).await
    }

    /// Cancels the session's running run and its queued runs. Stored user messages stay;
    /// their turns end as cancelled.
    pub async fn abort(&self, tenant: TenantId, session: &SessionKey) -> AbortOutcome {
        let session_ref = SessionRef {
            tenant,
            key: session.clone(),
        };
        let entry = self.inner.sessions.checkout(&session_ref);
        let taken = {
            // No message joins a queued run while it is being cancelled.
            let _intake = entry.intake.lock().await;
            let mut state = entry.state();
            let active: Vec<RunId> = state
                .active
                .iter()
                .map(|active| {
                    active.cancel.cancel();
                    active.run_id
                })
                .collect();
            (active, std::mem::take(&mut state.pending))
        };
        self.inner.sessions.release(&session_ref, entry);
        let (mut run_ids, pending) = taken;
        let services = &self.inner.services;
        let session_id = match pending.is_empty() {
            true => None,
            false => services
                .store
                .sessions()
                .get(tenant, session)
                .await
                .ok()
                .map(|s| s.id),
        };
        for pending in pending {
            pending.cancel.cancel();
            run_ids.push(pending.run_id);
            if let Some(last) = pending.messages.last() {
                RunEmitter::new(
                    services.events.clone(),
                    tenant,
                    last.agent_key.to_string(),
                    session.clone(),
                    pending.run_id,
                    last.user_id.clone(),
                    last.channel.clone(),
                )
                .emit(AgentEventKind::RunCancelled {
                    partial: String::new(),
                });
            }
            if let Some(session_id) = session_id {
                let end = TurnEnd {
                    status: TurnStatus::Cancelled,
                    error: None,
                    message: None,
                };
                let ended = services
                    .store
                    .turns()
                    .finish_run(session_id, pending.run_id.as_uuid(), end)
                    .await;
                if let Err(error) = ended {
                    tracing::warn!(run_id = %pending.run_id, error = %error, "recording a cancelled turn failed");
                }
            }
        }
        tracing::info!(session_key = %session, runs = run_ids.len(), "session aborted");
        AbortOutcome {
            aborted: !run_ids.is_empty(),
            run_ids,
        }
    }

    /// Cancels the session's oldest executing run (its turns end as cancelled); queued runs
    /// and other executing ones go on. `None` when nothing was executing.
    pub fn stop_oldest(&self, tenant: TenantId, session: &SessionKey) -> Option<RunId> {
        let session_ref = SessionRef {
            tenant,
            key: session.clone(),
        };
        let stopped = self.inner.sessions.with(&session_ref, |entry| {
            let state = entry.state();
            let oldest = state.active.iter().find(|a| !a.cancel.is_cancelled())?;
            oldest.cancel.cancel();
            Some(oldest.run_id)
        });
        let stopped = stopped.flatten();
        if let Some(run_id) = stopped {
            tracing::info!(session_key = %session, run_id = %run_id, "oldest run stopped");
        }
        stopped
    }

    /// The provider runs reach by `name` (stored ones over configured ones), if any.
    pub fn provider(&self, name: &str) -> Option<Arc<dyn goclaw_core::Provider>> {
        self.inner.services.providers.get(name)
    }

    /// Longest user message, in bytes, the runtime lets into a prompt uncut
    /// (`gateway.max_message_chars`, 0 = no limit); the gateway caps other writes into a
    /// transcript with it.
    pub fn max_message_chars(&self) -> usize {
        self.inner.services.limits.max_message_chars
    }

    /// The provider and model a run of `agent` in `session` calls first (the configured
    /// defaults where the agent names none).
    pub fn primary_model(&self, agent: &Agent, session: Option<&Session>) -> (String, String) {
        let (provider, model) =
            crate::model::primary(agent, session, &self.inner.services.defaults);
        (provider.to_owned(), model.to_owned())
    }

    /// How many tools agents can call.
    pub fn tool_count(&self) -> usize {
        self.inner.services.tools.len()
    }

    /// Keys of the tenant's agents with a run executing now.
    pub fn running_agents(&self, tenant: TenantId) -> std::collections::HashSet<String> {
        let mut running = std::collections::HashSet::new();
        self.inner.sessions.for_each(|entry| {
            for active in entry.state().active.iter().filter(|a| a.tenant == tenant) {
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
                match state.active.first() {
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
            let _alone = entry.exclusive().await;
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

    /// Stops accepting messages, ends queued runs (their turns are marked dropped, with a
    /// message saying why), lets running runs finish within `limits.shutdown_grace`, then
    /// cancels what is left (their turns end as cancelled, with the partial answer). A turn
    /// the process could not mark before it stopped is failed by
    /// [`Runtime::recover_unfinished_turns`] at the next start.
    pub async fn shutdown(&self) {
        self.inner.accepting.store(false, Ordering::SeqCst);
        self.inner.shutdown.cancel();
        let mut queued = Vec::new();
        self.inner.sessions.for_each_keyed(|session, entry| {
            let runs = worker::take_queued(&mut entry.state());
            if !runs.is_empty() {
                queued.push((session.clone(), runs));
            }
        });
        for (session, runs) in queued {
            worker::drop_runs(&self.inner.services, &session, runs, SHUTTING_DOWN_REASON).await;
        }
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
            for active in &entry.state().active {
                active.cancel.cancel();
            }
        });
        let _ = tokio::time::timeout(CANCEL_GRACE, self.inner.tasks.wait()).await;
    }

    /// Whether new turns are accepted (false once shutdown began).
    pub fn is_accepting(&self) -> bool {
        self.inner.accepting.load(Ordering::SeqCst)
    }
}

/// How a message from `channel` joins its session's queue: people on the gateway's own
/// interactive surfaces (WebSocket, HTTP) are not kept waiting — their turn starts at once on
/// an idle session, and what they send while a run is going merges into the next run.
/// Messaging channels keep GoClaw's trailing debounce window, which merges a burst of chat
/// messages into one turn.
fn admission(agent: &Agent, channel: &str, limits: &RuntimeLimits) -> Admission {
    let interactive = matches!(channel, "ws" | "http");
    Admission {
        lane: Lane::for_channel(channel),
        debounce: if interactive {
            Duration::ZERO
        } else {
            debounce(agent, limits.inbound_debounce_ms)
        },
        merge: interactive,
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
    let namespace = SessionNamespace::of(&input.session_key);
    let channel_routed = input.from_channel
        && matches!(&namespace, SessionNamespace::Reserved(kind) if *kind == input.channel);
    if !channel_routed && !namespace.admits(&input.user_id, input.trust) {
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
