//! The Anthropic Messages wire format of a reply: the server-sent events exactly as the API
//! emits them (`event:` and `data:` lines), and the non-streamed message.

use serde_json::{Value, json};

use crate::frame::{Frame, FrameKind};
use crate::reply::{Finish, Output, argument_fragments};

/// The events of a streamed answer, in order.
pub(crate) fn stream_frames(output: &Output, model: &str, id: &str) -> Vec<Frame> {
    let mut frames = vec![
        event(
            FrameKind::Meta,
            "message_start",
            json!({
                "type": "message_start",
                "message": {
                    "id": id, "type": "message", "role": "assistant", "model": model,
                    "content": [], "stop_reason": null, "stop_sequence": null,
                    "usage": {
                        "input_tokens": output.input_tokens(),
                        "cache_creation_input_tokens": output.usage.cache_creation,
                        "cache_read_input_tokens": output.usage.cache_read,
                        "output_tokens": 1
                    }
                }
            }),
        ),
        event(FrameKind::Meta, "ping", json!({"type": "ping"})),
    ];
    let mut index = 0;
    if !output.thinking.is_empty() {
        frames.push(block_start(
            index,
            json!({"type": "thinking", "thinking": "", "signature": ""}),
        ));
        for piece in &output.thinking {
            frames.push(block_delta(
                FrameKind::Content,
                index,
                json!({"type": "thinking_delta", "thinking": piece}),
            ));
        }
        if let Some(signature) = &output.signature {
            frames.push(block_delta(
                FrameKind::Meta,
                index,
                json!({"type": "signature_delta", "signature": signature}),
            ));
        }
        frames.push(block_stop(index));
        index += 1;
    }
    if !output.text.is_empty() {
        frames.push(block_start(index, json!({"type": "text", "text": ""})));
        for piece in &output.text {
            frames.push(block_delta(
                FrameKind::Content,
                index,
                json!({"type": "text_delta", "text": piece}),
            ));
        }
        frames.push(block_stop(index));
        index += 1;
    }
    for call in &output.tool_calls {
        let mut start = block_start(
            index,
            json!({"type": "tool_use", "id": call.id, "name": call.name, "input": {}}),
        );
        start.kind = FrameKind::Content;
        frames.push(start);
        for fragment in argument_fragments(call) {
            frames.push(block_delta(
                FrameKind::Content,
                index,
                json!({"type": "input_json_delta", "partial_json": fragment}),
            ));
        }
        frames.push(block_stop(index));
        index += 1;
    }
    frames.push(event(
        FrameKind::Terminal,
        "message_delta",
        json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(output.finish()), "stop_sequence": null},
            "usage": {"output_tokens": output.output_tokens()}
        }),
    ));
    frames.push(event(
        FrameKind::Terminal,
        "message_stop",
        json!({"type": "message_stop"}),
    ));
    frames
}

/// The error event sent in the middle of a stream.
pub(crate) fn error_frame(kind: &str, message: &str) -> Frame {
    event(
        FrameKind::Terminal,
        "error",
        json!({"type": "error", "error": {"type": kind, "message": message}}),
    )
}

/// The non-streamed message.
pub(crate) fn message_json(output: &Output, model: &str, id: &str) -> Value {
    let mut content = Vec::new();
    if !output.thinking.is_empty() {
        content.push(json!({
            "type": "thinking",
            "thinking": output.full_thinking(),
            "signature": output.signature.clone().unwrap_or_default()
        }));
    }
    if !output.text.is_empty() {
        content.push(json!({"type": "text", "text": output.full_text()}));
    }
    for call in &output.tool_calls {
        content.push(
            json!({"type": "tool_use", "id": call.id, "name": call.name, "input": call.arguments}),
        );
    }
    json!({
        "id": id, "type": "message", "role": "assistant", "model": model,
        "content": content,
        "stop_reason": stop_reason(output.finish()),
        "stop_sequence": null,
        "usage": {
            "input_tokens": output.input_tokens(),
            "output_tokens": output.output_tokens(),
            "cache_creation_input_tokens": output.usage.cache_creation,
            "cache_read_input_tokens": output.usage.cache_read
        }
    })
}

fn stop_reason(finish: Finish) -> &'static str {
    match finish {
        Finish::EndTurn => "end_turn",
        Finish::ToolUse => "tool_use",
        Finish::MaxTokens => "max_tokens",
    }
}

fn event(kind: FrameKind, name: &str, data: Value) -> Frame {
    Frame {
        kind,
        text: format!("event: {name}\ndata: {data}\n\n"),
    }
}

fn block_start(index: usize, block: Value) -> Frame {
    event(
        FrameKind::Meta,
        "content_block_start",
        json!({"type": "content_block_start", "index": index, "content_block": block}),
    )
}

fn block_delta(kind: FrameKind, index: usize, delta: Value) -> Frame {
    event(
        kind,
        "content_block_delta",
        json!({"type": "content_block_delta", "index": index, "delta": delta}),
    )
}

fn block_stop(index: usize) -> Frame {
    event(
        FrameKind::Meta,
        "content_block_stop",
        json!({"type": "content_block_stop", "index": index}),
    )
}
