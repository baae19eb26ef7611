//! The running application: the database opened and migrated as policy says, and the gateway
//! bound. `goclaw serve` and the test kit build it the same way.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use goclaw_agent::{Runtime, RuntimeDeps, RuntimeLimits, ToolRegistry};
use goclaw_config::LoadedConfig;
use goclaw_core::{AgentKey, MASTER_TENANT_ID, Store};
use goclaw_gateway::ratelimit::RateLimiter;
use goclaw_gateway::teams::recovery::TaskRecovery;
use goclaw_gateway::{AppState, Gateway, check_bind_security};
use goclaw_memory::index::MemoryIndex;
use goclaw_memory::vault::{EnrichSettings, Vault, VaultEnricher, VaultWatcher};
use goclaw_providers::ProviderRegistry;
use goclaw_store::OpenedStore;
use goclaw_tools::mcp::McpServers;
use goclaw_tools::memory_files::MemoryFileTool;
use goclaw_tools::sandbox::{SandboxRouter, SandboxedFileTool};
use goclaw_tools::vault::VaultFileTool;
use tokio_util::sync::CancellationToken;

use crate::database;
use crate::gateway_settings::{
    approval_timeout, auth_settings, connection_deadlines, gateway_settings, origin_policy,
};
use crate::provider_catalog::ProviderCatalog;

/// How long in-flight requests may run after a shutdown signal.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);

/// A bound gateway over an open, up-to-date database.
pub struct Application {
    gateway: Gateway,
    opened: OpenedStore,
    runtime: Runtime,
    shutdown: CancellationToken,
    addr: SocketAddr,
    pruner: Option<tokio::task::JoinHandle<()>>,
    /// The unauthenticated `/metrics` listener (`GOCLAW_METRICS_ADDR`), with its state.
    metrics_listener: Option<(tokio::net::TcpListener, AppState)>,
    metrics_addr: Option<SocketAddr>,
    /// The trace recorder runs write to, and the trace retention pruning.
    traces: crate::traces::TraceSetup,
    /// Keeps the knowledge vault in step with the workspaces until shutdown.
    vault_watch: tokio::task::JoinHandle<()>,
    /// The episodic memory worker, unless memory is turned off.
    episodic: Option<crate::episodic::EpisodicSetup>,
    /// Summarizes and links the vault's documents, unless turned off.
    vault_enricher: Option<VaultEnricher>,
    /// The messaging channels the configuration enables.
    channels: Arc<goclaw_channels::ChannelManager>,
    /// The state the async webhook worker runs with, when webhooks exist.
    webhook_worker: Option<AppState>,
    /// The state the cron and heartbeat loops run with.
    cron: AppState,
    /// Tends the v2 teams' task boards every `gateway.task_recovery_interval_sec`.
    task_recovery: (TaskRecovery, Duration),
    /// The MCP servers of `tools.mcp_servers`, whose tools agents are offered.
    mcp: Arc<McpServers>,
    mcp_pool: Arc<goclaw_tools::mcp::McpPool>,
}

impl Application {
    /// Checks the bind rule, opens the database, brings its schema up to date (or refuses,
    /// see [`database::prepare_for_serve`]) and binds the listener.
    pub async fn build(loaded: &LoadedConfig) -> anyhow::Result<Self> {
        Self::build_with_clock(loaded, Arc::new(goclaw_core::clock::SystemClock)).await
    }

