//! Subagents: a run hands a task to a run of the same agent in a session of its own,
//! `agent:{agentKey}:subagent:{label}-{suffix}`, started through [`Runtime::start_turn`] with the
//! channel `subagent` — so it is stored, queued and admitted by the `subagent` lane like any
//! other run. [`SubagentManager`] is the runtime side of the `spawn` tool
//! ([`goclaw_tools::subagents::SubagentSpawner`]):
//!
//! - limits from `agents.defaults.subagents`, checked in GoClaw's order with its texts: depth
//!   (`spawn depth limit reached (d/max)`), running subagents of the gateway (`max concurrent
//!   subagents reached (n/max)`), running children of the spawning session (`max children per
//!   agent reached (n/max)`);
//! - every task recorded in `subagent_tasks`, `running` until it ends `completed`, `failed` or
//!   `cancelled` with its result; its depth is kept there, so a run in a subagent session knows
//!   how deep it sits;
//! - when an async subagent ends, its result is announced to the spawning session
//!   (`announce.rs`), batched with its siblings';
//! - at start-up, tasks a dead process left `running` are reported failed (`recovery.rs`);
//! - hooks hear of every spawn (`subagent_start`, which may refuse it) and end
//!   (`subagent_stop`) (`hooks.rs`).
//!
//! The running tasks live in memory, one [`LiveTask`] each; the store is their record.

mod actions;
mod announce;
mod hooks;
mod recovery;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use goclaw_config::SubagentsConfig;
use goclaw_core::{
    AgentKey, NewSubagentTask, SessionKey, Store, SubagentOutcome, SubagentStatus, SubagentTask,
    TenantId, ToolContext, Trust,
};
use goclaw_tools::subagents::{SubagentInfo, TaskSelector};
use serde_json::json;
use tokio::sync::watch;
use uuid::Uuid;

use self::announce::{
    ANNOUNCE_CAP, ANNOUNCE_DEBOUNCE, AnnounceQueue, AnnounceTarget, Announcement, announcement_text,
};
use crate::hub::{Detail, RunEvents};
use crate::runtime::Runtime;
use crate::scheduler::lock;
use crate::types::{ChatInput, RunOutcome, TurnOverrides};

pub use self::recovery::INTERRUPTED_BY_RESTART;

/// The channel, and so the lane, of subagent runs and of the announcements of their results.
pub const SUBAGENT_CHANNEL: &str = "subagent";
/// How long `cancel` waits for a cancelled run to end before reporting it as it is.
const CANCEL_WAIT: Duration = Duration::from_secs(10);

/// Spawns subagents, tracks the running ones and announces their results. Cheap to clone.
#[derive(Clone)]
pub struct SubagentManager {
    inner: Arc<Inner>,
}

struct Inner {
    store: Arc<dyn Store>,
    config: SubagentsConfig,
    /// Bound once the runtime exists (the runtime's tools hold the manager).
    runtime: OnceLock<Runtime>,
    /// Running tasks by id.
    live: Mutex<HashMap<Uuid, Arc<LiveTask>>>,
    /// Held from the limit checks until the new task is live, so concurrent spawns cannot
    /// both pass the last free place.
    admission: tokio::sync::Mutex<()>,
    announcements: AnnounceQueue,
}

/// A running subagent.
struct LiveTask {
    id: Uuid,
    tenant: TenantId,
    agent_key: AgentKey,
    parent_session: SessionKey,
    session: SessionKey,
    label: String,
    depth: i32,
    user_id: String,
    trust: Trust,
    /// Whether its result goes to the parent session when it ends (async mode, or a sync
    /// caller that stopped waiting).
    announce: AtomicBool,
    /// Set by `cancel`/`steer`: the parent asked for the end, so it is not announced.
    cancel_requested: AtomicBool,
    /// `wait` calls holding on to it: their caller takes the result, so it is not announced.
    waiters: AtomicUsize,
    /// `None` while running; how it ended afterwards.
    ended: watch::Sender<Option<SubagentInfo>>,
}

impl LiveTask {
    fn info(&self) -> SubagentInfo {
        self.ended.borrow().clone().unwrap_or_else(|| SubagentInfo {
            id: self.id.to_string(),
            label: self.label.clone(),
            status: SubagentStatus::Running.as_str().to_owned(),
            depth: self.depth,
            session_key: self.session.to_string(),
            result: None,
        })
    }

