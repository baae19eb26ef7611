//! From a stored update to its answer in the outbox. Each update is decided by the access
//! policy, answered by a channel command, a pairing code, or a turn through the runtime's turn
//! API (`main` lane, the channel's debounce), and settled with its replies in one transaction.
//!
//! A turn's idempotency key is `channel:{inbox id}:{attempt}`. After a crash the update is
//! still unanswered: its last attempt's key gives back that turn — its answer if it finished,
//! else (the restart marked it failed) a new attempt runs. Updates merged into one run share
//! its reply, queued once under `run:{run id}:{part}`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use goclaw_agent::{ChatInput, Detail, RunOutcome, Runtime, SHUTTING_DOWN_REASON, TurnHandle};
use goclaw_config::AgentBinding;
use goclaw_core::{
    AgentKey, Inbound, InboundStatus, NewInbound, NewOutbound, NewPairingRequest, PairingAsked,
    Store, StoreError, TenantId, Trust,
};
use tokio::sync::Notify;

use crate::channel::{Channel, InboundSink, SinkError};
use crate::commands;
use crate::message::{ChatKind, IncomingMessage, OutgoingMessage};
use crate::policy::{AccessPolicy, Decision};
use crate::route::{Route, bound_agent, route};

/// How often a sender is told their pairing code again (GoClaw: once a minute).
const PAIRING_PROMPT_DEBOUNCE: Duration = Duration::from_secs(60);
/// How often the typing indicator is renewed while a run goes (Telegram shows it 5 s).
const TYPING_EVERY: Duration = Duration::from_secs(4);
/// Unanswered updates taken per sweep.
const SWEEP_BATCH: u32 = 500;
/// Tries of an update whose files could not be downloaded before it is answered without them.
const MEDIA_TRIES: u32 = 5;

/// Answers one channel instance's updates.
pub struct Dispatcher {
    pub name: String,
    pub tenant: TenantId,
    pub channel: Arc<dyn Channel>,
    pub store: Arc<dyn Store>,
    pub runtime: Runtime,
    pub policy: AccessPolicy,
    pub bindings: Vec<AgentBinding>,
    pub default_agent: AgentKey,
    /// Woken when replies were queued.
    pub outbox: Arc<Notify>,
    /// Updates being answered by this process.
    pub(crate) in_progress: Mutex<HashSet<uuid::Uuid>>,
    /// The group message each run under way answers, by run id: what the run asks for
    /// (an approval) is posted as a reply to it, in its thread where the platform has them.
    pub(crate) asking: Mutex<HashMap<String, String>>,
    /// When each sender was last sent their pairing code.
    pub(crate) prompted: Mutex<HashMap<String, Instant>>,
    /// Failed downloads of each update's files, to give up after [`MEDIA_TRIES`].
    pub(crate) media_failures: Mutex<HashMap<uuid::Uuid, u32>>,
    /// Who the bot is, once the platform said (webhook deliveries wait for it).
    pub(crate) bot: Mutex<Option<crate::channel::BotIdentity>>,
    /// Exec approvals, answered by buttons in the chat; `None` when exec never asks.
    pub approvals: Option<goclaw_tools::exec::ApprovalBroker>,
    /// Where answers stream in place.
    pub stream: crate::stream::StreamSettings,
    /// Unanswered group messages given with the next answered one (`history_limit`).
    pub history_limit: u32,
}

/// How handing an update to a turn went.
enum Started {
    Running(TurnHandle),
    /// A previous process's turn for this attempt, which answered.
    Answered(RunOutcome),
    /// A previous process's turn for this attempt, which ended without an answer.
    Stale,
}

