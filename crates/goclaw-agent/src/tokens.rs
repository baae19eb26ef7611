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
                        ContentPart::Image { .. } => goclaw_providers::IMAGE_TOKENS,
                    })
                    .sum();
                parts + MESSAGE_OVERHEAD_TOKENS
            })
            .sum()
    }

    /// Whether `messages` come to at most `budget` tokens. Counters that never count more
    /// tokens than bytes of text answer from the byte size alone when that is within the
    /// budget, which it is for all but the longest histories.
    fn fits(&self, model: &str, messages: &[ChatMessage], budget: usize) -> bool {
        self.count_messages(model, messages) <= budget
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

    fn fits(&self, model: &str, messages: &[ChatMessage], budget: usize) -> bool {
        // A quarter of the characters, with the same overhead per message as the bound.
        goclaw_providers::message_tokens_upper_bound(messages) <= budget
            || self.count_messages(model, messages) <= budget
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

    fn fits(&self, model: &str, messages: &[ChatMessage], budget: usize) -> bool {
        goclaw_providers::message_tokens_upper_bound(messages) <= budget
            || self.count_messages(model, messages) <= budget
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

    #[test]
    fn fits_agrees_with_the_count() {
        let messages = [
            ChatMessage::user("What is the capital of France?"),
            ChatMessage::assistant("Paris"),
        ];
        let counters: [&dyn TokenCounter; 2] = [&CharEstimateCounter, &ModelTokenCounter];
        for counter in counters {
            for model in ["claude-sonnet-4-5", "gpt-4o", "unknown"] {
                let exact = counter.count_messages(model, &messages);
                for budget in [0, 1, exact.saturating_sub(1), exact, exact + 1, 1_000_000] {
                    assert_eq!(
                        counter.fits(model, &messages, budget),
                        exact <= budget,
                        "{model}, budget {budget}, {exact} tokens"
                    );
                }
            }
        }
    }
}
