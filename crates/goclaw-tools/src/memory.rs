//! The memory tools: `memory_search` (GoClaw's parameters: `query`, `maxResults`, `minScore`,
//! plus our `pathPrefix`, `vectorWeight` and `textWeight`) ranks the memory the caller may see — the user's own documents of this
//! agent and the agent's shared ones — and `memory_get` (`path`, `from`, `lines`) reads one of
//! them, the user's own copy before the shared one. With episodic memory, `memory_search`
//! also returns the user's matching episodes (GoClaw's `episodic` results: id, abstract,
//! score, date, session), which `memory_expand` (`memory_expand.rs`) opens. Nothing here
//! reaches another user's, agent's or tenant's memory: the scope comes from the tool context,
//! never from arguments.
//!
//! A search ranks as `agents.defaults.memory` says (the index's ranking), then as the agent's
//! own `memory_config` says, then as the call asks: GoClaw's `maxResults`/`minScore`, and the
//! weights of vector and text hits, which GoClaw's tool does not take.

use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{
    EpisodicScope, MemoryScope, Store, Tool, ToolContext, ToolDefinition, ToolOutput,
};
use goclaw_memory::episodic::{EpisodicRecall, EpisodicSearchOptions};
use goclaw_memory::index::{MemoryIndex, SearchOptions};
use goclaw_memory::rank::{RankOptions, Weights};
use serde_json::{Value, json};

/// Most results one search returns.
const MAX_RESULTS: u64 = 50;
/// Most lines one `memory_get` returns.
const MAX_LINES: u64 = 2000;

/// `memory_search` and `memory_get` over `index`.
pub fn memory_tools(store: Arc<dyn Store>, index: MemoryIndex) -> Vec<Arc<dyn Tool>> {
    memory_tools_with_episodes(store, index, None)
}

/// `memory_search` and `memory_get` over `index`, and with `episodes` also `memory_expand`,
/// `memory_search` then searching the user's episodes too.
pub fn memory_tools_with_episodes(
    store: Arc<dyn Store>,
    index: MemoryIndex,
    episodes: Option<EpisodicRecall>,
) -> Vec<Arc<dyn Tool>> {
    let mut tools: Vec<Arc<dyn Tool>> = vec![
        Arc::new(MemorySearch {
            store: store.clone(),
            index,
            episodes: episodes.clone(),
        }),
        Arc::new(MemoryGet {
            store: store.clone(),
        }),
    ];
    if episodes.is_some() {
        tools.push(Arc::new(crate::memory_expand::MemoryExpand::new(store)));
    }
    tools
}

/// The caller's memory: this agent, this user (and through it the shared memory).
pub(crate) async fn caller_scope(
    store: &dyn Store,
    ctx: &ToolContext,
) -> Result<MemoryScope, String> {
    let agent = crate::sessions::caller_agent(store, ctx).await?;
    Ok(MemoryScope::user(ctx.tenant_id, agent.id, &ctx.user_id))
}

fn output(value: Result<Value, String>) -> ToolOutput {
    match value {
        Ok(v) => ToolOutput::ok(serde_json::to_string_pretty(&v).unwrap_or_default()),
        Err(e) => ToolOutput::error(e),
    }
}

struct MemorySearch {
    store: Arc<dyn Store>,
    index: MemoryIndex,
    episodes: Option<EpisodicRecall>,
}

