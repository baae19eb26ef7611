//! One run of the agent loop: context → history → prompt → think → act → observe → finalize.
//!
//! A run resolves its agent, model candidates, system prompt and history, then alternates
//! model calls and tool calls until the model answers without calling a tool (or a limit is
//! reached), storing each assistant and tool message as it happens and streaming events all
//! the way. Only the session worker starts runs.

use std::sync::Arc;

use goclaw_core::{
    Agent, AgentKey, ChatMessage, ChatRequest, ChatResponse, ChatRole, ContentPart, Message,
    NewMessage, ProviderError, Role, Session, SessionId, StoreError, StreamDelta, SystemPart,
    ToolCall, ToolContext, ToolDefinition, ToolOutput, Trust, TurnEnd, TurnStatus, Usage,
};
use serde_json::{Value, json};
use tokio_util::sync::CancellationToken;

use crate::compaction::{self, CompactionJob, Trigger};
use crate::error::RuntimeError;
use crate::events::{AgentEventKind, RunEmitter, RunId, TOOL_RESULT_EVENT_CHARS, clip_chars};
use crate::history::{self, CurrentRun, HistoryView};
use crate::model::{ModelCandidate, call_model, resolve_candidates};
use crate::prompt::{PromptInput, build_system_prompt};
use crate::runtime::Services;
use crate::sanitize::{SILENT_REPLY, is_silent, sanitize_output};
use crate::scheduler::{ProgressHandle, SessionRef};
use crate::settings::RunSettings;
use crate::trace::{LlmResult, RunTrace, SpanStart};
use crate::types::{RunOutcome, RunPhase};

/// What a run is asked to do.
pub(crate) struct RunPlan {
    pub session: SessionRef,
    pub run_id: RunId,
    pub agent_key: AgentKey,
    /// Sender and channel of the last message the run answers.
    pub user_id: String,
    /// The least trust among the senders of the messages the run answers.
    pub trust: Trust,
    pub channel: String,
    /// Seqs of the user messages the run answers.
    pub seqs: Vec<i64>,
    /// Their text, joined, for the `RunStarted` event.
    pub text: String,
    pub cancel: CancellationToken,
    pub progress: ProgressHandle,
    /// What the last message asked beyond the agent's settings.
    pub overrides: crate::types::TurnOverrides,
    /// Runs of the session executing beside this one (a group's): their messages are theirs
    /// to answer, so this run's model does not see them.
    pub concurrent: Vec<ConcurrentRun>,
}

/// A run of the same session that was executing when this one started.
#[derive(Debug, Clone)]
pub(crate) struct ConcurrentRun {
    pub run_id: String,
    /// Seqs of the user messages it answers.
    pub seqs: Vec<i64>,
}

/// How a run ended, and what it resolved on the way (for a compaction afterwards).
pub(crate) struct RunReport {
    pub outcome: RunOutcome,
    pub resolved: Option<(Agent, Vec<ModelCandidate>)>,
}

/// Executes one run to its end and records how it ended with its turns; the caller
/// publishes the terminal event.
pub(crate) async fn execute(services: Arc<Services>, plan: RunPlan) -> RunReport {
    let emitter = RunEmitter::new(
        services.events.clone(),
        plan.session.tenant,
        plan.agent_key.to_string(),
        plan.session.key.clone(),
        plan.run_id,
        plan.user_id.clone(),
        plan.channel.clone(),
    );
    emitter.emit(AgentEventKind::RunStarted {
        message: plan.text.clone(),
    });
    tracing::info!(
        session_key = %plan.session.key,
        agent = %plan.agent_key,
        run_id = %plan.run_id,
        messages = plan.seqs.len(),
        "run started"
    );
    let mut trace = RunTrace::start(
        services.traces.clone(),
        plan.session.tenant,
        plan.agent_key.as_str(),
        plan.session.key.as_str(),
        &plan.run_id.to_string(),
        &plan.user_id,
        &plan.channel,
    )
    .with_prices(services.prices.clone());
    let prepared = match prepare(&services, &plan).await {
        Ok(prepared) => prepared,
        Err(error) => {
            let session = services
                .store
                .sessions()
                .get(plan.session.tenant, &plan.session.key)
                .await
                .ok()
                .map(|s| s.id);
            let outcome = fail(&services, &plan, session, error.to_string()).await;
            trace.finish(&outcome, &Usage::default());
            return RunReport {
                outcome,
                resolved: None,
            };
        }
    };
    let first_run = !prepared
        .messages
        .iter()
        .any(|m| m.role == ChatRole::Assistant);
    if let Some(reason) =
        crate::hooks_run::before_run(&services, &plan, &prepared.agent, first_run).await
    {
        let outcome = fail(&services, &plan, Some(prepared.session.id), reason).await;
        trace.finish(&outcome, &Usage::default());
        return RunReport {
            outcome,
            resolved: None,
        };
    }
    let mut run = Run {
        services: &services,
        plan: &plan,
        emitter: &emitter,
        usage: Usage::default(),
        prepared,
        trace,
        sent_files: Default::default(),
    };
    run.trace.set_agent(&run.prepared.agent);
    let outcome = run.drive().await;
    run.trace.finish(&outcome, &run.usage);
    RunReport {
        outcome,
        resolved: Some((run.prepared.agent, run.prepared.candidates)),
    }
}

