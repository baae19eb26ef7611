//! Token estimates for budgeting context: tiktoken's `cl100k_base` / `o200k_base` by model
//! family, a characters/3 estimate for unknown models, and the context window of known models.

use std::sync::OnceLock;

use goclaw_core::llm::{ChatMessage, ContentPart, ToolDefinition};
use tiktoken_rs::CoreBPE;

/// Tokens of framing each message costs beyond its content.
const PER_MESSAGE_OVERHEAD: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Cl100k,
    O200k,
    Estimate,
}

/// Tokens in `text` as `model` would count them (an estimate for non-OpenAI tokenizers).
pub fn count_tokens(model: &str, text: &str) -> usize {
    if text.is_empty() {
        return 0;
    }
    let bpe = match encoding_for(model) {
        Encoding::Cl100k => cl100k(),
        Encoding::O200k => o200k(),
        Encoding::Estimate => None,
    };
    match bpe {
        Some(bpe) => bpe.encode_ordinary(text).len(),
        None => text.chars().count().div_ceil(3),
    }
}

/// Tokens of a conversation: each message's content (tool-call arguments as JSON) plus a fixed
/// overhead per message.
pub fn count_message_tokens(model: &str, messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .map(|message| {
            PER_MESSAGE_OVERHEAD
                + message
                    .parts
                    .iter()
                    .map(|part| part_tokens(model, part))
                    .sum::<usize>()
        })
        .sum()
}

/// What one image costs in the context: providers scale pictures to about 1.15 megapixels,
/// which Anthropic counts as about 1,600 tokens; the same figure is used for every provider.
pub const IMAGE_TOKENS: usize = 1_600;

/// A number of tokens [`count_message_tokens`] never exceeds, for any model, found without
/// running a tokenizer: every encoding used here spends at least one byte of text per token
/// (BPE tokens are non-empty byte strings; the estimate is a third of the characters), so the
/// text's length in bytes bounds its tokens; a picture counts [`IMAGE_TOKENS`] in both.
pub fn message_tokens_upper_bound(messages: &[ChatMessage]) -> usize {
    messages
        .iter()
        .map(|message| {
            PER_MESSAGE_OVERHEAD
                + message
                    .parts
                    .iter()
                    .map(|part| match part {
                        ContentPart::Text { text } | ContentPart::Thinking { text, .. } => {
                            text.len()
                        }
                        ContentPart::ToolCall(call) => {
                            call.name.len() + call.arguments.to_string().len()
                        }
                        ContentPart::ToolResult { content, .. } => content.len(),
                        ContentPart::Image { .. } => IMAGE_TOKENS,
                    })
                    .sum::<usize>()
        })
        .sum()
}

/// Tokens of the tool definitions, counted as the JSON sent to the model.
pub fn count_tool_tokens(model: &str, tools: &[ToolDefinition]) -> usize {
    if tools.is_empty() {
        return 0;
    }
    let json = serde_json::to_string(tools).unwrap_or_default();
    count_tokens(model, &json)
}

/// The context window of a known model family, in tokens.
pub fn context_window_for(model: &str) -> Option<u32> {
    let model = base_name(model);
    const WINDOWS: [(&str, u32); 7] = [
        ("claude-", 200_000),
        ("gpt-5.5", 1_050_000),
        ("gpt-5", 1_000_000),
        ("gpt-4o", 128_000),
        ("gpt-4", 128_000),
        ("qwen", 128_000),
        ("deepseek", 128_000),
    ];
    WINDOWS
        .iter()
        .find(|(prefix, _)| model.starts_with(prefix))
        .map(|(_, window)| *window)
}

fn part_tokens(model: &str, part: &ContentPart) -> usize {
    match part {
        ContentPart::Text { text } | ContentPart::Thinking { text, .. } => {
            count_tokens(model, text)
        }
        ContentPart::ToolCall(call) => {
            count_tokens(model, &call.name) + count_tokens(model, &call.arguments.to_string())
        }
        ContentPart::ToolResult { content, .. } => count_tokens(model, content),
        ContentPart::Image { .. } => IMAGE_TOKENS,
    }
}

fn encoding_for(model: &str) -> Encoding {
    let model = base_name(model);
    if ["gpt-4o", "gpt-5", "o1", "o3", "o4"]
        .iter()
        .any(|prefix| model.starts_with(prefix))
    {
        return Encoding::O200k;
    }
    if ["claude-", "gpt-4", "gpt-3.5", "qwen", "deepseek"]
        .iter()
        .any(|prefix| model.starts_with(prefix))
    {
        return Encoding::Cl100k;
    }
    Encoding::Estimate
}

