//! The Anthropic Messages request body: system blocks with the prompt-cache breakpoint, merged
//! user/assistant turns, tool results as `tool_result` blocks, replayed thinking, and the
//! thinking budget with its `max_tokens` and temperature rules.

use goclaw_core::llm::{ChatMessage, ChatRequest, ChatRole, ContentPart, ToolDefinition};
use serde::Serialize;

/// `max_tokens` sent when the request leaves it at 0.
const DEFAULT_MAX_TOKENS: u32 = 4096;

#[derive(Debug, Serialize)]
pub(crate) struct MessagesRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) max_tokens: u32,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) system: Vec<SystemBlock<'a>>,
    pub(crate) messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) thinking: Option<Thinking>,
    pub(crate) stream: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct SystemBlock<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<CacheControl>,
}

#[derive(Debug, Clone, Copy, Serialize)]
pub(crate) struct CacheControl {
    #[serde(rename = "type")]
    kind: &'static str,
}

const EPHEMERAL: CacheControl = CacheControl { kind: "ephemeral" };

#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    role: &'static str,
    content: Vec<Block<'a>>,
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum Block<'a> {
    Text {
        text: &'a str,
    },
    Thinking {
        thinking: &'a str,
        signature: &'a str,
    },
    ToolUse {
        id: &'a str,
        name: &'a str,
        input: &'a serde_json::Value,
    },
    ToolResult {
        tool_use_id: &'a str,
        content: &'a str,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        is_error: bool,
    },
    Image {
        source: ImageSource<'a>,
    },
}

/// The bytes of an image block, inline.
#[derive(Debug, Serialize)]
pub(crate) struct ImageSource<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    media_type: &'a str,
    data: &'a str,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireTool<'a> {
    name: &'a str,
    description: &'a str,
    input_schema: &'a serde_json::Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    cache_control: Option<CacheControl>,
}

#[derive(Debug, Serialize)]
pub(crate) struct Thinking {
    #[serde(rename = "type")]
    kind: &'static str,
    budget_tokens: u32,
}

/// Builds the body of `POST /messages`.
pub(crate) fn build(request: &ChatRequest, stream: bool) -> MessagesRequest<'_> {
    let mut max_tokens = match request.max_tokens {
        0 => DEFAULT_MAX_TOKENS,
        n => n,
    };
    let mut temperature = request.temperature;
    let thinking = request
        .thinking_budget
        .filter(|budget| *budget > 0)
        .map(|budget| {
            // Thinking counts against max_tokens; leave room for the answer. Anthropic also
            // rejects any temperature but the default while thinking.
            temperature = None;
            if max_tokens < budget.saturating_add(4096) {
                max_tokens = budget.saturating_add(8192);
            }
            Thinking {
                kind: "enabled",
                budget_tokens: budget,
            }
        });
    MessagesRequest {
        model: &request.model,
        max_tokens,
        system: system_blocks(request),
        messages: messages(&request.messages),
        tools: tools(&request.tools),
        temperature,
        thinking,
        stream,
    }
}

fn system_blocks(request: &ChatRequest) -> Vec<SystemBlock<'_>> {
    let parts: Vec<_> = request
        .system
        .iter()
        .filter(|part| !part.text.is_empty())
        .collect();
    let last_cacheable = parts.iter().rposition(|part| part.cacheable);
    parts
        .iter()
        .enumerate()
        .map(|(i, part)| SystemBlock {
            kind: "text",
            text: &part.text,
            cache_control: (Some(i) == last_cacheable).then_some(EPHEMERAL),
        })
        .collect()
}

fn tools(definitions: &[ToolDefinition]) -> Vec<WireTool<'_>> {
    let last = definitions.len().checked_sub(1);
    definitions
        .iter()
        .enumerate()
        .map(|(i, tool)| WireTool {
            name: &tool.name,
            description: &tool.description,
            input_schema: &tool.parameters,
            cache_control: (Some(i) == last).then_some(EPHEMERAL),
        })
        .collect()
}

/// Maps the conversation: tool results travel in user turns, and consecutive turns of one role
/// are merged because the API requires user and assistant to alternate.
fn messages(conversation: &[ChatMessage]) -> Vec<WireMessage<'_>> {
    let mut out: Vec<WireMessage<'_>> = Vec::new();
    for message in conversation {
        let role = match message.role {
            ChatRole::Assistant => "assistant",
            ChatRole::User | ChatRole::Tool => "user",
        };
        let blocks: Vec<Block<'_>> = message.parts.iter().filter_map(block).collect();
        if blocks.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some(last) if last.role == role => last.content.extend(blocks),
            _ => out.push(WireMessage {
                role,
                content: blocks,
            }),
        }
    }
    for message in &mut out {
        // The API wants a user turn's tool results before any text in it.
        message
            .content
            .sort_by_key(|block| !matches!(block, Block::ToolResult { .. }));
    }
    out
}

