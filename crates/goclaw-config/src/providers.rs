//! The `providers` section: credentials and endpoints of the LLM providers.
//! Providers stored in the database override these.
#![forbid(unsafe_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::Secret;

/// LLM provider settings. Prefer the `GOCLAW_<NAME>_API_KEY` variables over
/// writing keys here.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ProvidersConfig {
    /// Anthropic (Claude).
    pub anthropic: ApiProviderConfig,
    /// OpenAI.
    pub openai: ApiProviderConfig,
    /// OpenRouter.
    pub openrouter: ApiProviderConfig,
    /// Groq.
    pub groq: ApiProviderConfig,
    /// Google Gemini.
    pub gemini: ApiProviderConfig,
    /// DeepSeek.
    pub deepseek: ApiProviderConfig,
    /// Mistral.
    pub mistral: ApiProviderConfig,
    /// xAI (Grok).
    pub xai: ApiProviderConfig,
    /// MiniMax.
    pub minimax: ApiProviderConfig,
    /// Cohere.
    pub cohere: ApiProviderConfig,
    /// Perplexity.
    pub perplexity: ApiProviderConfig,
    /// Alibaba DashScope.
    pub dashscope: ApiProviderConfig,
    /// Alibaba Bailian.
    pub bailian: ApiProviderConfig,
    /// Z.ai.
    pub zai: ApiProviderConfig,
    /// Z.ai coding plan.
    pub zai_coding: ApiProviderConfig,
    /// Ollama Cloud.
    pub ollama_cloud: ApiProviderConfig,
    /// Novita.
    pub novita: ApiProviderConfig,
    /// BytePlus.
    pub byteplus: ApiProviderConfig,
    /// BytePlus coding plan.
    pub byteplus_coding: ApiProviderConfig,
    /// Local Ollama server.
    pub ollama: OllamaConfig,
    /// Claude Code CLI used as a provider.
    pub claude_cli: ClaudeCliConfig,
    /// An Agent Client Protocol binary used as a provider.
    pub acp: AcpConfig,
    /// Google Vertex AI.
    pub vertex: VertexConfig,
}

impl ProvidersConfig {
    /// The key/base-URL providers with their config names, in a fixed order.
    pub fn api_providers(&self) -> [(&'static str, &ApiProviderConfig); 19] {
        [
            ("anthropic", &self.anthropic),
            ("openai", &self.openai),
            ("openrouter", &self.openrouter),
            ("groq", &self.groq),
            ("gemini", &self.gemini),
            ("deepseek", &self.deepseek),
            ("mistral", &self.mistral),
            ("xai", &self.xai),
            ("minimax", &self.minimax),
            ("cohere", &self.cohere),
            ("perplexity", &self.perplexity),
            ("dashscope", &self.dashscope),
            ("bailian", &self.bailian),
            ("zai", &self.zai),
            ("zai_coding", &self.zai_coding),
            ("ollama_cloud", &self.ollama_cloud),
            ("novita", &self.novita),
            ("byteplus", &self.byteplus),
            ("byteplus_coding", &self.byteplus_coding),
        ]
    }

    /// Mutable access to a key/base-URL provider by config name.
    pub fn api_provider_mut(&mut self, name: &str) -> Option<&mut ApiProviderConfig> {
        Some(match name {
            "anthropic" => &mut self.anthropic,
            "openai" => &mut self.openai,
            "openrouter" => &mut self.openrouter,
            "groq" => &mut self.groq,
            "gemini" => &mut self.gemini,
            "deepseek" => &mut self.deepseek,
            "mistral" => &mut self.mistral,
            "xai" => &mut self.xai,
            "minimax" => &mut self.minimax,
            "cohere" => &mut self.cohere,
            "perplexity" => &mut self.perplexity,
            "dashscope" => &mut self.dashscope,
            "bailian" => &mut self.bailian,
            "zai" => &mut self.zai,
            "zai_coding" => &mut self.zai_coding,
            "ollama_cloud" => &mut self.ollama_cloud,
            "novita" => &mut self.novita,
            "byteplus" => &mut self.byteplus,
            "byteplus_coding" => &mut self.byteplus_coding,
            _ => return None,
        })
    }
}

/// A provider reached with an API key.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ApiProviderConfig {
    /// API key; the provider is configured when this is non-empty.
    pub api_key: Option<Secret>,
    /// Base URL override (proxies, compatible endpoints).
    pub api_base: Option<String>,
}

impl ApiProviderConfig {
    /// True when an API key is set.
    pub fn is_configured(&self) -> bool {
        self.api_key.as_ref().is_some_and(|key| !key.is_empty())
    }
}

/// Local Ollama server.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct OllamaConfig {
    /// Server URL, e.g. `http://localhost:11434`.
    pub host: Option<String>,
}

/// Claude Code CLI provider.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct ClaudeCliConfig {
    /// Path of the `claude` binary; empty searches `PATH`.
    pub cli_path: Option<String>,
    /// Model alias passed to the CLI.
    pub model: String,
    /// Directory under which per-session work directories are created.
    pub base_work_dir: Option<String>,
    /// Permission mode passed to the CLI.
    pub perm_mode: String,
}

impl Default for ClaudeCliConfig {
    fn default() -> Self {
        Self {
            cli_path: None,
            model: "sonnet".to_owned(),
            base_work_dir: None,
            perm_mode: "bypassPermissions".to_owned(),
        }
    }
}

/// Agent Client Protocol provider.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct AcpConfig {
    /// Binary to start.
    pub binary: Option<String>,
    /// Arguments of the binary.
    pub args: Vec<String>,
    /// Model passed to the binary.
    pub model: Option<String>,
    /// Working directory of the binary.
    pub work_dir: Option<String>,
    /// Stop an idle process after this duration (`10m`).
    pub idle_ttl: Option<String>,
    /// Permission mode passed to the binary.
    pub perm_mode: Option<String>,
}

/// Google Vertex AI provider.
#[derive(Debug, Clone, Default, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct VertexConfig {
    /// API key (alternative to a credentials file).
    pub api_key: Option<Secret>,
    /// Path of a service-account credentials file.
    pub credentials_file: Option<String>,
    /// Google Cloud project ID.
    pub project_id: Option<String>,
    /// Region, e.g. `us-central1`.
    pub region: Option<String>,
    /// Default model.
    pub model: Option<String>,
}
