//! The OpenAI-compatible client against the fake: text and reasoning streams, tool calls built
//! from argument fragments, usage from the `include_usage` chunk, the request it sends, and the
//! one-shot path.

use goclaw_core::llm::{
    ChatMessage, ChatRole, ContentPart, ProviderError, StopReason, StreamDelta, SystemPart,
    ToolCall, ToolDefinition,
};
use goclaw_fake_llm::{FakeLlm, Finish, Reply};
use goclaw_providers::OpenAiCompatProvider;
use serde_json::json;

use crate::support::{OPENAI_KEY, chat, openai, request, texts};

#[tokio::test]
async fn streams_text_with_usage() {
    let fake = FakeLlm::start().await;
    fake.push(
        Reply::text("The quick brown fox")
            .usage(50, 4)
            .cache_tokens(0, 30),
    );
    let (result, deltas) = chat(&openai(&fake), &request("gpt-4o")).await;
    let response = result.expect("stream succeeds");

    assert_eq!(texts(&deltas), ["The ", "quick ", "brown ", "fox"]);
    assert_eq!(response.text(), "The quick brown fox");
    assert_eq!(response.stop_reason, StopReason::EndTurn);
    // OpenAI counts cached tokens inside prompt_tokens; the fake reports 50 fresh + 30 cached.
    assert_eq!(response.usage.input_tokens, 80);
    assert_eq!(response.usage.output_tokens, 4);
    assert_eq!(response.usage.cache_read_tokens, 30);
    assert_eq!(response.model, "gpt-4o");
}

#[tokio::test]
async fn assembles_tool_calls_from_fragments() {
    let fake = FakeLlm::start().await;
    fake.push(
        Reply::text("Let me look.")
            .with_tool_call(
                "call_a",
                "read_file",
                json!({"path": "/tmp/a.txt", "lines": [1, 20]}),
            )
            .with_tool_call("call_b", "list_dir", json!({"dir": "."})),
    );
    let (result, deltas) = chat(&openai(&fake), &request("gpt-4o")).await;
    let response = result.expect("stream succeeds");

    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(
        response.tool_calls(),
        vec![
            ToolCall {
                id: "call_a".into(),
                name: "read_file".into(),
                arguments: json!({"path": "/tmp/a.txt", "lines": [1, 20]})
            },
            ToolCall {
                id: "call_b".into(),
                name: "list_dir".into(),
                arguments: json!({"dir": "."})
            },
        ]
    );
    let started: Vec<_> = deltas
        .iter()
        .filter(|d| matches!(d, StreamDelta::ToolCallStarted { .. }))
        .collect();
    assert_eq!(
        started,
        [
            &StreamDelta::ToolCallStarted {
                id: "call_a".into(),
                name: "read_file".into()
            },
            &StreamDelta::ToolCallStarted {
                id: "call_b".into(),
                name: "list_dir".into()
            },
        ]
    );
}

#[tokio::test]
async fn reasoning_content_becomes_thinking() {
    let fake = FakeLlm::start().await;
    fake.push(Reply::text_with_thinking("first think", "then answer"));
    let (result, deltas) = chat(&openai(&fake), &request("deepseek-reasoner")).await;
    let response = result.expect("stream succeeds");

    assert_eq!(
        response.parts,
        vec![
            ContentPart::Thinking {
                text: "first think".into(),
                signature: None
            },
            ContentPart::Text {
                text: "then answer".into()
            },
        ]
    );
    assert_eq!(deltas[0], StreamDelta::Thinking("first ".into()));
}

#[tokio::test]
async fn finish_reasons() {
    let fake = FakeLlm::start().await;
    let cases = [
        (Reply::text("x"), StopReason::EndTurn),
        (
            Reply::text("x").finish(Finish::MaxTokens),
            StopReason::MaxTokens,
        ),
        (Reply::tool_call("c", "t", json!({})), StopReason::ToolUse),
    ];
    for (reply, expected) in cases {
        fake.push(reply);
        let (result, _) = chat(&openai(&fake), &request("gpt-4o")).await;
        assert_eq!(result.expect("stream succeeds").stop_reason, expected);
    }
}

