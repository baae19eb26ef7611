//! The `Tool` trait: something an agent can call, with the context of the run that calls it.

use std::path::PathBuf;

use async_trait::async_trait;

use crate::caller::Trust;
use crate::domain::{SessionKey, TenantId};
use crate::llm::ToolDefinition;

/// Who is calling a tool, and where.
#[derive(Debug, Clone)]
pub struct ToolContext {
    pub tenant_id: TenantId,
    pub agent_key: String,
    pub session_key: SessionKey,
    pub user_id: String,
    /// How far the gateway trusts the person the run acts for: decides whether `exec` and the
    /// file tools may run on the host.
    pub trust: Trust,
    /// The run calling the tool.
    pub run_id: String,
    /// Where the conversation comes from (`ws`, `http`, a channel name).
    pub channel: String,
    /// The agent's workspace directory for this user.
    pub workspace: PathBuf,
    /// Whether file and exec tools must stay inside `workspace` (and `allowed_paths`).
    pub restrict_to_workspace: bool,
    /// Directories outside the workspace that tools may still use.
    pub allowed_paths: Vec<PathBuf>,
}

/// What a tool call produced, as shown to the model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolOutput {
    pub content: String,
    pub is_error: bool,
    /// Files (absolute paths inside the run's workspace) to send with the run's answer, as
    /// `send_file` asks.
    pub media: Vec<String>,
}

impl ToolOutput {
    /// A successful result.
    pub fn ok(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            is_error: false,
            media: Vec::new(),
        }
    }

    /// A successful result that sends `media` with the run's answer.
    pub fn with_media(content: impl Into<String>, media: Vec<String>) -> Self {
        Self {
            media,
            ..Self::ok(content)
        }
    }

    /// A failed call; the model sees the message and may try again.
    pub fn error(content: impl Into<String>) -> Self {
        Self {
            content: content.into(),
            is_error: true,
            media: Vec::new(),
        }
    }
}

/// A tool agents can call.
#[async_trait]
pub trait Tool: Send + Sync {
    /// Name, description and argument schema, as offered to the model.
    fn definition(&self) -> ToolDefinition;

    /// Runs the tool. Errors are results (`ToolOutput::error`), not panics or `Err`s: the model
    /// decides what to do about them.
    async fn call(&self, ctx: &ToolContext, arguments: serde_json::Value) -> ToolOutput;
}
