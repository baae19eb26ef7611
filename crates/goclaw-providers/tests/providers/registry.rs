//! The registry built from the `providers` configuration: who is registered, with which base
//! URL, and that the registered clients really use the configured key and endpoint.

use std::sync::Arc;

use goclaw_config::{ApiProviderConfig, OllamaConfig, ProvidersConfig, Secret};
use goclaw_fake_llm::{FakeLlm, Reply};
use goclaw_providers::{OpenAiCompatProvider, ProviderRegistry, default_base_url};

use crate::support::{chat, request};

fn keyed(key: &str, base: Option<&str>) -> ApiProviderConfig {
    ApiProviderConfig {
        api_key: Some(Secret::new(key)),
        api_base: base.map(str::to_owned),
    }
}

#[test]
fn registers_configured_providers_with_default_bases() {
    let config = ProvidersConfig {
        anthropic: keyed("sk-ant", None),
        groq: keyed("gsk", None),
        zai_coding: keyed("z", None),
        byteplus: keyed("b", Some("https://proxy.example/v3/")),
        deepseek: keyed("", None),
        ollama: OllamaConfig {
            host: Some("http://localhost:11434/".into()),
        },
        ..ProvidersConfig::default()
    };
    let registry = ProviderRegistry::from_config(&config);

    assert_eq!(
        registry.names(),
        ["anthropic", "byteplus", "groq", "ollama", "zai_coding"]
    );
    let cases = [
        ("anthropic", Some("https://api.anthropic.com/v1")),
        ("groq", Some("https://api.groq.com/openai/v1")),
        ("zai_coding", Some("https://api.z.ai/api/coding/paas/v4")),
        ("byteplus", Some("https://proxy.example/v3/")),
        ("ollama", Some("http://localhost:11434/v1")),
        ("deepseek", None),
        ("openai", None),
    ];
    for (name, base) in cases {
        assert_eq!(registry.base_url(name), base, "{name}");
        assert_eq!(registry.get(name).is_some(), base.is_some(), "{name}");
    }
    assert_eq!(
        registry.get("groq").map(|p| p.name().to_owned()).as_deref(),
        Some("groq")
    );
}

#[test]
fn default_bases_match_the_reference() {
    let cases = [
        ("openai", "https://api.openai.com/v1"),
        ("openrouter", "https://openrouter.ai/api/v1"),
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
        ("ollama_cloud", "https://ollama.com/v1"),
        ("novita", "https://api.novita.ai/openai"),
        ("byteplus", "https://ark.ap-southeast.bytepluses.com/api/v3"),
        ("nonsense", ""),
    ];
    for (name, base) in cases {
        assert_eq!(default_base_url(name).unwrap_or(""), base, "{name}");
    }
}

#[tokio::test]
async fn configured_clients_use_their_key_and_base() {
    let fake = FakeLlm::start().await;
    let base = fake.base_url();
    let config = ProvidersConfig {
        anthropic: keyed("sk-ant-from-config", Some(&base)),
        openrouter: keyed("sk-or-from-config", Some(&base)),
        ..ProvidersConfig::default()
    };
    let registry = ProviderRegistry::from_config(&config);

    for name in ["anthropic", "openrouter"] {
        let provider = registry.get(name).expect("registered");
        fake.push(Reply::text(format!("hello from {name}")));
        let (result, _) = chat(provider.as_ref(), &request("m")).await;
        assert_eq!(
            result.expect("call succeeds").text(),
            format!("hello from {name}")
        );
    }
    let requests = fake.requests();
    assert_eq!(requests[0].path, "/v1/messages");
    assert_eq!(requests[0].header("x-api-key"), Some("sk-ant-from-config"));
    assert_eq!(requests[1].path, "/v1/chat/completions");
    assert_eq!(
        requests[1].header("authorization"),
        Some("Bearer sk-or-from-config")
    );
    assert_eq!(requests[1].header("x-title"), Some("GoClaw"));
}

#[test]
fn providers_can_be_inserted() {
    let mut registry = ProviderRegistry::new();
    assert!(registry.is_empty());
    registry.insert(
        "custom",
        Arc::new(OpenAiCompatProvider::new(
            "custom",
            "http://127.0.0.1:9/v1",
            None,
        )),
    );
    assert_eq!(registry.names(), ["custom"]);
    assert_eq!(registry.len(), 1);
    assert!(registry.get("custom").is_some());
    assert_eq!(registry.base_url("custom"), None);
}
