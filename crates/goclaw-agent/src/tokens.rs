//! Token estimates for deciding when a session's history must be compacted. The runtime asks
//! a [`TokenCounter`]: by default [`ModelTokenCounter`] (the model family's tiktoken encoding,
//! an estimate for other models); [`CharEstimateCounter`] assumes four characters per token.

use goclaw_core::{ChatMessage, ContentPart};

/// Counts (or estimates) tokens for a model.
pub trait TokenCounter: Send + Sync {
    /// Tokens of a piece of text.
    fn count_text(&self, model: &str, text: &str) -> usize;

    /// Tokens of a conversation, including a small per-message overhead.
    fn count_messages(&self, model: &str, messages: &[ChatMessage]) -> usize {
        messages
            .iter()
            .map(|message| {
                let parts: usize = message
                    .parts
                    .iter()
                    .map(|part| match part {
                        ContentPart::Text { text } | ContentPart::Thinking { text, .. } => {
                            self.count_text(model, text)
                        }
                        ContentPart::ToolCall(call) => {
                            self.count_text(model, &call.name)
                                + self.count_text(model, &call.arguments.to_string())
                        }
                        ContentPart::ToolResult { content, .. } => self.count_text(model, content),
                    })
                    .sum();
                parts + MESSAGE_OVERHEAD_TOKENS
            })
            .sum()
    }
}

/// Tokens added per message for role markers and separators.
const MESSAGE_OVERHEAD_TOKENS: usize = 4;

/// The default estimate: one token per four characters, rounded up.
#[derive(Debug, Clone, Copy, Default)]
pub struct CharEstimateCounter;

impl TokenCounter for CharEstimateCounter {
    fn count_text(&self, _model: &str, text: &str) -> usize {
        text.chars().count().div_ceil(4)
    }
}

/// Counts with the tokenizer of the model's family (`goclaw_providers::count_tokens`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ModelTokenCounter;

impl TokenCounter for ModelTokenCounter {
    fn count_text(&self, model: &str, text: &str) -> usize {
        goclaw_providers::count_tokens(model, text)
    }

    fn count_messages(&self, model: &str, messages: &[ChatMessage]) -> usize {
        goclaw_providers::count_message_tokens(model, messages)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: usize) {
        assert_eq!(
            CharEstimateCounter.count_text("m", text),
            expected,
            "{text:?}"
        );
    }

    #[test]
    fn estimates() {
        check("", 0);
        check("abc", 1);
        check("abcd", 1);
        check("abcde", 2);
        check("éééé", 1);
        let messages = [
            ChatMessage::user("abcd"),
            ChatMessage::assistant("abcdefgh"),
        ];
        assert_eq!(
            CharEstimateCounter.count_messages("m", &messages),
            1 + 4 + 2 + 4
        );
    }
}
