//! What the fake answers to one request: streamed output (text, thinking, tool calls, usage),
//! an HTTP error, or a misbehaving stream (slow first byte, slow chunks, a dropped connection,
//! an error event in the middle), built with small chainable constructors.

use std::time::Duration;

use serde_json::Value;

/// One scripted answer. Output replies stream when the request asks for `stream: true` and are
/// one JSON document otherwise; both wire formats are rendered from the same reply.
#[derive(Debug, Clone)]
pub struct Reply {
    pub(crate) body: ReplyBody,
    pub(crate) first_byte_delay: Duration,
    pub(crate) chunk_delay: Duration,
    pub(crate) disconnect_after: Option<usize>,
    pub(crate) truncate_after: Option<usize>,
    pub(crate) error_event: Option<ErrorEvent>,
}

#[derive(Debug, Clone)]
pub(crate) enum ReplyBody {
    Output(Output),
    Http {
        status: u16,
        body: String,
        retry_after: Option<String>,
    },
}

/// Model output, pre-split into the chunks it streams as.
#[derive(Debug, Clone, Default)]
pub(crate) struct Output {
    pub(crate) thinking: Vec<String>,
    pub(crate) signature: Option<String>,
    pub(crate) text: Vec<String>,
    pub(crate) tool_calls: Vec<FakeToolCall>,
    pub(crate) usage: FakeUsage,
    pub(crate) finish: Option<Finish>,
}

/// An error sent inside the stream after some content chunks.
#[derive(Debug, Clone)]
pub(crate) struct ErrorEvent {
    pub(crate) after: usize,
    pub(crate) kind: String,
    pub(crate) message: String,
}

/// A tool call the fake model makes.
#[derive(Debug, Clone, PartialEq)]
pub struct FakeToolCall {
    pub id: String,
    pub name: String,
    pub arguments: Value,
}

/// Why the fake model stops; by default `ToolUse` when it calls tools, else `EndTurn`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Finish {
    EndTurn,
    ToolUse,
    MaxTokens,
}

/// Token counts reported by the fake.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct FakeUsage {
    pub(crate) input: Option<u64>,
    pub(crate) output: Option<u64>,
    pub(crate) cache_creation: u64,
    pub(crate) cache_read: u64,
}

impl Output {
    /// Number of content chunks (text, thinking and tool-argument fragments).
    pub(crate) fn content_chunks(&self) -> usize {
        self.thinking.len()
            + self.text.len()
            + self
                .tool_calls
                .iter()
                .map(|call| 1 + argument_fragments(call).len())
                .sum::<usize>()
    }

    pub(crate) fn input_tokens(&self) -> u64 {
        self.usage.input.unwrap_or(10)
    }

    pub(crate) fn output_tokens(&self) -> u64 {
        self.usage
            .output
            .unwrap_or(u64::try_from(self.content_chunks()).unwrap_or(u64::MAX))
    }

    pub(crate) fn finish(&self) -> Finish {
        self.finish.unwrap_or(if self.tool_calls.is_empty() {
            Finish::EndTurn
        } else {
            Finish::ToolUse
        })
    }

    pub(crate) fn full_text(&self) -> String {
        self.text.concat()
    }

    pub(crate) fn full_thinking(&self) -> String {
        self.thinking.concat()
    }
}