    async fn ended(&self) -> SubagentInfo {
        let mut receiver = self.ended.subscribe();
        match receiver.wait_for(Option::is_some).await {
            Ok(info) => info.clone().unwrap_or_else(|| self.info()),
            Err(_) => self.info(),
        }
    }
}

/// Counts a `wait` on a task while it lasts; a sync caller that stops waiting (its run was
/// cancelled) hands the result back to the announcements.
struct Claim {
    task: Arc<LiveTask>,
    hand_back: bool,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.hand_back && self.task.ended.borrow().is_none() {
            self.task.announce.store(true, Ordering::SeqCst);
        }
        self.task.waiters.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What a new task runs: where, how deep, on whose behalf.
struct Launch {
    tenant: TenantId,
    agent_key: AgentKey,
    parent_session: SessionKey,
    session: SessionKey,
    label: String,
    task: String,
    depth: i32,
    user_id: String,
    trust: Trust,
    channel: String,
    announce: bool,
}

impl SubagentManager {
    /// A manager recording into `store`, limited by `config`; bind the runtime before use.
    pub fn new(store: Arc<dyn Store>, config: SubagentsConfig) -> Self {
        Self {
            inner: Arc::new(Inner {
                store,
                config,
                runtime: OnceLock::new(),
                live: Mutex::new(HashMap::new()),
                admission: tokio::sync::Mutex::new(()),
                announcements: AnnounceQueue::default(),
            }),
        }
    }

    /// Binds the runtime subagents run in; later calls are ignored.
    pub fn bind(&self, runtime: Runtime) {
        let _ = self.inner.runtime.set(runtime);
    }

    /// How many subagents are running now.
    pub fn running(&self) -> usize {
        lock(&self.inner.live).len()
    }

    fn runtime(&self) -> Result<&Runtime, String> {
        self.inner
            .runtime
            .get()
            .ok_or_else(|| "the agent runtime is not ready".to_owned())
    }

    fn max_depth(&self) -> i32 {
        i32::try_from(self.inner.config.max_spawn_depth.clamp(1, 5)).unwrap_or(1)
    }

    /// How deep a run in `session` sits: 0 outside subagent sessions, else its task's depth.
    async fn depth_of(&self, tenant: TenantId, session: &SessionKey) -> Result<i32, String> {
        let live = lock(&self.inner.live)
            .values()
            .find(|t| t.tenant == tenant && &t.session == session)
            .map(|t| t.depth);
        if let Some(depth) = live {
            return Ok(depth);
        }
        if !is_subagent_session(session) {
            return Ok(0);
        }
        let recorded = self
            .inner
            .store
            .subagent_tasks()
            .latest_for_session(tenant, session.as_str())
            .await
            .map_err(|e| format!("cannot read the subagent task: {e}"))?;
        // A subagent session without a record was made by hand: it counts as one level down.
        Ok(recorded.map_or(1, |t| t.depth))
    }

    /// The running children of `ctx`'s session, oldest first.
    fn children(&self, ctx: &ToolContext) -> Vec<Arc<LiveTask>> {
        let mut children: Vec<Arc<LiveTask>> = lock(&self.inner.live)
            .values()
            .filter(|t| t.tenant == ctx.tenant_id && t.parent_session == ctx.session_key)
            .cloned()
            .collect();
        children.sort_by_key(|t| t.id);
        children
    }

