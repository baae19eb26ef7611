//! The Chat Completions request body: one system message, assistant tool calls with their
//! arguments as a JSON string, tool results as `role: tool` messages, and the reasoning knobs
//! of the models that have them.

use goclaw_core::llm::{ChatMessage, ChatRequest, ChatRole, ContentPart, ToolCall};
use serde::Serialize;

#[derive(Debug, Serialize)]
pub(crate) struct CompletionsRequest<'a> {
    pub(crate) model: &'a str,
    pub(crate) messages: Vec<WireMessage<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub(crate) tools: Vec<WireTool<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) max_completion_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) reasoning_effort: Option<&'static str>,
    pub(crate) stream: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) stream_options: Option<StreamOptions>,
}

#[derive(Debug, Serialize)]
pub(crate) struct StreamOptions {
    include_usage: bool,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireMessage<'a> {
    role: &'static str,
    /// `null` for an assistant turn that only calls tools.
    content: Option<WireContent>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<WireToolCall<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<&'a str>,
}

/// A message's content: plain text, or parts when a user message carries images.
#[derive(Debug, Serialize)]
#[serde(untagged)]
pub(crate) enum WireContent {
    Text(String),
    Parts(Vec<WirePart>),
}

#[derive(Debug, Serialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum WirePart {
    Text { text: String },
    ImageUrl { image_url: ImageUrl },
}

/// An image inline, as a `data:` URL.
#[derive(Debug, Serialize)]
pub(crate) struct ImageUrl {
    url: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireToolCall<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunctionCall<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireFunctionCall<'a> {
    name: &'a str,
    arguments: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireTool<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    function: WireFunction<'a>,
}

#[derive(Debug, Serialize)]
pub(crate) struct WireFunction<'a> {
    name: &'a str,
    description: &'a str,
    parameters: &'a serde_json::Value,
}

/// Builds the body of `POST /chat/completions`. `reasoning_effort` says whether the endpoint
/// understands the `reasoning_effort` parameter.
pub(crate) fn build(
    request: &ChatRequest,
    stream: bool,
    reasoning_effort: bool,
) -> CompletionsRequest<'_> {
    let reasoning_model = is_openai_reasoning_model(&request.model);
    let max = (request.max_tokens > 0).then_some(request.max_tokens);
    let thinking = request.thinking_budget.filter(|budget| *budget > 0);
    CompletionsRequest {
        model: &request.model,
        messages: messages(request),
        tools: request
            .tools
            .iter()
            .map(|tool| WireTool {
                kind: "function",
                function: WireFunction {
                    name: &tool.name,
                    description: &tool.description,
                    parameters: &tool.parameters,
                },
            })
            .collect(),
        // OpenAI's reasoning models refuse `max_tokens` and any non-default temperature.
        max_tokens: max.filter(|_| !reasoning_model),
        max_completion_tokens: max.filter(|_| reasoning_model),
        temperature: request.temperature.filter(|_| !reasoning_model),
        reasoning_effort: thinking
            .filter(|_| reasoning_effort && !is_openai_classic_model(&request.model))
            .map(effort_for_budget),
        stream,
        stream_options: stream.then_some(StreamOptions {
            include_usage: true,
        }),
    }
}

/// The effort level closest to a thinking budget (GoClaw's levels: 4096 / 10000 / 32000).
fn effort_for_budget(budget: u32) -> &'static str {
    match budget {
        0..=4096 => "low",
        4097..=16000 => "medium",
        _ => "high",
    }
}

/// o-series and GPT-5 models, named as OpenAI names them (no router prefix).
fn is_openai_reasoning_model(model: &str) -> bool {
    ["o1", "o3", "o4", "gpt-5"]
        .iter()
        .any(|prefix| model.starts_with(prefix))
}

/// OpenAI models without reasoning, which reject `reasoning_effort`.
fn is_openai_classic_model(model: &str) -> bool {
    let base = model.rsplit('/').next().unwrap_or(model);
    base.starts_with("gpt-4") || base.starts_with("gpt-3")
}

