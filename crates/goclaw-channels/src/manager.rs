//! Starting and stopping channel instances, and what each is doing (for `channels.status` and
//! `doctor`). The instances are the configuration's channels (the master tenant's, named by
//! their type) and the database's enabled channel instances, which win over a configured
//! channel of the same name; [`ChannelManager::reload`] brings the running set in line with
//! the database after an instance was created, changed or deleted (and runs every
//! [`RELOAD_EVERY`], so every replica follows). An instance first asks its platform who the
//! bot is (which checks the credentials), answers what the inbox still holds, then receives;
//! it is started again after a failure, with backoff.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use goclaw_agent::Runtime;
use goclaw_config::{AgentBinding, ChannelsConfig};
use goclaw_core::channel_instances::ChannelInstance;
use goclaw_core::{AgentKey, MASTER_TENANT_ID, Store, TenantId};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use uuid::Uuid;

use crate::channel::ChannelError;
use crate::dispatch::Dispatcher;
use crate::instances::Built;
use crate::outbox::OutboxSender;

/// How often the inbox is swept for updates a failure left unanswered.
const SWEEP_EVERY: Duration = Duration::from_secs(60);
/// How often the stored instances are read again.
pub const RELOAD_EVERY: Duration = Duration::from_secs(30);
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
    /// Its platform refused or failed, or it cannot be built; the reason, without secrets.
    Failing(String),
    /// Stopped by `channels.toggle` until it is turned on again.
    Stopped,
}

/// One instance as `channels.status` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ChannelStatus {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
    #[serde(skip)]
    pub tenant: TenantId,
    #[serde(flatten)]
    pub state: ChannelState,
}

impl ChannelStatus {
    pub fn is_running(&self) -> bool {
        self.state == ChannelState::Running
    }
}

/// Where an instance comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Origin {
    Config,
    /// A stored instance, as it was when started.
    Stored {
        id: Uuid,
        updated_at: DateTime<Utc>,
    },
}

/// A running instance.
struct Running {
    dispatcher: Arc<Dispatcher>,
    origin: Origin,
    stop: CancellationToken,
}

/// Why `channels.toggle` did nothing.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ToggleError {
    #[error("channel not found")]
    NotFound,
}

/// What a toggle found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Toggled {
    Changed,
    AlreadyRunning,
    AlreadyStopped,
}

/// What instances are built from, and what they share.
struct Setting {
    config: ChannelsConfig,
    bindings: Vec<AgentBinding>,
    store: Arc<dyn Store>,
    runtime: Runtime,
    default_agent: AgentKey,
    http: reqwest::Client,
    secrets: Option<Arc<goclaw_crypto::SecretBox>>,
    approvals: Option<goclaw_tools::exec::ApprovalBroker>,
}

/// The channel instances of this process.
pub struct ChannelManager {
    setting: Setting,
    running: Arc<Mutex<BTreeMap<String, Running>>>,
    states: Arc<Mutex<BTreeMap<String, ChannelStatus>>>,
    /// Instances `channels.toggle` stopped, by name.
    stopped: Mutex<BTreeSet<String>>,
    /// Serializes reloads and toggles.
    changing: tokio::sync::Mutex<()>,
    stop: CancellationToken,
    tasks: TaskTracker,
}

impl ChannelManager {
    /// A manager of the channels `config` enables and the stored instances, routed by
    /// `bindings`; nothing runs before [`ChannelManager::start`].
    pub fn new(
        config: &ChannelsConfig,
        bindings: &[AgentBinding],
        store: Arc<dyn Store>,
        runtime: Runtime,
        default_agent: AgentKey,
    ) -> Self {
        Self {
            setting: Setting {
                config: config.clone(),
                bindings: bindings.to_vec(),
                store,
                runtime,
                default_agent,
                http: reqwest::Client::new(),
                secrets: None,
                approvals: None,
            },
            running: Arc::default(),
            states: Arc::default(),
            stopped: Mutex::default(),
            changing: tokio::sync::Mutex::new(()),
            stop: CancellationToken::new(),
            tasks: TaskTracker::new(),
        }
    }

