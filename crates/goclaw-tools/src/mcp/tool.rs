//! An MCP server's tool as a gateway tool: named `<prefix>__<tool>`, described by the
//! server's description and input schema, and called through the link the call's context
//! picks ([`McpServerLinks::link_for`]: the host, or the agent's sandbox for a stdio server).
//! The result is the text of its content (other content summarized), wrapped as untrusted
//! external content; `isError`, a timeout, a lost connection or a refused sandbox is a tool
//! error.

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use rmcp::model::{CallToolResult, ContentBlock, ResourceContents};
use serde_json::{Value, json};

use super::server::McpServerLinks;
use crate::web::content::{truncate_chars, wrap_untrusted};

/// Most characters of one result the model sees.
pub const MAX_RESULT_CHARS: usize = 50_000;

/// The prefix of a server's tool names: `tool_prefix` when set, else `mcp_` and the server
/// name; either way it starts with `mcp_` (GoClaw's rule). Characters a tool name may not
/// hold become `_`.
pub fn tool_prefix(server: &str, configured: Option<&str>) -> String {
    let base = match configured.map(str::trim).filter(|p| !p.is_empty()) {
        Some(prefix) if prefix.starts_with("mcp_") => prefix.to_owned(),
        Some(prefix) => format!("mcp_{prefix}"),
        None => format!("mcp_{server}"),
    };
    sanitize(&base)
}

/// `name` with every character outside `[A-Za-z0-9_-]` replaced by `_`.
pub fn sanitize(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect::<String>()
        .replace('-', "_")
}

/// One tool of one MCP server.
pub struct McpTool {
    server: Arc<McpServerLinks>,
    /// The tool's own name on its server.
    remote: String,
    definition: ToolDefinition,
}

impl McpTool {
    /// `info` of `server`, registered as `<prefix>__<name>`.
    pub fn new(server: Arc<McpServerLinks>, prefix: &str, info: &rmcp::model::Tool) -> Self {
        let remote = info.name.to_string();
        let mut parameters = Value::Object((*info.input_schema).clone());
        if let Value::Object(schema) = &mut parameters {
            schema
                .entry("type")
                .or_insert_with(|| Value::String("object".into()));
            // Some providers refuse an object schema without `properties`.
            if schema.get("type").and_then(Value::as_str) == Some("object") {
                schema.entry("properties").or_insert_with(|| json!({}));
            }
        }
        let description = info
            .description
            .as_deref()
            .map(str::to_owned)
            .or_else(|| info.title.clone())
            .unwrap_or_else(|| format!("{remote} (MCP server {})", server.name()));
        Self {
            definition: ToolDefinition {
                name: format!("{prefix}__{}", sanitize(&remote)),
                description,
                parameters,
            },
            server,
            remote,
        }
    }

    /// The server the tool belongs to.
    pub fn server(&self) -> &str {
        self.server.name()
    }

    /// Whether its server wants an operator to approve every call.
    pub fn requires_approval(&self) -> bool {
        self.server.requires_approval()
    }
}

#[async_trait]
impl Tool for McpTool {
    fn definition(&self) -> ToolDefinition {
        self.definition.clone()
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let arguments = match arguments {
            Value::Object(map) => map,
            Value::Null => serde_json::Map::new(),
            _ => return ToolOutput::error("arguments must be a JSON object"),
        };
        let link = match self.server.link_for(ctx).await {
            Ok(link) => link,
            Err(refused) => return ToolOutput::error(refused),
        };
        match link.call(&self.remote, arguments).await {
            Err(error) => ToolOutput::error(error.to_string()),
            Ok(result) => render(self.server.name(), &self.remote, &result),
        }
    }
}

/// What the model sees of a tool result.
pub fn render(server: &str, tool: &str, result: &CallToolResult) -> ToolOutput {
    let mut parts: Vec<String> = result.content.iter().map(describe).collect();
    if parts.is_empty()
        && let Some(structured) = &result.structured_content
    {
        parts.push(structured.to_string());
    }
    let text = truncate_chars(&parts.join("\n"), MAX_RESULT_CHARS);
    if result.is_error == Some(true) {
        if text.trim().is_empty() {
            return ToolOutput::error(format!("MCP tool \"{tool}\" failed"));
        }
        return ToolOutput::error(text);
    }
    ToolOutput::ok(wrap_untrusted(&format!("mcp:{server}/{tool}"), &text))
}

/// One content block as text: text as it is, anything else as a short note.
fn describe(block: &ContentBlock) -> String {
    match block {
        ContentBlock::Text(text) => text.text.clone(),
        ContentBlock::Image(image) => format!(
            "[image: {}, {} bytes]",
            image.mime_type,
            base64_len(&image.data)
        ),
        ContentBlock::Audio(audio) => format!(
            "[audio: {}, {} bytes]",
            audio.mime_type,
            base64_len(&audio.data)
        ),
        ContentBlock::Resource(embedded) => match &embedded.resource {
            ResourceContents::TextResourceContents { text, .. } => text.clone(),
            ResourceContents::BlobResourceContents {
                uri,
                mime_type,
                blob,
                ..
            } => format!(
                "[resource {uri}: {}, {} bytes]",
                mime_type.as_deref().unwrap_or("binary"),
                base64_len(blob)
            ),
            _ => "[embedded resource]".to_owned(),
        },
        ContentBlock::ResourceLink(link) => format!("[resource link: {}]", link.uri),
        _ => "[non-text content]".to_owned(),
    }
}

/// Bytes encoded by a base64 string.
fn base64_len(data: &str) -> usize {
    let padding = data.bytes().rev().take_while(|b| *b == b'=').count();
    (data.len() / 4 * 3).saturating_sub(padding)
}
