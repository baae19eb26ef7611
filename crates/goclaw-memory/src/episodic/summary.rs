//! What the model is asked for an episode and how its answer is read: a transcript of the
//! session's latest messages in, a JSON object with `summary`, `abstract` and `topics` out.
//!
//! Models do not always answer in clean JSON, so the answer is read leniently: the first `{`
//! to the last `}` is parsed, and an answer that is not JSON at all becomes the summary
//! itself, its first sentence the abstract. JSON with an empty summary holds no episode.

use goclaw_core::{Message, Role};
use serde::Deserialize;

/// The system prompt of the summary call.
pub const EPISODE_SYSTEM_PROMPT: &str = "You write the episodic memory of an AI assistant. \
Given a conversation between a user and the assistant, answer with one JSON object and nothing \
else: {\"summary\": \"...\", \"abstract\": \"...\", \"topics\": [\"...\"]}. The summary keeps \
every fact about the user, decision, name, number, preference, plan and open question that \
may matter in a later conversation, in a few sentences. The abstract is one sentence of at \
most 30 words saying what the conversation was about and its key fact. Topics are up to 5 \
short keywords. Write in the conversation's language.";

/// Longest abstract kept, in characters.
const MAX_ABSTRACT_CHARS: usize = 300;
/// Most topics kept, and the longest topic, in characters.
const MAX_TOPICS: usize = 10;
const MAX_TOPIC_CHARS: usize = 60;

/// An episode as the model wrote it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EpisodeDraft {
    pub summary: String,
    pub l0_abstract: String,
    pub topics: Vec<String>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    summary: String,
    #[serde(default, alias = "l0_abstract")]
    r#abstract: String,
    #[serde(default, alias = "key_topics")]
    topics: Vec<String>,
}

/// The episode in a model's answer; `None` when it holds no summary at all.
pub fn parse_episode(answer: &str) -> Option<EpisodeDraft> {
    let answer = answer.trim();
    let parsed = match (answer.find('{'), answer.rfind('}')) {
        (Some(start), Some(end)) if start < end => {
            serde_json::from_str::<Answer>(&answer[start..=end]).ok()
        }
        _ => None,
    };
    let (summary, l0_abstract, topics) = match parsed {
        Some(a) => (a.summary, a.r#abstract, a.topics),
        None => (answer.to_owned(), String::new(), Vec::new()),
    };
    let summary = summary.trim().to_owned();
    if summary.is_empty() {
        return None;
    }
    let l0_abstract = match l0_abstract.trim() {
        "" => first_sentence(&summary),
        given => given.to_owned(),
    };
    let mut kept: Vec<String> = Vec::new();
    for topic in topics {
        let topic = clip(topic.trim(), MAX_TOPIC_CHARS);
        if !topic.is_empty() && !kept.contains(&topic) && kept.len() < MAX_TOPICS {
            kept.push(topic);
        }
    }
    Some(EpisodeDraft {
        summary,
        l0_abstract: clip(&l0_abstract, MAX_ABSTRACT_CHARS),
        topics: kept,
    })
}

/// The first sentence of `text` (up to the first `.`, `!` or `?` followed by a space or the
/// end), clipped.
fn first_sentence(text: &str) -> String {
    let mut end = text.len();
    let mut chars = text.char_indices().peekable();
    while let Some((at, c)) = chars.next() {
        if matches!(c, '.' | '!' | '?' | '\n')
            && chars.peek().is_none_or(|(_, next)| next.is_whitespace())
        {
            end = at + c.len_utf8();
            break;
        }
    }
    clip(text[..end].trim(), MAX_ABSTRACT_CHARS)
}

fn clip(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_owned(),
    }
}

