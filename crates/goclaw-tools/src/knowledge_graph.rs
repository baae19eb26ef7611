//! `knowledge_graph_search` (GoClaw's parameters: `query`, `entity_type`, `entity_id`,
//! `max_depth` 2 up to 5, `as_of` RFC 3339): what the caller's knowledge graph with this agent
//! holds around the entities the query names — at most 20 entities with how they were reached,
//! and up to 10 relations of the ones found first. The graph is the caller's own (this agent,
//! this user), chosen by the tool context, never by arguments.

use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{GraphScope, Store, Tool, ToolContext, ToolDefinition, ToolOutput};
use goclaw_memory::graph::{DEFAULT_DEPTH, GraphSearch, MAX_DEPTH};
use serde_json::{Value, json};
use uuid::Uuid;

/// `knowledge_graph_search` over `store`.
pub fn knowledge_graph_tools(store: Arc<dyn Store>) -> Vec<Arc<dyn Tool>> {
    vec![Arc::new(KnowledgeGraphSearch {
        search: GraphSearch::new(store.clone()),
        store,
    })]
}

struct KnowledgeGraphSearch {
    store: Arc<dyn Store>,
    search: GraphSearch,
}

impl KnowledgeGraphSearch {
    async fn run(&self, ctx: &ToolContext, arguments: &Value) -> Result<Value, String> {
        let text = |key: &str| {
            arguments
                .get(key)
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|s| !s.is_empty())
        };
        let query = text("query").ok_or("query is required")?;
        let entity = match text("entity_id") {
            Some(raw) => {
                Some(Uuid::parse_str(raw).map_err(|_| format!("entity_id {raw} is not an id"))?)
            }
            None => None,
        };
        let max_depth = match arguments.get("max_depth").map(Value::as_u64) {
            None => None,
            Some(Some(depth)) if (1..=u64::from(MAX_DEPTH)).contains(&depth) => {
                u32::try_from(depth).ok()
            }
            Some(_) => return Err(format!("max_depth must be from 1 to {MAX_DEPTH}")),
        };
        let as_of = match text("as_of") {
            Some(raw) => DateTime::parse_from_rfc3339(raw)
                .map_err(|_| format!("as_of {raw} is not an RFC 3339 time"))?
                .with_timezone(&Utc),
            None => Utc::now(),
        };
        let agent = crate::sessions::caller_agent(self.store.as_ref(), ctx).await?;
        let scope = GraphScope::new(ctx.tenant_id, agent.id, ctx.user_id.as_str());
        let found = self
            .search
            .search(&scope, query, entity, text("entity_type"), max_depth, as_of)
            .await
            .map_err(|e| format!("knowledge graph search failed: {e}"))?;
        let name_of = |id: Uuid| {
            found
                .hits
                .iter()
                .find(|h| h.entity.id == id)
                .map(|h| h.entity.name.clone())
        };
        let entities: Vec<Value> = found
            .hits
            .iter()
            .map(|hit| {
                json!({
                    "id": hit.entity.id,
                    "name": hit.entity.name,
                    "entity_type": hit.entity.entity_type,
                    "description": hit.entity.description,
                    "depth": hit.depth,
                    "path": hit.path,
                    "via": hit.via,
                })
            })
            .collect();
        let relations: Vec<Value> = found
            .relations
            .iter()
            .map(|r| {
                json!({
                    "source": name_of(r.source_entity_id).unwrap_or_else(|| r.source_entity_id.to_string()),
                    "relation_type": r.relation_type,
                    "target": name_of(r.target_entity_id).unwrap_or_else(|| r.target_entity_id.to_string()),
                    "confidence": r.confidence,
                    "valid_from": r.valid_from,
                    "valid_until": r.valid_until,
                })
            })
            .collect();
        Ok(json!({ "entities": entities, "relations": relations }))
    }
}

#[async_trait]
impl Tool for KnowledgeGraphSearch {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "knowledge_graph_search".to_owned(),
            description: "Search the knowledge graph of people, places, projects and facts \
                          learnt from your earlier conversations with this user, following \
                          relations from the entities the query names."
                .to_owned(),
            parameters: json!({"type": "object", "required": ["query"], "properties": {
                "query": {"type": "string", "description": "A name or words to look for."},
                "entity_type": {"type": "string",
                                "description": "Only start from entities of this type."},
                "entity_id": {"type": "string", "description": "Start from this entity."},
                "max_depth": {"type": "integer", "minimum": 1, "maximum": MAX_DEPTH,
                              "description": format!("Relations to follow (default {DEFAULT_DEPTH}).")},
                "as_of": {"type": "string",
                          "description": "What was true at this RFC 3339 time (default now)."}
            }}),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        match self.run(ctx, &arguments).await {
            Ok(value) => ToolOutput::ok(serde_json::to_string_pretty(&value).unwrap_or_default()),
            Err(error) => ToolOutput::error(error),
        }
    }
}