    /// Checks the limits and starts `launch` unless `check_depth` is off (a steer restarts a
    /// task at the depth it had).
    async fn launch(&self, launch: Launch, check_depth: bool) -> Result<SubagentInfo, String> {
        let runtime = self.runtime()?.clone();
        let config = &self.inner.config;
        let admission = self.inner.admission.lock().await;
        let max_depth = self.max_depth();
        let parent_depth = launch.depth - 1;
        if check_depth && parent_depth >= max_depth {
            return Err(format!(
                "spawn depth limit reached ({parent_depth}/{max_depth})"
            ));
        }
        let (running, children) = {
            let live = lock(&self.inner.live);
            let children = live
                .values()
                .filter(|t| t.tenant == launch.tenant && t.parent_session == launch.parent_session)
                .count();
            (live.len(), children)
        };
        let max_concurrent = config.max_concurrent.max(1) as usize;
        if running >= max_concurrent {
            return Err(format!(
                "max concurrent subagents reached ({running}/{max_concurrent})"
            ));
        }
        let max_children = config.max_children_per_agent.clamp(1, 50) as usize;
        if children >= max_children {
            return Err(format!(
                "max children per agent reached ({children}/{max_children})"
            ));
        }
        let (provider, model) = self.model_of(&runtime, &launch).await;
        let record = NewSubagentTask {
            tenant_id: launch.tenant,
            parent_agent_key: launch.agent_key.to_string(),
            parent_session_key: launch.parent_session.to_string(),
            session_key: launch.session.to_string(),
            subject: launch.label.clone(),
            description: launch.task.clone(),
            depth: launch.depth,
            model,
            provider,
            metadata: json!({
                "user_id": launch.user_id,
                "trust": launch.trust.as_str(),
                "origin_channel": launch.channel,
                "mode": if launch.announce { "async" } else { "sync" },
            }),
        };
        let stored = self
            .inner
            .store
            .subagent_tasks()
            .create(record)
            .await
            .map_err(|e| format!("cannot record the subagent task: {e}"))?;
        let task = Arc::new(LiveTask {
            id: stored.id,
            tenant: launch.tenant,
            agent_key: launch.agent_key.clone(),
            parent_session: launch.parent_session.clone(),
            session: launch.session.clone(),
            label: launch.label.clone(),
            depth: launch.depth,
            user_id: launch.user_id.clone(),
            trust: launch.trust,
            announce: AtomicBool::new(launch.announce),
            cancel_requested: AtomicBool::new(false),
            waiters: AtomicUsize::new(0),
            ended: watch::channel(None).0,
        });
        let input = ChatInput {
            media: Vec::new(),
            tenant_id: launch.tenant,
            agent_key: launch.agent_key.clone(),
            session_key: launch.session.clone(),
            user_id: launch.user_id.clone(),
            trust: launch.trust,
            channel: SUBAGENT_CHANNEL.to_owned(),
            message: launch.task.clone(),
            idempotency_key: None,
            // The gateway itself routes this message into the subagent namespace.
            from_channel: true,
            overrides: TurnOverrides {
                model: config.model.clone().filter(|m| !m.trim().is_empty()),
                extra_system_prompt: Some(role_prompt(&launch, max_depth)),
                depth: u32::try_from(launch.depth).unwrap_or(0),
            },
        };
        let turn = match runtime.start_turn(input, Detail::Outcome).await {
            Ok(turn) => turn,
            Err(error) => {
                let outcome = SubagentOutcome {
                    status: SubagentStatus::Failed,
                    result: Some(error.to_string()),
                    iterations: 0,
                    input_tokens: 0,
                    output_tokens: 0,
                };
                let _ = self
                    .inner
                    .store
                    .subagent_tasks()
                    .finish(launch.tenant, stored.id, outcome)
                    .await;
                return Err(format!("cannot start the subagent: {error}"));
            }
        };
        lock(&self.inner.live).insert(task.id, task.clone());
        drop(admission);
        tracing::info!(
            task_id = %task.id,
            session_key = %task.session,
            parent_session = %task.parent_session,
            depth = task.depth,
            "subagent spawned"
        );
        let manager = self.clone();
        let running = task.clone();
        tokio::spawn(async move { manager.drive(running, turn.events).await });
        Ok(task.info())
    }

    /// The provider and model the task's first call goes to, for its record.
    async fn model_of(&self, runtime: &Runtime, launch: &Launch) -> (String, String) {
        let agent = self
            .inner
            .store
            .agents()
            .get_by_key(launch.tenant, &launch.agent_key)
            .await;
        let Ok(agent) = agent else {
            return (String::new(), String::new());
        };
        let (provider, model) = runtime.primary_model(&agent, None);
        let chosen = self
            .inner
            .config
            .model
            .clone()
            .filter(|m| !m.trim().is_empty());
        (provider, chosen.unwrap_or(model))
    }

