//! Operator approval of MCP tool calls, for servers configured with `require_approval`: the
//! call waits on the same [`ApprovalBroker`] as `exec` commands — announced to operators as
//! `exec.approval.requested`, answered with `exec.approval.resolve`, kept in the database —
//! and runs only when allowed. "Allow always" remembers the tool for the agent, so its later
//! calls run without asking; a denial or no answer in time is a tool error the model sees.

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde_json::Value;

use super::tool::McpTool;
use crate::exec::{ApprovalBroker, ApprovalRequest};
use crate::web::content::truncate_chars;

/// Most characters of a call's arguments shown to the operator.
const MAX_SHOWN_ARGUMENTS: usize = 1_000;

/// `tool` behind operator approval when its server asks for it, else `tool` itself.
pub fn gated(tool: Arc<McpTool>, broker: Option<&ApprovalBroker>) -> Arc<dyn Tool> {
    if !tool.requires_approval() {
        return tool;
    }
    Arc::new(ApprovedCall {
        tool,
        broker: broker.cloned(),
    })
}

/// An MCP tool whose every call an operator approves first.
struct ApprovedCall {
    tool: Arc<McpTool>,
    /// `None` when no operator can be asked: every call is refused.
    broker: Option<ApprovalBroker>,
}

impl ApprovedCall {
    /// Whether an operator allows this call (or allowed the tool always for the agent).
    async fn approved(&self, ctx: &ToolContext, name: &str, arguments: &Value) -> bool {
        let Some(broker) = &self.broker else {
            return false;
        };
        if broker.is_allowed(ctx.tenant_id, &ctx.agent_key, name).await {
            return true;
        }
        let request = ApprovalRequest {
            id: format!("mcp-{}", uuid::Uuid::now_v7()),
            tenant_id: ctx.tenant_id,
            agent_key: ctx.agent_key.clone(),
            session_key: ctx.session_key.to_string(),
            run_id: ctx.run_id.clone(),
            user_id: ctx.user_id.clone(),
            command: format!(
                "{name} {}",
                truncate_chars(&arguments.to_string(), MAX_SHOWN_ARGUMENTS)
            ),
            binaries: vec![name.to_owned()],
            created_at_ms: chrono::Utc::now().timestamp_millis(),
        };
        broker.request(request).await.allows()
    }
}

#[async_trait]
impl Tool for ApprovedCall {
    fn definition(&self) -> ToolDefinition {
        self.tool.definition()
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let name = self.tool.definition().name;
        if !self.approved(ctx, &name, &arguments).await {
            tracing::info!(tool = %name, server = %self.tool.server(), "security.mcp.call_denied");
            return ToolOutput::error(format!(
                "{name} needs an operator's approval, and it was denied (or not given in time)"
            ));
        }
        self.tool.call(ctx, arguments).await
    }
}
