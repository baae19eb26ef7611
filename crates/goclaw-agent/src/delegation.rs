//! Delegation: a run hands a task to another agent it is linked to — a run of the target
//! agent in a session of its own, `agent:{target}:delegate:{source}-{suffix}`, started through
//! [`Runtime::start_turn`] with the channel `delegate`, so it is queued and admitted by the
//! `delegate` lane. [`DelegationManager`] is the runtime side of the `delegate` tool
//! ([`goclaw_tools::delegate::Delegator`]):
//!
//! - the source must be allowed to delegate to the target: an active link
//!   ([`goclaw_core::AgentLinkStore::delegation_link`]), else the call is refused;
//! - at most the link's `max_concurrent` delegations run over one link, and at most the
//!   target's `other_config.max_delegation_load` (5) run for one target agent; beyond that the
//!   caller is told the agent is at capacity (GoClaw's wording);
//! - a sync delegation waits for the answer within its timeout (the run is aborted when it
//!   passes); an async one runs within [`ASYNC_TIMEOUT`] and its answer (or failure) is
//!   announced to the calling session as a new message on the `delegate` channel.
//!
//! Each delegation's life is reported to the observer the application sets
//! ([`DelegationManager::observe`]) as GoClaw's `delegation.{started,completed,failed,cancelled}`
//! payloads, and async ones from one calling session also as `progress`, `accumulated` and
//! `announce` ([`batch`]: their results are announced together). Running delegations are
//! counted in memory, per process.

mod batch;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::{Agent, AgentKey, SessionKey, Store, TenantId, ToolContext};
use goclaw_tools::delegate::{DelegateRequest, Delegated, Delegator};
use uuid::Uuid;

use crate::hub::Detail;
use crate::runtime::Runtime;
use crate::scheduler::lock;
use crate::types::{ChatInput, RunOutcome, TurnOverrides};

/// The channel, and so the lane, of delegated runs and of their announcements.
pub const DELEGATE_CHANNEL: &str = "delegate";
/// The longest an async delegation may run.
pub const ASYNC_TIMEOUT: Duration = Duration::from_secs(600);
/// Delegations one target agent takes at once unless its `max_delegation_load` says otherwise.
pub const DEFAULT_DELEGATION_LOAD: usize = 5;

/// Runs delegations and counts the running ones. Cheap to clone.
#[derive(Clone)]
pub struct DelegationManager {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    runtime: OnceLock<Runtime>,
    live: Mutex<Vec<Running>>,
    /// Ended async delegations' results waiting for their siblings, by calling session.
    held: Mutex<HashMap<batch::Caller, Vec<batch::Held>>>,
    observer: OnceLock<DelegationObserver>,
}

/// Told each phase of every delegation: `(tenant, user id, phase, payload)`, the phase one of
/// `started`, `completed`, `failed`, `cancelled`, and for async ones `progress`,
/// `accumulated` and `announce`.
pub type DelegationObserver = Arc<dyn Fn(TenantId, &str, &str, serde_json::Value) + Send + Sync>;

/// What the events of one delegation share.
struct Report {
    tenant: TenantId,
    user_id: String,
    base: serde_json::Value,
    started: std::time::Instant,
}

/// A running delegation, as the capacity checks count it.
#[derive(Debug, Clone)]
struct Running {
    id: Uuid,
    link: Uuid,
    target: goclaw_core::AgentId,
    /// An async delegation's calling session (they report back together); none when sync.
    caller: Option<batch::Caller>,
    active: batch::Active,
}

/// Leaves the running delegations when dropped, however the delegation ended.
struct Slot {
    manager: DelegationManager,
    id: Uuid,
}

impl Drop for Slot {
    fn drop(&mut self) {
        lock(&self.manager.inner.live).retain(|r| r.id != self.id);
    }
}