fn messages(request: &ChatRequest) -> Vec<WireMessage<'_>> {
    let mut out = Vec::with_capacity(request.messages.len() + 1);
    let system: Vec<&str> = request
        .system
        .iter()
        .map(|part| part.text.as_str())
        .filter(|text| !text.is_empty())
        .collect();
    if !system.is_empty() {
        out.push(text_message("system", system.join("\n\n")));
    }
    for message in &request.messages {
        push_message(&mut out, message);
    }
    out
}

fn push_message<'a>(out: &mut Vec<WireMessage<'a>>, message: &'a ChatMessage) {
    // Tool results become `tool` messages wherever they appear, ahead of any text.
    for part in &message.parts {
        if let ContentPart::ToolResult {
            call_id, content, ..
        } = part
        {
            out.push(WireMessage {
                role: "tool",
                content: Some(WireContent::Text(content.clone())),
                tool_calls: Vec::new(),
                tool_call_id: Some(call_id),
            });
        }
    }
    let text = joined_text(message);
    match message.role {
        ChatRole::Assistant => {
            let tool_calls: Vec<WireToolCall<'a>> = message
                .parts
                .iter()
                .filter_map(|part| match part {
                    ContentPart::ToolCall(call) => Some(wire_tool_call(call)),
                    _ => None,
                })
                .collect();
            if text.is_empty() && tool_calls.is_empty() {
                return;
            }
            out.push(WireMessage {
                role: "assistant",
                content: (!text.is_empty()).then_some(WireContent::Text(text)),
                tool_calls,
                tool_call_id: None,
            });
        }
        ChatRole::User | ChatRole::Tool => {
            let images: Vec<WirePart> = message
                .parts
                .iter()
                .filter_map(|part| match part {
                    ContentPart::Image { mime_type, data } => Some(WirePart::ImageUrl {
                        image_url: ImageUrl {
                            url: format!("data:{mime_type};base64,{data}"),
                        },
                    }),
                    _ => None,
                })
                .collect();
            if !images.is_empty() {
                let mut parts = Vec::with_capacity(images.len() + 1);
                if !text.is_empty() {
                    parts.push(WirePart::Text { text });
                }
                parts.extend(images);
                out.push(WireMessage {
                    role: "user",
                    content: Some(WireContent::Parts(parts)),
                    tool_calls: Vec::new(),
                    tool_call_id: None,
                });
            } else if !text.is_empty() {
                out.push(text_message("user", text));
            }
        }
    }
}

fn wire_tool_call(call: &ToolCall) -> WireToolCall<'_> {
    // Arguments the model sent unparsable go back exactly as it wrote them.
    let raw = call
        .arguments
        .as_object()
        .filter(|object| object.len() == 1)
        .and_then(|object| object.get("_raw"))
        .and_then(|raw| raw.as_str());
    let arguments = match raw {
        Some(raw) => raw.to_owned(),
        None => call.arguments.to_string(),
    };
    WireToolCall {
        id: &call.id,
        kind: "function",
        function: WireFunctionCall {
            name: &call.name,
            arguments,
        },
    }
}

fn joined_text(message: &ChatMessage) -> String {
    let texts: Vec<&str> = message
        .parts
        .iter()
        .filter_map(|part| match part {
            ContentPart::Text { text } if !text.is_empty() => Some(text.as_str()),
            _ => None,
        })
        .collect();
    texts.join("\n")
}

fn text_message<'a>(role: &'static str, text: String) -> WireMessage<'a> {
    WireMessage {
        role,
        content: Some(WireContent::Text(text)),
        tool_calls: Vec::new(),
        tool_call_id: None,
    }
}

#[cfg(test)]
mod tests {
    use goclaw_core::llm::SystemPart;
    use serde_json::{Value, json};

