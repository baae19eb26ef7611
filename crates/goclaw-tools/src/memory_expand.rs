//! `memory_expand` (GoClaw's tool of that name): the full summary of one episode — an earlier
//! conversation of this user with this agent — by the id `memory_search` or the prompt's
//! memory section gave. Another user's, agent's or tenant's episode reads as not found.

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{Store, Tool, ToolContext, ToolDefinition, ToolOutput};
use serde_json::{Value, json};
use uuid::Uuid;

pub(crate) struct MemoryExpand {
    store: Arc<dyn Store>,
}

impl MemoryExpand {
    pub(crate) fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    async fn expand(&self, ctx: &ToolContext, arguments: &Value) -> Result<Value, String> {
        let id = arguments
            .get("id")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|id| !id.is_empty())
            .ok_or("id is required")?;
        let not_found = || format!("no episode {id}");
        let id: Uuid = id.parse().map_err(|_| not_found())?;
        let agent = crate::sessions::caller_agent(self.store.as_ref(), ctx).await?;
        let episode = self
            .store
            .episodic()
            .get_episode(ctx.tenant_id, id)
            .await
            .map_err(|e| format!("memory read failed: {e}"))?
            .filter(|e| e.agent_id == agent.id && e.user_id == ctx.user_id)
            .ok_or_else(not_found)?;
        Ok(json!({
            "id": episode.id,
            "session_key": episode.session_key,
            "created_at": episode.created_at,
            "l0_abstract": episode.l0_abstract,
            "key_topics": episode.key_topics,
            "summary": episode.summary,
        }))
    }
}

#[async_trait]
impl Tool for MemoryExpand {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "memory_expand".to_owned(),
            description: "Read the full summary of an earlier conversation with this user, by \
                          the id memory_search or your memory notes gave."
                .to_owned(),
            parameters: json!({"type": "object", "required": ["id"], "properties": {
                "id": {"type": "string", "description": "The episode's id."}
            }}),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        match self.expand(ctx, &arguments).await {
            Ok(value) => ToolOutput::ok(serde_json::to_string_pretty(&value).unwrap_or_default()),
            Err(error) => ToolOutput::error(error),
        }
    }
}