impl DelegationManager {
    /// A manager over `store`; bind the runtime before use.
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                runtime: OnceLock::new(),
                live: Mutex::new(Vec::new()),
                held: Mutex::new(HashMap::new()),
                observer: OnceLock::new(),
            }),
        }
    }

    /// Binds the runtime delegations run in; later calls are ignored.
    pub fn bind(&self, runtime: Runtime) {
        let _ = self.inner.runtime.set(runtime);
    }

    /// Sets who is told of every delegation's phases; later calls are ignored.
    pub fn observe(&self, observer: DelegationObserver) {
        let _ = self.inner.observer.set(observer);
    }

    fn tell(&self, report: &Report, phase: &str, payload: serde_json::Value) {
        if let Some(observer) = self.inner.observer.get() {
            observer(report.tenant, &report.user_id, phase, payload);
        }
    }

    /// Reports the progress of the async delegations of `caller`, when `id` is the oldest.
    fn report_progress(&self, id: Uuid, caller: &batch::Caller, report: &Report) {
        let active: Vec<batch::Active> = lock(&self.inner.live)
            .iter()
            .filter(|r| r.caller.as_ref() == Some(caller))
            .map(|r| r.active.clone())
            .collect();
        if let Some(payload) = batch::progress(id, &active, &report.base) {
            self.tell(report, "progress", payload);
        }
    }

    /// Ends async delegation `id` of `caller` with `result`: held while others of the caller
    /// run, else every held result of the caller with this one.
    fn finish(&self, id: Uuid, caller: &batch::Caller, result: batch::Held) -> batch::Finish {
        let mut live = lock(&self.inner.live);
        live.retain(|r| r.id != id);
        let remaining = live
            .iter()
            .filter(|r| r.caller.as_ref() == Some(caller))
            .count();
        let mut held = lock(&self.inner.held);
        if remaining > 0 {
            held.entry(caller.clone()).or_default().push(result);
            return batch::Finish::Held { remaining };
        }
        let mut results = held.remove(caller).unwrap_or_default();
        results.push(result);
        batch::Finish::Announce(results)
    }

    fn report(&self, report: &Report, phase: &str, error: Option<&str>) {
        let Some(observer) = self.inner.observer.get() else {
            return;
        };
        let mut payload = report.base.clone();
        payload["status"] = phase.into();
        if phase != "started" {
            let elapsed = u64::try_from(report.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            payload["elapsed_ms"] = elapsed.into();
        }
        if let Some(error) = error {
            payload["error"] = error.into();
        }
        observer(report.tenant, &report.user_id, phase, payload);
    }

    /// How many delegations are running now.
    pub fn running(&self) -> usize {
        lock(&self.inner.live).len()
    }

    fn runtime(&self) -> Result<Runtime, String> {
        self.inner
            .runtime
            .get()
            .cloned()
            .ok_or_else(|| "the agent runtime is not ready".to_owned())
    }

    async fn agent(&self, tenant: TenantId, key: &str) -> Result<Agent, String> {
        let parsed = AgentKey::parse(key).map_err(|_| format!("agent {key} not found"))?;
        self.inner
            .store
            .agents()
            .get_by_key(tenant, &parsed)
            .await
            .map_err(|_| format!("agent {key} not found"))
    }

    /// Checks the link and the capacities and takes a place, or says why not.
    async fn admit(
        &self,
        ctx: &ToolContext,
        source: &Agent,
        target: &Agent,
        background: bool,
    ) -> Result<Slot, String> {
        if source.id == target.id {
            return Err("an agent cannot delegate to itself".to_owned());
        }
        let link = self
            .inner
            .store
            .agent_links()
            .delegation_link(ctx.tenant_id, source.id, target.id)
            .await
            .map_err(|e| format!("cannot read the agent links: {e}"))?
            .ok_or_else(|| {
                format!(
                    "{} may not delegate to {}: no active link between them",
                    source.agent_key, target.agent_key
                )
            })?;
        let link_cap = usize::try_from(link.max_concurrent.max(1)).unwrap_or(1);
        let target_cap = target
            .other_config
            .get("max_delegation_load")
            .and_then(serde_json::Value::as_u64)
            .and_then(|n| usize::try_from(n).ok())
            .filter(|n| *n > 0)
            .unwrap_or(DEFAULT_DELEGATION_LOAD);
        let mut live = lock(&self.inner.live);
        let over_link = live.iter().filter(|r| r.link == link.id).count();
        if over_link >= link_cap {
            return Err(format!(
                "Agent at capacity ({over_link}/{link_cap}): {} already runs as many tasks from {} as their link allows. Wait for one to finish or do the task yourself.",
                target.agent_key, source.agent_key
            ));
        }
        let on_target = live.iter().filter(|r| r.target == target.id).count();
        if on_target >= target_cap {
            return Err(format!(
                "Agent at capacity ({on_target}/{target_cap}): {} is busy with other delegated tasks. Wait for one to finish or do the task yourself.",
                target.agent_key
            ));
        }
        let id = Uuid::now_v7();
        live.push(Running {
            id,
            link: link.id,
            target: target.id,
            caller: background.then(|| batch::Caller {
                tenant: ctx.tenant_id,
                session: ctx.session_key.to_string(),
            }),
            active: batch::Active {
                id,
                target_key: target.agent_key.to_string(),
                target_display_name: target.display_name.clone(),
                started: std::time::Instant::now(),
            },
        });
        Ok(Slot {
            manager: self.clone(),
            id,
        })
    }

    /// Announces an async delegation's end to the calling session.
    async fn announce(runtime: &Runtime, ctx: &ToolContext, text: String) {
        let Ok(agent_key) = AgentKey::parse(&ctx.agent_key) else {
            return;
        };
        let input = ChatInput {
            media: Vec::new(),
            tenant_id: ctx.tenant_id,
            agent_key,
            session_key: ctx.session_key.clone(),
            user_id: ctx.user_id.clone(),
            trust: ctx.trust,
            channel: DELEGATE_CHANNEL.to_owned(),
            message: text,
            idempotency_key: None,
            from_channel: true,
            overrides: TurnOverrides::default(),
        };
        if let Err(error) = runtime.start_turn(input, Detail::Outcome).await {
            tracing::warn!(session_key = %ctx.session_key, error = %error, "announcing a delegation failed");
        }
    }
}

