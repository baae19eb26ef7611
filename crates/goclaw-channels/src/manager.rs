//! Starting and stopping the channel instances the configuration enables, and what each is
//! doing (for `channels.status` and `doctor`). An instance first asks its platform who the bot
//! is (which checks the credentials), answers what the inbox still holds, then receives; it
//! is started again after a failure, with backoff.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use goclaw_agent::Runtime;
use goclaw_config::{AgentBinding, ChannelsConfig};
use goclaw_core::{AgentKey, MASTER_TENANT_ID, Store};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::channel::ChannelError;
use crate::dispatch::Dispatcher;
use crate::outbox::OutboxSender;
use crate::policy::AccessPolicy;

/// How often the inbox is swept for updates a failure left unanswered.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How long an instance waits before starting again after its platform failed.
const RESTART_AFTER: [Duration; 3] = [
    Duration::from_secs(2),
    Duration::from_secs(10),
    Duration::from_secs(60),
];
/// Old settled updates and sent replies are kept this long (Telegram re-delivers for 24 h).
const RETENTION: chrono::Duration = chrono::Duration::days(7);

/// What an instance is doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "reason")]
pub enum ChannelState {
    Starting,
    Running,
    /// Its platform refused or failed; the reason, without secrets.
    Failing(String),
}

/// One instance as `channels.status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(flatten)]
    pub state: ChannelState,
}

/// An instance to run.
struct Instance {
    dispatcher: Arc<Dispatcher>,
}

/// The running channel instances.
pub struct ChannelManager {
    instances: Vec<Instance>,
    states: Arc<Mutex<BTreeMap<String, ChannelStatus>>>,
    stop: CancellationToken,
    tasks: TaskTracker,
    approvals: Option<goclaw_tools::exec::ApprovalBroker>,
}

impl ChannelManager {
    /// The instances `config` enables, routed by `bindings`, for the master tenant.
    pub fn from_config(
        config: &ChannelsConfig,
        bindings: &[AgentBinding],
        store: Arc<dyn Store>,
        runtime: Runtime,
        default_agent: AgentKey,
    ) -> Self {
        let mut instances = Vec::new();
        let http = reqwest::Client::new();
        #[cfg(feature = "telegram")]
        if let Some(telegram) = crate::instances::telegram(config, http.clone()) {
            let tg = &config.telegram;
            let policy = AccessPolicy {
                dm: tg.dm_policy,
                group: tg.group_policy,
                require_mention: tg.require_mention,
                allow_from: tg.allow_from.clone(),
            };
            instances.push(Instance {
                dispatcher: Arc::new(Dispatcher::with_bindings(
                    Dispatcher::new(
                        "telegram".to_owned(),
                        MASTER_TENANT_ID,
                        telegram,
                        store.clone(),
                        runtime.clone(),
                        policy,
                        default_agent.clone(),
                    ),
                    bindings,
                )),
            });
        }
        let states = instances
            .iter()
            .map(|i| {
                let name = i.dispatcher.name.clone();
                let status = ChannelStatus {
                    name: name.clone(),
                    kind: i.dispatcher.channel.kind().to_owned(),
                    state: ChannelState::Starting,
                };
                (name, status)
            })
            .collect();
        Self {
            instances,
            states: Arc::new(Mutex::new(states)),
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
            approvals: None,
        }
    }

    /// Whether any channel is enabled.
    pub fn is_empty(&self) -> bool {
        self.instances.is_empty()
    }

    /// Lets exec approvals of channel sessions be answered in their chats.
    pub fn with_approvals(mut self, broker: Option<goclaw_tools::exec::ApprovalBroker>) -> Self {
        for instance in &mut self.instances {
            if let Some(dispatcher) = Arc::get_mut(&mut instance.dispatcher) {
                dispatcher.approvals = broker.clone();
            }
        }
        self.approvals = broker;
        self
    }

    /// Starts every instance in the background.
    pub fn start(&self) {
        if let Some(broker) = &self.approvals
            && !self.instances.is_empty()
        {
            let dispatchers = self
                .instances
                .iter()
                .map(|i| i.dispatcher.clone())
                .collect();
            self.tasks.spawn(crate::approvals::announce(
                broker.clone(),
                dispatchers,
                self.stop.clone(),
            ));
        }
        for instance in &self.instances {
            let dispatcher = instance.dispatcher.clone();
            let states = self.states.clone();
            let stop = self.stop.clone();
            let tasks = self.tasks.clone();
            self.tasks
                .spawn(async move { run_instance(dispatcher, states, stop, tasks).await });
        }
    }

    /// What each instance is doing, by name.
    pub fn statuses(&self) -> Vec<ChannelStatus> {
        lock(&self.states).values().cloned().collect()
    }

    /// Posts `markdown` to `chat_id` of the running instance `channel` of `tenant` (see
    /// [`crate::post`]); `None` when no such instance is running.
    pub async fn post(
        &self,
        tenant: goclaw_core::TenantId,
        channel: &str,
        chat_id: &str,
        markdown: &str,
        key: &str,
    ) -> Option<Result<crate::Posted, goclaw_core::StoreError>> {
        let running = lock(&self.states)
            .get(channel)
            .is_some_and(|s| s.state == ChannelState::Running);
        let instance = self
            .instances
            .iter()
            .find(|i| i.dispatcher.name == channel && i.dispatcher.tenant == tenant)
            .filter(|_| running)?;
        Some(instance.dispatcher.post(chat_id, markdown, key).await)
    }

