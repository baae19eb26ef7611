//! The tools a runtime offers its agents: a registry keyed by name whose definitions are
//! listed in name order (so the prompt, and the provider's prompt cache, stay stable), and the
//! built-in tools that need nothing but the runtime itself. A tool's definition is read once,
//! when it is registered (or wrapped): every run offers it, and building its JSON schema anew
//! each time was a measurable part of a turn.

use std::collections::BTreeMap;
use std::sync::Arc;

use goclaw_core::{Agent, Tool, ToolDefinition};

use crate::datetime::DateTimeTool;

/// Whether an agent may see and call a tool (by its registered name): the tool policy.
pub type ToolFilter = Arc<dyn Fn(&Agent, &str) -> bool + Send + Sync>;

/// A registered tool and its definition.
#[derive(Clone)]
struct Registered {
    tool: Arc<dyn Tool>,
    definition: ToolDefinition,
}

impl Registered {
    fn new(tool: Arc<dyn Tool>) -> Self {
        let definition = tool.definition();
        Self { tool, definition }
    }
}

/// Tools by name.
#[derive(Clone, Default)]
pub struct ToolRegistry {
    tools: BTreeMap<String, Registered>,
    /// Other names tools answer to; never offered to the model.
    aliases: BTreeMap<String, String>,
    filter: Option<ToolFilter>,
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
        let registered = Registered::new(tool);
        self.tools
            .insert(registered.definition.name.clone(), registered)
            .map(|replaced| replaced.tool)
    }

    /// The tool called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Tool>> {
        self.tools.get(name).map(|r| r.tool.clone())
    }

    /// Lets `alias` call the tool registered as `tool`.
    pub fn register_alias(&mut self, alias: &str, tool: &str) {
        self.aliases.insert(alias.to_owned(), tool.to_owned());
    }

    /// Restricts what each agent sees and may call to the tools `filter` allows.
    pub fn set_filter(&mut self, filter: ToolFilter) {
        self.filter = Some(filter);
    }

    /// Replaces every registered tool with `wrap(tool)` (e.g. to put guards around them).
    pub fn wrap_all(&mut self, wrap: impl Fn(Arc<dyn Tool>) -> Arc<dyn Tool>) {
        for registered in self.tools.values_mut() {
            *registered = Registered::new(wrap(registered.tool.clone()));
        }
    }

    fn allows(&self, agent: &Agent, name: &str) -> bool {
        self.filter
            .as_ref()
            .is_none_or(|filter| filter(agent, name))
    }

    /// The registered name `name` stands for: the tool an alias calls, else `name` itself.
    pub fn canonical<'a>(&'a self, name: &'a str) -> &'a str {
        self.aliases.get(name).map_or(name, String::as_str)
    }

    /// The tool `agent` calls `name` (directly or by an alias), if it may use it.
    pub fn get_for(&self, agent: &Agent, name: &str) -> Option<Arc<dyn Tool>> {
        let name = self.canonical(name);
        if !self.allows(agent, name) {
            return None;
        }
        self.get(name)
    }

    /// Definitions of the tools `agent` may use, sorted by name.
    pub fn definitions_for(&self, agent: &Agent) -> Vec<ToolDefinition> {
        self.tools
            .iter()
            .filter(|(name, _)| self.allows(agent, name))
            .map(|(_, registered)| registered.definition.clone())
            .collect()
    }

    /// Definitions of every tool, sorted by name.
    pub fn definitions(&self) -> Vec<ToolDefinition> {
        self.tools
            .values()
            .map(|registered| registered.definition.clone())
            .collect()
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

    #[test]
    fn the_filter_hides_tools_and_aliases_resolve() {
        let mut registry = ToolRegistry::with_builtins();
        registry.register(Arc::new(Named("alpha")));
        registry.register(Arc::new(Named("secret")));
        registry.register_alias("Alpha", "alpha");
        registry.register_alias("Secret", "secret");
        registry.set_filter(Arc::new(|_agent: &Agent, name: &str| name != "secret"));
        let agent = crate::settings::tests::agent(0, 0, serde_json::json!({}));
        let names: Vec<_> = registry
            .definitions_for(&agent)
            .into_iter()
            .map(|d| d.name)
            .collect();
        assert_eq!(names, ["alpha", "datetime"]);
        assert!(registry.get_for(&agent, "Alpha").is_some());
        assert!(registry.get_for(&agent, "secret").is_none());
        assert!(registry.get_for(&agent, "Secret").is_none());
        assert!(registry.get_for(&agent, "missing").is_none());
    }
}