/// What a delegated run's outcome means for its caller, and the phase it ends in.
fn answer_of(outcome: RunOutcome, target: &str) -> (&'static str, Result<String, String>) {
    match outcome {
        RunOutcome::Completed { content, .. } => ("completed", Ok(content)),
        RunOutcome::Failed { error, .. } => (
            "failed",
            Err(format!("delegation to {target} failed: {error}")),
        ),
        RunOutcome::Cancelled { .. } => (
            "cancelled",
            Err(format!("delegation to {target} was cancelled")),
        ),
        RunOutcome::Dropped { reason } => (
            "failed",
            Err(format!("delegation to {target} did not run: {reason}")),
        ),
    }
}

#[async_trait]
impl Delegator for DelegationManager {
    async fn delegate(
        &self,
        ctx: &ToolContext,
        request: DelegateRequest,
    ) -> Result<Delegated, String> {
        let runtime = self.runtime()?;
        let source = self.agent(ctx.tenant_id, &ctx.agent_key).await?;
        let target = self.agent(ctx.tenant_id, &request.agent).await?;
        let slot = self
            .admit(ctx, &source, &target, request.background)
            .await?;
        let delegation_id = slot.id.to_string();
        let suffix = &slot.id.simple().to_string()[24..];
        let session = SessionKey::parse(&format!(
            "agent:{}:delegate:{}-{suffix}",
            target.agent_key, source.agent_key
        ))
        .map_err(|e| format!("invalid delegation session: {e}"))?;
        let task_preview: String = request.task.chars().take(500).collect();
        let input = ChatInput {
            media: Vec::new(),
            tenant_id: ctx.tenant_id,
            agent_key: target.agent_key.clone(),
            session_key: session.clone(),
            user_id: ctx.user_id.clone(),
            trust: ctx.trust,
            channel: DELEGATE_CHANNEL.to_owned(),
            message: request.task,
            idempotency_key: None,
            // The gateway itself routes the task into the delegate namespace.
            from_channel: true,
            overrides: TurnOverrides {
                model: None,
                extra_system_prompt: Some(format!(
                    "[Delegated task]\nAgent {} handed you this task on behalf of user {}. Your answer goes back to {} as the result: write the result itself, complete and self-contained.",
                    source.agent_key, ctx.user_id, source.agent_key
                )),
                ..Default::default()
            },
        };
        let turn = runtime
            .start_turn(input, Detail::Outcome)
            .await
            .map_err(|e| format!("cannot start the delegation: {e}"))?;
        tracing::info!(
            delegation_id = %delegation_id,
            source = %source.agent_key,
            target = %target.agent_key,
            session_key = %session,
            background = request.background,
            "delegation.started"
        );
        let report = Report {
            tenant: ctx.tenant_id,
            user_id: ctx.user_id.clone(),
            base: serde_json::json!({
                "delegation_id": delegation_id,
                "source_agent_id": source.id.to_string(),
                "source_agent_key": source.agent_key.as_str(),
                "source_display_name": source.display_name,
                "target_agent_id": target.id.to_string(),
                "target_agent_key": target.agent_key.as_str(),
                "target_display_name": target.display_name,
                "user_id": ctx.user_id,
                "channel": ctx.channel,
                "chat_id": ctx.session_key.as_str(),
                "mode": if request.background { "async" } else { "sync" },
                "task": task_preview,
                "created_at": chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
            }),
            started: std::time::Instant::now(),
        };
        self.report(&report, "started", None);
        let target_key = target.agent_key.to_string();
        if !request.background {
            let outcome = tokio::time::timeout(request.timeout, turn.events.outcome()).await;
            drop(slot);
            let (phase, answer) = match outcome {
                Ok(outcome) => answer_of(outcome, &target_key),
                Err(_) => {
                    runtime.abort(ctx.tenant_id, &session).await;
                    (
                        "failed",
                        Err(format!(
                            "delegation to {target_key} timed out after {}s",
                            request.timeout.as_secs()
                        )),
                    )
                }
            };
            self.report(&report, phase, answer.as_ref().err().map(String::as_str));
            return answer.map(|answer| Delegated::Answered {
                delegation_id,
                answer,
            });
        }
        let ctx = ctx.clone();
        let id = delegation_id.clone();
        let manager = self.clone();
        let caller = batch::Caller {
            tenant: ctx.tenant_id,
            session: ctx.session_key.to_string(),
        };
        let display_name = target.display_name.clone();
        tokio::spawn(async move {
            let waited = tokio::time::timeout(ASYNC_TIMEOUT, turn.events.outcome());
            tokio::pin!(waited);
            let first = tokio::time::Instant::now() + batch::PROGRESS_EVERY;
            let mut ticker = tokio::time::interval_at(first, batch::PROGRESS_EVERY);
            let outcome = loop {
                tokio::select! {
                    outcome = &mut waited => break outcome,
                    _ = ticker.tick() => manager.report_progress(slot.id, &caller, &report),
                }
            };
            let (phase, answer) = match outcome {
                Ok(outcome) => answer_of(outcome, &target_key),
                Err(_) => {
                    runtime.abort(ctx.tenant_id, &session).await;
                    (
                        "failed",
                        Err(format!("timed out after {}s", ASYNC_TIMEOUT.as_secs())),
                    )
                }
            };
            manager.report(&report, phase, answer.as_ref().err().map(String::as_str));
            let held = batch::Held {
                delegation_id: id,
                target_key,
                target_display_name: display_name,
                phase,
                text: answer.unwrap_or_else(|reason| reason),
            };
            match manager.finish(slot.id, &caller, held) {
                batch::Finish::Held { remaining } => {
                    let mut payload = report.base.clone();
                    payload["siblings_remaining"] = remaining.into();
                    let elapsed = report.started.elapsed().as_millis();
                    payload["elapsed_ms"] = u64::try_from(elapsed).unwrap_or(u64::MAX).into();
                    manager.tell(&report, "accumulated", payload);
                }
                batch::Finish::Announce(results) => {
                    let payload = batch::announced(&results, &report.base, report.started);
                    manager.tell(&report, "announce", payload);
                    Self::announce(&runtime, &ctx, batch::announcement(&results)).await;
                }
            }
            drop(slot);
        });
        Ok(Delegated::Started { delegation_id })
    }
}
