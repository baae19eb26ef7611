//! The conversation a model sees, rebuilt from the stored transcript.
//!
//! The transcript is ordered by `seq`, which is arrival order: a message that arrives while a
//! run is answering an earlier one is stored *before* that run's answer. The model must see
//! conversation order instead, so each user message is placed right before the first message
//! of the run that answered it (runs record the seqs they answer in `metadata.reply_to`), the
//! current run's user messages go last, dropped messages are left out, and everything before
//! the compaction pointer is replaced by the session summary.

use std::collections::{HashMap, HashSet};

use goclaw_core::{
    ChatMessage, ChatRole, ContentPart, Message, Role, Session, Store, StoreError, ToolCall,
};
use serde_json::{Value, json};

/// Prefix of the user message that carries the compacted summary.
pub const SUMMARY_PREFIX: &str = "[Previous conversation summary]\n";
/// The assistant's acknowledgement that follows the summary.
pub const SUMMARY_ACK: &str =
    "Understood. I have the summary of our earlier conversation and will continue from there.";
/// Result given to a tool call whose result was never stored (the run was interrupted).
pub const INTERRUPTED_TOOL_RESULT: &str = "[Tool call was interrupted before it returned a result]";

/// Messages read from the store per page.
const PAGE: u32 = 1000;

/// Which part of the transcript the model sees, and for which run.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct HistoryView<'a> {
    pub summary: Option<&'a str>,
    /// Messages with a lower seq are represented by the summary.
    pub context_start_seq: i64,
    /// The run being prepared, if any.
    pub current: Option<CurrentRun<'a>>,
    /// Other runs of the session still executing: their user messages and what they wrote
    /// so far are left out.
    pub concurrent: &'a [crate::run::ConcurrentRun],
}

/// The run being prepared: its id and the seqs of the user messages it answers.
#[derive(Debug, Clone, Copy)]
pub(crate) struct CurrentRun<'a> {
    pub run_id: &'a str,
    pub seqs: &'a [i64],
}

/// Metadata of a message a run writes: which run, answering which user messages.
pub(crate) fn run_metadata(run_id: &str, reply_to: &[i64]) -> Value {
    json!({ "run_id": run_id, "reply_to": reply_to })
}

/// The run that wrote `message`, if it was written by a run.
pub(crate) fn run_of(message: &Message) -> Option<&str> {
    message.metadata.get("run_id")?.as_str()
}

fn reply_to(message: &Message) -> impl Iterator<Item = i64> + '_ {
    message
        .metadata
        .get("reply_to")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_i64)
}

/// How a failed run's turns end: `failed`, with a message in the transcript that records the
/// error — shown to people, never to the model (the messages the run failed to answer stay
/// unanswered).
pub(crate) fn failed_turns(run_id: &str, reply_to: &[i64], error: &str) -> goclaw_core::TurnEnd {
    let mut message = goclaw_core::NewMessage::text(Role::Assistant, error);
    message.metadata =
        json!({ "run_id": run_id, "reply_to": reply_to, "failed": true, "error": error });
    goclaw_core::TurnEnd {
        status: goclaw_core::TurnStatus::Failed,
        error: Some(error.to_owned()),
        message: Some(message),
    }
}

/// Whether `message` records a failed run (see [`failed_turns`]).
pub(crate) fn is_failure_record(message: &Message) -> bool {
    message
        .metadata
        .get("failed")
        .and_then(Value::as_bool)
        .unwrap_or(false)
}

fn dropped_seq(message: &Message) -> Option<i64> {
    message.metadata.get("dropped_seq")?.as_i64()
}

/// The stored messages a run or a compaction works on: those from the compaction pointer on,
/// plus the current run's user messages wherever they are.
pub(crate) async fn load_window(
    store: &dyn Store,
    session: &Session,
    current_seqs: &[i64],
) -> Result<Vec<Message>, StoreError> {
    let from = current_seqs
        .iter()
        .copied()
        .fold(session.context_start_seq, i64::min);
    let mut after = (from - 1).max(0);
    let mut out = Vec::new();
    loop {
        let page = store.messages().list(session.id, after, PAGE).await?;
        let full = page.len() >= PAGE as usize;
        if let Some(last) = page.last() {
            after = last.seq;
        }
        out.extend(page);
        if !full {
            return Ok(out);
        }
    }
}