    /// [`Application::build`] with the clock cron jobs read their due times from (a hand-set
    /// one in tests).
    pub async fn build_with_clock(
        loaded: &LoadedConfig,
        clock: Arc<dyn goclaw_core::clock::Clock>,
    ) -> anyhow::Result<Self> {
        let settings = gateway_settings(loaded);
        // Before touching the database: an unsafe bind is a configuration error.
        check_bind_security(
            &settings.host,
            settings.token_configured,
            settings.allow_insecure_no_auth,
        )?;
        // Tool output is scrubbed of the gateway's own secrets, in any common encoding.
        goclaw_tools::known_secrets::known_secrets().extend(loaded.secret_values());
        let opened = database::open(&loaded.runtime).await?;
        database::prepare_for_serve(&opened, &loaded.runtime).await?;
        let secrets = crate::secrets::check_encryption_key(
            opened.store().as_ref(),
            loaded.runtime.encryption_key.as_ref(),
        )
        .await?;
        let catalog = provider_catalog(loaded, opened.store(), secrets.clone()).await?;
        let approvals = goclaw_tools::exec::ApprovalBroker::with_store(
            approval_timeout(loaded),
            opened.store(),
        );
        let reloaded = approvals.reload().await;
        if reloaded > 0 {
            tracing::info!(pending = reloaded, "reloaded pending exec approvals");
        }
        let sandbox = crate::sandbox::SandboxSetup::start(loaded);
        let pruner = sandbox.task;
        let metrics = goclaw_telemetry::Metrics::new();
        let traces = crate::traces::TraceSetup::start(
            loaded,
            opened.store(),
            Some(metrics.trace_spans_dropped()),
        )
        .await;
        let metered: Arc<dyn goclaw_agent::ProviderLookup> = Arc::new(
            crate::metrics::MeteredProviders::new(catalog.clone(), metrics.clone()),
        );
        let episodic = crate::episodic::EpisodicSetup::build(
            loaded,
            opened.store(),
            metered.clone(),
            &metrics,
            embedder_slot(&catalog),
        );
        let memory = memory_index(
            &opened.store(),
            &catalog,
            &loaded.config.agents.defaults.memory,
        );
        let vault = workspace_vault(loaded, &opened.store(), &catalog);
        let vault_enricher = start_vault_enricher(loaded, &vault, metered.clone());
        let cron = goclaw_gateway::cron::Cron::new(
            crate::gateway_settings::cron_settings(loaded),
            clock.clone(),
        );
        let tenant_events = goclaw_gateway::tenant_events::TenantEvents::default();
        let mcp = Arc::new(
            McpServers::connect(
                &loaded.config.tools.mcp_servers,
                Some(sandbox.router.clone()),
            )
            .await,
        );
        let mcp_pool = crate::mcp::pool(opened.store(), secrets.clone(), sandbox.router.clone());
        let sender = crate::channel_sender::BoundSender::new();
        let quota = crate::usage::request_quota(&loaded.config.gateway.quota, opened.store());
        let (runtime, subagents, team_tasks) = build_runtime(
            loaded,
            opened.store(),
            metered,
            &approvals,
            sandbox.router.clone(),
            Wiring {
                metrics: &metrics,
                traces: &traces.recorder,
                cron: &cron,
                events: &tenant_events,
                mcp: &mcp,
                mcp_pool: &mcp_pool,
                sender: &sender,
                secrets: secrets.clone(),
                quota: &quota,
            },
            Remembering {
                index: memory.clone(),
                vault: vault.clone(),
                episodic: episodic.as_ref(),
            },
        );
        runtime
            .ensure_default_agent(MASTER_TENANT_ID)
            .await
            .context("cannot create the default agent")?;
        // Before anything is accepted: turns the last process acknowledged but never ended.
        let interrupted = runtime
            .recover_unfinished_turns()
            .await
            .context("cannot recover the turns left unfinished by the last run")?;
        if interrupted > 0 {
            tracing::warn!(
                turns = interrupted,
                "turns left unfinished by the last run were marked failed"
            );
        }
        // Subagents the last process left running are reported to their parents as failed.
        let subagents_interrupted = subagents
            .recover_interrupted()
            .await
            .context("cannot recover the subagents left running by the last run")?;
        if subagents_interrupted > 0 {
            tracing::warn!(
                subagents = subagents_interrupted,
                "subagents left running by the last run were reported failed"
            );
        }
        if let Some(episodic) = &episodic {
            episodic.worker.start().await;
        }
        let channels = Arc::new(
            goclaw_channels::ChannelManager::new(
                &loaded.config.channels,
                &loaded.config.bindings,
                opened.store(),
                runtime.clone(),
                AgentKey::parse(goclaw_agent::DEFAULT_AGENT_KEY)
                    .context("the default agent key is invalid")?,
            )
            .with_approvals(Some(approvals.clone()))
            .with_secrets(secrets.clone()),
        );
        sender.bind(channels.clone());
        let shutdown = CancellationToken::new();
        let vault_watch = start_vault(&vault, &shutdown);
        let auth = Arc::new(auth_settings(loaded));
        let config_service =
            crate::config_admin::ConfigService::new(loaded, auth.owner_ids.clone(), opened.store())
                .context("cannot read the config file for the configuration API")?;
        let state = AppState {
            store: opened.store(),
            runtime: runtime.clone(),
            auth,
            clients: Default::default(),
            shutdown: shutdown.clone(),
            started: std::time::Instant::now(),
            version: crate::VERSION.to_owned(),
            secrets,
            stored_providers: Some(catalog),
            origins: origin_policy(loaded),
            rate_limiter: RateLimiter::new(loaded.config.gateway.rate_limit_rpm),
            approvals: Some(approvals),
            metrics,
            deadlines: connection_deadlines(loaded),
            memory,
            vault: Some(vault),
            tenant_events,
            webhooks: goclaw_gateway::webhooks::Webhooks::new(
                loaded.config.gateway.webhook_private_callbacks,
                loaded.config.data_dir.join("webhook-media"),
            ),
            channels: Some(Arc::new(crate::webhook_channels::ManagedChannels(
                channels.clone(),
            ))),
            cron,
            team_workspaces: Some(loaded.config.agents.defaults.workspace.clone()),
            files: crate::media::file_access(loaded, clock),
            skills: Some(crate::skills::gateway(loaded, &opened.store())),
            mcp: Some(goclaw_gateway::mcp_servers::McpAdmin {
                pool: mcp_pool.clone(),
                policy: crate::mcp::policy(&loaded.config.tools),
            }),
            quota: Some(quota),
            doctor: Some(crate::commands::doctor::RunningAudit::shared(loaded)),
            config: Some(Arc::new(config_service)),
        };
        // Runs a stopped gateway left going are over: marked, never run again.
        let interrupted = goclaw_gateway::cron::interrupt_leftovers(&state)
            .await
            .context("cannot mark the cron runs left unfinished by the last run")?;
        if interrupted > 0 {
            tracing::warn!(
                runs = interrupted,
                "cron runs left unfinished by the last run were marked interrupted"
            );
        }
        let cron = state.clone();
        // Async webhook calls are worked on only where webhooks exist (an encryption key).
        let webhook_worker = state.secrets.is_some().then(|| state.clone());
        let task_recovery = (
            TaskRecovery::new(opened.store(), state.tenant_events.clone())
                .with_dispatcher(team_tasks)
                .with_channels(state.channels.clone()),
            Duration::from_secs(loaded.config.gateway.task_recovery_interval_sec),
        );
        let metrics_listener = bind_metrics(loaded, &state).await?;
        let metrics_addr = match &metrics_listener {
            Some((listener, _)) => Some(listener.local_addr()?),
            None => None,
        };
        let gateway = Gateway::bind(&settings, state).await?;
        let addr = gateway
            .local_addr()
            .context("cannot read the bound address")?;
        Ok(Self {
            gateway,
            opened,
            runtime,
            shutdown,
            addr,
            pruner,
            metrics_listener,
            metrics_addr,
            traces,
            vault_watch,
            episodic,
            vault_enricher,
            channels,
            webhook_worker,
            cron,
            task_recovery,
            mcp,
            mcp_pool,
        })
    }

