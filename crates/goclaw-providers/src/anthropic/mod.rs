//! The Anthropic Messages API client (`POST {base}/messages`): headers, streaming or one-shot
//! calls, and assembly of the answer through `stream`.

mod request;
mod stream;

use std::fmt;

use async_trait::async_trait;
use goclaw_core::llm::{ChatRequest, ChatResponse, DeltaSink, ModelInfo, Provider, ProviderError};
use reqwest::header::{ACCEPT, HeaderMap, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::http::{self, HttpSettings, Transport};
use crate::sse::{self, SseReader};
use stream::{Flow, StreamAssembler};

const API_VERSION: &str = "2023-06-01";
const THINKING_BETA: &str = "interleaved-thinking-2025-05-14";

/// A client of the Anthropic Messages API.
pub struct AnthropicProvider {
    name: String,
    api_key: SecretString,
    base_url: String,
    transport: Transport,
    streaming: bool,
}

impl AnthropicProvider {
    /// The public endpoint.
    pub const DEFAULT_BASE_URL: &'static str = "https://api.anthropic.com/v1";

    /// A client named `anthropic` for the public endpoint, streaming, with default timeouts.
    pub fn new(api_key: impl Into<String>) -> Self {
        Self {
            name: "anthropic".to_owned(),
            api_key: SecretString::from(api_key.into()),
            base_url: Self::DEFAULT_BASE_URL.to_owned(),
            transport: Transport::new(HttpSettings::default()),
            streaming: true,
        }
    }

    /// Sets the name reported by [`Provider::name`].
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    /// Sets the base URL (`…/v1`); `/messages` is appended.
    pub fn with_base_url(mut self, base_url: impl Into<String>) -> Self {
        self.base_url = base_url.into();
        self
    }

    /// Uses a client with these timeouts.
    pub fn with_http_settings(mut self, settings: HttpSettings) -> Self {
        self.transport = Transport::new(settings);
        self
    }

    /// `false` asks for one JSON answer instead of an event stream.
    pub fn with_streaming(mut self, streaming: bool) -> Self {
        self.streaming = streaming;
        self
    }

    /// The base URL in use.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    pub(crate) fn with_transport(mut self, transport: Transport) -> Self {
        self.transport = transport;
        self
    }

    fn headers(&self, thinking: bool) -> Result<HeaderMap, ProviderError> {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-api-key",
            http::sensitive_header(self.api_key.expose_secret())?,
        );
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        if thinking {
            headers.insert("anthropic-beta", HeaderValue::from_static(THINKING_BETA));
        }
        let accept = if self.streaming {
            "text/event-stream"
        } else {
            "application/json"
        };
        headers.insert(ACCEPT, HeaderValue::from_static(accept));
        Ok(headers)
    }
}

impl fmt::Debug for AnthropicProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AnthropicProvider")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("streaming", &self.streaming)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Provider for AnthropicProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let mut headers = self.headers(false)?;
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let url = http::join_url(&self.base_url, "models?limit=1000");
        let body = self
            .transport
            .get_text(&url, headers, Some(&self.api_key))
            .await?;
        crate::models::parse(&body)
    }

    async fn chat(
        &self,
        request: &ChatRequest,
        sink: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let body = request::build(request, self.streaming);
        let headers = self.headers(body.thinking.is_some())?;
        let url = http::join_url(&self.base_url, "messages");
        let response = self
            .transport
            .post_json(&url, headers, &body, Some(&self.api_key))
            .await?;
        if !http::is_event_stream(&response) {
            let text = self.transport.read_text(response).await?;
            return stream::parse_message(&text, &request.model, sink);
        }
        let mut reader = SseReader::new(response, self.transport.settings().stream_idle_timeout);
        let mut assembler = StreamAssembler::new(&request.model);
        while let Some(event) = reader.next().await? {
            if assembler.on_event(&event.data, sink)? == Flow::Done {
                return Ok(assembler.finish());
            }
        }
        Err(sse::ended_early())
    }
}
