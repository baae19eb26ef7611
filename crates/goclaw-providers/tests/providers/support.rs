//! Shared helpers: clients pointed at a fake, a small request, and a call that collects the
//! streamed deltas.

use std::sync::Arc;

use goclaw_core::llm::{
    ChatMessage, ChatRequest, ChatResponse, Provider, ProviderError, StreamDelta,
};
use goclaw_fake_llm::FakeLlm;
use goclaw_providers::{AnthropicProvider, OpenAiCompatProvider};

pub const ANTHROPIC_KEY: &str = "sk-ant-test-0123456789";
pub const OPENAI_KEY: &str = "sk-test-0123456789";

/// The two wire formats, for tests that must hold for both.
#[derive(Debug, Clone, Copy)]
pub enum Wire {
    Anthropic,
    OpenAi,
}

impl Wire {
    pub const BOTH: [Wire; 2] = [Wire::Anthropic, Wire::OpenAi];

    pub fn provider(self, fake: &FakeLlm) -> Arc<dyn Provider> {
        match self {
            Wire::Anthropic => Arc::new(anthropic(fake)),
            Wire::OpenAi => Arc::new(openai(fake)),
        }
    }
}

pub fn anthropic(fake: &FakeLlm) -> AnthropicProvider {
    AnthropicProvider::new(ANTHROPIC_KEY).with_base_url(fake.base_url())
}

pub fn openai(fake: &FakeLlm) -> OpenAiCompatProvider {
    OpenAiCompatProvider::new("openai", fake.base_url(), Some(OPENAI_KEY.to_owned()))
}

pub fn request(model: &str) -> ChatRequest {
    ChatRequest {
        model: model.to_owned(),
        system: Vec::new(),
        messages: vec![ChatMessage::user("hi")],
        tools: Vec::new(),
        max_tokens: 1024,
        temperature: None,
        thinking_budget: None,
    }
}

/// Calls the provider once, returning the result and every delta it streamed.
pub async fn chat(
    provider: &dyn Provider,
    request: &ChatRequest,
) -> (Result<ChatResponse, ProviderError>, Vec<StreamDelta>) {
    let mut deltas = Vec::new();
    let mut sink = |delta: StreamDelta| deltas.push(delta);
    let result = provider.chat(request, &mut sink).await;
    (result, deltas)
}

pub fn texts(deltas: &[StreamDelta]) -> Vec<&str> {
    deltas
        .iter()
        .filter_map(|d| match d {
            StreamDelta::Text(t) => Some(t.as_str()),
            _ => None,
        })
        .collect()
}
