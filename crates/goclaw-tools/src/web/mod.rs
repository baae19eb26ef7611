//! The web tools: `web_fetch` behind the SSRF guard and the domain policy, and `web_search`
//! over a search API. Everything they return is wrapped as untrusted external content.

pub mod content;
pub mod domain;
pub mod fetch;
pub mod hook_post;
pub mod search;
pub mod ssrf;

#[cfg(test)]
mod tests;

use std::sync::Arc;

use goclaw_config::{Environment, WebFetchConfig};
use goclaw_core::Tool;

pub use fetch::WebFetchTool;
pub use search::WebSearchTool;

/// `web_fetch` with the domain policy of `config`, and `web_search` when `env` configures a
/// search API (see [`WebSearchTool::from_env`]).
pub fn web_tools(config: &WebFetchConfig, env: &Environment) -> Vec<Arc<dyn Tool>> {
    let mut tools: Vec<Arc<dyn Tool>> = vec![Arc::new(WebFetchTool::new(config))];
    if let Some(search) = WebSearchTool::from_env(env) {
        tools.push(Arc::new(search));
    }
    tools
}