    /// Follows a task's run to its end: records it, tells waiters, announces it.
    async fn drive(self, task: Arc<LiveTask>, events: RunEvents) {
        let outcome = events.outcome().await;
        let (status, result, usage) = match outcome {
            RunOutcome::Completed { content, usage, .. } => {
                (SubagentStatus::Completed, content, usage)
            }
            RunOutcome::Failed { error, .. } => (SubagentStatus::Failed, error, Default::default()),
            RunOutcome::Cancelled { partial, .. } => {
                (SubagentStatus::Cancelled, partial, Default::default())
            }
            RunOutcome::Dropped { reason } => (SubagentStatus::Failed, reason, Default::default()),
        };
        let stopping = self.inner.runtime.get().is_some_and(|r| !r.is_accepting());
        let info = SubagentInfo {
            status: status.as_str().to_owned(),
            result: Some(result.clone()),
            ..task.info()
        };
        if stopping && status != SubagentStatus::Completed {
            // Cut short by the shutdown: the record stays `running`, and the next start
            // reports it to the parent.
            task.ended.send_replace(Some(info));
            lock(&self.inner.live).remove(&task.id);
            tracing::info!(task_id = %task.id, "subagent stopped by the shutdown");
            return;
        }
        let input_tokens = i64::try_from(usage.input_tokens).unwrap_or(i64::MAX);
        let output_tokens = i64::try_from(usage.output_tokens).unwrap_or(i64::MAX);
        let ended = SubagentOutcome {
            status,
            result: Some(result.clone()),
            iterations: 0,
            input_tokens,
            output_tokens,
        };
        if let Err(error) = self
            .inner
            .store
            .subagent_tasks()
            .finish(task.tenant, task.id, ended)
            .await
        {
            tracing::warn!(task_id = %task.id, error = %error, "recording a subagent's end failed");
        }
        task.ended.send_replace(Some(info));
        tracing::info!(task_id = %task.id, status = status.as_str(), "subagent ended");
        self.hook_stop(&task).await;
        // Read after the end is published: a `wait` that claimed the task by now gets it.
        let claimed = task.waiters.load(Ordering::SeqCst) > 0;
        let asked = task.cancel_requested.load(Ordering::SeqCst);
        if claimed || asked || !task.announce.load(Ordering::SeqCst) {
            lock(&self.inner.live).remove(&task.id);
            return;
        }
        let target = AnnounceTarget {
            tenant: task.tenant,
            session: task.parent_session.clone(),
            agent_key: task.agent_key.clone(),
            user_id: task.user_id.clone(),
            trust: task.trust,
        };
        let item = Announcement {
            id: task.id,
            label: task.label.clone(),
            status,
            result,
            depth: task.depth,
            input_tokens,
            output_tokens,
        };
        self.announce(&task, target, item).await;
    }

    /// Leaves the running tasks and queues the result for the parent session: delivered at
    /// once when no sibling is still running (or the batch is full), else after a quiet
    /// [`ANNOUNCE_DEBOUNCE`]. Leaving and queueing happen under one lock, so of siblings
    /// ending together the last one always finds the others' results queued.
    async fn announce(&self, task: &LiveTask, target: AnnounceTarget, item: Announcement) {
        let (tenant, session) = (target.tenant, target.session.clone());
        let (generation, now) = {
            let mut live = lock(&self.inner.live);
            live.remove(&task.id);
            let (generation, size) = self.inner.announcements.push(target, item);
            let siblings = live
                .values()
                .filter(|t| t.tenant == tenant && t.parent_session == session)
                .count();
            (generation, size >= ANNOUNCE_CAP || siblings == 0)
        };
        if now {
            self.deliver(tenant, &session, None).await;
            return;
        }
        let manager = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(ANNOUNCE_DEBOUNCE).await;
            manager.deliver(tenant, &session, Some(generation)).await;
        });
    }

    fn running_children(&self, tenant: TenantId, session: &SessionKey) -> usize {
        lock(&self.inner.live)
            .values()
            .filter(|t| t.tenant == tenant && &t.parent_session == session)
            .count()
    }

    /// Sends the batch of `session` (if `generation` still matches) as one message.
    async fn deliver(&self, tenant: TenantId, session: &SessionKey, generation: Option<u64>) {
        let Some((target, items)) = self.inner.announcements.take(tenant, session, generation)
        else {
            return;
        };
        let text = announcement_text(&items, self.running_children(tenant, session));
        self.send_announcement(target, text, items.len()).await;
    }

    /// Starts the parent's turn that reads `text`.
    async fn send_announcement(&self, target: AnnounceTarget, text: String, results: usize) {
        let Ok(runtime) = self.runtime() else {
            return;
        };
        let input = ChatInput {
            media: Vec::new(),
            tenant_id: target.tenant,
            agent_key: target.agent_key,
            session_key: target.session.clone(),
            user_id: target.user_id,
            trust: target.trust,
            channel: SUBAGENT_CHANNEL.to_owned(),
            message: text,
            idempotency_key: None,
            from_channel: true,
            overrides: TurnOverrides::default(),
        };
        match runtime.start_turn(input, Detail::Outcome).await {
            Ok(turn) => tracing::info!(
                session_key = %target.session,
                run_id = %turn.run_id,
                results,
                "subagent results announced"
            ),
            Err(error) => tracing::warn!(
                session_key = %target.session,
                results,
                error = %error,
                "announcing subagent results failed"
            ),
        }
    }

    /// The running child `which` names; `None` when it names none that is running.
    fn running_child(&self, ctx: &ToolContext, which: &TaskSelector) -> Option<Arc<LiveTask>> {
        let children = self.children(ctx);
        match which {
            TaskSelector::All | TaskSelector::Last => children.last().cloned(),
            TaskSelector::Id(id) => children.into_iter().find(|t| t.id.to_string() == *id),
        }
    }

    /// A task of the session's, running or not, by id.
    async fn stored_child(&self, ctx: &ToolContext, id: &str) -> Result<SubagentTask, String> {
        let not_found = || format!("no subagent {id} in this session");
        let id: Uuid = id.parse().map_err(|_| not_found())?;
        let task = self
            .inner
            .store
            .subagent_tasks()
            .get(ctx.tenant_id, id)
            .await
            .map_err(|_| not_found())?;
        if task.parent_session_key != ctx.session_key.as_str() {
            return Err(not_found());
        }
        Ok(task)
    }

    /// Asks the task's run to stop and waits (a while) for it to end.
    async fn stop(&self, task: &Arc<LiveTask>) -> SubagentInfo {
        task.cancel_requested.store(true, Ordering::SeqCst);
        if let Ok(runtime) = self.runtime() {
            runtime.abort(task.tenant, &task.session).await;
        }
        tokio::time::timeout(CANCEL_WAIT, task.ended())
            .await
            .unwrap_or_else(|_| task.info())
    }
}