impl Dispatcher {
    pub fn new(
        name: String,
        tenant: TenantId,
        channel: Arc<dyn Channel>,
        store: Arc<dyn Store>,
        runtime: Runtime,
        policy: AccessPolicy,
        default_agent: AgentKey,
    ) -> Self {
        Self {
            name,
            tenant,
            channel,
            store,
            runtime,
            policy,
            bindings: Vec::new(),
            default_agent,
            outbox: Arc::new(Notify::new()),
            in_progress: Mutex::new(HashSet::new()),
            asking: Mutex::new(HashMap::new()),
            prompted: Mutex::new(HashMap::new()),
            media_failures: Mutex::new(HashMap::new()),
            bot: Mutex::new(None),
            approvals: None,
            stream: crate::stream::StreamSettings::default(),
            history_limit: 50,
        }
    }

    /// Answers every update left unanswered (by a previous process, or a failure here).
    pub async fn sweep(self: &Arc<Self>) {
        let waiting = match self
            .store
            .channel_queue()
            .unanswered(&self.name, SWEEP_BATCH)
            .await
        {
            Ok(waiting) => waiting,
            Err(error) => {
                tracing::error!(channel = %self.name, error = %error, "reading the inbox failed");
                return;
            }
        };
        for inbound in waiting {
            self.handle(inbound).await;
        }
    }

    /// Decides and starts answering one stored update; the answer is settled in the
    /// background.
    pub async fn handle(self: &Arc<Self>, inbound: Inbound) {
        let id = inbound.id;
        if !lock(&self.in_progress).insert(id) {
            return;
        }
        if let Err(error) = self.answer(inbound).await {
            tracing::error!(channel = %self.name, inbox_id = %id, error = %error, "answering an update failed; it will be tried again");
            lock(&self.in_progress).remove(&id);
        }
    }

    async fn answer(self: &Arc<Self>, inbound: Inbound) -> Result<(), StoreError> {
        let message: IncomingMessage = match serde_json::from_value(inbound.payload.clone()) {
            Ok(message) => message,
            Err(error) => {
                tracing::error!(channel = %self.name, error = %error, "unreadable stored update");
                return self
                    .settle(&inbound, InboundStatus::Ignored, Vec::new())
                    .await;
            }
        };
        if let Some(press) = message.press.clone() {
            return self.answer_press(&inbound, &message, &press).await;
        }
        let decision = match self.policy.decide(&message) {
            Decision::AnswerIfPaired if self.is_paired(&message).await? => Decision::Answer,
            decision => decision,
        };
        match decision {
            Decision::Ignore(reason) => {
                tracing::debug!(channel = %self.name, sender_id = %message.sender_id, reason, "message not answered");
                self.settle(&inbound, InboundStatus::Ignored, Vec::new())
                    .await
            }
            Decision::AnswerIfPaired => {
                let replies = self.pairing_prompt(&inbound, &message).await?;
                self.settle(&inbound, InboundStatus::Ignored, replies).await
            }
            Decision::Answer => {
                let agent = self.agent_for(&message);
                let Ok(route) = route(agent, &self.name, &message) else {
                    tracing::warn!(channel = %self.name, chat_id = %message.chat_id, "no valid session key for this chat");
                    return self
                        .settle(&inbound, InboundStatus::Ignored, Vec::new())
                        .await;
                };
                self.answered_in_chat(&route).await;
                if let Some(command) = commands::parse(&message.text) {
                    let text =
                        commands::run(command, &self.runtime, &self.store, self.tenant, &route)
                            .await;
                    let reply =
                        self.reply(&inbound, &message, format!("cmd:{}", inbound.id), &text);
                    return self
                        .settle(&inbound, InboundStatus::Ignored, vec![reply])
                        .await;
                }
                self.run_turn(inbound, message, route).await
            }
        }
    }

    /// The person wrote in the chat of `route`: the team task reminders waiting on them
    /// there stop.
    async fn answered_in_chat(&self, route: &Route) {
        let Some(chat) = route.session_key.channel_chat() else {
            return;
        };
        let cleared = self
            .store
            .task_trail()
            .clear_followups_in_chat(self.tenant, chat.channel, chat.chat_id)
            .await;
        match cleared {
            Ok(0) => {}
            Ok(n) => tracing::info!(channel = %self.name, reminders = n, "task reminders answered"),
            Err(error) => {
                tracing::warn!(channel = %self.name, error = %error, "task reminders not cleared")
            }
        }
    }

