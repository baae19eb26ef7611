//! Test support: a scripted in-process provider (no network) that records every request and
//! how many calls overlap, and a harness that builds a runtime on a fresh database of either
//! engine with the agent `default` pointing at that provider.
#![allow(dead_code)]

use std::collections::VecDeque;
use std::future::Future;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use goclaw_agent::{
    AgentEventKind, ChatInput, Detail, EventWatch, RunId, RunOutcome, Runtime, RuntimeDeps,
    RuntimeLimits, ToolRegistry, TurnHandle, WatchScope,
};
use goclaw_config::AgentDefaults;
use goclaw_core::{
    Agent, AgentKey, AgentPatch, ChatRequest, ChatResponse, ContentPart, DeltaSink,
    MASTER_TENANT_ID, Message, Provider, ProviderError, Session, SessionKey, StopReason, Store,
    StreamDelta, ToolCall, Usage,
};
use serde_json::Value;
use tokio::sync::Semaphore;

/// Name of the provider the harness registers.
pub const PROVIDER: &str = "fake";
/// Model of the default agent.
pub const MODEL: &str = "fake-model";
/// The channel test messages come from: a messaging channel, so the debounce applies.
pub const CHANNEL: &str = "telegram";
/// Longest any test waits for something to happen.
pub const DEADLINE: Duration = Duration::from_secs(30);

/// What the provider does on one call.
#[derive(Debug, Clone)]
pub enum Step {
    /// Streams and returns this answer.
    Text(String),
    /// Asks for these tool calls: (id, name, arguments).
    Tools(Vec<(String, String, Value)>),
    Fail(ProviderError),
    /// Streams this text, then never finishes (until the call is dropped).
    Hang(String),
}

pub fn text(answer: &str) -> Step {
    Step::Text(answer.to_owned())
}

pub fn tool(id: &str, name: &str, arguments: Value) -> Step {
    Step::Tools(vec![(id.to_owned(), name.to_owned(), arguments)])
}

/// A provider that follows a script, then answers `ok`. Summarization requests (recognised
/// by their system prompt) are answered with `summary` and do not consume the script.
pub struct ScriptedProvider {
    script: Mutex<VecDeque<Step>>,
    /// What to do once the script is used up.
    pub otherwise: Mutex<Step>,
    pub summary: Mutex<String>,
    requests: Mutex<Vec<ChatRequest>>,
    summary_requests: Mutex<Vec<ChatRequest>>,
    in_flight: AtomicUsize,
    max_in_flight: AtomicUsize,
    /// When set, every (non-summary) call waits for a permit first.
    gate: Option<Semaphore>,
}

impl ScriptedProvider {
    pub fn new() -> Arc<Self> {
        Arc::new(Self::build(None))
    }

    /// A provider whose calls block until [`ScriptedProvider::release`] lets them through.
    pub fn gated() -> Arc<Self> {
        Arc::new(Self::build(Some(Semaphore::new(0))))
    }

    fn build(gate: Option<Semaphore>) -> Self {
        Self {
            script: Mutex::new(VecDeque::new()),
            otherwise: Mutex::new(text("ok")),
            summary: Mutex::new("SUMMARY".to_owned()),
            requests: Mutex::new(Vec::new()),
            summary_requests: Mutex::new(Vec::new()),
            in_flight: AtomicUsize::new(0),
            max_in_flight: AtomicUsize::new(0),
            gate,
        }
    }

    pub fn push(&self, step: Step) {
        self.script.lock().expect("script").push_back(step);
    }

    /// Lets `n` more gated calls answer.
    pub fn release(&self, n: usize) {
        if let Some(gate) = &self.gate {
            gate.add_permits(n);
        }
    }

    /// Run calls so far (summaries excluded).
    pub fn calls(&self) -> usize {
        self.requests.lock().expect("requests").len()
    }

    pub fn requests(&self) -> Vec<ChatRequest> {
        self.requests.lock().expect("requests").clone()
    }

