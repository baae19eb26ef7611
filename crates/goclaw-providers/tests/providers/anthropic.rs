//! The Anthropic client against the fake: stream assembly (text, thinking, signature, tool
//! input JSON, usage with cache tokens), the request it sends, and the one-shot path.

use goclaw_core::llm::{
    ChatMessage, ChatRole, ContentPart, ProviderError, StopReason, StreamDelta, SystemPart,
    ToolCall, ToolDefinition, Usage,
};
use goclaw_fake_llm::{FakeLlm, Finish, Reply};
use serde_json::json;

use crate::support::{ANTHROPIC_KEY, anthropic, chat, request, texts};

#[tokio::test]
async fn streams_thinking_text_and_tool_use_with_usage() {
    let fake = FakeLlm::start().await;
    fake.push(
        Reply::text_with_thinking("let me think", "Hello there friend")
            .with_signature("sig-123")
            .with_tool_call(
                "toolu_1",
                "read_file",
                json!({"path": "a.txt", "limit": 10}),
            )
            .usage(100, 42)
            .cache_tokens(7, 900),
    );
    let (result, deltas) = chat(&anthropic(&fake), &request("claude-sonnet-4-5")).await;
    let response = result.expect("stream succeeds");

    assert_eq!(
        response.parts,
        vec![
            ContentPart::Thinking {
                text: "let me think".into(),
                signature: Some("sig-123".into())
            },
            ContentPart::Text {
                text: "Hello there friend".into()
            },
            ContentPart::ToolCall(ToolCall {
                id: "toolu_1".into(),
                name: "read_file".into(),
                arguments: json!({"path": "a.txt", "limit": 10}),
            }),
        ]
    );
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(
        response.usage,
        Usage {
            input_tokens: 100,
            output_tokens: 42,
            cache_creation_tokens: 7,
            cache_read_tokens: 900,
            thinking_tokens: 0,
        }
    );
    assert_eq!(response.model, "claude-sonnet-4-5");
    assert_eq!(
        deltas,
        vec![
            StreamDelta::Thinking("let ".into()),
            StreamDelta::Thinking("me ".into()),
            StreamDelta::Thinking("think".into()),
            StreamDelta::Text("Hello ".into()),
            StreamDelta::Text("there ".into()),
            StreamDelta::Text("friend".into()),
            StreamDelta::ToolCallStarted {
                id: "toolu_1".into(),
                name: "read_file".into()
            },
        ]
    );
}

#[tokio::test]
async fn stop_reasons_and_tool_inputs() {
    let fake = FakeLlm::start().await;
    let cases = [
        (Reply::text("done"), StopReason::EndTurn, None),
        (
            Reply::text("cut").finish(Finish::MaxTokens),
            StopReason::MaxTokens,
            None,
        ),
        (
            Reply::tool_call("t1", "now", json!({})),
            StopReason::ToolUse,
            Some(json!({})),
        ),
        (
            Reply::tool_call(
                "t2",
                "write",
                json!({"text": "ünïcödé \"quoted\"", "n": [1, 2]}),
            ),
            StopReason::ToolUse,
            Some(json!({"text": "ünïcödé \"quoted\"", "n": [1, 2]})),
        ),
    ];
    for (reply, stop, arguments) in cases {
        fake.push(reply);
        let (result, _) = chat(&anthropic(&fake), &request("claude-haiku-4-5")).await;
        let response = result.expect("stream succeeds");
        assert_eq!(response.stop_reason, stop);
        assert_eq!(
            response.tool_calls().first().map(|c| c.arguments.clone()),
            arguments
        );
    }
}