    /// A press of one of the bot's buttons: an approval answer, or nothing the bot knows.
    async fn answer_press(
        self: &Arc<Self>,
        inbound: &Inbound,
        message: &IncomingMessage,
        press: &crate::message::ButtonPress,
    ) -> Result<(), StoreError> {
        let said = match &self.approvals {
            Some(broker) if crate::approvals::is_approval_press(press) => {
                crate::approvals::resolve_press(self, broker, message, press).await
            }
            _ => {
                self.channel.acknowledge(press, "").await;
                None
            }
        };
        let replies = said
            .map(|text| {
                let rendered = self.channel.render(&text).join("\n");
                let mut reply =
                    self.reply(inbound, message, format!("press:{}", inbound.id), &rendered);
                reply.payload["markup"] = serde_json::Value::Bool(true);
                reply
            })
            .into_iter()
            .collect();
        self.settle(inbound, InboundStatus::Ignored, replies).await
    }

    async fn run_turn(
        self: &Arc<Self>,
        inbound: Inbound,
        message: IncomingMessage,
        route: Route,
    ) -> Result<(), StoreError> {
        let Some(media) = self.receive_media(&inbound, &message, &route).await else {
            // Tried again by a later sweep; the update stays unanswered until then.
            lock(&self.in_progress).remove(&inbound.id);
            return Ok(());
        };
        let queue = self.store.channel_queue();
        let mut attempt = if inbound.attempts == 0 {
            queue.begin_attempt(inbound.id).await?
        } else {
            inbound.attempts
        };
        let started = loop {
            match self
                .start(&inbound, &message, &route, attempt, &media)
                .await
            {
                Ok(Started::Stale) => attempt = queue.begin_attempt(inbound.id).await?,
                Err(error) => {
                    tracing::warn!(channel = %self.name, error = %error, "the turn was not started");
                    let reply = self.reply(
                        &inbound,
                        &message,
                        format!("refused:{}", inbound.id),
                        &format!("⚠️ {error}"),
                    );
                    return self
                        .settle(&inbound, InboundStatus::Ignored, vec![reply])
                        .await;
                }
                Ok(started) => break started,
            }
        };
        let this = Arc::clone(self);
        let asking = match &started {
            Started::Running(turn) if message.chat_kind == ChatKind::Group => {
                let run = turn.run_id.to_string();
                lock(&self.asking).insert(run.clone(), message.message_id.clone());
                Some(run)
            }
            _ => None,
        };
        tokio::spawn(async move {
            let (outcome, draft) = match started {
                Started::Running(turn) if this.stream.applies(message.chat_kind) => {
                    let base = this.outgoing(&message, String::new());
                    let record = crate::stream::DraftRecord {
                        store: this.store.clone(),
                        inbox_id: inbound.id,
                        existing: inbound.draft_message_id.clone(),
                    };
                    crate::stream::follow(this.channel.clone(), turn.events, base, record).await
                }
                Started::Running(turn) => {
                    (this.wait_with_typing(turn, &message.chat_id).await, None)
                }
                Started::Answered(outcome) => (outcome, None),
                Started::Stale => (
                    RunOutcome::Dropped {
                        reason: SHUTTING_DOWN_REASON.to_owned(),
                    },
                    None,
                ),
            };
            // A draft an interrupted attempt left in the chat becomes this answer too.
            let draft = draft.or_else(|| inbound.draft_message_id.clone());
            let result = this
                .settle_outcome(&inbound, &message, &route, outcome, draft)
                .await;
            if let Err(error) = result {
                tracing::error!(channel = %this.name, error = %error, "storing the answer failed; it will be tried again");
            }
            if let Some(run) = asking {
                lock(&this.asking).remove(&run);
            }
            lock(&this.in_progress).remove(&inbound.id);
        });
        Ok(())
    }