    pub fn summary_requests(&self) -> Vec<ChatRequest> {
        self.summary_requests.lock().expect("summaries").clone()
    }

    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::SeqCst)
    }

    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight.load(Ordering::SeqCst)
    }
}

struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

#[async_trait]
impl Provider for ScriptedProvider {
    fn name(&self) -> &str {
        PROVIDER
    }

    async fn chat(
        &self,
        request: &ChatRequest,
        sink: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let is_summary = request
            .system
            .first()
            .is_some_and(|p| p.text.starts_with("You summarize conversations"));
        if is_summary {
            self.summary_requests
                .lock()
                .expect("summaries")
                .push(request.clone());
            let summary = self.summary.lock().expect("summary").clone();
            return Ok(response(vec![ContentPart::Text { text: summary }], request));
        }
        self.requests
            .lock()
            .expect("requests")
            .push(request.clone());
        let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
        self.max_in_flight.fetch_max(now, Ordering::SeqCst);
        let _in_flight = InFlight(&self.in_flight);
        if let Some(gate) = &self.gate {
            gate.acquire().await.expect("gate open").forget();
        }
        let step = self.script.lock().expect("script").pop_front();
        let step = step.unwrap_or_else(|| self.otherwise.lock().expect("otherwise").clone());
        match step {
            Step::Text(answer) => {
                sink(StreamDelta::Text(answer.clone()));
                Ok(response(vec![ContentPart::Text { text: answer }], request))
            }
            Step::Tools(calls) => {
                let parts = calls
                    .into_iter()
                    .map(|(id, name, arguments)| {
                        sink(StreamDelta::ToolCallStarted {
                            id: id.clone(),
                            name: name.clone(),
                        });
                        ContentPart::ToolCall(ToolCall {
                            id,
                            name,
                            arguments,
                        })
                    })
                    .collect();
                let mut r = response(parts, request);
                r.stop_reason = StopReason::ToolUse;
                Ok(r)
            }
            Step::Fail(error) => Err(error),
            Step::Hang(partial) => {
                sink(StreamDelta::Text(partial));
                std::future::pending().await
            }
        }
    }
}

fn response(parts: Vec<ContentPart>, request: &ChatRequest) -> ChatResponse {
    ChatResponse {
        parts,
        stop_reason: StopReason::EndTurn,
        usage: Usage {
            input_tokens: 10,
            output_tokens: 5,
            ..Usage::default()
        },
        model: request.model.clone(),
    }
}

/// How to build a harness.
pub struct Setup {
    pub provider: Arc<ScriptedProvider>,
    pub limits: RuntimeLimits,
    pub defaults: AgentDefaults,
}

impl Default for Setup {
    fn default() -> Self {
        Self {
            provider: ScriptedProvider::new(),
            limits: RuntimeLimits {
                inbound_debounce_ms: 0,
                ..RuntimeLimits::default()
            },
            defaults: AgentDefaults {
                provider: PROVIDER.to_owned(),
                model: MODEL.to_owned(),
                workspace: std::env::temp_dir().join("goclaw-agent-tests"),
                ..AgentDefaults::default()
            },
        }
    }
}

/// A runtime on a fresh database, with the default agent and an event subscription.
pub struct Harness {
    pub runtime: Runtime,
    pub store: Arc<dyn Store>,
    pub provider: Arc<ScriptedProvider>,
    pub events: EventWatch,
    pub agent: Agent,
}

impl Harness {
    pub async fn start(store: Arc<dyn Store>, setup: Setup) -> Self {
        let mut providers: std::collections::HashMap<String, Arc<dyn Provider>> =
            std::collections::HashMap::new();
        providers.insert(PROVIDER.to_owned(), setup.provider.clone());
        let runtime = Runtime::new(RuntimeDeps::new(
            store.clone(),
            Arc::new(providers),
            ToolRegistry::with_builtins(),
            setup.defaults,
            setup.limits,
        ));
        let agent = runtime
            .ensure_default_agent(MASTER_TENANT_ID)
            .await
            .expect("default agent");
        let events = runtime.watch(WatchScope::everything());
        Self {
            runtime,
            store,
            provider: setup.provider,
            events,
            agent,
        }
    }