#[tokio::test]
async fn sends_stream_options_tools_and_tool_messages() {
    let fake = FakeLlm::start().await;
    let mut request = request("gpt-4o");
    request.temperature = Some(0.5);
    request.system = vec![
        SystemPart {
            text: "You are helpful.".into(),
            cacheable: true,
        },
        SystemPart {
            text: "Today is Monday.".into(),
            cacheable: false,
        },
    ];
    request.tools = vec![ToolDefinition {
        name: "read_file".into(),
        description: "Reads a file".into(),
        parameters: json!({"type": "object", "properties": {"path": {"type": "string"}}}),
    }];
    request.messages = vec![
        ChatMessage::user("read a.txt"),
        ChatMessage {
            role: ChatRole::Assistant,
            parts: vec![ContentPart::ToolCall(ToolCall {
                id: "call_1".into(),
                name: "read_file".into(),
                arguments: json!({"path": "a.txt"}),
            })],
        },
        ChatMessage {
            role: ChatRole::Tool,
            parts: vec![ContentPart::ToolResult {
                call_id: "call_1".into(),
                content: "hello".into(),
                is_error: false,
            }],
        },
    ];
    chat(&openai(&fake), &request)
        .await
        .0
        .expect("call succeeds");

    let recorded = fake.requests().pop().expect("one request");
    assert_eq!(recorded.path, "/v1/chat/completions");
    assert_eq!(
        recorded.header("authorization"),
        Some(format!("Bearer {OPENAI_KEY}").as_str())
    );
    let body = recorded.body;
    assert_eq!(body["stream"], json!(true));
    assert_eq!(body["stream_options"], json!({"include_usage": true}));
    assert_eq!(body["max_tokens"], json!(1024));
    assert_eq!(body["temperature"], json!(0.5f32));
    assert_eq!(
        body["tools"],
        json!([{"type": "function", "function": {
            "name": "read_file", "description": "Reads a file",
            "parameters": {"type": "object", "properties": {"path": {"type": "string"}}}
        }}])
    );
    assert_eq!(
        body["messages"],
        json!([
            {"role": "system", "content": "You are helpful.\n\nToday is Monday."},
            {"role": "user", "content": "read a.txt"},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "read_file", "arguments": "{\"path\":\"a.txt\"}"}}
            ]},
            {"role": "tool", "content": "hello", "tool_call_id": "call_1"}
        ])
    );
}

#[tokio::test]
async fn keyless_endpoints_send_no_authorization() {
    let fake = FakeLlm::start().await;
    let provider = OpenAiCompatProvider::new("ollama", fake.base_url(), None);
    chat(&provider, &request("llama3.3"))
        .await
        .0
        .expect("call succeeds");
    assert_eq!(fake.requests()[0].header("authorization"), None);
}

#[tokio::test]
async fn one_shot_completions_are_read_like_streams() {
    let fake = FakeLlm::start().await;
    fake.push(
        Reply::text("all good")
            .with_tool_call("call_7", "exec", json!({"cmd": "ls"}))
            .usage(9, 3),
    );
    let provider = openai(&fake).with_streaming(false);
    let (result, deltas) = chat(&provider, &request("gpt-4o")).await;
    let response = result.expect("one-shot call succeeds");

    let body = &fake.requests()[0].body;
    assert_eq!(body["stream"], json!(false));
    assert_eq!(body.get("stream_options"), None);
    assert_eq!(response.text(), "all good");
    assert_eq!(response.tool_calls()[0].arguments, json!({"cmd": "ls"}));
    assert_eq!(response.stop_reason, StopReason::ToolUse);
    assert_eq!(
        (response.usage.input_tokens, response.usage.output_tokens),
        (9, 3)
    );
    assert_eq!(texts(&deltas), ["all good"]);
}

#[tokio::test]
async fn error_chunk_mid_stream_is_an_error() {
    let fake = FakeLlm::start().await;
    fake.push(Reply::text("a b c").error_event_after(2, "server_error", "upstream failed"));
    let (result, deltas) = chat(&openai(&fake), &request("gpt-4o")).await;
    assert!(
        matches!(result, Err(ProviderError::Server { status: 500, .. })),
        "{result:?}"
    );
    assert_eq!(texts(&deltas), ["a ", "b "]);
}

#[tokio::test(start_paused = true)]
async fn paced_token_streams_arrive_whole() {
    let fake = FakeLlm::start().await;
    fake.push(Reply::tokens(50).chunk_delay(std::time::Duration::from_millis(5)));
    let (result, deltas) = chat(&openai(&fake), &request("gpt-4o")).await;
    assert_eq!(texts(&deltas).len(), 50);
    assert!(result.expect("stream succeeds").text().ends_with("t49 "));
}
