//! The provider-neutral language of LLM calls: requests, messages, streamed deltas, responses,
//! usage and errors, and the `Provider` trait every wire client implements.
//!
//! The agent runtime speaks only these types; each provider client translates them to and from
//! its own wire format (Anthropic Messages, OpenAI Chat Completions, ...).

use std::time::Duration;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// One LLM call.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// The provider's model name, e.g. `claude-sonnet-4-5-20250929` or `gpt-4o`.
    pub model: String,
    /// The system prompt in parts. A part marked `cacheable` is stable across turns (identity,
    /// tools, stable context files) and may carry a prompt-cache breakpoint.
    pub system: Vec<SystemPart>,
    pub messages: Vec<ChatMessage>,
    /// Tools the model may call; a provider puts a cache breakpoint on the last one.
    pub tools: Vec<ToolDefinition>,
    pub max_tokens: u32,
    /// `None` leaves the provider's default.
    pub temperature: Option<f32>,
    /// Extended thinking budget in tokens; `None` disables thinking.
    pub thinking_budget: Option<u32>,
}

/// A piece of the system prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SystemPart {
    pub text: String,
    pub cacheable: bool,
}

/// Who speaks in a conversation sent to a provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ChatRole {
    User,
    Assistant,
    /// Results of tool calls, answering the previous assistant message.
    Tool,
}

/// One message of a conversation sent to a provider.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatMessage {
    pub role: ChatRole,
    pub parts: Vec<ContentPart>,
}

impl ChatMessage {
    /// A user message with plain text.
    pub fn user(text: impl Into<String>) -> Self {
        Self {
            role: ChatRole::User,
            parts: vec![ContentPart::Text { text: text.into() }],
        }
    }

    /// An assistant message with plain text.
    pub fn assistant(text: impl Into<String>) -> Self {
        Self {
            role: ChatRole::Assistant,
            parts: vec![ContentPart::Text { text: text.into() }],
        }
    }

    /// All text parts joined.
    pub fn text(&self) -> String {
        self.parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::Text { text } => Some(text.as_str()),
                _ => None,
            })
            .collect::<Vec<_>>()
            .join("")
    }
}

/// A part of a message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentPart {
    Text {
        text: String,
    },
    /// Model reasoning; `signature` must be replayed verbatim to Anthropic.
    Thinking {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    ToolCall(ToolCall),
    ToolResult {
        call_id: String,
        content: String,
        #[serde(default)]
        is_error: bool,
    },
    /// A picture the model is shown (a user's upload): its MIME type (`image/png`, ...) and
    /// the bytes in standard base64. Providers without vision get a text note instead.
    Image {
        mime_type: String,
        data: String,
    },
}

/// A tool invocation requested by the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    pub id: String,
    pub name: String,
    /// The arguments as a JSON object (an unparsable argument string becomes
    /// `{"_raw": "<text>"}` so the tool can report it).
    pub arguments: serde_json::Value,
}

/// A tool as offered to the model.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    pub name: String,
    pub description: String,
    /// JSON Schema of the arguments object.
    pub parameters: serde_json::Value,
}

/// Token accounting of one call (or a sum of calls).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cache_creation_tokens: u64,
    pub cache_read_tokens: u64,
    pub thinking_tokens: u64,
}

impl Usage {
    /// Adds another call's usage to this one.
    pub fn add(&mut self, other: &Usage) {
        self.input_tokens += other.input_tokens;
        self.output_tokens += other.output_tokens;
        self.cache_creation_tokens += other.cache_creation_tokens;
        self.cache_read_tokens += other.cache_read_tokens;
        self.thinking_tokens += other.thinking_tokens;
    }
}

/// Why the model stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StopReason {
    /// A complete answer.
    EndTurn,
    /// The model wants tool results.
    ToolUse,
    /// Cut off at `max_tokens`.
    MaxTokens,
    Other(String),
}

/// The assembled result of one call.
#[derive(Debug, Clone, PartialEq)]
pub struct ChatResponse {
    /// Text, thinking and tool-call parts in the order the model produced them.
    pub parts: Vec<ContentPart>,
    pub stop_reason: StopReason,
    pub usage: Usage,
    /// The model that answered (may differ from the request after a fallback).
    pub model: String,
}

impl ChatResponse {
    /// All text parts joined.
    pub fn text(&self) -> String {
        ChatMessage {
            role: ChatRole::Assistant,
            parts: self.parts.clone(),
        }
        .text()
    }

    /// The tool calls the model requested.
    pub fn tool_calls(&self) -> Vec<ToolCall> {
        self.parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::ToolCall(call) => Some(call.clone()),
                _ => None,
            })
            .collect()
    }
}

/// A piece of output as it streams in.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamDelta {
    Text(String),
    Thinking(String),
    /// A tool call has started; its arguments arrive in the final response.
    ToolCallStarted {
        id: String,
        name: String,
    },
}

/// Receives deltas while a call streams. Called from the provider's task; must not block.
pub type DeltaSink<'a> = &'a mut (dyn FnMut(StreamDelta) + Send);

/// Why an LLM call failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProviderError {
    /// HTTP 429.
    #[error("rate limited by the provider: {message}")]
    RateLimited {
        retry_after: Option<Duration>,
        message: String,
    },
    /// HTTP 5xx (including Anthropic's 529 "overloaded").
    #[error("provider server error (HTTP {status}): {message}")]
    Server {
        status: u16,
        retry_after: Option<Duration>,
        message: String,
    },
    #[error("provider request timed out")]
    Timeout,
    /// The connection failed or dropped.
    #[error("provider connection failed: {0}")]
    Connection(String),
    /// The prompt does not fit the model's context window.
    #[error("context window exceeded: {0}")]
    ContextOverflow(String),
    /// HTTP 401/403.
    #[error("provider rejected the credentials: {0}")]
    Auth(String),
    /// Any other 4xx.
    #[error("provider rejected the request (HTTP {status}): {message}")]
    BadRequest { status: u16, message: String },
    /// The response could not be understood.
    #[error("malformed provider response: {0}")]
    Protocol(String),
    /// No provider is configured for the name asked for.
    #[error("provider {0:?} is not configured")]
    NotConfigured(String),
}

impl ProviderError {
    /// Whether trying the same call again may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(
            self,
            ProviderError::RateLimited { .. }
                | ProviderError::Server { .. }
                | ProviderError::Timeout
                | ProviderError::Connection(_)
        )
    }

    /// The wait the provider asked for, if any.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            ProviderError::RateLimited { retry_after, .. }
            | ProviderError::Server { retry_after, .. } => *retry_after,
            _ => None,
        }
    }
}

/// A model a provider offers, as its model listing names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelInfo {
    /// The id to put in requests.
    pub id: String,
    /// A display name, when the provider gives one.
    pub name: Option<String>,
}

/// An LLM wire client.
#[async_trait]
pub trait Provider: Send + Sync {
    /// The configured name, e.g. `anthropic` or `openrouter`.
    fn name(&self) -> &str;

    /// The models the provider offers now, asked of its API. A client that has no way to ask
    /// lists none.
    async fn models(&self) -> Result<Vec<ModelInfo>, ProviderError> {
        Ok(Vec::new())
    }

    /// Performs one call, streaming deltas into `sink` as they arrive, and returns the assembled
    /// response. Dropping the future cancels the call.
    async fn chat(
        &self,
        request: &ChatRequest,
        sink: DeltaSink<'_>,
    ) -> Result<ChatResponse, ProviderError>;
}
