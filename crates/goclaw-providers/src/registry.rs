//! The providers the gateway can call, by name: built from the `providers` section of the
//! configuration (every provider with an API key, Ollama when its host is set), and open to
//! providers added later (from the database, or fakes in tests).

use std::collections::BTreeMap;
use std::sync::Arc;

use goclaw_config::ProvidersConfig;
use goclaw_core::llm::Provider;

use crate::anthropic::AnthropicProvider;
use crate::http::{HttpSettings, Transport};
use crate::openai::OpenAiCompatProvider;

/// Default base URLs of the OpenAI-compatible providers, by config name.
const DEFAULT_BASES: [(&str, &str); 19] = [
    ("anthropic", AnthropicProvider::DEFAULT_BASE_URL),
    ("openai", OpenAiCompatProvider::OPENAI_BASE_URL),
    ("openrouter", "https://openrouter.ai/api/v1"),
    ("groq", "https://api.groq.com/openai/v1"),
    (
        "gemini",
        "https://generativelanguage.googleapis.com/v1beta/openai",
    ),
    ("deepseek", "https://api.deepseek.com/v1"),
    ("mistral", "https://api.mistral.ai/v1"),
    ("xai", "https://api.x.ai/v1"),
    ("minimax", "https://api.minimax.io/v1"),
    ("cohere", "https://api.cohere.ai/compatibility/v1"),
    ("perplexity", "https://api.perplexity.ai"),
    (
        "dashscope",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
    ),
    ("bailian", "https://coding-intl.dashscope.aliyuncs.com/v1"),
    ("zai", "https://api.z.ai/api/paas/v4"),
    ("zai_coding", "https://api.z.ai/api/coding/paas/v4"),
    ("ollama_cloud", "https://ollama.com/v1"),
    ("novita", "https://api.novita.ai/openai"),
    ("byteplus", "https://ark.ap-southeast.bytepluses.com/api/v3"),
    (
        "byteplus_coding",
        "https://ark.ap-southeast.bytepluses.com/api/coding/v3",
    ),
];

/// The default base URL of a configurable provider, by config name.
pub fn default_base_url(name: &str) -> Option<&'static str> {
    DEFAULT_BASES
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, base)| *base)
}

struct Entry {
    provider: Arc<dyn Provider>,
    base_url: Option<String>,
}

/// Providers by name.
#[derive(Default)]
pub struct ProviderRegistry {
    entries: BTreeMap<String, Entry>,
}

impl ProviderRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers every configured provider with default timeouts.
    pub fn from_config(providers: &ProvidersConfig) -> Self {
        Self::from_config_with(providers, HttpSettings::default())
    }

    /// Registers every configured provider, all sharing one HTTP client with `settings`.
    pub fn from_config_with(providers: &ProvidersConfig, settings: HttpSettings) -> Self {
        let transport = Transport::eager(settings);
        let mut registry = Self::new();
        for (name, config) in providers.api_providers() {
            let Some(key) = config.api_key.as_ref().filter(|key| !key.is_empty()) else {
                continue;
            };
            let Some(default_base) = default_base_url(name) else {
                continue;
            };
            let base = config
                .api_base
                .as_deref()
                .map(str::trim)
                .filter(|base| !base.is_empty())
                .unwrap_or(default_base)
                .to_owned();
            let provider: Arc<dyn Provider> = if name == "anthropic" {
                Arc::new(
                    AnthropicProvider::new(key.expose())
                        .with_base_url(&base)
                        .with_transport(transport.clone()),
                )
            } else {
                Arc::new(openai_compatible(
                    name,
                    &base,
                    Some(key.expose()),
                    &transport,
                ))
            };
            registry.insert_with_base(name, provider, Some(base));
        }
        if let Some(host) = providers
            .ollama
            .host
            .as_deref()
            .map(str::trim)
            .filter(|host| !host.is_empty())
        {
            let base = format!("{}/v1", host.trim_end_matches('/'));
            let provider = openai_compatible("ollama", &base, None, &transport);
            registry.insert_with_base("ollama", Arc::new(provider), Some(base));
        }
        registry
    }

    /// Adds or replaces a provider.
    pub fn insert(&mut self, name: impl Into<String>, provider: Arc<dyn Provider>) {
        self.insert_with_base(name, provider, None);
    }

    /// The provider registered under `name`.
    pub fn get(&self, name: &str) -> Option<Arc<dyn Provider>> {
        self.entries.get(name).map(|entry| entry.provider.clone())
    }

    /// The base URL of a provider built from configuration.
    pub fn base_url(&self, name: &str) -> Option<&str> {
        self.entries.get(name)?.base_url.as_deref()
    }

    /// Registered names, sorted.
    pub fn names(&self) -> Vec<String> {
        self.entries.keys().cloned().collect()
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn insert_with_base(
        &mut self,
        name: impl Into<String>,
        provider: Arc<dyn Provider>,
        base_url: Option<String>,
    ) {
        self.entries
            .insert(name.into(), Entry { provider, base_url });
    }
}

impl std::fmt::Debug for ProviderRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProviderRegistry")
            .field("names", &self.names())
            .finish()
    }
}

fn openai_compatible(
    name: &str,
    base: &str,
    key: Option<&str>,
    transport: &Transport,
) -> OpenAiCompatProvider {
    let provider = OpenAiCompatProvider::new(name, base, key.map(str::to_owned))
        .with_transport(transport.clone())
        .with_reasoning_effort(matches!(name, "openai" | "gemini"));
    match name {
        // OpenRouter ranks apps by these headers.
        "openrouter" => provider
            .with_header("HTTP-Referer", "https://goclaw.sh")
            .with_header("X-Title", "GoClaw"),
        _ => provider,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_configurable_provider_has_a_default_base() {
        let config = ProvidersConfig::default();
        for (name, _) in config.api_providers() {
            assert!(default_base_url(name).is_some(), "{name}");
        }
    }
}