    /// The address of the unauthenticated `/metrics` listener, when `GOCLAW_METRICS_ADDR` is
    /// set.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics_addr
    }

    /// The episodic memory worker, unless memory is turned off.
    pub fn episodic(&self) -> Option<&goclaw_memory::episodic::EpisodicWorker> {
        self.episodic.as_ref().map(|setup| &setup.worker)
    }

    /// How each enabled MCP server fared at start-up.
    pub fn mcp_servers(&self) -> &[goclaw_tools::mcp::McpServerStatus] {
        self.mcp.status()
    }

    /// The agent runtime.
    pub fn runtime(&self) -> &Runtime {
        &self.runtime
    }

    /// The address the gateway listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The port the gateway listens on.
    pub fn port(&self) -> u16 {
        self.addr.port()
    }

    /// The store the gateway uses.
    pub fn store(&self) -> Arc<dyn Store> {
        self.opened.store()
    }

    /// The task-recovery ticker, whose passes tests run with their own clock.
    pub fn task_recovery(&self) -> TaskRecovery {
        self.task_recovery.0.clone()
    }

    /// Serves until `shutdown` is cancelled; then refuses new runs, lets running ones finish
    /// within the runtime's grace period, drains connections, and closes the database pool.
    pub async fn run_until(self, shutdown: CancellationToken) -> anyhow::Result<()> {
        let connections = self.shutdown.clone();
        let runtime = self.runtime.clone();
        self.channels.start().await;
        let webhook_worker = self
            .webhook_worker
            .map(|state| goclaw_gateway::webhooks::worker::spawn(state, self.shutdown.clone()));
        let heartbeats = goclaw_gateway::heartbeat::spawn(self.cron.clone(), self.shutdown.clone());
        let cron = goclaw_gateway::cron::spawn(self.cron, self.shutdown.clone());
        let (recovery, every) = self.task_recovery;
        let task_recovery = recovery.spawn(every, self.shutdown.clone());
        let channels = self.channels.clone();
        let stopping = tokio::spawn(async move {
            shutdown.cancelled().await;
            // Nothing new comes in; what is unanswered or unsent stays stored for the restart.
            channels.shutdown().await;
            connections.cancel();
            runtime.shutdown().await;
        });
        let metrics_server = self.metrics_listener.map(|(listener, state)| {
            tokio::spawn(goclaw_gateway::serve_metrics(
                listener,
                state,
                self.shutdown.clone(),
            ))
        });
        let result = self.gateway.serve(self.shutdown.clone()).await;
        if !stopping.is_finished() {
            // The server stopped on its own: stop the runtime too.
            self.shutdown.cancel();
            self.channels.shutdown().await;
            self.runtime.shutdown().await;
        }
        let _ = stopping.await;
        // It stops with the shutdown token; runs it started end with the runtime.
        let _ = cron.await;
        let _ = heartbeats.await;
        if let Some(worker) = webhook_worker {
            // It stops with the shutdown token; a call it was on is queued again later.
            let _ = worker.await;
        }
        // It stops with the shutdown token between passes.
        let _ = task_recovery.await;
        if let Some(episodic) = &self.episodic {
            episodic.shutdown().await;
        }
        if let Some(enricher) = &self.vault_enricher {
            enricher.shutdown().await;
        }
        self.traces.shutdown().await;
        // The stdio MCP servers' processes end with their connections.
        self.mcp.close().await;
        self.mcp_pool.close().await;
        if let Some(server) = metrics_server {
            match tokio::time::timeout(DRAIN_TIMEOUT, server).await {
                Ok(Ok(Err(error))) => {
                    tracing::warn!(error = %error, "metrics listener stopped with an error")
                }
                Ok(_) => {}
                Err(_) => tracing::warn!("metrics listener did not stop in time"),
            }
        }
        if let Some(pruner) = &self.pruner {
            pruner.abort();
        }
        self.vault_watch.abort();
        self.opened.close().await;
        result.context("gateway stopped with an error")
    }
}

