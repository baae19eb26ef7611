//! The `delegate` tool: an agent hands a task to another agent it is linked to (an active
//! `agent_links` row, see `agents.links.*`). `mode: "sync"` (the default) waits for the
//! answer, at most `timeout` seconds (300 by default, [`MAX_TIMEOUT_SECS`] at most); `mode:
//! "async"` goes on at once and the answer is announced back to the calling session when it
//! comes. The runtime side — the link and capacity checks, the run on the `delegate` lane,
//! the announcement — sits behind [`Delegator`].

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde_json::{Value, json};

/// The default wait of a sync delegation, in seconds.
pub const DEFAULT_TIMEOUT_SECS: u64 = 300;
/// The longest wait of a sync delegation, in seconds.
pub const MAX_TIMEOUT_SECS: u64 = 600;

/// What to delegate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DelegateRequest {
    /// The target agent's key.
    pub agent: String,
    pub task: String,
    /// Whether the caller goes on at once (the answer announced later).
    pub background: bool,
    /// How long a sync caller waits.
    pub timeout: Duration,
}

/// How a delegation went, as the tool reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Delegated {
    /// A sync delegation's answer.
    Answered {
        delegation_id: String,
        answer: String,
    },
    /// An async delegation under way.
    Started { delegation_id: String },
}

/// Runs delegations; the agent runtime implements it.
#[async_trait]
pub trait Delegator: Send + Sync {
    /// Delegates `request` on behalf of the caller in `ctx`, or says why not.
    async fn delegate(
        &self,
        ctx: &ToolContext,
        request: DelegateRequest,
    ) -> Result<Delegated, String>;
}

/// The tool over `delegator`.
pub fn delegate_tool(delegator: Arc<dyn Delegator>) -> Arc<dyn Tool> {
    Arc::new(DelegateTool(delegator))
}

struct DelegateTool(Arc<dyn Delegator>);

#[async_trait]
impl Tool for DelegateTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "delegate".to_owned(),
            description: "Hand a task to another agent you are linked to. \"sync\" (the default) \
                          waits for its answer; \"async\" goes on at once and its answer comes \
                          back to this conversation when it is ready."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "agent": {"type": "string", "description": "The target agent's key."},
                    "task": {"type": "string", "description": "What the agent should do, with everything it needs to know."},
                    "mode": {"type": "string", "enum": ["sync", "async"]},
                    "timeout": {"type": "integer", "minimum": 1, "maximum": MAX_TIMEOUT_SECS,
                                "description": "Seconds a sync delegation waits (300)."}
                },
                "required": ["agent", "task"]
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let text = |key: &str| {
            arguments
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .unwrap_or_default()
                .to_owned()
        };
        let agent = text("agent");
        if agent.is_empty() {
            return ToolOutput::error("agent is required");
        }
        let task = text("task");
        if task.is_empty() {
            return ToolOutput::error("task is required");
        }
        let background = match text("mode").as_str() {
            "" | "sync" => false,
            "async" => true,
            other => return ToolOutput::error(format!("unknown mode {other:?}: sync or async")),
        };
        let secs = arguments
            .get("timeout")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_TIMEOUT_SECS)
            .clamp(1, MAX_TIMEOUT_SECS);
        let request = DelegateRequest {
            agent,
            task,
            background,
            timeout: Duration::from_secs(secs),
        };
        match self.0.delegate(ctx, request).await {
            Ok(Delegated::Answered {
                delegation_id,
                answer,
            }) => ToolOutput::ok(
                json!({ "delegationId": delegation_id, "status": "completed", "answer": answer })
                    .to_string(),
            ),
            Ok(Delegated::Started { delegation_id }) => ToolOutput::ok(
                json!({
                    "delegationId": delegation_id,
                    "status": "running",
                    "note": "the answer will be announced to this conversation when it is ready",
                })
                .to_string(),
            ),
            Err(reason) => ToolOutput::error(reason),
        }
    }
}
