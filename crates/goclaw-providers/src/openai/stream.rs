//! Chat Completions responses: streamed chunks (`data:` lines until `[DONE]`) assembled into a
//! `ChatResponse` — text, reasoning, tool calls built from indexed fragments, usage from the
//! final chunk — and the same shapes read from a non-streamed completion.

use std::collections::BTreeMap;

use goclaw_core::llm::{
    ChatResponse, ContentPart, DeltaSink, ProviderError, StopReason, StreamDelta, ToolCall, Usage,
};
use serde::Deserialize;

use crate::errors;

#[derive(Debug, Deserialize)]
struct Chunk {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    choices: Vec<Choice>,
    #[serde(default)]
    usage: Option<WireUsage>,
    #[serde(default)]
    error: Option<WireError>,
}

#[derive(Debug, Deserialize)]
struct Choice {
    /// Streamed chunks carry `delta`, complete answers `message`.
    #[serde(default, alias = "message")]
    delta: Option<Delta>,
    #[serde(default)]
    finish_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct Delta {
    #[serde(default)]
    content: Option<String>,
    #[serde(default)]
    reasoning_content: Option<String>,
    #[serde(default)]
    reasoning: Option<String>,
    #[serde(default)]
    tool_calls: Option<Vec<ToolCallDelta>>,
}

#[derive(Debug, Deserialize)]
struct ToolCallDelta {
    #[serde(default)]
    index: Option<usize>,
    #[serde(default)]
    id: Option<String>,
    #[serde(default)]
    function: Option<FunctionDelta>,
}

#[derive(Debug, Deserialize)]
struct FunctionDelta {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    arguments: Option<String>,
}

#[derive(Debug, Deserialize)]
struct WireUsage {
    #[serde(default)]
    prompt_tokens: Option<u64>,
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default)]
    prompt_tokens_details: Option<PromptDetails>,
    #[serde(default)]
    completion_tokens_details: Option<CompletionDetails>,
    /// DeepSeek's name for cached prompt tokens.
    #[serde(default)]
    prompt_cache_hit_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct PromptDetails {
    #[serde(default)]
    cached_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct CompletionDetails {
    #[serde(default)]
    reasoning_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct WireError {
    #[serde(default)]
    message: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    code: Option<serde_json::Value>,
}

/// A tool call being assembled from fragments.
#[derive(Debug, Default)]
struct PendingCall {
    id: String,
    name: String,
    arguments: String,
    announced: bool,
}

/// Folds chunks into a response.
pub(crate) struct ChunkAssembler {
    model: String,
    text: String,
    thinking: String,
    calls: BTreeMap<usize, PendingCall>,
    finish_reason: Option<String>,
    usage: Usage,
}

impl ChunkAssembler {
    pub(crate) fn new(requested_model: &str) -> Self {
        Self {
            model: requested_model.to_owned(),
            text: String::new(),
            thinking: String::new(),
            calls: BTreeMap::new(),
            finish_reason: None,
            usage: Usage::default(),
        }
    }

    /// Handles the JSON of one `data:` line (not `[DONE]`).
    pub(crate) fn on_chunk(
        &mut self,
        data: &str,
        sink: DeltaSink<'_>,
    ) -> Result<(), ProviderError> {
        let chunk: Chunk = serde_json::from_str(data)
            .map_err(|e| ProviderError::Protocol(format!("chat completion chunk: {e}")))?;
        if let Some(error) = chunk.error {
            return Err(chunk_error(&error));
        }
        if let Some(model) = chunk.model.filter(|m| !m.is_empty()) {
            self.model = model;
        }
        if let Some(usage) = chunk.usage {
            self.usage = usage_from(&usage);
        }
        // Only the first choice is used; the gateway never asks for `n > 1`.
        if let Some(choice) = chunk.choices.into_iter().next() {
            if let Some(delta) = choice.delta {
                self.apply_delta(delta, sink);
            }
            if choice.finish_reason.is_some() {
                self.finish_reason = choice.finish_reason;
            }
        }
        Ok(())
    }

    /// The assembled response.
    pub(crate) fn finish(self) -> ChatResponse {
        let mut parts = Vec::new();
        if !self.thinking.is_empty() {
            parts.push(ContentPart::Thinking {
                text: self.thinking,
                signature: None,
            });
        }
        if !self.text.is_empty() {
            parts.push(ContentPart::Text { text: self.text });
        }
        for (index, call) in self.calls {
            let arguments = parse_arguments(&call.arguments);
            parts.push(ContentPart::ToolCall(ToolCall {
                id: call_id(&call.id, index),
                name: call.name,
                arguments,
            }));
        }
        let has_calls = parts.iter().any(|p| matches!(p, ContentPart::ToolCall(_)));
        let stop_reason = match self.finish_reason.as_deref() {
            Some("tool_calls" | "function_call") => StopReason::ToolUse,
            // Some servers say "stop" after tool calls; the calls are what matters.
            Some("stop") | None if has_calls => StopReason::ToolUse,
            Some("stop") | None => StopReason::EndTurn,
            Some("length") => StopReason::MaxTokens,
            Some(other) => StopReason::Other(other.to_owned()),
        };
        ChatResponse {
            parts,
            stop_reason,
            usage: self.usage,
            model: self.model,
        }
    }

    fn apply_delta(&mut self, delta: Delta, sink: DeltaSink<'_>) {
        let reasoning = delta
            .reasoning_content
            .filter(|r| !r.is_empty())
            .or(delta.reasoning);
        if let Some(reasoning) = reasoning.filter(|r| !r.is_empty()) {
            self.thinking.push_str(&reasoning);
            sink(StreamDelta::Thinking(reasoning));
        }
        if let Some(content) = delta.content.filter(|c| !c.is_empty()) {
            self.text.push_str(&content);
            sink(StreamDelta::Text(content));
        }
        for fragment in delta.tool_calls.unwrap_or_default() {
            self.apply_tool_fragment(fragment, sink);
        }
    }

    fn apply_tool_fragment(&mut self, fragment: ToolCallDelta, sink: DeltaSink<'_>) {
        let index = self.slot_for(&fragment);
        let call = self.calls.entry(index).or_default();
        if let Some(id) = fragment.id.filter(|id| !id.is_empty()) {
            call.id = id;
        }
        if let Some(function) = fragment.function {
            // The name comes whole, once; some servers repeat it in later fragments.
            if let Some(name) = function.name.filter(|n| !n.is_empty()) {
                if call.name.is_empty() {
                    call.name = name;
                }
            }
            if let Some(arguments) = function.arguments {
                call.arguments.push_str(&arguments);
            }
        }
        if !call.announced && !call.name.is_empty() {
            call.announced = true;
            if call.id.is_empty() {
                call.id = call_id("", index);
            }
            sink(StreamDelta::ToolCallStarted {
                id: call.id.clone(),
                name: call.name.clone(),
            });
        }
    }

    /// The call a fragment belongs to: its `index`, else the call with its `id`, else a new
    /// call when it brings an id, else the latest call.
    fn slot_for(&self, fragment: &ToolCallDelta) -> usize {
        if let Some(index) = fragment.index {
            return index;
        }
        let next = self.calls.keys().next_back().map_or(0, |k| k + 1);
        match fragment.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => self
                .calls
                .iter()
                .find(|(_, call)| call.id == id)
                .map_or(next, |(index, _)| *index),
            None => next.saturating_sub(1),
        }
    }
}

/// Reads a non-streamed completion, reporting its content to the sink as if it had streamed.
pub(crate) fn parse_completion(
    body: &str,
    requested_model: &str,
    sink: DeltaSink<'_>,
) -> Result<ChatResponse, ProviderError> {
    let mut assembler = ChunkAssembler::new(requested_model);
    assembler.on_chunk(body, sink)?;
    Ok(assembler.finish())
}

fn parse_arguments(text: &str) -> serde_json::Value {
    if text.trim().is_empty() {
        return serde_json::json!({});
    }
    serde_json::from_str(text).unwrap_or_else(|_| serde_json::json!({ "_raw": text }))
}

fn call_id(id: &str, index: usize) -> String {
    if id.is_empty() {
        format!("call_{index}")
    } else {
        id.to_owned()
    }
}

fn usage_from(wire: &WireUsage) -> Usage {
    let cached = wire
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
        .or(wire.prompt_cache_hit_tokens);
    Usage {
        input_tokens: wire.prompt_tokens.unwrap_or(0),
        output_tokens: wire.completion_tokens.unwrap_or(0),
        cache_creation_tokens: 0,
        cache_read_tokens: cached.unwrap_or(0),
        thinking_tokens: wire
            .completion_tokens_details
            .as_ref()
            .and_then(|d| d.reasoning_tokens)
            .unwrap_or(0),
    }
}

fn chunk_error(error: &WireError) -> ProviderError {
    let message = error.message.as_deref().unwrap_or("error in stream");
    let status = error
        .code
        .as_ref()
        .and_then(|code| code.as_u64().or_else(|| code.as_str()?.parse().ok()))
        .and_then(|code| u16::try_from(code).ok())
        .filter(|code| (400..600).contains(code));
    match status {
        Some(status) => errors::status_error(status, None, message),
        None => errors::stream_error(error.kind.as_deref().unwrap_or(""), message),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(chunks: &[&str]) -> (Result<ChatResponse, ProviderError>, Vec<StreamDelta>) {
        let mut deltas = Vec::new();
        let mut sink = |d: StreamDelta| deltas.push(d);
        let mut assembler = ChunkAssembler::new("requested");
        for chunk in chunks {
            if let Err(e) = assembler.on_chunk(chunk, &mut sink) {
                return (Err(e), deltas);
            }
        }
        (Ok(assembler.finish()), deltas)
    }

    #[test]
    fn assembles_fragmented_and_unindexed_tool_calls() {
        let (result, deltas) = run(&[
            r#"{"model":"gpt-4o-2024-08-06","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"get_weather","arguments":""}}]},"finish_reason":null}],"usage":null}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"loc"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"name":"get_weather","arguments":"ation\":\"Paris\"}"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"id":"call_2","function":{"name":"bad","arguments":"{oops"}}]},"finish_reason":null}]}"#,
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#,
            r#"{"choices":[],"usage":{"prompt_tokens":100,"completion_tokens":20,"prompt_tokens_details":{"cached_tokens":64},"completion_tokens_details":{"reasoning_tokens":5}}}"#,
        ]);
        let response = result.expect("assembles");
        assert_eq!(response.model, "gpt-4o-2024-08-06");
        assert_eq!(response.stop_reason, StopReason::ToolUse);
        let calls = response.tool_calls();
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(
            (calls[0].id.as_str(), calls[0].name.as_str()),
            ("call_1", "get_weather")
        );
        assert_eq!(calls[0].arguments, json!({"location": "Paris"}));
        assert_eq!(calls[1].arguments, json!({"_raw": "{oops"}));
        assert_eq!(
            response.usage,
            Usage {
                input_tokens: 100,
                output_tokens: 20,
                cache_creation_tokens: 0,
                cache_read_tokens: 64,
                thinking_tokens: 5
            }
        );
        assert_eq!(deltas.len(), 2, "one ToolCallStarted per call");
    }

    #[test]
    fn calls_without_index_or_id_get_an_id() {
        let (result, deltas) = run(&[
            r#"{"choices":[{"delta":{"tool_calls":[{"function":{"name":"anon","arguments":""}}]}}]}"#,
        ]);
        let calls = result.expect("assembles").tool_calls();
        assert_eq!(
            (calls[0].id.as_str(), calls[0].arguments.clone()),
            ("call_0", json!({}))
        );
        assert_eq!(
            deltas,
            [StreamDelta::ToolCallStarted {
                id: "call_0".into(),
                name: "anon".into()
            }]
        );
    }

    #[test]
    fn reasoning_fields_and_deepseek_cache() {
        let (result, deltas) = run(&[
            r#"{"choices":[{"delta":{"reasoning":"or-style "}}]}"#,
            r#"{"choices":[{"delta":{"reasoning_content":"ds-style"}}]}"#,
            r#"{"choices":[{"delta":{"content":"answer"},"finish_reason":"length"}],"usage":{"prompt_tokens":10,"completion_tokens":2,"prompt_cache_hit_tokens":8}}"#,
        ]);
        let response = result.expect("assembles");
        assert_eq!(
            response.parts,
            vec![
                ContentPart::Thinking {
                    text: "or-style ds-style".into(),
                    signature: None
                },
                ContentPart::Text {
                    text: "answer".into()
                },
            ]
        );
        assert_eq!(response.stop_reason, StopReason::MaxTokens);
        assert_eq!(response.usage.cache_read_tokens, 8);
        assert_eq!(deltas.len(), 3);
    }

    #[test]
    fn error_chunks() {
        let cases = [
            (
                r#"{"error":{"message":"Rate limit reached","type":"requests","code":"429"}}"#,
                "rate_limited",
            ),
            (
                r#"{"error":{"message":"maximum context length is 8192 tokens","code":400}}"#,
                "context_overflow",
            ),
            (r#"{"error":{"message":"upstream died"}}"#, "server"),
            ("{not json", "protocol"),
        ];
        for (chunk, expected) in cases {
            let kind = match run(&[chunk]).0 {
                Err(ProviderError::RateLimited { .. }) => "rate_limited",
                Err(ProviderError::ContextOverflow(_)) => "context_overflow",
                Err(ProviderError::Server { .. }) => "server",
                Err(ProviderError::Protocol(_)) => "protocol",
                other => panic!("unexpected {other:?}"),
            };
            assert_eq!(kind, expected, "{chunk}");
        }
    }
}
