//! The OpenAI-compatible Chat Completions client (`POST {base}/chat/completions`), one client for
//! OpenAI and every endpoint that copies its wire format (OpenRouter, Groq, DeepSeek, Gemini's
//! OpenAI endpoint, Ollama, …).

mod request;
mod stream;

use std::fmt;

use async_trait::async_trait;
use goclaw_core::llm::{ChatRequest, ChatResponse, DeltaSink, ModelInfo, Provider, ProviderError};
use reqwest::header::{ACCEPT, AUTHORIZATION, HeaderMap, HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};

use crate::http::{self, HttpSettings, Transport};
use crate::sse::{self, SseReader};
use stream::ChunkAssembler;

/// A client of an OpenAI-compatible Chat Completions endpoint.
pub struct OpenAiCompatProvider {
    name: String,
    api_key: Option<SecretString>,
    base_url: String,
    chat_path: String,
    extra_headers: HeaderMap,
    transport: Transport,
    streaming: bool,
    reasoning_effort: bool,
}

impl OpenAiCompatProvider {
    /// OpenAI's public endpoint.
    pub const OPENAI_BASE_URL: &'static str = "https://api.openai.com/v1";

    /// A streaming client named `name` for `base_url` (`…/v1`), sending `api_key` as a bearer
    /// token when it is given and not empty.
    pub fn new(
        name: impl Into<String>,
        base_url: impl Into<String>,
        api_key: Option<String>,
    ) -> Self {
        Self {
            name: name.into(),
            api_key: api_key
                .filter(|key| !key.is_empty())
                .map(SecretString::from),
            base_url: base_url.into(),
            chat_path: "chat/completions".to_owned(),
            extra_headers: HeaderMap::new(),
            transport: Transport::new(HttpSettings::default()),
            streaming: true,
            reasoning_effort: false,
        }
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

    /// Sends a thinking budget as `reasoning_effort` (OpenAI and Gemini understand it; most
    /// other endpoints reject it).
    pub fn with_reasoning_effort(mut self, supported: bool) -> Self {
        self.reasoning_effort = supported;
        self
    }

    /// Replaces the path appended to the base URL (default `chat/completions`).
    pub fn with_chat_path(mut self, path: impl Into<String>) -> Self {
        self.chat_path = path.into();
        self
    }

    /// Adds a header to every request (e.g. OpenRouter's `HTTP-Referer`). Invalid names or
    /// values are ignored.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            self.extra_headers.insert(name, value);
        }
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

    fn headers(&self) -> Result<HeaderMap, ProviderError> {
        let mut headers = self.extra_headers.clone();
        if let Some(key) = &self.api_key {
            let bearer = format!("Bearer {}", key.expose_secret());
            headers.insert(AUTHORIZATION, http::sensitive_header(&bearer)?);
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

impl fmt::Debug for OpenAiCompatProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiCompatProvider")
            .field("name", &self.name)
            .field("base_url", &self.base_url)
            .field("streaming", &self.streaming)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Provider for OpenAiCompatProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        let mut headers = self.headers()?;
        headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
        let url = http::join_url(&self.base_url, "models");
        let body = self
            .transport
            .get_text(&url, headers, self.api_key.as_ref())
            .await?;
        crate::models::parse(&body)
    }

    async fn chat(
        &self,
        request: &ChatRequest,
        sink: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError> {
        let body = request::build(request, self.streaming, self.reasoning_effort);
        let url = http::join_url(&self.base_url, &self.chat_path);
        let response = self
            .transport
            .post_json(&url, self.headers()?, &body, self.api_key.as_ref())
            .await?;
        if !http::is_event_stream(&response) {
            let text = self.transport.read_text(response).await?;
            return stream::parse_completion(&text, &request.model, sink);
        }
        let mut reader = SseReader::new(response, self.transport.settings().stream_idle_timeout);
        let mut assembler = ChunkAssembler::new(&request.model);
        while let Some(event) = reader.next().await? {
            let data = event.data.trim();
            if data == "[DONE]" {
                return Ok(assembler.finish());
            }
            if data.is_empty() {
                continue;
            }
            assembler.on_chunk(data, sink)?;
        }
        Err(sse::ended_early())
    }
}
