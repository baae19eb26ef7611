//! Feeding [`Metrics`] from the parts the gateway does not own: every LLM call (latency, errors
//! by kind, tokens by provider and model) through a decorator on the provider lookup the
//! runtime is given.
//!
//! Runs, turns, tool calls and lane waits are counted inside the runtime
//! (`RuntimeDeps::with_metrics`);
//! HTTP requests, rate-limit hits and the scrape-time gauges by the gateway.

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use goclaw_agent::ProviderLookup;
use goclaw_core::{ChatRequest, ChatResponse, DeltaSink, ModelInfo, Provider, ProviderError};
use goclaw_telemetry::{Metrics, TokenCounts};

/// A provider lookup whose providers time and count every call.
pub struct MeteredProviders {
    inner: Arc<dyn ProviderLookup>,
    metrics: Metrics,
}

impl MeteredProviders {
    pub fn new(inner: Arc<dyn ProviderLookup>, metrics: Metrics) -> Self {
        Self { inner, metrics }
    }
}

impl ProviderLookup for MeteredProviders {
    fn get(&self, name: &str) -> Option<Arc<dyn Provider>> {
        let inner = self.inner.get(name)?;
        Some(Arc::new(MeteredProvider {
            inner,
            metrics: self.metrics.clone(),
        }))
    }
}

struct MeteredProvider {
    inner: Arc<dyn Provider>,
    metrics: Metrics,
}

#[async_trait]
impl Provider for MeteredProvider {
    fn name(&self) -> &str {
        self.inner.name()
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        self.inner.models().await
    }

    async fn chat(
        &self,
        request: &ChatRequest,
        sink: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let started = Instant::now();
        let result = self.inner.chat(request, sink).await;
        let provider = self.inner.name();
        let error = result.as_ref().err().map(error_kind);
        self.metrics
            .provider_call(provider, started.elapsed(), error);
        if let Ok(response) = &result {
            let usage = &response.usage;
            let tokens = TokenCounts {
                input: usage.input_tokens,
                output: usage.output_tokens,
                cache_read: usage.cache_read_tokens,
                cache_write: usage.cache_creation_tokens,
            };
            self.metrics.llm_tokens(provider, &request.model, tokens);
        }
        result
    }
}

/// A short stable name of a provider failure, for the `kind` label.
fn error_kind(error: &ProviderError) -> &'static str {
    match error {
        ProviderError::RateLimited { .. } => "rate_limited",
        ProviderError::Server { .. } => "server",
        ProviderError::Timeout => "timeout",
        ProviderError::Connection(_) => "connection",
        ProviderError::ContextOverflow(_) => "context_overflow",
        ProviderError::Auth(_) => "auth",
        ProviderError::BadRequest { .. } => "bad_request",
        ProviderError::Protocol(_) => "protocol",
        ProviderError::NotConfigured(_) => "not_configured",
    }
}