    /// Lets exec approvals of channel sessions be answered in their chats.
    pub fn with_approvals(mut self, broker: Option<goclaw_tools::exec::ApprovalBroker>) -> Self {
        self.setting.approvals = broker;
        self
    }

    /// Opens stored instances' credentials; without it, stored instances with credentials
    /// fail to start (the reason says why).
    pub fn with_secrets(mut self, secrets: Option<Arc<goclaw_crypto::SecretBox>>) -> Self {
        self.setting.secrets = secrets;
        self
    }

    /// Starts the configured channels and the stored instances, and keeps following the
    /// stored ones.
    pub async fn start(self: &Arc<Self>) {
        if let Some(broker) = &self.setting.approvals {
            let running = self.running.clone();
            let dispatchers = move || {
                lock(&running)
                    .values()
                    .map(|r| r.dispatcher.clone())
                    .collect::<Vec<_>>()
            };
            self.tasks.spawn(crate::approvals::announce(
                broker.clone(),
                dispatchers,
                self.stop.clone(),
            ));
        }
        self.reload().await;
        let manager = Arc::downgrade(self);
        let stop = self.stop.clone();
        self.tasks.spawn(async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(RELOAD_EVERY) => {}
                }
                let Some(manager) = manager.upgrade() else {
                    return;
                };
                manager.reload().await;
            }
        });
    }

    /// Brings the running instances in line with the configuration and the stored instances:
    /// starts new and changed ones, stops deleted and disabled ones.
    pub async fn reload(&self) {
        let _changing = self.changing.lock().await;
        self.reload_locked().await;
    }

    async fn reload_locked(&self) {
        if self.stop.is_cancelled() {
            return;
        }
        let stored = match self.setting.store.channel_instances().list_enabled().await {
            Ok(stored) => stored,
            Err(error) => {
                tracing::error!(error = %error, "reading the stored channel instances failed; running ones are kept");
                return;
            }
        };
        let mut wanted: BTreeMap<String, (Origin, Pending)> = BTreeMap::new();
        for (kind, built) in crate::instances::configured(&self.setting.config, &self.setting.http)
        {
            let spec = Spec {
                name: kind.to_owned(),
                kind: kind.to_owned(),
                tenant: MASTER_TENANT_ID,
                agent: self.setting.default_agent.clone(),
                built,
            };
            wanted.insert(kind.to_owned(), (Origin::Config, Pending::Start(spec)));
        }
        let mut owners: BTreeMap<String, TenantId> = BTreeMap::new();
        for instance in stored {
            // Queues and sessions know a channel by its name: a second tenant's instance of
            // the same name cannot run beside the first.
            if let Some(owner) = owners.get(&instance.name)
                && *owner != instance.tenant_id
            {
                tracing::error!(channel = %instance.name, tenant_id = %instance.tenant_id, "channel instance cannot start: another tenant's instance has this name");
                continue;
            }
            owners.insert(instance.name.clone(), instance.tenant_id);
            let origin = Origin::Stored {
                id: instance.id,
                updated_at: instance.updated_at,
            };
            let unchanged = lock(&self.running)
                .get(&instance.name)
                .is_some_and(|r| r.origin == origin);
            let pending = if unchanged {
                Pending::Keep
            } else {
                match self.stored_spec(&instance).await {
                    Ok(spec) => Pending::Start(spec),
                    Err(reason) => Pending::Fail {
                        kind: instance.channel_type.clone(),
                        tenant: instance.tenant_id,
                        reason,
                    },
                }
            };
            wanted.insert(instance.name.clone(), (origin, pending));
        }
        self.apply(wanted);
    }

    /// Stops the instances no longer wanted or changed, starts the new ones.
    fn apply(&self, wanted: BTreeMap<String, (Origin, Pending)>) {
        let mut running = lock(&self.running);
        let mut states = lock(&self.states);
        let mut stopped = lock(&self.stopped);
        stopped.retain(|name| wanted.contains_key(name));
        let stale: Vec<String> = running
            .iter()
            .filter(|(name, r)| {
                wanted
                    .get(*name)
                    .is_none_or(|(origin, _)| *origin != r.origin)
            })
            .map(|(name, _)| name.clone())
            .collect();
        for name in stale {
            if let Some(r) = running.remove(&name) {
                tracing::info!(channel = %name, "channel stopped");
                r.stop.cancel();
            }
        }
        states.retain(|name, _| wanted.contains_key(name));
        for (name, (origin, pending)) in wanted {
            if stopped.contains(&name) {
                continue;
            }
            match pending {
                Pending::Keep => {}
                Pending::Start(_) if running.contains_key(&name) => {}
                Pending::Start(spec) => {
                    let r = self.launch(spec, origin, &mut states);
                    running.insert(name, r);
                }
                Pending::Fail {
                    kind,
                    tenant,
                    reason,
                } => {
                    tracing::error!(channel = %name, reason = %reason, "channel instance cannot start");
                    let status = ChannelStatus {
                        name: name.clone(),
                        kind,
                        tenant,
                        state: ChannelState::Failing(reason),
                    };
                    states.insert(name, status);
                }
            }
        }
    }

    async fn stored_spec(&self, instance: &ChannelInstance) -> Result<Spec, String> {
        let credentials = match &instance.encrypted_credentials {
            None => serde_json::Value::Null,
            Some(sealed) => {
                let secrets = self.setting.secrets.as_ref().ok_or_else(|| {
                    "its credentials need GOCLAW_ENCRYPTION_KEY to be opened".to_owned()
                })?;
                let opened = secrets
                    .decrypt(sealed)
                    .map_err(|_| "its credentials cannot be opened with this key".to_owned())?;
                serde_json::from_str(&opened)
                    .map_err(|_| "its stored credentials are not a JSON object".to_owned())?
            }
        };
        let built = crate::instances::stored(
            &instance.channel_type,
            &instance.config,
            &credentials,
            &self.setting.http,
        )?;
        let agent = match instance.agent_id {
            Some(id) => self
                .setting
                .store
                .agents()
                .list(instance.tenant_id)
                .await
                .map_err(|_| "its agent could not be read".to_owned())?
                .into_iter()
                .find(|agent| agent.id == id)
                .map(|agent| agent.agent_key)
                .ok_or_else(|| "its agent no longer exists".to_owned())?,
            None => self.setting.default_agent.clone(),
        };
        Ok(Spec {
            name: instance.name.clone(),
            kind: instance.channel_type.clone(),
            tenant: instance.tenant_id,
            agent,
            built,
        })
    }

    /// Runs `spec` in the background.
    fn launch(
        &self,
        spec: Spec,
        origin: Origin,
        states: &mut BTreeMap<String, ChannelStatus>,
    ) -> Running {
        let mut dispatcher = Dispatcher::new(
            spec.name.clone(),
            spec.tenant,
            spec.built.channel,
            self.setting.store.clone(),
            self.setting.runtime.clone(),
            spec.built.policy,
            spec.agent,
        );
        dispatcher.bindings = self.setting.bindings.clone();
        dispatcher.approvals = self.setting.approvals.clone();
        dispatcher.stream = spec.built.stream;
        dispatcher.history_limit = spec.built.history_limit;
        let dispatcher = Arc::new(dispatcher);
        states.insert(
            spec.name.clone(),
            ChannelStatus {
                name: spec.name,
                kind: spec.kind,
                tenant: spec.tenant,
                state: ChannelState::Starting,
            },
        );
        let stop = self.stop.child_token();
        let task = run_instance(
            dispatcher.clone(),
            self.states.clone(),
            stop.clone(),
            self.tasks.clone(),
        );
        self.tasks.spawn(task);
        Running {
            dispatcher,
            origin,
            stop,
        }
    }

    /// Whether no channel runs or waits to.
    pub fn is_empty(&self) -> bool {
        lock(&self.states).is_empty()
    }

    /// What each instance is doing, by name.
    pub fn statuses(&self) -> Vec<ChannelStatus> {
        lock(&self.states).values().cloned().collect()
    }

    /// Stops (`enabled: false`) or starts again a channel of `tenant` by name.
    pub async fn toggle(
        &self,
        tenant: TenantId,
        name: &str,
        enabled: bool,
    ) -> Result<Toggled, ToggleError> {
        let _changing = self.changing.lock().await;
        let known = lock(&self.states)
            .get(name)
            .is_some_and(|s| s.tenant == tenant);
        if !known {
            return Err(ToggleError::NotFound);
        }
        let is_stopped = lock(&self.stopped).contains(name);
        match (enabled, is_stopped) {
            (true, false) => Ok(Toggled::AlreadyRunning),
            (false, true) => Ok(Toggled::AlreadyStopped),
            (false, false) => {
                if let Some(r) = lock(&self.running).remove(name) {
                    r.stop.cancel();
                }
                lock(&self.stopped).insert(name.to_owned());
                if let Some(status) = lock(&self.states).get_mut(name) {
                    status.state = ChannelState::Stopped;
                }
                tracing::info!(channel = %name, "channel stopped by request");
                Ok(Toggled::Changed)
            }
            (true, true) => {
                lock(&self.stopped).remove(name);
                lock(&self.states).remove(name);
                self.reload_locked().await;
                Ok(Toggled::Changed)
            }
        }
    }

    /// The running dispatcher of `channel` of `tenant`, once its bot is known.
    fn dispatcher(&self, tenant: Option<TenantId>, channel: &str) -> Option<Arc<Dispatcher>> {
        lock(&self.running)
            .get(channel)
            .filter(|r| tenant.is_none_or(|t| r.dispatcher.tenant == t))
            .map(|r| r.dispatcher.clone())
    }

    /// Posts `markdown` to `chat_id` of the running instance `channel` of `tenant` (see
    /// [`crate::post`]); `None` when no such instance is running.
    pub async fn post(
        &self,
        tenant: TenantId,
        channel: &str,
        chat_id: &str,
        markdown: &str,
        key: &str,
        file: Option<crate::post::PostFile>,
    ) -> Option<Result<crate::Posted, goclaw_core::StoreError>> {
        let running = lock(&self.states)
            .get(channel)
            .is_some_and(ChannelStatus::is_running);
        let dispatcher = self.dispatcher(Some(tenant), channel).filter(|_| running)?;
        Some(dispatcher.post(chat_id, markdown, key, file).await)
    }

    /// Hands an update the platform POSTed to `/channels/{channel}/webhook` to the running
    /// instance `channel`; `Ok` once it is stored.
    pub async fn webhook(
        &self,
        channel: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> Result<(), crate::WebhookError> {
        let dispatcher = self
            .dispatcher(None, channel)
            .ok_or(crate::WebhookError::NotEnabled)?;
        let bot = lock(&dispatcher.bot)
            .clone()
            .ok_or_else(|| crate::WebhookError::NotStored("the channel is starting".to_owned()))?;
        dispatcher
            .channel
            .webhook(&bot, headers, body, &dispatcher)
            .await
    }

    /// Tells a sender just paired, in their chat, that they may write now (once per pairing;
    /// nothing when their channel is not one of these instances).
    pub async fn notify_paired(&self, device: &goclaw_core::PairedDevice) {
        let Some(dispatcher) = self.dispatcher(Some(device.tenant_id), &device.channel) else {
            return;
        };
        let outgoing = crate::message::OutgoingMessage {
            edit: None,
            media: None,
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

/// What a reload does with one wanted instance.
enum Pending {
    /// It runs as it should.
    Keep,
    Start(Spec),
    /// It cannot be built; the reason, without secrets.
    Fail {
        kind: String,
        tenant: TenantId,
        reason: String,
    },
}

/// An instance to start.
struct Spec {
    name: String,
    kind: String,
    tenant: TenantId,
    agent: AgentKey,
    built: Built,
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
        if !stop.is_cancelled() {
            set_state(ChannelState::Failing(reason));
        }
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