/// The providers runs can call: those stored in the database over those configured.
async fn provider_catalog(
    loaded: &LoadedConfig,
    store: Arc<dyn Store>,
    secrets: Option<Arc<goclaw_crypto::SecretBox>>,
) -> anyhow::Result<Arc<ProviderCatalog>> {
    let configured = ProviderRegistry::from_config(&loaded.config.providers);
    let embedding = Arc::new(crate::embedding::EmbeddingSelection::new(
        store.clone(),
        secrets.clone(),
        loaded.config.providers.clone(),
        loaded.config.agents.defaults.memory.clone(),
    ));
    let catalog =
        Arc::new(ProviderCatalog::new(store, secrets, configured).with_embedding(embedding));
    catalog
        .reload()
        .await
        .context("cannot load the LLM providers stored in the database")?;
    let names = catalog.names();
    if names.is_empty() {
        tracing::warn!(
            "no LLM provider configured: set e.g. GOCLAW_ANTHROPIC_API_KEY or GOCLAW_OPENAI_API_KEY"
        );
    } else {
        tracing::info!(providers = ?names, stored = ?catalog.stored_names(), "LLM providers configured");
    }
    Ok(catalog)
}

/// The tools that reach back into the runtime: `sessions_send`, `spawn`, `delegate` and
/// `team_tasks`.
type AgentTools = (
    Arc<crate::messenger::RuntimeMessenger>,
    Arc<dyn goclaw_tools::subagents::SubagentSpawner>,
    Arc<dyn goclaw_tools::delegate::Delegator>,
    Arc<goclaw_gateway::teams::tool::TeamTasksTool>,
);

