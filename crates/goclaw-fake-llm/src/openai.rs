//! The OpenAI Chat Completions wire format of a reply: `data:` chunks ending in `data: [DONE]`
//! (with the usage chunk when the request asked for `stream_options.include_usage`), and the
//! non-streamed completion.

use serde_json::{Value, json};

use crate::frame::{Frame, FrameKind};
use crate::reply::{Finish, Output, argument_fragments};

/// Fixed creation time of every fake completion.
const CREATED: u64 = 1_750_000_000;

/// The chunks of a streamed answer, in order.
pub(crate) fn stream_frames(
    output: &Output,
    model: &str,
    id: &str,
    include_usage: bool,
) -> Vec<Frame> {
    let chunk = |kind: FrameKind, delta: Value, finish: Value| {
        let mut body = json!({
            "id": id, "object": "chat.completion.chunk", "created": CREATED, "model": model,
            "system_fingerprint": "fp_fake",
            "choices": [{"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish}]
        });
        if include_usage {
            body["usage"] = Value::Null;
        }
        data(kind, &body)
    };
    let mut frames = vec![chunk(
        FrameKind::Meta,
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    for piece in &output.thinking {
        frames.push(chunk(
            FrameKind::Content,
            json!({"reasoning_content": piece}),
            Value::Null,
        ));
    }
    for piece in &output.text {
        frames.push(chunk(
            FrameKind::Content,
            json!({"content": piece}),
            Value::Null,
        ));
    }
    for (index, call) in output.tool_calls.iter().enumerate() {
        frames.push(chunk(
            FrameKind::Content,
            json!({"tool_calls": [{
                "index": index, "id": call.id, "type": "function",
                "function": {"name": call.name, "arguments": ""}
            }]}),
            Value::Null,
        ));
        for fragment in argument_fragments(call) {
            frames.push(chunk(
                FrameKind::Content,
                json!({"tool_calls": [{"index": index, "function": {"arguments": fragment}}]}),
                Value::Null,
            ));
        }
    }
    frames.push(chunk(
        FrameKind::Terminal,
        json!({}),
        json!(finish_reason(output.finish())),
    ));
    if include_usage {
        frames.push(data(
            FrameKind::Terminal,
            &json!({
                "id": id, "object": "chat.completion.chunk", "created": CREATED, "model": model,
                "system_fingerprint": "fp_fake", "choices": [], "usage": usage(output)
            }),
        ));
    }
    frames.push(Frame {
        kind: FrameKind::Terminal,
        text: "data: [DONE]\n\n".to_owned(),
    });
    frames
}

/// The error chunk some OpenAI-compatible servers send in the middle of a stream.
pub(crate) fn error_frame(kind: &str, message: &str) -> Frame {
    data(
        FrameKind::Terminal,
        &json!({"error": {"message": message, "type": kind, "code": null}}),
    )
}

/// The non-streamed completion.
pub(crate) fn completion_json(output: &Output, model: &str, id: &str) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": if output.text.is_empty() { Value::Null } else { json!(output.full_text()) },
    });
    if !output.thinking.is_empty() {
        message["reasoning_content"] = json!(output.full_thinking());
    }
    if !output.tool_calls.is_empty() {
        message["tool_calls"] = output
            .tool_calls
            .iter()
            .map(|call| {
                json!({
                    "id": call.id, "type": "function",
                    "function": {"name": call.name, "arguments": call.arguments.to_string()}
                })
            })
            .collect();
    }
    json!({
        "id": id, "object": "chat.completion", "created": CREATED, "model": model,
        "system_fingerprint": "fp_fake",
        "choices": [{
            "index": 0, "message": message, "logprobs": null,
            "finish_reason": finish_reason(output.finish())
        }],
        "usage": usage(output)
    })
}

fn usage(output: &Output) -> Value {
    let prompt = output.input_tokens() + output.usage.cache_read;
    let completion = output.output_tokens();
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": output.usage.cache_read},
        "completion_tokens_details": {"reasoning_tokens": 0}
    })
}

fn finish_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::EndTurn => "stop",
        Finish::ToolUse => "tool_calls",
        Finish::MaxTokens => "length",
    }
}

fn data(kind: FrameKind, body: &Value) -> Frame {
    Frame {
        kind,
        text: format!("data: {body}\n\n"),
    }
}
