//! Tools that depend on who runs: beside the registry's fixed tools, a run is offered what a
//! [`ToolSource`] gives its agent for its user (the MCP servers granted to that agent). They
//! are asked for once per run, when the run is prepared, and come already guarded and
//! filtered by the tool policy; a registry tool of the same name wins, unless the source
//! says it supersedes that name (its `mcp_tool_search` also knows the run's own MCP tools).

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{Agent, Tool, ToolDefinition};

/// Where a run's per-agent, per-user tools come from.
#[async_trait]
pub trait ToolSource: Send + Sync {
    /// The tools `agent` may use in a run for `user_id`, behind the same guards as the
    /// registry's. A source that cannot reach a backend leaves its tools out.
    async fn tools_for(&self, agent: &Agent, user_id: &str) -> Vec<Arc<dyn Tool>>;

    /// Registry tools this source's tools of the same name replace for the run.
    fn supersedes(&self) -> &[&str] {
        &[]
    }
}

/// A run's own tools by name.
pub(crate) type RunTools = BTreeMap<String, Arc<dyn Tool>>;

/// Adds the source's tools for this run to `definitions` (kept in name order) and returns
/// them by name; names the registry already has are skipped, except those the source
/// supersedes, whose definitions replace the registry's.
pub(crate) async fn gather(
    source: Option<&Arc<dyn ToolSource>>,
    registry: &crate::tools::ToolRegistry,
    agent: &Agent,
    user_id: &str,
    definitions: &mut Vec<ToolDefinition>,
) -> RunTools {
    let Some(source) = source else {
        return RunTools::new();
    };
    let mut tools = RunTools::new();
    for tool in source.tools_for(agent, user_id).await {
        let definition = tool.definition();
        let superseded = source.supersedes().contains(&definition.name.as_str());
        if (registry.get(&definition.name).is_some() && !superseded)
            || tools.contains_key(&definition.name)
        {
            continue;
        }
        tools.insert(definition.name.clone(), tool);
        definitions.retain(|d| d.name != definition.name);
        definitions.push(definition);
    }
    definitions.sort_by(|a, b| a.name.cmp(&b.name));
    tools
}