/// What the runtime reports to and reads from: metrics, traces, the cron settings and clock,
/// and the tenants' event broadcast (team tools publish to it).
struct Wiring<'a> {
    metrics: &'a goclaw_telemetry::Metrics,
    traces: &'a goclaw_telemetry::TraceRecorder,
    cron: &'a goclaw_gateway::cron::Cron,
    events: &'a goclaw_gateway::tenant_events::TenantEvents,
    mcp: &'a McpServers,
    /// The tenant-managed MCP servers' connections.
    mcp_pool: &'a Arc<goclaw_tools::mcp::McpPool>,
    /// The `message` tool's way to the channels, bound once they run.
    sender: &'a Arc<crate::channel_sender::BoundSender>,
    /// Opens `http` hooks' sealed header values (none can be opened, or stored, without it).
    secrets: Option<Arc<goclaw_crypto::SecretBox>>,
    /// `gateway.quota`, checked before every turn.
    quota: &'a Arc<goclaw_gateway::request_quota::RequestQuota>,
}

/// What agents remember with: memory documents, the knowledge vault and, unless memory is
/// turned off, episodic memory.
struct Remembering<'a> {
    index: MemoryIndex,
    vault: Vault,
    episodic: Option<&'a crate::episodic::EpisodicSetup>,
}

/// The memory tools' parts: documents, the vault, and episodic recall when it runs.
struct MemoryTools {
    index: MemoryIndex,
    vault: Vault,
    episodes: Option<goclaw_memory::episodic::EpisodicRecall>,
}

fn build_runtime(
    loaded: &LoadedConfig,
    store: Arc<dyn Store>,
    providers: Arc<dyn goclaw_agent::ProviderLookup>,
    approvals: &goclaw_tools::exec::ApprovalBroker,
    sandbox: Arc<SandboxRouter>,
    wiring: Wiring<'_>,
    remembering: Remembering<'_>,
) -> (
    Runtime,
    goclaw_agent::SubagentManager,
    Arc<goclaw_gateway::teams::tool::TeamTasksTool>,
) {
    let config = &loaded.config;
    let subagents =
        goclaw_agent::SubagentManager::new(store.clone(), config.agents.defaults.subagents.clone());
    let Wiring {
        metrics,
        traces,
        cron,
        events,
        mcp,
        mcp_pool,
        sender,
        secrets,
        quota,
    } = wiring;
    let delegations = goclaw_agent::DelegationManager::new(store.clone());
    let delegation_events = events.clone();
    delegations.observe(Arc::new(move |tenant, user, phase, payload| {
        goclaw_gateway::teams::events::delegation(&delegation_events, tenant, user, phase, payload)
    }));
    let team_tasks = goclaw_gateway::teams::tool::TeamTasksTool::new(
        store.clone(),
        events.clone(),
        Some(config.agents.defaults.workspace.clone()),
    );
    let limits = RuntimeLimits::from_config(&config.gateway, loaded.runtime.lanes);
    let exec = crate::exec::exec_tool(&config.tools, store.clone(), approvals, sandbox.clone());
    let messenger = crate::messenger::RuntimeMessenger::new();
    let Remembering {
        index,
        vault,
        episodic,
    } = remembering;
    let recall = episodic.map(|setup| setup.recall.clone());
    let embedder = index.embedder_slot();
    let mut tools = tool_registry(
        &config.tools,
        &store,
        exec,
        (
            messenger.clone(),
            Arc::new(subagents.clone()),
            Arc::new(delegations.clone()),
            team_tasks.clone(),
        ),
        &sandbox,
        MemoryTools {
            index,
            vault,
            episodes: recall,
        },
        cron.clone(),
    );
    crate::mcp::register(&mut tools, mcp, approvals);
    crate::media::register_tools(&mut tools, config, (&store, &providers), sender.clone());
    let skill_commands = crate::skills::register(&mut tools, loaded, &store, embedder);
    // Built-in and MCP tools alike: policy, rate limit, scrubbing.
    let guards = goclaw_tools::registry::ToolGuards::new(&config.tools);
    tools.wrap_all(|tool| guards.guard(tool));
    let granted_servers = Arc::new(crate::mcp::GrantedServers {
        pool: mcp_pool.clone(),
        guards: guards.clone(),
        configured: mcp.search_entries(),
        approvals: approvals.clone(),
    });
    tools.set_filter(Arc::new(move |agent, name| guards.allows(agent, name)));
    let open_headers: goclaw_agent::hooks::Opener = Arc::new(move |sealed: &str| {
        secrets
            .as_ref()
            .and_then(|secrets| secrets.decrypt(sealed).ok())
    });
    let hooks = goclaw_agent::hooks::HookEngine::new(
        store.clone(),
        config.hooks.allow_private_urls,
        open_headers,
    );
    let mut deps = RuntimeDeps::new(
        store,
        providers,
        tools,
        config.agents.defaults.clone(),
        limits,
    )
    .with_metrics(metrics.clone())
    .with_trace_recorder(traces.clone())
    .with_price_list(crate::traces::price_list(&config.telemetry))
    .with_quota(quota.clone())
    .with_skill_commands(skill_commands)
    .with_tool_source(granted_servers)
    .with_hooks(hooks);
    if let Some(setup) = episodic {
        deps = deps
            .with_recall(Arc::new(crate::episodic::EpisodicPrompt::new(
                setup.recall.clone(),
            )))
            .with_observer(Arc::new(crate::episodic::CompactionFeed::new(
                setup.worker.clone(),
            )));
    }
    let runtime = Runtime::new(deps);
    messenger.bind(runtime.clone());
    subagents.bind(runtime.clone());
    delegations.bind(runtime.clone());
    team_tasks.bind(runtime.clone());
    (runtime, subagents, team_tasks)
}