    #[test]
    fn a_user_image_becomes_an_image_url_part() {
        let request = ChatRequest {
            model: "gpt-4o".into(),
            system: Vec::new(),
            messages: vec![ChatMessage {
                role: ChatRole::User,
                parts: vec![
                    ContentPart::Text {
                        text: "what is this?".into(),
                    },
                    ContentPart::Image {
                        mime_type: "image/jpeg".into(),
                        data: "/9j/4AAQ".into(),
                    },
                ],
            }],
            tools: Vec::new(),
            max_tokens: 0,
            temperature: None,
            thinking_budget: None,
        };
        let body = serde_json::to_value(super::build(&request, false, false)).expect("json");
        assert_eq!(
            body["messages"][0]["content"],
            json!([
                {"type": "text", "text": "what is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/jpeg;base64,/9j/4AAQ"}}
            ])
        );
    }

    use super::*;

    fn request(model: &str) -> ChatRequest {
        ChatRequest {
            model: model.to_owned(),
            system: vec![
                SystemPart {
                    text: "stable".into(),
                    cacheable: true,
                },
                SystemPart {
                    text: "dynamic".into(),
                    cacheable: false,
                },
            ],
            messages: vec![ChatMessage::user("hi")],
            tools: Vec::new(),
            max_tokens: 500,
            temperature: Some(0.2),
            thinking_budget: Some(10000),
        }
    }

    fn check(model: &str, reasoning_effort: bool, expected: Value) {
        let body = serde_json::to_value(build(&request(model), true, reasoning_effort))
            .expect("serializable");
        for (key, want) in expected.as_object().expect("object") {
            assert_eq!(body.get(key).unwrap_or(&Value::Null), want, "{model} {key}");
        }
    }

    #[test]
    fn model_families_get_their_parameters() {
        check(
            "gpt-4o",
            true,
            json!({"max_tokens": 500, "max_completion_tokens": null, "temperature": 0.2f32, "reasoning_effort": null}),
        );
        check(
            "o3-mini",
            true,
            json!({"max_tokens": null, "max_completion_tokens": 500, "temperature": null, "reasoning_effort": "medium"}),
        );
        check(
            "gpt-5",
            false,
            json!({"max_completion_tokens": 500, "reasoning_effort": null}),
        );
        check(
            "gemini-2.5-pro",
            true,
            json!({"max_tokens": 500, "reasoning_effort": "medium"}),
        );
        check(
            "deepseek-chat",
            false,
            json!({"max_tokens": 500, "temperature": 0.2f32, "reasoning_effort": null}),
        );
        check("openai/gpt-4o", true, json!({"reasoning_effort": null}));
        check(
            "llama3.3",
            false,
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        );
    }

    #[test]
    fn effort_levels() {
        for (budget, want) in [
            (1, "low"),
            (4096, "low"),
            (10000, "medium"),
            (32000, "high"),
        ] {
            assert_eq!(effort_for_budget(budget), want, "{budget}");
        }
    }

    #[test]
    fn conversation_mapping() {
        let mut request = request("gpt-4o");
        request.messages = vec![
            ChatMessage::user("list"),
            ChatMessage {
                role: ChatRole::Assistant,
                parts: vec![
                    ContentPart::Thinking {
                        text: "hmm".into(),
                        signature: None,
                    },
                    ContentPart::ToolCall(ToolCall {
                        id: "c1".into(),
                        name: "ls".into(),
                        arguments: json!({"dir": "."}),
                    }),
                    ContentPart::ToolCall(ToolCall {
                        id: "c2".into(),
                        name: "ls".into(),
                        arguments: json!({"_raw": "{bad"}),
                    }),
                ],
            },
            ChatMessage {
                role: ChatRole::Tool,
                parts: vec![
                    ContentPart::ToolResult {
                        call_id: "c1".into(),
                        content: "a.txt".into(),
                        is_error: false,
                    },
                    ContentPart::ToolResult {
                        call_id: "c2".into(),
                        content: "bad args".into(),
                        is_error: true,
                    },
                ],
            },
        ];
        let body = serde_json::to_value(build(&request, false, false)).expect("serializable");
        let expected = json!([
            {"role": "system", "content": "stable\n\ndynamic"},
            {"role": "user", "content": "list"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "ls", "arguments": "{\"dir\":\".\"}"}},
                {"id": "c2", "type": "function", "function": {"name": "ls", "arguments": "{bad"}}
            ]},
            {"role": "tool", "content": "a.txt", "tool_call_id": "c1"},
            {"role": "tool", "content": "bad args", "tool_call_id": "c2"}
        ]);
        assert_eq!(body["messages"], expected);
        assert_eq!(body["stream"], json!(false));
        assert!(body.get("stream_options").is_none());
    }
}