/// Whether `session` is a subagent's (`agent:{a}:subagent:…`).
pub fn is_subagent_session(session: &SessionKey) -> bool {
    let mut parts = session.as_str().split(':');
    parts.next() == Some("agent") && parts.nth(1) == Some(SUBAGENT_CHANNEL)
}

/// `agent:{agent}:subagent:{label}-{suffix}`: the label made safe for a key (lower-case
/// letters, digits and dashes, at most 40), and a random suffix, so two tasks with one label —
/// of one user or of two — never share a history.
fn subagent_session(agent: &AgentKey, label: &str) -> Result<SessionKey, String> {
    let mut slug = String::new();
    for c in label.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') {
            slug.push('-');
        }
        if slug.len() >= 40 {
            break;
        }
    }
    let slug = slug.trim_matches('-');
    let slug = if slug.is_empty() { "task" } else { slug };
    let suffix = Uuid::new_v4().simple().to_string();
    let suffix = suffix.get(..8).unwrap_or("0");
    SessionKey::parse(&format!("agent:{agent}:subagent:{slug}-{suffix}")).map_err(|e| e.to_string())
}

/// What a subagent's system prompt adds: its role, that its answer is the deliverable, and
/// whether it may spawn further.
fn role_prompt(launch: &Launch, max_depth: i32) -> String {
    let further = if launch.depth < max_depth {
        "You may spawn subagents of your own for independent parts of the task."
    } else {
        "You cannot spawn further subagents."
    };
    format!(
        "# Subagent\n\nYou are a subagent of agent {agent}, spawned for one task, labelled {label}, \
         at depth {depth}/{max_depth}. Work on the task on your own: nobody will answer questions. \
         Your final answer is the deliverable — it is handed back to the session that spawned \
         you, not shown to a person — so make it complete and self-contained. {further}",
        agent = launch.agent_key,
        label = launch.label,
        depth = launch.depth,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subagent_sessions_are_named_after_the_label() {
        let agent = AgentKey::parse("helper").expect("agent");
        let cases = [
            (
                "Research the API",
                "agent:helper:subagent:research-the-api-",
            ),
            ("  ", "agent:helper:subagent:task-"),
            ("a/b:c", "agent:helper:subagent:a-b-c-"),
        ];
        for (label, prefix) in cases {
            let key = subagent_session(&agent, label).expect("key");
            assert!(key.as_str().starts_with(prefix), "{label:?} → {key}");
            assert_eq!(key.as_str().len(), prefix.len() + 8, "{key}");
            assert!(is_subagent_session(&key));
        }
        let long = subagent_session(&agent, &"x".repeat(100)).expect("key");
        assert!(long.as_str().len() <= "agent:helper:subagent:".len() + 40 + 9);
        for (key, subagent) in [
            ("agent:helper:subagent:x-1", true),
            ("agent:helper:ws:direct:1", false),
            ("subagent", false),
        ] {
            let key = SessionKey::parse(key).expect("key");
            assert_eq!(is_subagent_session(&key), subagent, "{key}");
        }
    }
}