/// Memory over `store`, embedding with whatever provider the catalog's selection holds (full
/// text only while it holds none). Every index made here shares that one slot.
pub(crate) fn memory_index(
    store: &Arc<dyn Store>,
    providers: &ProviderCatalog,
    memory: &goclaw_config::MemoryConfig,
) -> MemoryIndex {
    let index = MemoryIndex::switchable(store.clone(), embedder_slot(providers)).with_ranking(
        goclaw_memory::rank::RankOptions {
            weights: goclaw_memory::rank::Weights {
                vector: memory.vector_weight,
                text: memory.text_weight,
            },
            min_score: memory.min_score,
            max_results: usize::try_from(memory.max_results.max(1)).unwrap_or(6),
            ..goclaw_memory::rank::RankOptions::default()
        },
    );
    match providers.embedding() {
        Some(selection) => index.with_chunking_slot(selection.chunking()),
        None => index.with_chunking(goclaw_memory::settings::chunking(
            memory.max_chunk_len,
            memory.chunk_overlap,
        )),
    }
}

/// The slot of the catalog's embedding selection (an empty one without a selection).
fn embedder_slot(providers: &ProviderCatalog) -> goclaw_memory::embed::EmbedderSlot {
    providers
        .embedding()
        .map(|selection| selection.slot())
        .unwrap_or_default()
}

/// The knowledge vault over the workspaces under `agents.defaults.workspace`, embedding with
/// the provider memory embeds with (searched by its words while there is none).
fn workspace_vault(
    loaded: &LoadedConfig,
    store: &Arc<dyn Store>,
    providers: &ProviderCatalog,
) -> Vault {
    Vault::switchable(
        store.clone(),
        embedder_slot(providers),
        loaded.config.agents.defaults.workspace.clone(),
    )
}

/// Starts summarizing and linking what the vault registers with the documents' agents'
/// models, unless memory or `agents.defaults.memory.vault_enrichment` is off.
fn start_vault_enricher(
    loaded: &LoadedConfig,
    vault: &Vault,
    providers: Arc<dyn goclaw_agent::ProviderLookup>,
) -> Option<VaultEnricher> {
    let defaults = &loaded.config.agents.defaults;
    if !defaults.memory.enabled || !defaults.memory.vault_enrichment {
        return None;
    }
    let model = crate::episodic::agent_model(providers, defaults);
    VaultEnricher::start(vault, model, EnrichSettings::default())
}