/// Everything resolved before the first model call.
struct Prepared {
    agent: Agent,
    session: Session,
    candidates: Vec<ModelCandidate>,
    settings: RunSettings,
    system: Vec<SystemPart>,
    tools: Vec<ToolDefinition>,
    /// Tools of this run only (the agent's MCP servers), beside the registry's.
    own_tools: crate::tool_source::RunTools,
    messages: Vec<ChatMessage>,
}

async fn prepare(services: &Services, plan: &RunPlan) -> Result<Prepared, RuntimeError> {
    plan.progress.set(RunPhase::Preparing, None, 0);
    let store = services.store.as_ref();
    let tenant = plan.session.tenant;
    let agent = match store.agents().get_by_key(tenant, &plan.agent_key).await {
        Ok(agent) => agent,
        Err(StoreError::NotFound(_)) => {
            return Err(RuntimeError::AgentNotFound(plan.agent_key.to_string()));
        }
        Err(error) => return Err(error.into()),
    };
    let session = store.sessions().get(tenant, &plan.session.key).await?;
    let mut candidates = resolve_candidates(
        &agent,
        Some(&session),
        &services.defaults,
        services.providers.as_ref(),
    )?;
    if let (Some(model), Some(primary)) = (&plan.overrides.model, candidates.first_mut()) {
        primary.model = model.clone();
    }
    let mut settings = RunSettings::resolve(&agent, &services.defaults);
    settings.workspace = crate::settings::user_workspace(&agent, &settings, tenant, &plan.user_id);
    let files = crate::context_files::files_for_user(store, &agent, &plan.user_id).await?;
    let mut tools = services.tools.definitions_for(&agent);
    let own_tools = crate::tool_source::gather(
        services.tool_source.as_ref(),
        &services.tools,
        &agent,
        &plan.user_id,
        &mut tools,
    )
    .await;
    let tool_names: Vec<String> = tools.iter().map(|t| t.name.clone()).collect();
    let mut system = build_system_prompt(&PromptInput {
        agent: &agent,
        workspace: &settings.workspace,
        tool_names: &tool_names,
        files: &files,
        now: chrono::Utc::now(),
        max_chars_per_file: services.defaults.bootstrap_max_chars as usize,
        max_chars_total: services.defaults.bootstrap_total_max_chars as usize,
    });
    if let Some(extra) = plan
        .overrides
        .extra_system_prompt
        .as_deref()
        .map(str::trim)
        .filter(|t| !t.is_empty())
    {
        system.push(SystemPart {
            text: extra.to_owned(),
            cacheable: false,
        });
    }
    if let Some(team) = crate::team_prompt::team_section(store, tenant, &agent).await? {
        system.push(SystemPart {
            text: team,
            cacheable: false,
        });
    }
    if let Some(recalled) = recall(services, plan, &agent).await {
        system.push(SystemPart {
            text: recalled,
            cacheable: false,
        });
    }
    let mut messages = load_history(services, &session, plan).await?;
    crate::skill_commands::apply(services, plan, &agent, &mut system, &mut messages).await;
    Ok(Prepared {
        agent,
        session,
        candidates,
        settings,
        system,
        tools,
        own_tools,
        messages,
    })
}