/// The argument JSON of a call cut in three fragments (fewer when short), as real APIs stream
/// it.
pub(crate) fn argument_fragments(call: &FakeToolCall) -> Vec<String> {
    let json = call.arguments.to_string();
    let chars: Vec<char> = json.chars().collect();
    let size = chars.len().div_ceil(3).max(1);
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

impl Reply {
    /// Text streamed word by word (each chunk keeps its trailing space).
    pub fn text(text: impl AsRef<str>) -> Self {
        Self::output(Output {
            text: split_words(text.as_ref()),
            ..Output::default()
        })
    }

    /// Text streamed in `chunks` pieces of about equal length.
    pub fn text_in_chunks(text: impl AsRef<str>, chunks: usize) -> Self {
        Self::output(Output {
            text: split_even(text.as_ref(), chunks),
            ..Output::default()
        })
    }

    /// `count` text chunks `t0 `, `t1 `, … — with [`Reply::chunk_delay`] a token-rate profile.
    pub fn tokens(count: usize) -> Self {
        Self::output(Output {
            text: (0..count).map(|i| format!("t{i} ")).collect(),
            ..Output::default()
        })
    }

    /// Thinking then text, each streamed word by word, with a signature on the thinking.
    pub fn text_with_thinking(thinking: impl AsRef<str>, text: impl AsRef<str>) -> Self {
        Self::text(text).with_thinking(thinking)
    }

    /// One tool call and no text.
    pub fn tool_call(id: impl Into<String>, name: impl Into<String>, arguments: Value) -> Self {
        Self::output(Output::default()).with_tool_call(id, name, arguments)
    }

    /// An HTTP error with this status and body.
    pub fn http_error(status: u16, body: impl Into<String>) -> Self {
        Self::plain(ReplyBody::Http {
            status,
            body: body.into(),
            retry_after: None,
        })
    }

    /// 429 with `Retry-After: seconds`.
    pub fn rate_limited(seconds: u64) -> Self {
        Self::http_error(429, error_body("rate_limit_error", "Rate limit exceeded"))
            .retry_after(seconds.to_string())
    }

    /// 500 Internal Server Error.
    pub fn server_error() -> Self {
        Self::http_error(500, error_body("api_error", "Internal server error"))
    }

    /// Anthropic's 529 Overloaded.
    pub fn overloaded() -> Self {
        Self::http_error(529, error_body("overloaded_error", "Overloaded"))
    }

    /// 400 saying the prompt is longer than the context window.
    pub fn context_overflow() -> Self {
        Self::http_error(
            400,
            error_body(
                "invalid_request_error",
                "prompt is too long: 213456 tokens > 200000 maximum",
            ),
        )
    }

    /// Adds thinking before the text, streamed word by word.
    pub fn with_thinking(mut self, thinking: impl AsRef<str>) -> Self {
        if let ReplyBody::Output(output) = &mut self.body {
            output.thinking = split_words(thinking.as_ref());
            output
                .signature
                .get_or_insert_with(|| "sig-fake".to_owned());
        }
        self
    }

    /// Sets the signature of the thinking block.
    pub fn with_signature(mut self, signature: impl Into<String>) -> Self {
        if let ReplyBody::Output(output) = &mut self.body {
            output.signature = Some(signature.into());
        }
        self
    }

    /// Adds a tool call after the text.
    pub fn with_tool_call(
        mut self,
        id: impl Into<String>,
        name: impl Into<String>,
        arguments: Value,
    ) -> Self {
        if let ReplyBody::Output(output) = &mut self.body {
            output.tool_calls.push(FakeToolCall {
                id: id.into(),
                name: name.into(),
                arguments,
            });
        }
        self
    }

    /// Reports these input and output token counts.
    pub fn usage(mut self, input: u64, output: u64) -> Self {
        if let ReplyBody::Output(out) = &mut self.body {
            out.usage.input = Some(input);
            out.usage.output = Some(output);
        }
        self
    }

    /// Reports prompt-cache writes and reads (OpenAI reports only reads).
    pub fn cache_tokens(mut self, creation: u64, read: u64) -> Self {
        if let ReplyBody::Output(out) = &mut self.body {
            out.usage.cache_creation = creation;
            out.usage.cache_read = read;
        }
        self
    }

    /// Overrides the stop reason.
    pub fn finish(mut self, finish: Finish) -> Self {
        if let ReplyBody::Output(out) = &mut self.body {
            out.finish = Some(finish);
        }
        self
    }

    /// Adds a `Retry-After` header to an HTTP error.
    pub fn retry_after(mut self, value: impl Into<String>) -> Self {
        if let ReplyBody::Http { retry_after, .. } = &mut self.body {
            *retry_after = Some(value.into());
        }
        self
    }

    /// Waits this long before sending the response headers.
    pub fn first_byte_delay(mut self, delay: Duration) -> Self {
        self.first_byte_delay = delay;
        self
    }

    /// Waits this long before each content chunk.
    pub fn chunk_delay(mut self, delay: Duration) -> Self {
        self.chunk_delay = delay;
        self
    }

    /// Drops the connection after `chunks` content chunks, before the terminal event.
    pub fn disconnect_after(mut self, chunks: usize) -> Self {
        self.disconnect_after = Some(chunks);
        self
    }

    /// Ends the body cleanly after `chunks` content chunks, without the terminal event — a
    /// proxy that cut the stream short.
    pub fn truncate_after(mut self, chunks: usize) -> Self {
        self.truncate_after = Some(chunks);
        self
    }

    /// After `chunks` content chunks, sends an error event (`kind` as in Anthropic's error
    /// types, e.g. `overloaded_error`) and ends the stream.
    pub fn error_event_after(
        mut self,
        chunks: usize,
        kind: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.error_event = Some(ErrorEvent {
            after: chunks,
            kind: kind.into(),
            message: message.into(),
        });
        self
    }

    fn output(output: Output) -> Self {
        Self::plain(ReplyBody::Output(output))
    }

    fn plain(body: ReplyBody) -> Self {
        Self {
            body,
            first_byte_delay: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            disconnect_after: None,
            truncate_after: None,
            error_event: None,
        }
    }
}

/// An error body in Anthropic's shape, whose `error.message` OpenAI clients read as well.
fn error_body(kind: &str, message: &str) -> String {
    serde_json::json!({"type": "error", "error": {"type": kind, "message": message}}).to_string()
}

fn split_words(text: &str) -> Vec<String> {
    text.split_inclusive(' ').map(str::to_owned).collect()
}

fn split_even(text: &str, chunks: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return Vec::new();
    }
    let size = chars.len().div_ceil(chunks.max(1));
    chars.chunks(size).map(|c| c.iter().collect()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitting() {
        assert_eq!(split_words("a bb c"), ["a ", "bb ", "c"]);
        assert_eq!(split_even("abcdefg", 3), ["abc", "def", "g"]);
        assert!(split_even("", 3).is_empty());
        let call = FakeToolCall {
            id: "c".into(),
            name: "n".into(),
            arguments: serde_json::json!({"path": "a.txt"}),
        };
        assert_eq!(argument_fragments(&call).concat(), r#"{"path":"a.txt"}"#);
        assert_eq!(argument_fragments(&call).len(), 3);
    }
}
