//! `mcp_tool_search`: finds the connected MCP servers' tools by the words of a query in
//! their names and descriptions, and answers their names and descriptions so the model can
//! call them.

use async_trait::async_trait;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde_json::{Value, json};

/// Results when `max_results` is not given.
pub const DEFAULT_RESULTS: usize = 10;
/// The most results one search answers.
pub const MAX_RESULTS: usize = 50;

/// A searchable entry: a registered tool name and its description.
#[derive(Debug, Clone)]
pub struct ToolEntry {
    pub name: String,
    pub description: String,
}

impl ToolEntry {
    /// The entry of `tool`, from its definition.
    pub fn of(tool: &dyn Tool) -> Self {
        let definition = tool.definition();
        Self {
            name: definition.name,
            description: definition.description,
        }
    }
}

/// The `mcp_tool_search` tool over a fixed list of MCP tools.
pub struct McpToolSearch {
    entries: Vec<ToolEntry>,
}

impl McpToolSearch {
    /// Searches `entries`.
    pub fn new(entries: Vec<ToolEntry>) -> Self {
        Self { entries }
    }

    /// The entries matching `query`, best first: an entry scores one point per query word in
    /// its name or description (case-insensitive), ties broken by name.
    pub fn search(&self, query: &str, max_results: usize) -> Vec<&ToolEntry> {
        let words = words(query);
        let mut scored: Vec<(usize, &ToolEntry)> = self
            .entries
            .iter()
            .filter_map(|entry| {
                let haystack = format!("{} {}", entry.name, entry.description).to_lowercase();
                let score = words
                    .iter()
                    .filter(|w| haystack.contains(w.as_str()))
                    .count();
                (score > 0).then_some((score, entry))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.name.cmp(&b.1.name)));
        scored
            .into_iter()
            .take(max_results)
            .map(|(_, e)| e)
            .collect()
    }
}

/// The lower-cased runs of letters and digits of `text`; `*` or `all` alone matches every
/// tool through the empty word.
fn words(text: &str) -> Vec<String> {
    let trimmed = text.trim();
    if trimmed == "*" || trimmed.eq_ignore_ascii_case("all") {
        return vec![String::new()];
    }
    let mut words: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect();
    words.sort();
    words.dedup();
    words
}

#[async_trait]
impl Tool for McpToolSearch {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "mcp_tool_search".into(),
            description: "Search the tools of the connected MCP servers by keywords in their \
                          names and descriptions; answers the matching tool names (call them \
                          directly) with their descriptions. Use `all` to list every one."
                .into(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "query": { "type": "string", "description": "Keywords describing the capability" },
                    "max_results": { "type": "integer", "description": "Most tools to answer (default 10, at most 50)" }
                },
                "required": ["query"]
            }),
        }
    }

    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let Some(query) = arguments.get("query").and_then(Value::as_str) else {
            return ToolOutput::error("query is required");
        };
        let max_results = arguments
            .get("max_results")
            .and_then(Value::as_u64)
            .map_or(DEFAULT_RESULTS, |n| (n as usize).clamp(1, MAX_RESULTS));
        let found = self.search(query, max_results);
        if found.is_empty() {
            return ToolOutput::ok(format!("No MCP tool matches \"{query}\"."));
        }
        let tools: Vec<Value> = found
            .iter()
            .map(|e| json!({ "name": e.name, "description": e.description }))
            .collect();
        ToolOutput::ok(json!({ "tools": tools }).to_string())
    }
}
