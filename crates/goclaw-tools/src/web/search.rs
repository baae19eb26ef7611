//! The `web_search` tool over the Brave Search API
//! (`GET {base}/res/v1/web/search?q=…&count=…` with the `X-Subscription-Token` header).
//!
//! The operator configures it with `GOCLAW_BRAVE_API_KEY` and, optionally,
//! `GOCLAW_WEB_SEARCH_BASE_URL` (default `https://api.search.brave.com`); without a key the tool
//! is not offered. Results are wrapped as untrusted content like fetched pages.

use std::time::Duration;

use async_trait::async_trait;
use goclaw_config::Environment;
use goclaw_core::{Tool, ToolContext, ToolDefinition, ToolOutput};
use serde::Deserialize;
use serde_json::{Value, json};

use super::content::wrap_untrusted;

/// The Brave Search API's public base URL.
pub const DEFAULT_BRAVE_BASE_URL: &str = "https://api.search.brave.com";
/// Results returned when the model does not ask for a number.
pub const DEFAULT_COUNT: u64 = 5;
/// Time one search may take.
pub const SEARCH_TIMEOUT: Duration = Duration::from_secs(15);

/// The `web_search` tool.
pub struct WebSearchTool {
    base_url: String,
    api_key: String,
    client: reqwest::Client,
}

impl WebSearchTool {
    /// A client of the Brave Search API at `base_url` (no trailing path) with `api_key`.
    pub fn new(base_url: &str, api_key: &str) -> Result<Self, String> {
        let client = reqwest::Client::builder()
            .timeout(SEARCH_TIMEOUT)
            .build()
            .map_err(|e| format!("cannot build the HTTP client: {e}"))?;
        Ok(Self {
            base_url: base_url.trim_end_matches('/').to_owned(),
            api_key: api_key.to_owned(),
            client,
        })
    }

    /// The tool `GOCLAW_BRAVE_API_KEY` / `GOCLAW_WEB_SEARCH_BASE_URL` describe; `None` without a
    /// key.
    pub fn from_env(env: &Environment) -> Option<Self> {
        let key = env.get("GOCLAW_BRAVE_API_KEY")?;
        let base = env
            .get("GOCLAW_WEB_SEARCH_BASE_URL")
            .unwrap_or(DEFAULT_BRAVE_BASE_URL);
        Self::new(base, key).ok()
    }

    /// Searches for `query` and formats at most `count` results.
    pub async fn search(&self, query: &str, count: u64) -> Result<String, String> {
        let count = count.clamp(1, 20).to_string();
        let response = self
            .client
            .get(format!("{}/res/v1/web/search", self.base_url))
            .query(&[("q", query), ("count", count.as_str())])
            .header("X-Subscription-Token", &self.api_key)
            .header(reqwest::header::ACCEPT, "application/json")
            .send()
            .await
            .map_err(|e| format!("search request failed: {}", e.without_url()))?;
        let status = response.status();
        if !status.is_success() {
            return Err(format!("search API answered {status}"));
        }
        let body: BraveResponse = response
            .json()
            .await
            .map_err(|e| format!("unreadable search answer: {}", e.without_url()))?;
        let results = body.web.map(|w| w.results).unwrap_or_default();
        if results.is_empty() {
            return Ok(format!("No results for {query:?}."));
        }
        let mut out = format!("Results for {query:?}:\n");
        for (i, r) in results.iter().enumerate() {
            out.push_str(&format!(
                "\n{}. {}\n   {}\n   {}\n",
                i + 1,
                r.title,
                r.url,
                r.description.replace('\n', " ")
            ));
        }
        Ok(wrap_untrusted("web_search", &out))
    }
}

#[derive(Deserialize)]
struct BraveResponse {
    web: Option<BraveWeb>,
}

#[derive(Deserialize)]
struct BraveWeb {
    #[serde(default)]
    results: Vec<BraveResult>,
}

#[derive(Deserialize)]
struct BraveResult {
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    description: String,
}

#[async_trait]
impl Tool for WebSearchTool {
    fn definition(&self) -> ToolDefinition {
        ToolDefinition {
            name: "web_search".to_owned(),
            description: "Search the web; returns titles, URLs and snippets.".to_owned(),
            parameters: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What to search for."},
                    "count": {"type": "integer", "minimum": 1, "maximum": 20,
                              "description": "Number of results (default 5)."}
                },
                "required": ["query"]
            }),
        }
    }

    async fn call(&self, _ctx: &ToolContext, arguments: Value) -> ToolOutput {
        let Some(query) = arguments
            .get("query")
            .and_then(Value::as_str)
            .filter(|q| !q.trim().is_empty())
        else {
            return ToolOutput::error("missing required argument `query`");
        };
        let count = arguments
            .get("count")
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_COUNT);
        match self.search(query, count).await {
            Ok(text) => ToolOutput::ok(text),
            Err(e) => ToolOutput::error(format!("web_search failed: {e}")),
        }
    }
}