#[tokio::test]
async fn sends_headers_cache_breakpoints_and_tool_results() {
    let fake = FakeLlm::start().await;
    let mut request = request("claude-sonnet-4-5");
    request.temperature = Some(0.3);
    request.system = vec![
        SystemPart {
            text: "identity".into(),
            cacheable: true,
        },
        SystemPart {
            text: "tools and context".into(),
            cacheable: true,
        },
        SystemPart {
            text: "time: now".into(),
            cacheable: false,
        },
    ];
    request.tools = ["read", "write"]
        .map(|name| ToolDefinition {
            name: name.into(),
            description: format!("{name} a file"),
            parameters: json!({"type": "object", "properties": {}}),
        })
        .to_vec();
    request.messages = vec![
        ChatMessage::user("read a.txt"),
        ChatMessage {
            role: ChatRole::Assistant,
            parts: vec![
                ContentPart::Thinking {
                    text: "I should read".into(),
                    signature: Some("sig-old".into()),
                },
                ContentPart::ToolCall(ToolCall {
                    id: "t1".into(),
                    name: "read".into(),
                    arguments: json!({"path": "a.txt"}),
                }),
            ],
        },
        ChatMessage {
            role: ChatRole::Tool,
            parts: vec![ContentPart::ToolResult {
                call_id: "t1".into(),
                content: "no such file".into(),
                is_error: true,
            }],
        },
    ];
    chat(&anthropic(&fake), &request)
        .await
        .0
        .expect("call succeeds");

    let recorded = fake.requests().pop().expect("one request");
    assert_eq!(recorded.path, "/v1/messages");
    assert_eq!(recorded.header("x-api-key"), Some(ANTHROPIC_KEY));
    assert_eq!(recorded.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(recorded.header("anthropic-beta"), None);
    assert_eq!(recorded.header("content-type"), Some("application/json"));
    let body = recorded.body;
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["max_tokens"], json!(1024));
    assert_eq!(body["temperature"], json!(0.3));
    assert_eq!(
        body["system"],
        json!([
            {"type": "text", "text": "identity"},
            {"type": "text", "text": "tools and context", "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "time: now"}
        ])
    );
    assert_eq!(body["tools"][0].get("cache_control"), None);
    assert_eq!(
        body["tools"][1]["cache_control"],
        json!({"type": "ephemeral"})
    );
    assert_eq!(
        body["tools"][1]["input_schema"],
        json!({"type": "object", "properties": {}})
    );
    assert_eq!(
        body["messages"],
        json!([
            {"role": "user", "content": [{"type": "text", "text": "read a.txt"}]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "I should read", "signature": "sig-old"},
                {"type": "tool_use", "id": "t1", "name": "read", "input": {"path": "a.txt"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "t1", "content": "no such file", "is_error": true}
            ]}
        ])
    );
}

#[tokio::test]
async fn thinking_budget_sets_beta_header_and_raises_max_tokens() {
    let fake = FakeLlm::start().await;
    let mut request = request("claude-opus-4-1");
    request.temperature = Some(0.7);
    request.thinking_budget = Some(10_000);
    request.max_tokens = 8192;
    chat(&anthropic(&fake), &request)
        .await
        .0
        .expect("call succeeds");

    let recorded = fake.requests().pop().expect("one request");
    assert_eq!(
        recorded.header("anthropic-beta"),
        Some("interleaved-thinking-2025-05-14")
    );
    assert_eq!(
        recorded.body["thinking"],
        json!({"type": "enabled", "budget_tokens": 10000})
    );
    assert_eq!(recorded.body["max_tokens"], json!(18192));
    assert_eq!(recorded.body.get("temperature"), None);
}

#[tokio::test]
async fn one_shot_messages_are_read_like_streams() {
    let fake = FakeLlm::start().await;
    fake.push(
        Reply::text_with_thinking("hmm", "All done")
            .with_tool_call("toolu_9", "exec", json!({"cmd": "ls"}))
            .usage(12, 5)
            .cache_tokens(0, 3),
    );
    let provider = anthropic(&fake).with_streaming(false);
    let (result, deltas) = chat(&provider, &request("claude-sonnet-4-5")).await;
    let response = result.expect("one-shot call succeeds");

    assert_eq!(fake.requests()[0].body["stream"], json!(false));
    assert_eq!(response.text(), "All done");
    assert_eq!(response.tool_calls()[0].arguments, json!({"cmd": "ls"}));
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(
        (
            response.usage.input_tokens,
            response.usage.output_tokens,
            response.usage.cache_read_tokens
        ),
        (12, 5, 3)
    );
    assert!(matches!(
        &response.parts[0],
        ContentPart::Thinking {
            signature: Some(_),
            ..
        }
    ));
    assert_eq!(texts(&deltas), ["All done"]);
}

#[tokio::test]
async fn overloaded_error_event_mid_stream_is_a_529() {
    let fake = FakeLlm::start().await;
    fake.push(Reply::text("a b c").error_event_after(1, "overloaded_error", "Overloaded"));
    let (result, deltas) = chat(&anthropic(&fake), &request("claude-sonnet-4-5")).await;
    assert!(
        matches!(result, Err(ProviderError::Server { status: 529, .. })),
        "{result:?}"
    );
    assert_eq!(texts(&deltas), ["a "]);
}