#[async_trait]
impl Tool for MemorySearch {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "memory_search".to_owned(),
            description: if self.episodes.is_some() {
                "Search your long-term memory (MEMORY.md and memory/*.md) and your summaries \
                 of earlier conversations with this user; best matches first. Open a \
                 conversation summary with memory_expand."
            } else {
                "Search your long-term memory (MEMORY.md and memory/*.md) for facts about \
                 this user and shared knowledge; best matches first."
            }
            .to_owned(),
            parameters: json!({"type": "object", "required": ["query"], "properties": {
                "query": {"type": "string", "description": "What to look for."},
                "maxResults": {"type": "integer", "minimum": 1, "maximum": MAX_RESULTS,
                               "description": "At most this many results (default 6)."},
                "minScore": {"type": "number", "minimum": 0,
                             "description": "Drop results scoring below this."},
                "vectorWeight": {"type": "number", "minimum": 0,
                                 "description": "Weight of meaning matches for this search \
                                                 (default: the agent's memory settings, 0.7)."},
                "textWeight": {"type": "number", "minimum": 0,
                               "description": "Weight of word matches for this search \
                                               (default: the agent's memory settings, 0.3)."},
                "pathPrefix": {"type": "string",
                               "description": "Only documents whose path starts with this."}
            }}),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let run = async {
            let query = arguments
                .get("query")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|q| !q.is_empty())
                .ok_or("query is required")?;
            let agent = crate::sessions::caller_agent(self.store.as_ref(), ctx).await?;
            let scope = MemoryScope::user(ctx.tenant_id, agent.id, &ctx.user_id);
            let defaults = self.index.ranking_for(&agent);
            let max_results = arguments
                .get("maxResults")
                .and_then(Value::as_u64)
                .map_or(defaults.max_results, |n| {
                    usize::try_from(n.clamp(1, MAX_RESULTS)).unwrap_or(defaults.max_results)
                });
            let number = |key: &str| {
                arguments
                    .get(key)
                    .and_then(Value::as_f64)
                    .filter(|n| n.is_finite() && *n >= 0.0)
            };
            let min_score = number("minScore").unwrap_or(defaults.min_score);
            let weights = Weights {
                vector: number("vectorWeight").unwrap_or(defaults.weights.vector),
                text: number("textWeight").unwrap_or(defaults.weights.text),
            };
            let options = SearchOptions {
                rank: RankOptions {
                    max_results,
                    min_score,
                    weights,
                    ..defaults
                },
                path_prefix: arguments
                    .get("pathPrefix")
                    .and_then(Value::as_str)
                    .filter(|p| !p.is_empty())
                    .map(str::to_owned),
            };
            let found = self
                .index
                .search(&scope, query, &options)
                .await
                .map_err(|e| format!("memory search failed: {e}"))?;
            let results: Vec<Value> = found
                .iter()
                .map(|r| {
                    json!({
                        "path": r.path,
                        "startLine": r.start_line,
                        "endLine": r.end_line,
                        "score": (r.score * 1000.0).round() / 1000.0,
                        "snippet": r.text,
                    })
                })
                .collect();
            let Some(episodes) = &self.episodes else {
                return Ok(json!({ "results": results }));
            };
            let scope = EpisodicScope::new(scope.tenant, scope.agent, ctx.user_id.as_str());
            let options = EpisodicSearchOptions {
                max_results,
                min_score,
            };
            let found = episodes
                .search(&scope, query, options)
                .await
                .map_err(|e| format!("episodic memory search failed: {e}"))?;
            let episodic: Vec<Value> = found
                .iter()
                .map(|hit| {
                    json!({
                        "episodic_id": hit.episode.id,
                        "l0_abstract": hit.episode.l0_abstract,
                        "score": (hit.score * 1000.0).round() / 1000.0,
                        "created_at": hit.episode.created_at,
                        "session_key": hit.episode.session_key,
                    })
                })
                .collect();
            Ok(json!({ "results": results, "episodic": episodic }))
        };
        output(run.await)
    }
}

struct MemoryGet {
    store: Arc<dyn Store>,
}

#[async_trait]
impl Tool for MemoryGet {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "memory_get".to_owned(),
            description: "Read a memory document (MEMORY.md or memory/*.md), whole or some \
                          of its lines."
                .to_owned(),
            parameters: json!({"type": "object", "required": ["path"], "properties": {
                "path": {"type": "string"},
                "from": {"type": "integer", "minimum": 1,
                         "description": "First line to read (default 1)."},
                "lines": {"type": "integer", "minimum": 1, "maximum": MAX_LINES,
                          "description": "How many lines (default: to the end)."}
            }}),
        }
    }

    async fn call(&self, ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let run = async {
            let path = arguments
                .get("path")
                .and_then(Value::as_str)
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .ok_or("path is required")?;
            let scope = caller_scope(self.store.as_ref(), ctx).await?;
            let memory = self.store.memory();
            let shared = MemoryScope::shared(scope.tenant, scope.agent);
            let document = match memory.get_document(&scope, path).await {
                Ok(Some(document)) => document,
                Ok(None) => memory
                    .get_document(&shared, path)
                    .await
                    .map_err(|e| format!("memory read failed: {e}"))?
                    .ok_or_else(|| format!("no memory document {path}"))?,
                Err(e) => return Err(format!("memory read failed: {e}")),
            };
            let from = arguments
                .get("from")
                .and_then(Value::as_u64)
                .unwrap_or(1)
                .max(1);
            let lines = arguments
                .get("lines")
                .and_then(Value::as_u64)
                .unwrap_or(MAX_LINES)
                .clamp(1, MAX_LINES);
            let skip = usize::try_from(from - 1).unwrap_or(usize::MAX);
            let take = usize::try_from(lines).unwrap_or(usize::MAX);
            let text: Vec<&str> = document.content.lines().skip(skip).take(take).collect();
            Ok(json!({
                "path": document.path,
                "from": from,
                "lines": text.len(),
                "text": text.join("\n"),
            }))
        };
        output(run.await)
    }
}
