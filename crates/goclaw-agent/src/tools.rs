//! The tools a runtime offers its agents: a registry keyed by name whose definitions are
//! listed in name order (so the prompt, and the provider's prompt cache, stay stable), and the
//! built-in tools that need nothing but the runtime itself.

use std::collections::BTreeMap;
use std::sync::Arc;

use goclaw_core::{Tool, ToolDefinition};

use crate::datetime::DateTimeTool;

/// Tools by name.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Arc<dyn Tool>>,
}

impl std::fmt::Debug for ToolRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.tools.keys()).finish()
    }
}

impl ToolRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry with the built-in tools (`datetime`).
    pub fn with_builtins() -> Self {
        let mut registry = Self::new();
        registry.register(Arc::new(DateTimeTool));
        registry
    }

    /// Adds a tool under the name its definition gives, replacing (and returning) a tool
    /// registered under that name before.
    pub fn register(&mut self, tool: Arc<dyn Tool>) -> Option<Arc<dyn Tool>> {
        let name = tool.definition().name;
        self.tools.insert(name, tool)
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.get(name).cloned()
    }

    /// Definitions of every tool, sorted by name.
    pub fn definitions(&self) -> Vec<ToolDefinition> {
        self.tools.values().map(|tool| tool.definition()).collect()
    }

    /// Tool names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.tools.keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.tools.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tools.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use async_trait::async_trait;
    use goclaw_core::{ToolContext, ToolOutput};

    use super::*;

    struct Named(&'static str);

    #[async_trait]
    impl Tool for Named {
        fn definition(&self) -> ToolDefinition {
            ToolDefinition {
                name: self.0.to_owned(),
                description: String::new(),
                parameters: serde_json::json!({"type": "object"}),
            }
        }

        async fn call(&self, _ctx: &ToolContext, _arguments: serde_json::Value) -> ToolOutput {
            ToolOutput::ok(self.0)
        }
    }

    #[test]
    fn definitions_are_sorted_by_name() {
        let mut registry = ToolRegistry::with_builtins();
        registry.register(Arc::new(Named("zeta")));
        registry.register(Arc::new(Named("alpha")));
        let names: Vec<_> = registry.definitions().into_iter().map(|d| d.name).collect();
        assert_eq!(names, ["alpha", "datetime", "zeta"]);
        assert!(registry.get("alpha").is_some());
        assert!(registry.get("missing").is_none());
        assert!(registry.register(Arc::new(Named("alpha"))).is_some());
        assert_eq!(registry.len(), 3);
    }
}
