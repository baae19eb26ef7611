//! Anthropic responses: the streamed events (`message_start` … `message_stop`) assembled into a
//! `ChatResponse` block by block, and the same shapes read from a non-streamed message.

use std::collections::BTreeMap;

use goclaw_core::llm::{
    ChatResponse, ContentPart, DeltaSink, ProviderError, StopReason, StreamDelta, ToolCall, Usage,
};
use serde::Deserialize;

use crate::errors;

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireEvent {
    MessageStart {
        message: WireMessage,
    },
    ContentBlockStart {
        index: usize,
        content_block: WireBlock,
    },
    ContentBlockDelta {
        index: usize,
        delta: WireDelta,
    },
    ContentBlockStop,
    MessageDelta {
        delta: MessageDeltaBody,
        #[serde(default)]
        usage: Option<WireUsage>,
    },
    MessageStop,
    Ping,
    Error {
        error: WireError,
    },
    #[serde(other)]
    Unknown,
}

/// A message as in `message_start` or a non-streamed answer.
#[derive(Debug, Deserialize)]
struct WireMessage {
    #[serde(default)]
    model: Option<String>,
    #[serde(default)]
    content: Vec<WireBlock>,
    #[serde(default)]
    stop_reason: Option<String>,
    #[serde(default)]
    usage: Option<WireUsage>,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireBlock {
    Text {
        #[serde(default)]
        text: String,
    },
    Thinking {
        #[serde(default)]
        thinking: String,
        #[serde(default)]
        signature: Option<String>,
    },
    ToolUse {
        id: String,
        name: String,
        #[serde(default)]
        input: serde_json::Value,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
enum WireDelta {
    TextDelta {
        text: String,
    },
    ThinkingDelta {
        thinking: String,
    },
    SignatureDelta {
        signature: String,
    },
    InputJsonDelta {
        partial_json: String,
    },
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Deserialize)]
struct MessageDeltaBody {
    #[serde(default)]
    stop_reason: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct WireUsage {
    #[serde(default)]
    input_tokens: Option<u64>,
    #[serde(default)]
    output_tokens: Option<u64>,
    #[serde(default)]
    cache_creation_input_tokens: Option<u64>,
    #[serde(default)]
    cache_read_input_tokens: Option<u64>,
}

#[derive(Debug, Deserialize)]
struct WireError {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
}

/// A content block being assembled.
#[derive(Debug)]
enum BlockState {
    Text(String),
    Thinking {
        text: String,
        signature: Option<String>,
    },
    ToolUse {
        id: String,
        name: String,
        /// The `input` of `content_block_start`, used when no JSON fragments follow.
        initial: serde_json::Value,
        json: String,
    },
}

/// Whether the stream is over.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Flow {
    More,
    Done,
}

/// Folds streamed events into a response.
pub(crate) struct StreamAssembler {
    model: String,
    blocks: BTreeMap<usize, BlockState>,
    stop_reason: Option<String>,
    usage: Usage,
}

impl StreamAssembler {
    pub(crate) fn new(requested_model: &str) -> Self {
        Self {
            model: requested_model.to_owned(),
            blocks: BTreeMap::new(),
            stop_reason: None,
            usage: Usage::default(),
        }
    }

    /// Handles the JSON `data` of one event.
    pub(crate) fn on_event(
        &mut self,
        data: &str,
        sink: DeltaSink<'_>,
    ) -> Result<Flow, ProviderError> {
        let event: WireEvent = serde_json::from_str(data)
            .map_err(|e| ProviderError::Protocol(format!("anthropic event: {e}")))?;
        match event {
            WireEvent::MessageStart { message } => {
                if let Some(model) = message.model.filter(|m| !m.is_empty()) {
                    self.model = model;
                }
                if let Some(usage) = message.usage {
                    merge_usage(&mut self.usage, &usage);
                }
            }
            WireEvent::ContentBlockStart {
                index,
                content_block,
            } => self.start_block(index, content_block, sink),
            WireEvent::ContentBlockDelta { index, delta } => self.apply_delta(index, delta, sink),
            WireEvent::MessageDelta { delta, usage } => {
                if delta.stop_reason.is_some() {
                    self.stop_reason = delta.stop_reason;
                }
                if let Some(usage) = usage {
                    merge_usage(&mut self.usage, &usage);
                }
            }
            WireEvent::MessageStop => return Ok(Flow::Done),
            WireEvent::Error { error } => {
                return Err(errors::stream_error(&error.kind, &error.message));
            }
            WireEvent::ContentBlockStop | WireEvent::Ping | WireEvent::Unknown => {}
        }
        Ok(Flow::More)
    }

    /// The assembled response.
    pub(crate) fn finish(self) -> ChatResponse {
        let parts: Vec<ContentPart> = self.blocks.into_values().filter_map(into_part).collect();
        let stop_reason = stop_reason(self.stop_reason.as_deref(), &parts);
        ChatResponse {
            parts,
            stop_reason,
            usage: self.usage,
            model: self.model,
        }
    }

    fn start_block(&mut self, index: usize, block: WireBlock, sink: DeltaSink<'_>) {
        let state = match block {
            WireBlock::Text { text } => {
                if !text.is_empty() {
                    sink(StreamDelta::Text(text.clone()));
                }
                BlockState::Text(text)
            }
            WireBlock::Thinking {
                thinking,
                signature,
            } => {
                if !thinking.is_empty() {
                    sink(StreamDelta::Thinking(thinking.clone()));
                }
                BlockState::Thinking {
                    text: thinking,
                    signature: signature.filter(|s| !s.is_empty()),
                }
            }
            WireBlock::ToolUse { id, name, input } => {
                sink(StreamDelta::ToolCallStarted {
                    id: id.clone(),
                    name: name.clone(),
                });
                BlockState::ToolUse {
                    id,
                    name,
                    initial: input,
                    json: String::new(),
                }
            }
            WireBlock::Unknown => return,
        };
        self.blocks.insert(index, state);
    }

    fn apply_delta(&mut self, index: usize, delta: WireDelta, sink: DeltaSink<'_>) {
        let Some(block) = self.blocks.get_mut(&index) else {
            return;
        };
        match (block, delta) {
            (BlockState::Text(text), WireDelta::TextDelta { text: piece }) => {
                text.push_str(&piece);
                if !piece.is_empty() {
                    sink(StreamDelta::Text(piece));
                }
            }
            (BlockState::Thinking { text, .. }, WireDelta::ThinkingDelta { thinking }) => {
                text.push_str(&thinking);
                if !thinking.is_empty() {
                    sink(StreamDelta::Thinking(thinking));
                }
            }
            (
                BlockState::Thinking { signature, .. },
                WireDelta::SignatureDelta { signature: piece },
            ) => {
                signature.get_or_insert_with(String::new).push_str(&piece);
            }
            (BlockState::ToolUse { json, .. }, WireDelta::InputJsonDelta { partial_json }) => {
                json.push_str(&partial_json);
            }
            _ => {}
        }
    }
}

/// Reads a non-streamed message, reporting its content to the sink as if it had streamed.
pub(crate) fn parse_message(
    body: &str,
    requested_model: &str,
    sink: DeltaSink<'_>,
) -> Result<ChatResponse, ProviderError> {
    let message: WireMessage = serde_json::from_str(body)
        .map_err(|e| ProviderError::Protocol(format!("anthropic message: {e}")))?;
    let mut assembler = StreamAssembler::new(requested_model);
    if let Some(model) = message.model.filter(|m| !m.is_empty()) {
        assembler.model = model;
    }
    if let Some(usage) = message.usage {
        merge_usage(&mut assembler.usage, &usage);
    }
    assembler.stop_reason = message.stop_reason;
    for (index, block) in message.content.into_iter().enumerate() {
        assembler.start_block(index, block, sink);
    }
    Ok(assembler.finish())
}

fn into_part(block: BlockState) -> Option<ContentPart> {
    match block {
        BlockState::Text(text) if text.is_empty() => None,
        BlockState::Text(text) => Some(ContentPart::Text { text }),
        BlockState::Thinking { text, signature } if text.is_empty() && signature.is_none() => None,
        BlockState::Thinking { text, signature } => Some(ContentPart::Thinking { text, signature }),
        BlockState::ToolUse {
            id,
            name,
            initial,
            json,
        } => {
            let arguments = if json.trim().is_empty() {
                match initial {
                    serde_json::Value::Null => serde_json::json!({}),
                    value => value,
                }
            } else {
                serde_json::from_str(&json).unwrap_or_else(|_| serde_json::json!({ "_raw": json }))
            };
            Some(ContentPart::ToolCall(ToolCall {
                id,
                name,
                arguments,
            }))
        }
    }
}

fn stop_reason(wire: Option<&str>, parts: &[ContentPart]) -> StopReason {
    match wire {
        Some("tool_use") => StopReason::ToolUse,
        Some("max_tokens") => StopReason::MaxTokens,
        Some("end_turn" | "stop_sequence") => StopReason::EndTurn,
        Some(other) => StopReason::Other(other.to_owned()),
        None if parts.iter().any(|p| matches!(p, ContentPart::ToolCall(_))) => StopReason::ToolUse,
        None => StopReason::EndTurn,
    }
}

/// Takes every count the event carries; later events carry the final values.
fn merge_usage(usage: &mut Usage, wire: &WireUsage) {
    if let Some(n) = wire.input_tokens.filter(|n| *n > 0) {
        usage.input_tokens = n;
    }
    if let Some(n) = wire.output_tokens {
        usage.output_tokens = n;
    }
    if let Some(n) = wire.cache_creation_input_tokens.filter(|n| *n > 0) {
        usage.cache_creation_tokens = n;
    }
    if let Some(n) = wire.cache_read_input_tokens.filter(|n| *n > 0) {
        usage.cache_read_tokens = n;
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    /// Feeds `data` payloads in order; returns the response (if `message_stop` came) and deltas.
    fn run(
        events: &[&str],
    ) -> (
        Result<Option<ChatResponse>, ProviderError>,
        Vec<StreamDelta>,
    ) {
        let mut deltas = Vec::new();
        let mut sink = |d: StreamDelta| deltas.push(d);
        let mut assembler = StreamAssembler::new("requested");
        let mut outcome = Ok(None);
        for data in events {
            match assembler.on_event(data, &mut sink) {
                Ok(Flow::More) => {}
                Ok(Flow::Done) => {
                    outcome = Ok(Some(assembler.finish()));
                    break;
                }
                Err(e) => {
                    outcome = Err(e);
                    break;
                }
            }
        }
        (outcome, deltas)
    }

    #[test]
    fn assembles_a_documented_tool_use_stream() {
        let (outcome, deltas) = run(&[
            r#"{"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant","content":[],"model":"claude-opus-4-1","stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2,"cache_creation_input_tokens":null,"cache_read_input_tokens":128}}}"#,
            r#"{"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}"#,
            r#"{"type": "ping"}"#,
            r#"{"type":"content_block_delta","index":0,"delta":{"type":"text_delta","text":"Okay"}}"#,
            r#"{"type":"content_block_stop","index":0}"#,
            r#"{"type":"content_block_start","index":1,"content_block":{"type":"tool_use","id":"toolu_01","name":"get_weather","input":{}}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":""}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"{\"location\": \"San Fra"}}"#,
            r#"{"type":"content_block_delta","index":1,"delta":{"type":"input_json_delta","partial_json":"ncisco, CA\"}"}}"#,
            r#"{"type":"content_block_stop","index":1}"#,
            r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_02","name":"broken","input":{}}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"a\": "}}"#,
            r#"{"type":"content_block_delta","index":2,"delta":{"type":"citations_delta","citation":{}}}"#,
            r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#,
            r#"{"type":"message_stop"}"#,
        ]);
        let response = outcome.expect("no error").expect("complete");
        assert_eq!(response.model, "claude-opus-4-1");
        assert_eq!(response.stop_reason, StopReason::ToolUse);
        assert_eq!(
            (response.usage.input_tokens, response.usage.output_tokens),
            (472, 89)
        );
        assert_eq!(response.usage.cache_read_tokens, 128);
        let calls = response.tool_calls();
        assert_eq!(calls[0].arguments, json!({"location": "San Francisco, CA"}));
        assert_eq!(calls[1].arguments, json!({"_raw": "{\"a\": "}));
        assert_eq!(deltas.len(), 3);
    }

    #[test]
    fn stop_reasons_and_errors() {
        let cases = [
            (
                r#"{"type":"message_delta","delta":{"stop_reason":"end_turn"}}"#,
                Ok(StopReason::EndTurn),
            ),
            (
                r#"{"type":"message_delta","delta":{"stop_reason":"stop_sequence"}}"#,
                Ok(StopReason::EndTurn),
            ),
            (
                r#"{"type":"message_delta","delta":{"stop_reason":"max_tokens"}}"#,
                Ok(StopReason::MaxTokens),
            ),
            (
                r#"{"type":"message_delta","delta":{"stop_reason":"refusal"}}"#,
                Ok(StopReason::Other("refusal".into())),
            ),
            (
                r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
                Err(529),
            ),
            (
                r#"{"type":"error","error":{"type":"api_error","message":"boom"}}"#,
                Err(500),
            ),
            ("not json", Err(0)),
        ];
        for (event, expected) in cases {
            let (outcome, _) = run(&[event, r#"{"type":"message_stop"}"#]);
            let got = match outcome {
                Ok(response) => Ok(response.expect("complete").stop_reason),
                Err(ProviderError::Server { status, .. }) => Err(status),
                Err(_) => Err(0),
            };
            assert_eq!(got, expected, "{event}");
        }
    }
}