/// The model name without a router prefix (`anthropic/claude-…`), lower case.
fn base_name(model: &str) -> String {
    model
        .rsplit('/')
        .next()
        .unwrap_or(model)
        .to_ascii_lowercase()
}

// Building a BPE table parses a large vocabulary; do it once per process.
fn cl100k() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::cl100k_base().ok()).as_ref()
}

fn o200k() -> Option<&'static CoreBPE> {
    static BPE: OnceLock<Option<CoreBPE>> = OnceLock::new();
    BPE.get_or_init(|| tiktoken_rs::o200k_base().ok()).as_ref()
}

#[cfg(test)]
mod tests {
    use goclaw_core::llm::{ChatRole, ToolCall};
    use serde_json::json;

    use super::*;

    #[test]
    fn counts_known_strings() {
        let cases = [
            ("gpt-4", "hello world", 2),
            ("claude-sonnet-4-5", "hello world", 2),
            ("gpt-4o", "hello world", 2),
            ("openrouter/anthropic/claude-3", "hello world", 2),
            ("gpt-4o-mini", "", 0),
            ("llama3.3", "hello world", 4),
            ("unknown", "abc", 1),
            ("unknown", "äöü", 1),
        ];
        for (model, text, expected) in cases {
            assert_eq!(count_tokens(model, text), expected, "{model} {text:?}");
        }
    }

    #[test]
    fn encodings_by_family() {
        let cases = [
            ("gpt-4o", Encoding::O200k),
            ("GPT-5-mini", Encoding::O200k),
            ("o3-mini", Encoding::O200k),
            ("gpt-4-turbo", Encoding::Cl100k),
            ("claude-opus-4", Encoding::Cl100k),
            ("qwen-max", Encoding::Cl100k),
            ("deepseek-chat", Encoding::Cl100k),
            ("mistral-large", Encoding::Estimate),
        ];
        for (model, expected) in cases {
            assert_eq!(encoding_for(model), expected, "{model}");
        }
    }

    #[test]
    fn context_windows() {
        let cases = [
            ("claude-sonnet-4-5", Some(200_000)),
            ("gpt-4o", Some(128_000)),
            ("gpt-5", Some(1_000_000)),
            ("gpt-5.5", Some(1_050_000)),
            ("qwen3-max", Some(128_000)),
            ("deepseek-chat", Some(128_000)),
            ("llama3.3", None),
        ];
        for (model, expected) in cases {
            assert_eq!(context_window_for(model), expected, "{model}");
        }
    }

    #[test]
    fn messages_add_overhead_and_tool_arguments() {
        let messages = vec![
            ChatMessage::user("hello world"),
            ChatMessage {
                role: ChatRole::Assistant,
                parts: vec![ContentPart::ToolCall(ToolCall {
                    id: "c1".into(),
                    name: "read".into(),
                    arguments: json!({"path": "a.txt"}),
                })],
            },
        ];
        let args = count_tokens("gpt-4o", r#"{"path":"a.txt"}"#);
        let expected = (4 + 2) + (4 + count_tokens("gpt-4o", "read") + args);
        assert_eq!(count_message_tokens("gpt-4o", &messages), expected);
        assert_eq!(count_message_tokens("gpt-4o", &[]), 0);
    }

    #[test]
    fn the_byte_bound_is_never_below_the_count() {
        let texts = [
            "",
            "hello world",
            "a",
            "  leading and trailing spaces  ",
            "äöü ß 東京 🦀🦀🦀",
            "\u{200b}\u{200b}\u{200b}",
            "What is the capital of France? Answer in one word.",
            "fn main() { println!(\"{}\", 1 + 2); }",
            "1234567890 3.14159 -42 0x1f",
        ];
        let call = ContentPart::ToolCall(ToolCall {
            id: "c1".into(),
            name: "read_file".into(),
            arguments: json!({"path": "a.txt", "lines": [1, 2, 3]}),
        });
        for model in ["gpt-4o", "claude-sonnet-4-5", "llama3.3", "unknown"] {
            for text in texts {
                let messages = vec![
                    ChatMessage::user(text),
                    ChatMessage::assistant(text),
                    ChatMessage {
                        role: ChatRole::Assistant,
                        parts: vec![call.clone()],
                    },
                ];
                let counted = count_message_tokens(model, &messages);
                let bound = message_tokens_upper_bound(&messages);
                assert!(counted <= bound, "{model} {text:?}: {counted} > {bound}");
            }
        }
        assert_eq!(message_tokens_upper_bound(&[]), 0);
        assert_eq!(
            message_tokens_upper_bound(&[ChatMessage::user("abc")]),
            4 + 3
        );
    }
}