    /// Starts (or, after a crash, finds) the turn of `attempt`.
    async fn start(
        &self,
        inbound: &Inbound,
        message: &IncomingMessage,
        route: &Route,
        attempt: i64,
        media: &[String],
    ) -> Result<Started, goclaw_agent::RuntimeError> {
        let mut said = message.text.clone();
        for line in media {
            if !said.is_empty() {
                said.push('\n');
            }
            said.push_str(line);
        }
        let text = match message.chat_kind {
            ChatKind::Direct => said,
            ChatKind::Group => {
                let history = crate::history::pending(
                    self.store.as_ref(),
                    &self.policy,
                    inbound,
                    self.history_limit,
                )
                .await
                .unwrap_or_else(|error| {
                    tracing::warn!(channel = %self.name, error = %error, "reading the group's history failed; answering without it");
                    String::new()
                });
                format!("{history}[{}]: {said}", sender_label(message))
            }
        };
        let input = ChatInput {
            media: Vec::new(),
            tenant_id: self.tenant,
            agent_key: route.agent.clone(),
            session_key: route.session_key.clone(),
            user_id: route.user_id.clone(),
            trust: Trust::User,
            channel: self.channel.kind().to_owned(),
            message: text,
            idempotency_key: Some(format!("channel:{}:{attempt}", inbound.id)),
            from_channel: true,
            overrides: Default::default(),
        };
        // A streamed answer needs the run's text as it comes; otherwise only its end.
        let detail = if self.stream.applies(message.chat_kind) {
            Detail::All
        } else {
            Detail::Outcome
        };
        let turn = self.runtime.start_turn(input, detail).await?;
        if !turn.replayed {
            return Ok(Started::Running(turn));
        }
        // A turn of a previous process: its answer stands; anything else is tried again.
        let outcome = turn.events.outcome().await;
        Ok(match outcome {
            RunOutcome::Completed { .. } => Started::Answered(outcome),
            _ => Started::Stale,
        })
    }

    async fn wait_with_typing(&self, turn: TurnHandle, chat_id: &str) -> RunOutcome {
        let outcome = turn.events.outcome();
        tokio::pin!(outcome);
        loop {
            self.channel.typing(chat_id).await;
            tokio::select! {
                outcome = &mut outcome => return outcome,
                _ = tokio::time::sleep(TYPING_EVERY) => {}
            }
        }
    }

    async fn settle_outcome(
        &self,
        inbound: &Inbound,
        message: &IncomingMessage,
        route: &Route,
        outcome: RunOutcome,
        draft: Option<String>,
    ) -> Result<(), StoreError> {
        match outcome {
            RunOutcome::Completed {
                run_id,
                content,
                silent,
                ..
            } => {
                let replies = if silent {
                    Vec::new()
                } else {
                    let mut answer = self.answer_files(&content, route).await;
                    // A draft streamed the `MEDIA:` lines; with no text left it names the files.
                    if answer.text.trim().is_empty() && draft.is_some() && !answer.files.is_empty()
                    {
                        let names: Vec<&str> =
                            answer.files.iter().map(|f| f.file_name.as_str()).collect();
                        answer.text = format!("📎 {}", names.join(", "));
                    }
                    let files = answer.files.into_iter().enumerate().map(|(n, file)| {
                        let mut reply =
                            self.reply(inbound, message, format!("run:{run_id}:file:{n}"), "");
                        reply.payload["media"] = serde_json::to_value(file).unwrap_or_default();
                        reply
                    });
                    self.channel
                        .render(&answer.text)
                        .into_iter()
                        .enumerate()
                        .map(|(part, text)| {
                            let mut reply =
                                self.reply(inbound, message, format!("run:{run_id}:{part}"), &text);
                            reply.payload["markup"] = serde_json::Value::Bool(true);
                            // The streamed draft becomes the first part.
                            if let Some(draft) = draft.as_ref().filter(|_| part == 0) {
                                reply.payload["edit"] = serde_json::Value::String(draft.clone());
                            }
                            reply
                        })
                        .chain(files)
                        .collect()
                };
                self.settle(inbound, InboundStatus::Answered, replies).await
            }
            RunOutcome::Failed { run_id, error } => {
                tracing::warn!(channel = %self.name, run_id = %run_id, error = %error, "the run failed");
                let mut reply = self.reply(
                    inbound,
                    message,
                    format!("run:{run_id}:failed"),
                    "⚠️ Sorry, something went wrong while answering. Please try again.",
                );
                // A half-streamed draft says so instead of standing as if complete.
                if let Some(draft) = draft {
                    reply.payload["edit"] = serde_json::Value::String(draft);
                }
                self.settle(inbound, InboundStatus::Answered, vec![reply])
                    .await
            }
            RunOutcome::Cancelled { .. } => {
                self.settle(inbound, InboundStatus::Ignored, Vec::new())
                    .await
            }
            // Shutting down: the update stays unanswered and is answered after the restart.
            RunOutcome::Dropped { reason } if reason == SHUTTING_DOWN_REASON => Ok(()),
            RunOutcome::Dropped { reason } => {
                tracing::warn!(channel = %self.name, reason = %reason, "message dropped");
                self.settle(inbound, InboundStatus::Ignored, Vec::new())
                    .await
            }
        }
    }