/// What the model reads: the compaction summary of older messages, if any, then the user's
/// and the assistant's messages in order, the oldest dropped to fit `max_chars`.
pub(crate) fn transcript(summary: Option<&str>, messages: &[Message], max_chars: usize) -> String {
    let mut lines: Vec<String> = messages
        .iter()
        .filter_map(|m| {
            let who = match m.role {
                Role::User => "User",
                Role::Assistant => "Assistant",
                Role::Tool | Role::System => return None,
            };
            let text = m.content.trim();
            (!text.is_empty()).then(|| format!("{who}: {text}"))
        })
        .collect();
    let mut total: usize = lines.iter().map(|l| l.chars().count() + 1).sum();
    let mut skip = 0;
    while total > max_chars && skip + 1 < lines.len() {
        total -= lines[skip].chars().count() + 1;
        skip += 1;
    }
    lines.drain(..skip);
    let mut out = String::new();
    if let Some(earlier) = summary.map(str::trim).filter(|s| !s.is_empty()) {
        out.push_str("Summary of the earlier part of the conversation:\n");
        out.push_str(&clip(earlier, max_chars / 2));
        out.push_str("\n\nThe conversation:\n");
    }
    for line in lines {
        out.push_str(&clip(&line, max_chars));
        out.push('\n');
    }
    out
}

/// The user prompt of the summary call.
pub(crate) fn prompt(transcript: &str) -> String {
    format!(
        "Write the episodic memory of this conversation.\n\n<conversation>\n{transcript}</conversation>"
    )
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use goclaw_core::{MessageId, SessionId};
    use serde_json::{Value, json};

    use super::*;

    fn check(answer: &str, expected: Option<(&str, &str, &[&str])>) {
        let got = parse_episode(answer);
        let expected = expected.map(|(summary, l0, topics)| EpisodeDraft {
            summary: summary.to_owned(),
            l0_abstract: l0.to_owned(),
            topics: topics.iter().map(|t| (*t).to_owned()).collect(),
        });
        assert_eq!(got, expected, "{answer:?}");
    }

    #[test]
    fn answers_are_read_leniently() {
        check(
            r#"{"summary":"Ann likes teal.","abstract":"Ann's colour.","topics":["colour","teal"]}"#,
            Some(("Ann likes teal.", "Ann's colour.", &["colour", "teal"])),
        );
        check(
            "```json\n{\"summary\": \"S.\", \"l0_abstract\": \"A.\", \"key_topics\": [\"x\", \"x\", \" \"]}\n```",
            Some(("S.", "A.", &["x"])),
        );
        check(
            r#"{"summary":"First one. Second one.","topics":[]}"#,
            Some(("First one. Second one.", "First one.", &[])),
        );
        check(
            "Plain text answer. More.",
            Some(("Plain text answer. More.", "Plain text answer.", &[])),
        );
        check(r#"{"summary":" ","abstract":"a"}"#, None);
        check("   ", None);
        check("v1.2 is out", Some(("v1.2 is out", "v1.2 is out", &[])));
    }

    fn message(seq: i64, role: Role, content: &str) -> Message {
        Message {
            id: MessageId::generate(),
            session_id: SessionId::from_uuid(uuid::Uuid::nil()),
            seq,
            role,
            content: content.to_owned(),
            tool_calls: Value::Null,
            tool_call_id: None,
            metadata: json!({}),
            created_at: Utc::now(),
        }
    }

    #[test]
    fn transcripts_keep_the_conversation_and_its_latest_part() {
        let messages = [
            message(1, Role::User, "my name is Ann"),
            message(2, Role::Assistant, "hello Ann"),
            message(3, Role::Tool, "tool output"),
            message(4, Role::User, "  "),
            message(5, Role::User, "I like teal"),
        ];
        assert_eq!(
            transcript(None, &messages, 1000),
            "User: my name is Ann\nAssistant: hello Ann\nUser: I like teal\n"
        );
        assert_eq!(
            transcript(None, &messages, 40),
            "Assistant: hello Ann\nUser: I like teal\n"
        );
        assert_eq!(
            transcript(Some("earlier"), &messages[4..], 1000),
            "Summary of the earlier part of the conversation:\nearlier\n\nThe conversation:\nUser: I like teal\n"
        );
    }
}