/// The messages of the view in conversation order (see the module documentation). `messages`
/// must be sorted by seq.
///
/// Every placed message carries an anchor: the lowest seq among the user messages its run
/// answers (for a user message, its run's anchor). A user message no run answered (its run
/// failed or was cancelled before it started) goes after the last message with a lower
/// anchor, i.e. after the turn that was under way when it arrived.
pub(crate) fn conversation_order<'m>(
    messages: &'m [Message],
    view: &HistoryView<'_>,
) -> Vec<&'m Message> {
    let current_seqs: HashSet<i64> = view
        .current
        .map(|c| c.seqs.iter().copied().collect())
        .unwrap_or_default();
    let newest_current = current_seqs.iter().copied().max();
    let dropped: HashSet<i64> = messages
        .iter()
        .filter(|m| m.role == Role::System)
        .filter_map(dropped_seq)
        .collect();
    let others: HashSet<i64> = view
        .concurrent
        .iter()
        .flat_map(|run| run.seqs.iter().copied())
        .collect();
    let other_runs: HashSet<&str> = view
        .concurrent
        .iter()
        .map(|run| run.run_id.as_str())
        .collect();
    let mut answered_by: HashMap<i64, &str> = HashMap::new();
    let answers = messages
        .iter()
        .filter(|m| m.role != Role::User && !is_failure_record(m));
    for message in answers {
        if let Some(run) = run_of(message) {
            for seq in reply_to(message) {
                answered_by.entry(seq).or_insert(run);
            }
        }
    }
    if let Some(current) = view.current {
        for seq in current.seqs {
            answered_by.insert(*seq, current.run_id);
        }
    }
    let mut anchors: HashMap<&str, i64> = HashMap::new();
    for (seq, run) in &answered_by {
        let anchor = anchors.entry(run).or_insert(*seq);
        *anchor = (*anchor).min(*seq);
    }

    let mut waiting: HashMap<&str, Vec<&Message>> = HashMap::new();
    let mut started: HashSet<&str> = HashSet::new();
    let mut placed: Vec<(&Message, i64)> = Vec::with_capacity(messages.len());
    let mut unanswered: Vec<&Message> = Vec::new();
    let visible = |m: &Message| m.seq >= view.context_start_seq || current_seqs.contains(&m.seq);
    let concurrent = |m: &Message| {
        others.contains(&m.seq) || run_of(m).is_some_and(|run| other_runs.contains(run))
    };
    for message in messages
        .iter()
        .filter(|m| visible(m) && !is_failure_record(m) && !concurrent(m))
    {
        match message.role {
            Role::System => {}
            Role::User => {
                if dropped.contains(&message.seq) {
                    continue;
                }
                match answered_by.get(&message.seq) {
                    Some(run) if !started.contains(run) => {
                        waiting.entry(run).or_default().push(message);
                    }
                    Some(_) => unanswered.push(message),
                    // Not answered yet and newer than the current run: the next run's.
                    None if newest_current.is_some_and(|newest| message.seq > newest) => {}
                    None => unanswered.push(message),
                }
            }
            Role::Assistant | Role::Tool => {
                let run = run_of(message);
                let anchor = run
                    .and_then(|r| anchors.get(r))
                    .copied()
                    .unwrap_or(message.seq);
                let first_of_run = run.filter(|run| started.insert(run));
                if let Some(users) = first_of_run.and_then(|run| waiting.remove(run)) {
                    placed.extend(users.into_iter().map(|u| (u, anchor)));
                }
                placed.push((message, anchor));
            }
        }
    }
    let current_users = view
        .current
        .and_then(|c| waiting.remove(c.run_id))
        .unwrap_or_default();
    // Users of runs with no message in the window are placed like unanswered ones.
    unanswered.extend(waiting.into_values().flatten());
    unanswered.sort_by_key(|m| m.seq);
    if let Some(anchor) = current_users.iter().map(|m| m.seq).min() {
        placed.extend(current_users.into_iter().map(|u| (u, anchor)));
    }
    for message in unanswered {
        let at = placed
            .iter()
            .rposition(|(_, anchor)| *anchor < message.seq)
            .map_or(0, |i| i + 1);
        placed.insert(at, (message, message.seq));
    }
    placed.into_iter().map(|(m, _)| m).collect()
}