    async fn settle(
        &self,
        inbound: &Inbound,
        status: InboundStatus,
        replies: Vec<NewOutbound>,
    ) -> Result<(), StoreError> {
        let queued = !replies.is_empty();
        self.store
            .channel_queue()
            .settle(inbound.id, status, replies)
            .await?;
        if queued {
            self.outbox.notify_one();
        }
        Ok(())
    }

    /// The lines telling the agent about `message`'s files, once each is in the run's
    /// workspace (or known not to come); `None` when a download failed in a way worth trying
    /// again later.
    async fn receive_media(
        &self,
        inbound: &Inbound,
        message: &IncomingMessage,
        route: &Route,
    ) -> Option<Vec<String>> {
        if message.media.is_empty() {
            return Some(Vec::new());
        }
        let workspace = match self
            .runtime
            .workspace_of(self.tenant, &route.agent, &route.user_id)
            .await
        {
            Ok(workspace) => workspace,
            // Starting the turn says so to the sender.
            Err(goclaw_agent::RuntimeError::AgentNotFound(_)) => return Some(Vec::new()),
            Err(error) => {
                tracing::warn!(channel = %self.name, error = %error, "the run's workspace is not known; the files are tried again later");
                return None;
            }
        };
        let failures = lock(&self.media_failures)
            .get(&inbound.id)
            .copied()
            .unwrap_or(0);
        let prefix = inbound.id.simple().to_string();
        let last_try = failures + 1 >= MEDIA_TRIES;
        let received = crate::media::inbound::receive(
            self.channel.as_ref(),
            &workspace,
            &prefix,
            &message.media,
            last_try,
        )
        .await;
        match received {
            Ok(lines) => {
                lock(&self.media_failures).remove(&inbound.id);
                Some(lines)
            }
            Err(error) => {
                tracing::warn!(channel = %self.name, inbox_id = %inbound.id, error = %error, "a file could not be downloaded; it is tried again later");
                lock(&self.media_failures).insert(inbound.id, failures + 1);
                None
            }
        }
    }

    /// The answer's text and the files its `MEDIA:` lines name, resolved in the run's
    /// workspace.
    async fn answer_files(&self, content: &str, route: &Route) -> crate::media::outbound::Prepared {
        let limit = self.channel.limits().media_max_bytes;
        if crate::media::outbound::split_answer(content).1.is_empty() {
            return crate::media::outbound::prepare(content, None, limit);
        }
        let workspace = self
            .runtime
            .workspace_of(self.tenant, &route.agent, &route.user_id)
            .await
            .map_err(|error| {
                tracing::warn!(channel = %self.name, error = %error, "the run's workspace is not known; its files are not sent");
            })
            .ok();
        crate::media::outbound::prepare(content, workspace.as_deref(), limit)
    }