    /// Hands an update the platform POSTed to `/channels/{channel}/webhook` to the running
    /// instance `channel`; `Ok` once it is stored.
    pub async fn webhook(
        &self,
        channel: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), crate::WebhookError> {
        let instance = self
            .instances
            .iter()
            .find(|i| i.dispatcher.name == channel)
            .ok_or(crate::WebhookError::NotEnabled)?;
        let dispatcher = &instance.dispatcher;
        let bot = lock(&dispatcher.bot)
            .clone()
            .ok_or_else(|| crate::WebhookError::NotStored("the channel is starting".to_owned()))?;
        dispatcher
            .channel
            .webhook(&bot, headers, body, dispatcher)
            .await
    }

    /// Tells a sender just paired, in their chat, that they may write now (once per pairing;
    /// nothing when their channel is not one of these instances).
    pub async fn notify_paired(&self, device: &goclaw_core::PairedDevice) {
        let Some(instance) = self.instances.iter().find(|i| {
            i.dispatcher.name == device.channel && i.dispatcher.tenant == device.tenant_id
        }) else {
            return;
        };
        let dispatcher = &instance.dispatcher;
        let outgoing = crate::message::OutgoingMessage {
            chat_id: device.chat_id.clone(),
            text: crate::commands::PAIRED_TEXT.to_owned(),
            markup: false,
            reply_to: None,
            thread_id: None,
            buttons: Vec::new(),
        };
        let notice = goclaw_core::NewOutbound {
            tenant_id: device.tenant_id,
            channel: device.channel.clone(),
            chat_id: device.chat_id.clone(),
            dedup_key: format!(
                "paired:{}:{}",
                device.sender_id,
                device.paired_at.timestamp_millis()
            ),
            payload: serde_json::to_value(&outgoing).unwrap_or_default(),
        };
        match dispatcher.store.channel_queue().enqueue(vec![notice]).await {
            Ok(()) => dispatcher.outbox.notify_one(),
            Err(error) => {
                tracing::warn!(channel = %device.channel, error = %error, "telling a paired sender failed");
            }
        }
    }

    /// Stops receiving and sending; what is unanswered or unsent stays stored for the next
    /// start.
    pub async fn shutdown(&self) {
        self.stop.cancel();
        self.tasks.close();
        self.tasks.wait().await;
    }
}

impl Dispatcher {
    fn with_bindings(mut self, bindings: &[AgentBinding]) -> Self {
        self.bindings = bindings.to_vec();
        self
    }
}

async fn run_instance(
    dispatcher: Arc<Dispatcher>,
    states: Arc<Mutex<BTreeMap<String, ChannelStatus>>>,
    stop: CancellationToken,
    tasks: TaskTracker,
) {
    let name = dispatcher.name.clone();
    let set_state = |state: ChannelState| {
        if let Some(status) = lock(&states).get_mut(&name) {
            status.state = state;
        }
    };
    let mut failures = 0usize;
    let mut helpers_started = false;
    while !stop.is_cancelled() {
        let result = match dispatcher.channel.identify().await {
            Ok(bot) => {
                *lock(&dispatcher.bot) = Some(bot.clone());
                set_state(ChannelState::Running);
                tracing::info!(channel = %name, bot_id = %bot.id, username = ?bot.username, "channel started");
                if !helpers_started {
                    helpers_started = true;
                    start_helpers(&dispatcher, &stop, &tasks);
                }
                failures = 0;
                dispatcher
                    .channel
                    .receive(&bot, &dispatcher, stop.clone())
                    .await
            }
            Err(error) => Err(error),
        };
        let Err(error) = result else {
            break;
        };
        let reason = error.to_string();
        match &error {
            ChannelError::Unauthorized(_) => {
                tracing::error!(channel = %name, error = %reason, "channel credentials refused")
            }
            ChannelError::Unavailable(_) => {
                tracing::warn!(channel = %name, error = %reason, "channel platform unavailable")
            }
        }
        set_state(ChannelState::Failing(reason));
        let wait = RESTART_AFTER[failures.min(RESTART_AFTER.len() - 1)];
        failures += 1;
        tokio::select! {
            _ = stop.cancelled() => break,
            _ = tokio::time::sleep(wait) => {}
        }
    }
}

/// The instance's outbox sender and its periodic inbox sweep (the first sweep answers what a
/// previous process left).
fn start_helpers(dispatcher: &Arc<Dispatcher>, stop: &CancellationToken, tasks: &TaskTracker) {
    let sender = OutboxSender {
        name: dispatcher.name.clone(),
        store: dispatcher.store.clone(),
        channel: dispatcher.channel.clone(),
        wake: dispatcher.outbox.clone(),
    };
    tasks.spawn(sender.run(stop.clone()));
    let dispatcher = dispatcher.clone();
    let stop = stop.clone();
    tasks.spawn(async move {
        loop {
            dispatcher.sweep().await;
            let before = chrono::Utc::now() - RETENTION;
            if let Err(error) = dispatcher.store.channel_queue().prune(before).await {
                tracing::warn!(error = %error, "pruning the channel queues failed");
            }
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tokio::time::sleep(SWEEP_EVERY) => {}
            }
        }
    });
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}
