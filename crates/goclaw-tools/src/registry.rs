//! The guards every tool runs behind: the tool policy decides which tools an agent is offered
//! (and may call), the rate limit counts executions per session, and credentials are scrubbed
//! from the output. [`ToolGuards::guard`] wraps any [`Tool`], so every tool gets them.

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_config::ToolsConfig;
use goclaw_core::{Agent, Tool, ToolContext, ToolDefinition, ToolOutput};

use crate::files::{EditTool, ListFilesTool, ReadFileTool, WriteFileTool};
use crate::known_secrets::known_secrets;
use crate::policy::{agent_policy, is_allowed};
use crate::ratelimit::ToolRateLimiter;
use crate::scrub::scrub;

/// The file tools: `read_file`, `write_file`, `edit`, `list_files`.
pub fn builtin_file_tools() -> Vec<Arc<dyn Tool>> {
    vec![
        Arc::new(ReadFileTool),
        Arc::new(WriteFileTool),
        Arc::new(EditTool),
        Arc::new(ListFilesTool),
    ]
}

/// Policy, rate limit and scrubbing, shared by every tool of a runtime.
#[derive(Debug)]
pub struct ToolGuards {
    config: ToolsConfig,
    limiter: ToolRateLimiter,
    scrub_credentials: bool,
}

impl ToolGuards {
    /// Guards configured by the `tools` section.
    pub fn new(config: &ToolsConfig) -> Arc<Self> {
        Self::with_limiter(config, ToolRateLimiter::new(config.rate_limit_per_hour))
    }

    /// Guards with a given rate limiter (e.g. on a test clock).
    pub fn with_limiter(config: &ToolsConfig, limiter: ToolRateLimiter) -> Arc<Self> {
        Arc::new(Self {
            config: config.clone(),
            limiter,
            scrub_credentials: config.scrub_credentials,
        })
    }

    /// Whether `agent` may see and call `tool` under the global and its own policy.
    pub fn allows(&self, agent: &Agent, tool: &str) -> bool {
        let policy = agent_policy(&agent.other_config);
        is_allowed(&self.config, policy.as_ref(), &agent.provider, tool)
    }

    /// `tool` behind the rate limit and the scrubbing.
    pub fn guard(self: &Arc<Self>, tool: Arc<dyn Tool>) -> Arc<dyn Tool> {
        Arc::new(GuardedTool {
            inner: tool,
            guards: self.clone(),
        })
    }
}

/// A tool behind the [`ToolGuards`].
pub struct GuardedTool {
    inner: Arc<dyn Tool>,
    guards: Arc<ToolGuards>,
}

#[async_trait]
impl Tool for GuardedTool {
    fn definition(&self) -> ToolDefinition {
        self.inner.definition()
    }

    async fn call(&self, ctx: &ToolContext, arguments: serde_json::Value) -> ToolOutput {
        if let Err(message) = self.guards.limiter.check(ctx.session_key.as_str()) {
            return ToolOutput::error(message);
        }
        let mut output = self.inner.call(ctx, arguments).await;
        // The gateway's own secrets are always removed; other credentials when configured.
        let clean = if self.guards.scrub_credentials {
            scrub(&output.content)
        } else {
            known_secrets().scrub(&output.content)
        };
        if let std::borrow::Cow::Owned(clean) = clean {
            output.content = clean;
        }
        output
    }
}
