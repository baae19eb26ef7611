//! [`RuntimeDeps`]: what a [`crate::Runtime`] is built from — the store, providers and tools it
//! must have, and the optional services (traces and their prices, recall, hooks, quotas) added
//! with `with_*`.

use std::sync::Arc;

use goclaw_config::AgentDefaults;
use goclaw_core::Store;
use goclaw_providers::RetryPolicy;

use crate::model::ProviderLookup;
use crate::tokens::{ModelTokenCounter, TokenCounter};
use crate::tools::ToolRegistry;
use crate::types::RuntimeLimits;

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
    /// What model calls cost, recorded into traces and spans; empty (everything free) by
    /// default.
    pub prices: Arc<goclaw_core::PriceList>,
    /// What agents remember of users, added to runs' system prompts; none by default.
    pub recall: Option<Arc<dyn crate::recall::MemoryRecall>>,
    /// Told of compactions; none by default.
    pub observer: Option<Arc<dyn crate::recall::SessionObserver>>,
    /// Reads skill slash commands in messages; none by default.
    pub skill_commands: Option<Arc<dyn crate::skill_commands::SkillCommands>>,
    /// Tools that depend on the agent and user of a run; none by default.
    pub tool_source: Option<Arc<dyn crate::tool_source::ToolSource>>,
    /// Runs the hooks of runs' events; none by default.
    pub hooks: Option<crate::hooks::HookEngine>,
    /// The request quota turns are checked against; none (unlimited) by default.
    pub quota: Option<Arc<dyn crate::quota::TurnQuota>>,
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
            prices: Arc::default(),
            recall: None,
            observer: None,
            skill_commands: None,
            tool_source: None,
            hooks: None,
            quota: None,
        }
    }

    /// Fires the hooks stored for runs' events through `engine`.
    pub fn with_hooks(mut self, engine: crate::hooks::HookEngine) -> Self {
        self.hooks = Some(engine);
        self
    }

    /// Records a trace per run (with its model and tool calls) into `recorder`.
    pub fn with_trace_recorder(mut self, recorder: goclaw_telemetry::TraceRecorder) -> Self {
        self.traces = Some(recorder);
        self
    }

    /// Checks every turn against `quota` before it is stored.
    pub fn with_quota(mut self, quota: Arc<dyn crate::quota::TurnQuota>) -> Self {
        self.quota = Some(quota);
        self
    }

    /// Prices model calls in traces by `prices`.
    pub fn with_price_list(mut self, prices: Arc<goclaw_core::PriceList>) -> Self {
        self.prices = prices;
        self
    }

    /// Records runs, turns and lane waits into `metrics`.
    pub fn with_metrics(mut self, metrics: goclaw_telemetry::Metrics) -> Self {
        self.metrics = metrics;
        self
    }

    /// Adds what `recall` remembers to every run's system prompt.
    pub fn with_recall(mut self, recall: Arc<dyn crate::recall::MemoryRecall>) -> Self {
        self.recall = Some(recall);
        self
    }

    /// Lets `commands` turn a message's skill slash command into the run's instructions.
    pub fn with_skill_commands(
        mut self,
        commands: Arc<dyn crate::skill_commands::SkillCommands>,
    ) -> Self {
        self.skill_commands = Some(commands);
        self
    }

    /// Offers runs the tools `source` gives their agent and user, beside the registry's.
    pub fn with_tool_source(mut self, source: Arc<dyn crate::tool_source::ToolSource>) -> Self {
        self.tool_source = Some(source);
        self
    }

    /// Tells `observer` of every compaction.
    pub fn with_observer(mut self, observer: Arc<dyn crate::recall::SessionObserver>) -> Self {
        self.observer = Some(observer);
        self
    }
}