/// What the agent remembers of the user that bears on this run's message; nothing when no
/// memory is configured or it does not answer within [`crate::RECALL_TIMEOUT`].
async fn recall(services: &Services, plan: &RunPlan, agent: &Agent) -> Option<String> {
    let memory = services.recall.as_ref()?;
    let recalled = memory.recall(plan.session.tenant, agent, &plan.user_id, &plan.text);
    match tokio::time::timeout(crate::RECALL_TIMEOUT, recalled).await {
        Ok(section) => section,
        Err(_) => {
            tracing::warn!(
                session_key = %plan.session.key,
                agent = %agent.agent_key,
                "memory recall timed out; the run goes on without it"
            );
            None
        }
    }
}

async fn load_history(
    services: &Services,
    session: &Session,
    plan: &RunPlan,
) -> Result<Vec<ChatMessage>, StoreError> {
    let stored = history::load_window(services.store.as_ref(), session, &plan.seqs).await?;
    let run_id = plan.run_id.to_string();
    let mut messages = history::build(
        &stored,
        &HistoryView {
            summary: session.summary.as_deref(),
            context_start_seq: session.context_start_seq,
            current: Some(CurrentRun {
                run_id: &run_id,
                seqs: &plan.seqs,
            }),
            concurrent: &plan.concurrent,
        },
    );
    crate::images::attach(&stored, &plan.seqs, &mut messages).await;
    Ok(messages)
}

/// Ends a run that failed before or during the loop: its turns end as failed, with the error
/// in the transcript for people to see (never for the model).
async fn fail(
    services: &Services,
    plan: &RunPlan,
    session: Option<SessionId>,
    error: String,
) -> RunOutcome {
    tracing::warn!(
        session_key = %plan.session.key,
        agent = %plan.agent_key,
        run_id = %plan.run_id,
        error = %error,
        "run failed"
    );
    if let Some(session) = session {
        let end = history::failed_turns(&plan.run_id.to_string(), &plan.seqs, &error);
        let recorded = services
            .store
            .turns()
            .finish_run(session, plan.run_id.as_uuid(), end)
            .await;
        if let Err(store_error) = recorded {
            tracing::warn!(run_id = %plan.run_id, error = %store_error, "recording a failed run failed");
        }
    }
    RunOutcome::Failed {
        run_id: plan.run_id,
        error,
    }
}

/// What one model call produced.
enum Think {
    Answer(ChatResponse),
    /// Aborted; the text streamed so far.
    Cancelled(String),
    Error(ProviderError),
}

struct Run<'a> {
    services: &'a Services,
    plan: &'a RunPlan,
    emitter: &'a RunEmitter,
    usage: Usage,
    prepared: Prepared,
    trace: RunTrace,
    /// Files tools asked to send with the answer (`send_file`), in order.
    sent_files: std::sync::Mutex<Vec<String>>,
}

