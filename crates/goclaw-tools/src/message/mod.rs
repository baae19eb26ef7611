//! The `message` tool: a message sent to a messaging channel's chat now, not with the answer —
//! `{action: "send", message, channel?, target?, forward?, forward_reason?}`. Without
//! `channel`/`target` it goes to the chat the conversation lives in; a message starting with a
//! `MEDIA:<path>` line sends that workspace file, the rest as its caption.
//!
//! Another chat than the conversation's is a forward: it needs `forward: true` and a
//! `forward_reason` (logged), and only runs acting for a tenant's admins may forward — a
//! user's run cannot make the agent write to people who never spoke to it.

use std::hash::{Hash, Hasher};
use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{TenantId, Tool, ToolContext, ToolDefinition, ToolOutput, Trust};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::workspace::{Access, WorkspaceGuard};

/// Largest file a message sends.
const MAX_FILE_BYTES: u64 = 50 * 1024 * 1024;

/// A file sent with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MessageFile {
    pub path: PathBuf,
    pub file_name: String,
    pub mime_type: String,
}

/// How a message left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Delivery {
    Sent,
    /// Stored in the channel's outbox; it goes out when the platform takes it.
    Queued,
}

/// The running channels, as the tool reaches them.
#[async_trait]
pub trait ChannelSender: Send + Sync {
    /// Posts `text` (and `file`) to `chat_id` of `tenant`'s channel `channel`, once per `key`.
    async fn send(
        &self,
        tenant: TenantId,
        channel: &str,
        chat_id: &str,
        text: &str,
        key: &str,
        file: Option<MessageFile>,
    ) -> Result<Delivery, String>;
}

/// Sends messages to channel chats.
pub struct MessageTool {
    sender: Arc<dyn ChannelSender>,
}

impl MessageTool {
    pub fn new(sender: Arc<dyn ChannelSender>) -> Self {
        Self { sender }
    }
}

#[derive(Deserialize)]
struct Args {
    #[serde(default)]
    action: Option<String>,
    #[serde(default)]
    message: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    forward: bool,
    #[serde(default)]
    forward_reason: Option<String>,
}

#[async_trait]
impl Tool for MessageTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "message".to_owned(),
            description: "Send a message to a messaging channel chat right away (by default \
                          the chat of this conversation). Start the message with a line \
                          MEDIA:<path> to send a workspace file. Sending to another chat is a \
                          forward and needs forward=true and a forward_reason."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "action": {"type": "string", "enum": ["send"]},
                    "message": {"type": "string", "description": "The text (Markdown)"},
                    "channel": {"type": "string", "description": "Channel instance name; default this conversation's"},
                    "target": {"type": "string", "description": "Chat id; default this conversation's"},
                    "forward": {"type": "boolean", "description": "Required for another chat than this conversation's"},
                    "forward_reason": {"type": "string", "description": "Why the message goes to another chat (quote the request)"}
                },
                "required": ["action", "message"]
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let args: Args = match serde_json::from_value(arguments) {
            Ok(args) => args,
            Err(error) => return ToolOutput::error(format!("invalid arguments: {error}")),
        };
        match self.send(ctx, args).await {
            Ok(text) => ToolOutput::ok(text),
            Err(error) => ToolOutput::error(error),
        }
    }
}

impl MessageTool {
    async fn send(&self, ctx: &ToolContext, args: Args) -> Result<String, String> {
        if args.action.as_deref().unwrap_or("send") != "send" {
            return Err("action must be \"send\"".to_owned());
        }
        let here = ctx.session_key.channel_chat();
        let channel = given(args.channel)
            .or_else(|| here.map(|h| h.channel.to_owned()))
            .ok_or("this conversation is not on a messaging channel: name channel and target")?;
        let target = given(args.target)
            .or_else(|| here.map(|h| h.chat_id.to_owned()))
            .ok_or("target is required")?;
        let forwarded = here.is_none_or(|h| h.channel != channel || h.chat_id != target);
        if forwarded {
            let Some(reason) = given(args.forward_reason).filter(|_| args.forward) else {
                return Err(
                    "sending to another chat is a forward: set forward=true and \
                            forward_reason"
                        .to_owned(),
                );
            };
            if ctx.trust != Trust::Admin {
                return Err(
                    "permission denied: only runs for a tenant's admins may send to \
                            another chat"
                        .to_owned(),
                );
            }
            tracing::info!(agent = %ctx.agent_key, run_id = %ctx.run_id, channel, target,
                reason = %reason, "message forwarded to another chat");
        }
        let (text, file) = split_media(ctx, &args.message).await?;
        if text.trim().is_empty() && file.is_none() {
            return Err("message is required".to_owned());
        }
        let key = post_key(ctx, &channel, &target, &args.message);
        let delivery = self
            .sender
            .send(ctx.tenant_id, &channel, &target, &text, &key, file)
            .await?;
        Ok(match delivery {
            Delivery::Sent => format!("Message sent to {channel}:{target}."),
            Delivery::Queued => format!(
                "Message queued for {channel}:{target}; it is sent when the platform takes it."
            ),
        })
    }
}

fn given(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

/// The text of `message` and the file its leading `MEDIA:<path>` line names.
async fn split_media(
    ctx: &ToolContext,
    message: &str,
) -> Result<(String, Option<MessageFile>), String> {
    let trimmed = message.trim_start();
    let Some(rest) = trimmed.strip_prefix("MEDIA:") else {
        return Ok((message.to_owned(), None));
    };
    let (path, caption) = rest.split_once('\n').unwrap_or((rest, ""));
    let path = path.trim().to_owned();
    let ctx = ctx.clone();
    let real = tokio::task::spawn_blocking(move || {
        let guard = WorkspaceGuard::new(&ctx).map_err(|e| e.to_string())?;
        let real = guard
            .resolve(&path, Access::Read)
            .map_err(|e| e.to_string())?;
        let meta = std::fs::metadata(&real).map_err(|_| format!("{path}: no such file"))?;
        if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
            return Err(format!("{path} is not a file of at most 50 MiB"));
        }
        Ok(real)
    })
    .await
    .map_err(|e| format!("tool failed: {e}"))??;
    let file_name = real
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".to_owned());
    let mime_type = goclaw_core::mime_of_name(&file_name).to_owned();
    Ok((
        caption.trim().to_owned(),
        Some(MessageFile {
            path: real,
            file_name,
            mime_type,
        }),
    ))
}

/// One post per run, chat and text: a retried call does not post twice.
fn post_key(ctx: &ToolContext, channel: &str, target: &str, message: &str) -> String {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (channel, target, message).hash(&mut hasher);
    format!("message:{}:{:016x}", ctx.run_id, hasher.finish())
}

#[cfg(test)]
mod tests;