    pub async fn with_defaults(store: Arc<dyn Store>) -> Self {
        Self::start(store, Setup::default()).await
    }

    /// Changes the default agent.
    pub async fn patch_agent(&mut self, patch: AgentPatch) {
        self.agent = self
            .store
            .agents()
            .update(MASTER_TENANT_ID, &self.agent.agent_key, patch)
            .await
            .expect("agent update");
    }

    /// A message from alice on a messaging channel (where the debounce applies).
    pub fn input(&self, session: &str, message: &str) -> ChatInput {
        ChatInput {
            media: Vec::new(),
            tenant_id: MASTER_TENANT_ID,
            agent_key: self.agent.agent_key.clone(),
            session_key: key(session),
            user_id: "alice".to_owned(),
            trust: goclaw_core::Trust::User,
            channel: CHANNEL.to_owned(),
            message: message.to_owned(),
            idempotency_key: None,
            from_channel: false,
            overrides: Default::default(),
        }
    }

    /// Starts a turn, with a stream carrying only its end.
    pub async fn submit(&self, session: &str, message: &str) -> TurnHandle {
        self.start_turn(self.input(session, message)).await
    }

    pub async fn start_turn(&self, input: ChatInput) -> TurnHandle {
        self.runtime
            .start_turn(input, Detail::Outcome)
            .await
            .expect("start turn")
    }

    /// Submits and waits for the outcome.
    pub async fn chat(&self, session: &str, message: &str) -> RunOutcome {
        outcome(self.submit(session, message).await).await
    }

    pub async fn session(&self, session: &str) -> Session {
        self.store
            .sessions()
            .get(MASTER_TENANT_ID, &key(session))
            .await
            .expect("session")
    }

    pub async fn messages(&self, session: &str) -> Vec<Message> {
        let id = self.session(session).await.id;
        self.store
            .messages()
            .list(id, 0, 10_000)
            .await
            .expect("messages")
    }

    /// Events of `run` until (and including) its terminal event.
    pub async fn events_of(&mut self, run: RunId) -> Vec<AgentEventKind> {
        let mut out = Vec::new();
        loop {
            let event = tokio::time::timeout(DEADLINE, self.events.recv())
                .await
                .expect("an event before the deadline")
                .expect("event stream open");
            if event.run_id != run {
                continue;
            }
            let terminal = event.kind.is_terminal();
            out.push(event.kind.clone());
            if terminal {
                return out;
            }
        }
    }
}

pub fn key(raw: &str) -> SessionKey {
    SessionKey::parse(raw).expect("session key")
}

pub fn agent_key(raw: &str) -> AgentKey {
    AgentKey::parse(raw).expect("agent key")
}

/// Waits for a turn's outcome.
pub async fn outcome(turn: TurnHandle) -> RunOutcome {
    tokio::time::timeout(DEADLINE, turn.events.outcome())
        .await
        .expect("an outcome before the deadline")
}

/// Whether the turn's run has not ended within a short wait.
pub async fn still_running(turn: &mut TurnHandle) -> bool {
    tokio::time::timeout(Duration::from_millis(50), turn.events.recv())
        .await
        .is_err()
}

/// Polls `condition` until it holds; fails the test at the deadline.
pub async fn eventually<F, Fut>(what: &str, mut condition: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + DEADLINE;
    while !condition().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for: {what}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The text of the last message of a request.
pub fn last_text(request: &ChatRequest) -> String {
    request
        .messages
        .last()
        .map(|m| m.text())
        .unwrap_or_default()
}

/// Every text of a request's messages, in order.
pub fn all_text(request: &ChatRequest) -> String {
    request
        .messages
        .iter()
        .map(|m| m.text())
        .collect::<Vec<_>>()
        .join("\n---\n")
}

/// The content of a completed outcome.
pub fn completed(outcome: &RunOutcome) -> &str {
    match outcome {
        RunOutcome::Completed { content, .. } => content,
        other => panic!("expected a completed run, got {other:?}"),
    }
}