impl Run<'_> {
    async fn drive(&mut self) -> RunOutcome {
        match self.think_and_act().await {
            Ok(outcome) => outcome,
            Err(error) => {
                self.record_usage().await;
                let session = Some(self.prepared.session.id);
                fail(self.services, self.plan, session, error.to_string()).await
            }
        }
    }

    async fn think_and_act(&mut self) -> Result<RunOutcome, RuntimeError> {
        let max_iterations = self.prepared.settings.max_iterations;
        let max_tool_calls = self.prepared.settings.max_tool_calls as usize;
        let mut tool_calls_made = 0usize;
        let mut limit_reached = false;
        let mut compacted_for_overflow = false;
        let mut iteration = 0u32;
        let (answer, thinking) = loop {
            if iteration >= max_iterations {
                tracing::warn!(
                    session_key = %self.plan.session.key,
                    agent = %self.plan.agent_key,
                    run_id = %self.plan.run_id,
                    max_iterations,
                    "run stopped at the iteration limit"
                );
                let note = format!(
                    "I stopped after {max_iterations} tool iterations without reaching a final \
                     answer. Ask me to continue if you want me to keep going."
                );
                break (note, None);
            }
            iteration += 1;
            self.services.metrics.turn();
            self.plan.progress.set(RunPhase::Thinking, None, iteration);
            let response = match self.think().await {
                Think::Answer(response) => response,
                Think::Cancelled(partial) => return Ok(self.cancelled(partial).await),
                Think::Error(ProviderError::ContextOverflow(reason)) if !compacted_for_overflow => {
                    compacted_for_overflow = true;
                    iteration -= 1;
                    self.recover_from_overflow(&reason).await?;
                    continue;
                }
                Think::Error(error) => return Err(error.into()),
            };
            self.usage.add(&response.usage);
            let text = response.text();
            let thinking = thinking_of(&response);
            let calls = response.tool_calls();
            if calls.is_empty() || limit_reached {
                break (text, thinking);
            }
            self.store_message(
                Role::Assistant,
                text,
                serde_json::to_value(&calls).unwrap_or(Value::Null),
                None,
                json!({ "thinking": thinking }),
            )
            .await?;
            self.prepared.messages.push(ChatMessage {
                role: ChatRole::Assistant,
                parts: response.parts,
            });
            let mut results = Vec::with_capacity(calls.len());
            for call in calls {
                let output = if max_tool_calls > 0 && tool_calls_made >= max_tool_calls {
                    limit_reached = true;
                    ToolOutput::error(format!(
                        "Tool call limit reached ({max_tool_calls} calls in this run). No more \
                         tools will run: answer the user now with what you have."
                    ))
                } else {
                    tool_calls_made += 1;
                    self.plan
                        .progress
                        .set(RunPhase::Acting, Some(&call.name), iteration);
                    let started = SpanStart::now();
                    let output = self.act(&call).await;
                    self.trace.tool_call(started, &call, output.as_ref());
                    match output {
                        Some(output) => output,
                        None => return Ok(self.cancelled(String::new()).await),
                    }
                };
                results.push(self.observe(&call, output).await?);
            }
            self.prepared.messages.push(ChatMessage {
                role: ChatRole::Tool,
                parts: results,
            });
        };
        self.finalize(answer, thinking).await
    }

    /// One model call, streaming deltas as events.
    async fn think(&mut self) -> Think {
        let prepared = &self.prepared;
        let request = ChatRequest {
            model: prepared
                .candidates
                .first()
                .map(|c| c.model.clone())
                .unwrap_or_default(),
            system: prepared.system.clone(),
            messages: prepared.messages.clone(),
            tools: prepared.tools.clone(),
            max_tokens: prepared.settings.max_tokens,
            temperature: Some(prepared.settings.temperature),
            thinking_budget: prepared.settings.thinking_budget,
        };
        let mut partial = String::new();
        let emitter = self.emitter;
        let started = SpanStart::now();
        let result = {
            let mut sink = |delta: StreamDelta| match delta {
                StreamDelta::Text(content) => {
                    partial.push_str(&content);
                    emitter.emit(AgentEventKind::Chunk { content });
                }
                StreamDelta::Thinking(content) => {
                    emitter.emit(AgentEventKind::Thinking { content });
                }
                StreamDelta::ToolCallStarted { .. } => {}
            };
            tokio::select! {
                biased;
                _ = self.plan.cancel.cancelled() => None,
                result = call_model(&prepared.candidates, &request, &mut sink, &self.services.retry) => Some(result),
            }
        };
        let traced = match &result {
            None => LlmResult::Cancelled,
            Some(Ok(response)) => LlmResult::Answer(response),
            Some(Err(error)) => LlmResult::Error(error),
        };
        self.trace
            .llm_call(started, &self.prepared.candidates, traced);
        match result {
            None => Think::Cancelled(partial),
            Some(Ok(response)) => Think::Answer(response),
            Some(Err(error)) => Think::Error(error),
        }
    }

    /// Runs one tool call; `None` when the run was aborted meanwhile.
    async fn act(&self, call: &ToolCall) -> Option<ToolOutput> {
        self.emitter.emit(AgentEventKind::ToolCall {
            id: call.id.clone(),
            name: call.name.clone(),
            arguments: call.arguments.clone(),
        });
        let registry = &self.services.tools;
        let Some(tool) = self
            .prepared
            .own_tools
            .get(registry.canonical(&call.name))
            .cloned()
            .or_else(|| registry.get_for(&self.prepared.agent, &call.name))
        else {
            let offered: Vec<&str> = self
                .prepared
                .tools
                .iter()
                .map(|t| t.name.as_str())
                .collect();
            self.services.metrics.tool_call(UNKNOWN_TOOL, true);
            return Some(ToolOutput::error(format!(
                "Unknown tool {:?}. Available tools: {}.",
                call.name,
                offered.join(", ")
            )));
        };
        let agent = &self.prepared.agent;
        if let Some(blocked) =
            crate::hooks_run::before_tool(self.services, self.plan, agent, call).await
        {
            return Some(blocked);
        }
        let context = ToolContext {
            tenant_id: self.plan.session.tenant,
            agent_key: self.plan.agent_key.to_string(),
            session_key: self.plan.session.key.clone(),
            user_id: self.plan.user_id.clone(),
            trust: self.plan.trust,
            run_id: self.plan.run_id.to_string(),
            channel: self.plan.channel.clone(),
            workspace: self.prepared.settings.workspace.clone(),
            restrict_to_workspace: self.prepared.settings.restrict_to_workspace,
            allowed_paths: self.prepared.settings.allowed_paths.clone(),
        };
        let output = tokio::select! {
            biased;
            _ = self.plan.cancel.cancelled() => None,
            output = tool.call(&context, call.arguments.clone()) => Some(output),
        };
        if let Some(output) = &output {
            crate::hooks_run::after_tool(self.services, self.plan, agent, call).await;
            self.services.metrics.tool_call(&call.name, output.is_error);
            if !output.media.is_empty() {
                let mut sent = self.sent_files.lock().unwrap_or_else(|e| e.into_inner());
                sent.extend(output.media.iter().cloned());
            }
        }
        output
    }

    /// Reports and stores a tool result; returns it as a part for the next model call.
    async fn observe(
        &self,
        call: &ToolCall,
        mut output: ToolOutput,
    ) -> Result<ContentPart, RuntimeError> {
        // Every result, guarded tool or not, loses the gateway's own secrets before it is
        // shown, stored or sent to the model.
        if let std::borrow::Cow::Owned(clean) =
            goclaw_tools::known_secrets::known_secrets().scrub(&output.content)
        {
            output.content = clean;
        }
        self.emitter.emit(AgentEventKind::ToolResult {
            id: call.id.clone(),
            name: call.name.clone(),
            arguments: call.arguments.clone(),
            result: clip_chars(&output.content, TOOL_RESULT_EVENT_CHARS),
            is_error: output.is_error,
        });
        self.store_message(
            Role::Tool,
            output.content.clone(),
            Value::Null,
            Some(call.id.clone()),
            json!({ "is_error": output.is_error, "tool_name": call.name }),
        )
        .await?;
        Ok(ContentPart::ToolResult {
            call_id: call.id.clone(),
            content: output.content,
            is_error: output.is_error,
        })
    }

    /// The provider said the prompt is too long: compact the session once and reload.
    async fn recover_from_overflow(&mut self, reason: &str) -> Result<(), RuntimeError> {
        tracing::warn!(
            session_key = %self.plan.session.key,
            agent = %self.plan.agent_key,
            run_id = %self.plan.run_id,
            error = %reason,
            "context window exceeded; compacting and retrying once"
        );
        self.plan.progress.set(RunPhase::Compacting, None, 0);
        let store = self.services.store.as_ref();
        let session = store
            .sessions()
            .get(self.plan.session.tenant, &self.plan.session.key)
            .await?;
        let run_id = self.plan.run_id.to_string();
        let outcome = compaction::compact(
            self.services,
            CompactionJob {
                agent: &self.prepared.agent,
                session: &session,
                candidates: &self.prepared.candidates,
                keep_last: 0,
                trigger: Trigger::Force,
                current: Some(CurrentRun {
                    run_id: &run_id,
                    seqs: &self.plan.seqs,
                }),
            },
        )
        .await?;
        if !outcome.compacted {
            return Err(ProviderError::ContextOverflow(reason.to_owned()).into());
        }
        let session = store
            .sessions()
            .get(self.plan.session.tenant, &self.plan.session.key)
            .await?;
        self.prepared.messages = load_history(self.services, &session, self.plan).await?;
        self.prepared.session = session;
        Ok(())
    }

    async fn finalize(
        &mut self,
        answer: String,
        thinking: Option<String>,
    ) -> Result<RunOutcome, RuntimeError> {
        self.plan.progress.set(RunPhase::Finalizing, None, 0);
        let sent = std::mem::take(&mut *self.sent_files.lock().unwrap_or_else(|e| e.into_inner()));
        let sanitized = crate::sent_files::with_files(&sanitize_output(&answer), &sent);
        let silent = is_silent(&sanitized);
        let stored = if silent {
            SILENT_REPLY.to_owned()
        } else if sanitized.is_empty() {
            "...".to_owned()
        } else {
            sanitized
        };
        let answer = self.run_message(
            Role::Assistant,
            stored.clone(),
            json!({ "thinking": thinking, "silent": silent, "usage": self.usage }),
        );
        self.end_turns(TurnStatus::Completed, answer).await?;
        self.record_usage().await;
        crate::hooks_run::stopped(self.services, self.plan, &self.prepared.agent).await;
        let content = if silent { String::new() } else { stored };
        tracing::info!(
            session_key = %self.plan.session.key,
            agent = %self.plan.agent_key,
            run_id = %self.plan.run_id,
            input_tokens = self.usage.input_tokens,
            output_tokens = self.usage.output_tokens,
            silent,
            "run completed"
        );
        Ok(RunOutcome::Completed {
            run_id: self.plan.run_id,
            content,
            thinking,
            usage: self.usage,
            silent,
        })
    }

    /// Ends an aborted run: the partial answer is kept (marked cancelled) with the user's
    /// message.
    async fn cancelled(&mut self, partial: String) -> RunOutcome {
        let message = self.run_message(
            Role::Assistant,
            partial.clone(),
            json!({ "cancelled": true }),
        );
        if let Err(error) = self.end_turns(TurnStatus::Cancelled, message).await {
            tracing::warn!(run_id = %self.plan.run_id, error = %error, "storing a cancelled answer failed");
        }
        self.record_usage().await;
        tracing::info!(
            session_key = %self.plan.session.key,
            agent = %self.plan.agent_key,
            run_id = %self.plan.run_id,
            "run cancelled"
        );
        RunOutcome::Cancelled {
            run_id: self.plan.run_id,
            partial,
        }
    }

    async fn record_usage(&self) {
        if self.usage == Usage::default() {
            return;
        }
        let session = self.prepared.session.id;
        if let Err(error) = self
            .services
            .store
            .sessions()
            .add_usage(session, &self.usage)
            .await
        {
            tracing::warn!(run_id = %self.plan.run_id, error = %error, "recording usage failed");
        }
    }

    /// A message of this run, tagged with the run and the messages it answers.
    fn run_message(&self, role: Role, content: String, extra: Value) -> NewMessage {
        let mut metadata = history::run_metadata(&self.plan.run_id.to_string(), &self.plan.seqs);
        if let (Some(target), Value::Object(extra)) = (metadata.as_object_mut(), extra) {
            target.extend(extra.into_iter().filter(|(_, v)| !v.is_null()));
        }
        NewMessage {
            role,
            content,
            tool_calls: Value::Null,
            tool_call_id: None,
            metadata,
        }
    }

    /// Stores the run's last message and ends its turns with `status`, in one transaction.
    async fn end_turns(&self, status: TurnStatus, message: NewMessage) -> Result<(), RuntimeError> {
        let end = TurnEnd {
            status,
            error: None,
            message: Some(message),
        };
        self.services
            .store
            .turns()
            .finish_run(self.prepared.session.id, self.plan.run_id.as_uuid(), end)
            .await?;
        Ok(())
    }

    /// Stores a message of this run, tagged with the run and the messages it answers.
    async fn store_message(
        &self,
        role: Role,
        content: String,
        tool_calls: Value,
        tool_call_id: Option<String>,
        extra: Value,
    ) -> Result<Message, RuntimeError> {
        let mut metadata = history::run_metadata(&self.plan.run_id.to_string(), &self.plan.seqs);
        if let (Some(target), Value::Object(extra)) = (metadata.as_object_mut(), extra) {
            target.extend(extra.into_iter().filter(|(_, v)| !v.is_null()));
        }
        let message = NewMessage {
            role,
            content,
            tool_calls,
            tool_call_id,
            metadata,
        };
        Ok(self
            .services
            .store
            .messages()
            .append(self.prepared.session.id, message)
            .await?)
    }
}

/// The tool label of calls to a tool that does not exist (the model's names are unbounded).
const UNKNOWN_TOOL: &str = "unknown";

/// The reasoning parts of a response, joined.
fn thinking_of(response: &ChatResponse) -> Option<String> {
    let text: Vec<&str> = response
        .parts
        .iter()
        .filter_map(|p| match p {
            ContentPart::Thinking { text, .. } if !text.is_empty() => Some(text.as_str()),
            _ => None,
        })
        .collect();
    (!text.is_empty()).then(|| text.join("\n"))
}