fn block(part: &ContentPart) -> Option<Block<'_>> {
    match part {
        ContentPart::Text { text } if text.is_empty() => None,
        ContentPart::Text { text } => Some(Block::Text { text }),
        // Thinking is replayed only with its signature: the API rejects unsigned thinking, and
        // thinking produced by another provider has none.
        ContentPart::Thinking { text, signature } => {
            signature.as_deref().map(|signature| Block::Thinking {
                thinking: text,
                signature,
            })
        }
        ContentPart::ToolCall(call) => Some(Block::ToolUse {
            id: &call.id,
            name: &call.name,
            input: &call.arguments,
        }),
        ContentPart::ToolResult {
            call_id,
            content,
            is_error,
        } => Some(Block::ToolResult {
            tool_use_id: call_id,
            content,
            is_error: *is_error,
        }),
        ContentPart::Image { mime_type, data } => Some(Block::Image {
            source: ImageSource {
                kind: "base64",
                media_type: mime_type,
                data,
            },
        }),
    }
}

#[cfg(test)]
mod tests {
    use goclaw_core::llm::{SystemPart, ToolCall};
    use serde_json::{Value, json};

    use super::*;

    #[test]
    fn an_image_becomes_a_base64_image_block() {
        let mut request = request();
        request.messages = vec![ChatMessage {
            role: ChatRole::User,
            parts: vec![
                ContentPart::Text {
                    text: "what is this?".into(),
                },
                ContentPart::Image {
                    mime_type: "image/png".into(),
                    data: "iVBORw0KGgo=".into(),
                },
            ],
        }];
        let body = serde_json::to_value(build(&request, false)).expect("serializes");
        assert_eq!(
            body["messages"][0]["content"][1],
            json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}})
        );
    }

    fn request() -> ChatRequest {
        ChatRequest {
            model: "claude-sonnet-4-5".to_owned(),
            system: Vec::new(),
            messages: vec![ChatMessage::user("hi")],
            tools: Vec::new(),
            max_tokens: 1000,
            temperature: Some(0.5),
            thinking_budget: None,
        }
    }

    fn body(request: &ChatRequest) -> Value {
        serde_json::to_value(build(request, true)).expect("serializable")
    }

    fn part(text: &str, cacheable: bool) -> SystemPart {
        SystemPart {
            text: text.to_owned(),
            cacheable,
        }
    }

    #[test]
    fn cache_breakpoint_goes_on_the_last_cacheable_system_part() {
        let cases: [(&[(&str, bool)], Value); 4] = [
            (
                &[("a", true), ("b", true), ("c", false)],
                json!([null, {"type": "ephemeral"}, null]),
            ),
            (&[("a", false)], json!([null])),
            (&[("a", true)], json!([{"type": "ephemeral"}])),
            (&[("a", true), ("", true)], json!([{"type": "ephemeral"}])),
        ];
        for (parts, expected) in cases {
            let mut request = request();
            request.system = parts.iter().map(|(t, c)| part(t, *c)).collect();
            let body = body(&request);
            let marks: Vec<Value> = body["system"]
                .as_array()
                .expect("system array")
                .iter()
                .map(|block| block.get("cache_control").cloned().unwrap_or(Value::Null))
                .collect();
            assert_eq!(Value::Array(marks), expected, "{parts:?}");
        }
    }

    #[test]
    fn thinking_budget_rules() {
        // (max_tokens, budget) -> (max_tokens sent, thinking sent, temperature sent)
        let cases = [
            (1000, None, 1000, false, true),
            (1000, Some(4096), 12288, true, false),
            (20000, Some(10000), 20000, true, false),
            (14000, Some(10000), 18192, true, false),
            (0, None, 4096, false, true),
            (1000, Some(0), 1000, false, true),
        ];
        for (max, budget, want_max, want_thinking, want_temperature) in cases {
            let mut request = request();
            request.max_tokens = max;
            request.thinking_budget = budget;
            let body = body(&request);
            assert_eq!(body["max_tokens"], json!(want_max), "{max} {budget:?}");
            assert_eq!(
                body.get("thinking").is_some(),
                want_thinking,
                "{max} {budget:?}"
            );
            assert_eq!(
                body.get("temperature").is_some(),
                want_temperature,
                "{max} {budget:?}"
            );
            if let Some(budget) = budget.filter(|b| *b > 0) {
                assert_eq!(
                    body["thinking"],
                    json!({"type": "enabled", "budget_tokens": budget})
                );
            }
        }
    }

    #[test]
    fn conversation_mapping() {
        let mut request = request();
        request.messages = vec![
            ChatMessage::user("one"),
            ChatMessage::user("two"),
            ChatMessage {
                role: ChatRole::Assistant,
                parts: vec![
                    ContentPart::Thinking {
                        text: "hmm".into(),
                        signature: Some("sig".into()),
                    },
                    ContentPart::Thinking {
                        text: "unsigned".into(),
                        signature: None,
                    },
                    ContentPart::Text { text: "".into() },
                    ContentPart::ToolCall(ToolCall {
                        id: "t1".into(),
                        name: "read".into(),
                        arguments: json!({"path": "a"}),
                    }),
                ],
            },
            ChatMessage {
                role: ChatRole::Tool,
                parts: vec![ContentPart::ToolResult {
                    call_id: "t1".into(),
                    content: "denied".into(),
                    is_error: true,
                }],
            },
            ChatMessage::user("and?"),
        ];
        let expected = json!([
            {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text", "text": "two"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "hmm", "signature": "sig"},
                {"type": "tool_use", "id": "t1", "name": "read", "input": {"path": "a"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "denied", "is_error": true},
                {"type": "text", "text": "and?"}
            ]}
        ]);
        assert_eq!(body(&request)["messages"], expected);
    }
}