/// The provider-neutral conversation for `ordered` messages, after the summary (if any).
/// Consecutive user messages become one; tool results follow the call that asked for them,
/// with interrupted calls given an error result and orphaned results left out.
pub(crate) fn to_chat_messages(ordered: &[&Message], summary: Option<&str>) -> Vec<ChatMessage> {
    let mut out: Vec<ChatMessage> = Vec::with_capacity(ordered.len() + 2);
    if let Some(summary) = summary.map(str::trim).filter(|s| !s.is_empty()) {
        out.push(ChatMessage::user(format!("{SUMMARY_PREFIX}{summary}")));
        out.push(ChatMessage::assistant(SUMMARY_ACK));
    }
    for message in ordered {
        match message.role {
            Role::System => {}
            Role::User => push_user(&mut out, &message.content),
            Role::Assistant => {
                let mut parts = Vec::new();
                if !message.content.trim().is_empty() {
                    parts.push(ContentPart::Text {
                        text: message.content.clone(),
                    });
                }
                parts.extend(
                    stored_tool_calls(message)
                        .into_iter()
                        .map(ContentPart::ToolCall),
                );
                if !parts.is_empty() {
                    out.push(ChatMessage {
                        role: ChatRole::Assistant,
                        parts,
                    });
                }
            }
            Role::Tool => {
                let part = ContentPart::ToolResult {
                    call_id: message.tool_call_id.clone().unwrap_or_default(),
                    content: message.content.clone(),
                    is_error: message
                        .metadata
                        .get("is_error")
                        .and_then(Value::as_bool)
                        .unwrap_or(false),
                };
                match out.last_mut() {
                    Some(last) if last.role == ChatRole::Tool => last.parts.push(part),
                    _ => out.push(ChatMessage {
                        role: ChatRole::Tool,
                        parts: vec![part],
                    }),
                }
            }
        }
    }
    repair_tool_pairs(out)
}

/// The conversation of `view` over `messages` (sorted by seq).
pub(crate) fn build(messages: &[Message], view: &HistoryView<'_>) -> Vec<ChatMessage> {
    let ordered = conversation_order(messages, view);
    to_chat_messages(&ordered, view.summary)
}

/// Tool calls stored with an assistant message.
pub(crate) fn stored_tool_calls(message: &Message) -> Vec<ToolCall> {
    if message.tool_calls.is_null() {
        return Vec::new();
    }
    serde_json::from_value(message.tool_calls.clone()).unwrap_or_default()
}

fn push_user(out: &mut Vec<ChatMessage>, text: &str) {
    let previous = out
        .last_mut()
        .filter(|last| last.role == ChatRole::User)
        .and_then(|last| match last.parts.as_mut_slice() {
            [ContentPart::Text { text }] => Some(text),
            _ => None,
        });
    match previous {
        Some(previous) => {
            previous.push('\n');
            previous.push_str(text);
        }
        None => out.push(ChatMessage::user(text)),
    }
}

/// Makes every assistant tool call followed by exactly its results.
fn repair_tool_pairs(messages: Vec<ChatMessage>) -> Vec<ChatMessage> {
    let mut out = Vec::with_capacity(messages.len());
    let mut iter = messages.into_iter().peekable();
    while let Some(message) = iter.next() {
        if message.role == ChatRole::Tool {
            continue; // not preceded by an assistant message with calls
        }
        let calls: Vec<String> = message
            .parts
            .iter()
            .filter_map(|p| match p {
                ContentPart::ToolCall(call) => Some(call.id.clone()),
                _ => None,
            })
            .collect();
        if message.role != ChatRole::Assistant || calls.is_empty() {
            out.push(message);
            continue;
        }
        let mut results: HashMap<String, ContentPart> = HashMap::new();
        if iter.peek().is_some_and(|next| next.role == ChatRole::Tool) {
            for part in iter.next().map(|m| m.parts).unwrap_or_default() {
                if let ContentPart::ToolResult { call_id, .. } = &part {
                    results.entry(call_id.clone()).or_insert(part);
                }
            }
        }
        let parts = calls
            .iter()
            .map(|id| {
                results
                    .remove(id)
                    .unwrap_or_else(|| ContentPart::ToolResult {
                        call_id: id.clone(),
                        content: INTERRUPTED_TOOL_RESULT.to_owned(),
                        is_error: true,
                    })
            })
            .collect();
        out.push(message);
        out.push(ChatMessage {
            role: ChatRole::Tool,
            parts,
        });
    }
    out
}

#[cfg(test)]
#[path = "history_tests.rs"]
mod tests;
