//! LLM wire clients of the goclaw gateway: the Anthropic Messages API and every OpenAI-compatible
//! Chat Completions endpoint, each translating the provider-neutral `goclaw_core::llm` types to
//! and from its own wire format; retries with backoff, fallback across candidates, the registry
//! built from configuration, and token counting.
//!
//! **Architecture Invariant:** this crate knows nothing about the gateway, the store or any
//! wire format of our own server. Every endpoint it talks to has a configurable base URL, so
//! tests point it at a loopback fake.
#![forbid(unsafe_code)]

mod anthropic;
mod errors;
mod http;
mod models;
mod openai;
mod registry;
mod retry;
mod sse;
mod tokens;

pub use anthropic::AnthropicProvider;
pub use http::HttpSettings;
pub use openai::OpenAiCompatProvider;
pub use registry::{ProviderRegistry, default_base_url};
pub use retry::{Candidate, RetryPolicy, chat_with_fallback, chat_with_retries};
pub use tokens::{
    IMAGE_TOKENS, context_window_for, count_message_tokens, count_tokens, count_tool_tokens,
    message_tokens_upper_bound,
};
