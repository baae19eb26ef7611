//! Integration tests of the provider clients against the loopback fake LLM: wire mapping of
//! both formats, error classification, retries, fallback and the registry.

mod anthropic;
mod errors;
mod openai;
mod registry;
mod retry;
mod support;