    /// A plain-text message answering `message` in its chat (and topic): a reply to it in
    /// groups.
    fn outgoing(&self, message: &IncomingMessage, text: String) -> OutgoingMessage {
        OutgoingMessage {
            edit: None,
            media: None,
            chat_id: message.chat_id.clone(),
            text,
            markup: false,
            reply_to: (message.chat_kind == ChatKind::Group).then(|| message.message_id.clone()),
            thread_id: message.thread_id.clone(),
            buttons: Vec::new(),
        }
    }

    /// A plain-text reply to `message` in its chat (and topic).
    fn reply(
        &self,
        inbound: &Inbound,
        message: &IncomingMessage,
        dedup_key: String,
        text: &str,
    ) -> NewOutbound {
        let outgoing = self.outgoing(message, text.to_owned());
        NewOutbound {
            tenant_id: inbound.tenant_id,
            channel: self.name.clone(),
            chat_id: message.chat_id.clone(),
            dedup_key,
            payload: serde_json::to_value(&outgoing).unwrap_or_default(),
        }
    }

    fn agent_for(&self, message: &IncomingMessage) -> AgentKey {
        bound_agent(&self.bindings, &self.name, message)
            .and_then(|agent| AgentKey::parse(agent).ok())
            .unwrap_or_else(|| self.default_agent.clone())
    }

    async fn is_paired(&self, message: &IncomingMessage) -> Result<bool, StoreError> {
        Ok(self
            .store
            .pairing()
            .paired(self.tenant, &message.sender_id, self.channel.kind())
            .await?
            .is_some())
    }

    /// The pairing code for an unknown sender, at most once a minute per sender.
    async fn pairing_prompt(
        &self,
        inbound: &Inbound,
        message: &IncomingMessage,
    ) -> Result<Vec<NewOutbound>, StoreError> {
        let asked = self
            .store
            .pairing()
            .request(NewPairingRequest {
                tenant_id: self.tenant,
                sender_id: message.sender_id.clone(),
                channel: self.channel.kind().to_owned(),
                chat_id: message.chat_id.clone(),
                account_id: self.name.clone(),
            })
            .await?;
        let request = match asked {
            PairingAsked::Created(request) => {
                tracing::info!(channel = %self.name, sender_id = %message.sender_id, "pairing requested");
                request
            }
            PairingAsked::Waiting(request) => request,
            PairingAsked::TooManyPending => {
                tracing::warn!(channel = %self.name, sender_id = %message.sender_id, "pairing refused: too many codes waiting");
                return Ok(Vec::new());
            }
        };
        let now = Instant::now();
        {
            let mut prompted = lock(&self.prompted);
            prompted.retain(|_, at| now.duration_since(*at) < PAIRING_PROMPT_DEBOUNCE);
            if prompted.contains_key(&message.sender_id) {
                return Ok(Vec::new());
            }
            prompted.insert(message.sender_id.clone(), now);
        }
        let text = commands::pairing_text(&message.sender_id, &request.code);
        Ok(vec![self.reply(
            inbound,
            message,
            format!("pairing:{}", inbound.id),
            &text,
        )])
    }
}

#[async_trait]
impl InboundSink for Arc<Dispatcher> {
    async fn accept(&self, message: IncomingMessage) -> Result<(), SinkError> {
        let payload = serde_json::to_value(&message).map_err(|e| SinkError(e.to_string()))?;
        let stored = self
            .store
            .channel_queue()
            .receive(NewInbound {
                tenant_id: self.tenant,
                channel: self.name.clone(),
                platform_id: message.platform_id.clone(),
                chat_id: message.chat_id.clone(),
                sender_id: message.sender_id.clone(),
                payload,
            })
            .await
            .map_err(|e| SinkError(e.to_string()))?;
        match stored {
            Some(inbound) => self.handle(inbound).await,
            None => {
                tracing::debug!(channel = %self.name, platform_id = %message.platform_id, "update delivered again; already stored")
            }
        }
        Ok(())
    }
}

pub(crate) fn sender_label(message: &IncomingMessage) -> String {
    match &message.sender_username {
        Some(username) => format!("{} (@{username})", message.sender_name),
        None => message.sender_name.clone(),
    }
}

pub(crate) fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
