//! The `read_image` tool: a picture of the workspace (an upload under `media/`, a chart a
//! script drew) described by the agent's own model — the image and the question go to the
//! agent's provider in a call of their own, and its answer is the tool's result. The path goes
//! through the workspace guard; the file must be a PNG, JPEG, GIF or WebP picture (by its
//! bytes) of at most 5 MiB.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use base64::Engine;
use goclaw_config::AgentDefaults;
use goclaw_core::{
    AgentKey, ChatMessage, ChatRequest, ChatRole, ContentPart, MAX_IMAGE_BYTES, Store, Tool,
    ToolContext, ToolDefinition, ToolOutput,
};
use goclaw_tools::workspace::{Access, WorkspaceGuard};
use serde_json::{Value, json};

use crate::RetryPolicy;
use crate::model::{ProviderLookup, call_model, resolve_candidates};

/// Longest wait for the description.
const DESCRIBE_TIMEOUT: Duration = Duration::from_secs(120);
/// Most tokens of a description.
const DESCRIPTION_TOKENS: u32 = 1024;

/// Describes pictures with the agent's model.
pub struct ReadImageTool {
    store: Arc<dyn Store>,
    providers: Arc<dyn ProviderLookup>,
    defaults: AgentDefaults,
}

impl ReadImageTool {
    pub fn new(
        store: Arc<dyn Store>,
        providers: Arc<dyn ProviderLookup>,
        defaults: AgentDefaults,
    ) -> Self {
        Self {
            store,
            providers,
            defaults,
        }
    }
}

#[async_trait]
impl Tool for ReadImageTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "read_image".to_owned(),
            description: "Look at a picture in your workspace (PNG, JPEG, GIF or WebP) and \
                          answer a question about it."
                .to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "path": {"type": "string", "description": "The picture (relative to the workspace), e.g. media/photo.jpg"},
                    "prompt": {"type": "string", "description": "What to find out; default: describe it"}
                },
                "required": ["path"]
            }),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let Some(path) = arguments.get("path").and_then(Value::as_str) else {
            return ToolOutput::error("path is required");
        };
        let prompt = arguments
            .get("prompt")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let image = match picture(ctx, path.to_owned()).await {
            Ok(image) => image,
            Err(error) => return ToolOutput::error(error),
        };
        let prompt = prompt
            .filter(|p| !p.trim().is_empty())
            .unwrap_or_else(|| "Describe this picture in detail.".to_owned());
        match self.describe(ctx, prompt, image).await {
            Ok(text) if !text.trim().is_empty() => ToolOutput::ok(text),
            Ok(_) => ToolOutput::error("the model said nothing about the picture"),
            Err(error) => ToolOutput::error(error),
        }
    }
}

impl ReadImageTool {
    async fn describe(
        &self,
        ctx: &ToolContext,
        prompt: String,
        image: ContentPart,
    ) -> Result<String, String> {
        let key = AgentKey::parse(&ctx.agent_key).map_err(|e| e.to_string())?;
        let agent = self
            .store
            .agents()
            .get_by_key(ctx.tenant_id, &key)
            .await
            .map_err(|e| format!("cannot load the agent: {e}"))?;
        let candidates = resolve_candidates(&agent, None, &self.defaults, self.providers.as_ref())
            .map_err(|e| e.to_string())?;
        let model = candidates
            .first()
            .map(|c| c.model.clone())
            .unwrap_or_default();
        let request = ChatRequest {
            model,
            system: Vec::new(),
            messages: vec![ChatMessage {
                role: ChatRole::User,
                parts: vec![ContentPart::Text { text: prompt }, image],
            }],
            tools: Vec::new(),
            max_tokens: DESCRIPTION_TOKENS,
            temperature: None,
            thinking_budget: None,
        };
        let mut ignore = |_| {};
        let retry = RetryPolicy::default();
        let call = call_model(&candidates, &request, &mut ignore, &retry);
        match tokio::time::timeout(DESCRIBE_TIMEOUT, call).await {
            Ok(Ok(response)) => Ok(response.text()),
            Ok(Err(error)) => Err(format!("the model could not look at the picture: {error}")),
            Err(_) => Err("the model took too long to look at the picture".to_owned()),
        }
    }
}

/// The picture at `path` in the workspace, as an image part.
async fn picture(ctx: &ToolContext, path: String) -> Result<ContentPart, String> {
    let ctx = ctx.clone();
    tokio::task::spawn_blocking(move || {
        let guard = WorkspaceGuard::new(&ctx).map_err(|e| e.to_string())?;
        let real = guard
            .resolve(&path, Access::Read)
            .map_err(|e| e.to_string())?;
        let meta = std::fs::metadata(&real).map_err(|_| format!("{path}: no such file"))?;
        if !meta.is_file() {
            return Err(format!("{path} is not a file"));
        }
        if meta.len() > MAX_IMAGE_BYTES {
            return Err(format!("{path} is larger than 5 MiB"));
        }
        let bytes = std::fs::read(&real).map_err(|e| format!("cannot read {path}: {e}"))?;
        let mime_type = goclaw_core::image_type_of(&bytes)
            .ok_or_else(|| format!("{path} is not a PNG, JPEG, GIF or WebP picture"))?;
        Ok(ContentPart::Image {
            mime_type: mime_type.to_owned(),
            data: base64::engine::general_purpose::STANDARD.encode(&bytes),
        })
    })
    .await
    .map_err(|e| format!("tool failed: {e}"))?
}