/// Starts the vault's file watcher, then rescans every tenant's workspace (for what changed
/// while the gateway was down, or before the watch began), in the background: watching a large
/// workspace takes a walk of it, which must not delay serving. The task holds the watcher until
/// shutdown. Without a watcher the gateway still serves; the vault then follows the tools'
/// writes and rescans only.
fn start_vault(vault: &Vault, shutdown: &CancellationToken) -> tokio::task::JoinHandle<()> {
    let vault = vault.clone();
    let shutdown = shutdown.clone();
    tokio::spawn(async move {
        let starting = {
            let (vault, shutdown) = (vault.clone(), shutdown.clone());
            tokio::task::spawn_blocking(move || VaultWatcher::start(vault, shutdown))
        };
        let _watcher = match starting.await {
            Ok(Ok(watcher)) => Some(watcher),
            Ok(Err(error)) => {
                tracing::warn!(%error, "vault: workspaces are not watched");
                None
            }
            Err(error) => {
                tracing::warn!(%error, "vault: workspaces are not watched");
                None
            }
        };
        if let Err(error) = vault.rescan_all().await {
            tracing::warn!(%error, "vault: start-up rescan failed");
        }
        shutdown.cancelled().await;
    })
}

/// The built-in tools agents are offered; the caller puts them behind the guards.
fn tool_registry(
    config: &goclaw_config::ToolsConfig,
    store: &Arc<dyn Store>,
    exec: Arc<dyn goclaw_core::Tool>,
    (messenger, subagents, delegations, team_tasks): AgentTools,
    sandbox: &Arc<SandboxRouter>,
    memory: MemoryTools,
    cron: goclaw_gateway::cron::Cron,
) -> ToolRegistry {
    let MemoryTools {
        index: memory,
        vault,
        episodes,
    } = memory;
    let mut tools = ToolRegistry::with_builtins();
    tools.register(exec);
    for alias in goclaw_tools::exec::EXEC_TOOL_ALIASES {
        tools.register_alias(alias, "exec");
    }
    for tool in goclaw_tools::registry::builtin_file_tools() {
        let routed = SandboxedFileTool::wrap(tool.clone(), sandbox.clone())
            .filter(|_| sandbox.any_sandboxed());
        let tool: Arc<dyn goclaw_core::Tool> = match routed {
            Some(routed) => Arc::new(routed),
            None => tool,
        };
        let tool: Arc<dyn goclaw_core::Tool> =
            match MemoryFileTool::wrap(tool.clone(), store.clone(), memory.clone()) {
                Some(indexed) => Arc::new(indexed),
                None => tool,
            };
        match VaultFileTool::wrap(tool.clone(), vault.clone()) {
            Some(registered) => tools.register(Arc::new(registered)),
            None => tools.register(tool),
        };
    }
    let episodic = episodes.is_some();
    for tool in goclaw_tools::vault::vault_tools_with_episodes(
        store.clone(),
        vault.clone(),
        episodes.clone(),
    ) {
        tools.register(tool);
    }
    for tool in goclaw_tools::memory::memory_tools_with_episodes(store.clone(), memory, episodes) {
        tools.register(tool);
    }
    if episodic {
        for tool in goclaw_tools::knowledge_graph::knowledge_graph_tools(store.clone()) {
            tools.register(tool);
        }
    }
    for (alias, tool) in goclaw_tools::files::FILE_TOOL_ALIASES {
        tools.register_alias(alias, tool);
    }
    let env = goclaw_config::Environment::from_process();
    for tool in goclaw_tools::web::web_tools(&config.web_fetch, &env) {
        tools.register(tool);
    }
    for tool in goclaw_tools::sessions::session_tools(store.clone(), Some(messenger)) {
        tools.register(tool);
    }
    tools.register(goclaw_tools::cron::cron_tool(
        store.clone(),
        cron.clock,
        cron.settings.default_timezone,
    ));
    tools.register(goclaw_tools::subagents::spawn_tool(subagents));
    tools.register(goclaw_tools::delegate::delegate_tool(delegations));
    tools.register(team_tasks);
    for (alias, tool) in goclaw_tools::policy::ALIASES {
        if *tool == "spawn" {
            tools.register_alias(alias, tool);
        }
    }
    tools
}

/// Binds `GOCLAW_METRICS_ADDR`, if set: `/metrics` without authentication, and nothing else.
async fn bind_metrics(
    loaded: &LoadedConfig,
    state: &AppState,
) -> anyhow::Result<Option<(tokio::net::TcpListener, AppState)>> {
    let Some(addr) = loaded.runtime.metrics_addr else {
        return Ok(None);
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on GOCLAW_METRICS_ADDR {addr}"))?;
    if !addr.ip().is_loopback() {
        tracing::warn!(addr = %addr, "/metrics is served without authentication on a non-loopback address");
    }
    tracing::info!(addr = %addr, "metrics listener bound");
    Ok(Some((listener, state.clone())))
}
