//! Compaction: when a session's active history grows past its share of the context window,
//! everything but the last few messages is summarized by the model and the session's
//! compaction pointer moves forward. The transcript itself stays in the store; only what the
//! model sees changes.

use std::time::Duration;

use goclaw_core::{Agent, ChatMessage, ChatRequest, Message, Role, Session, SystemPart};

use crate::error::RuntimeError;
use crate::events::clip_chars;
use crate::history::{self, CurrentRun, HistoryView};
use crate::model::{ModelCandidate, call_model};
use crate::runtime::Services;
use crate::sanitize::sanitize_output;
use crate::settings::RunSettings;
use crate::types::CompactOutcome;

/// Longest wait for the summary.
const SUMMARY_TIMEOUT: Duration = Duration::from_secs(120);
/// Sampling temperature of the summary call.
const SUMMARY_TEMPERATURE: f32 = 0.3;
/// Longest tool result, in characters, quoted to the summarizer.
const TOOL_RESULT_QUOTE_CHARS: usize = 2000;

const SUMMARIZER_PROMPT: &str = "You summarize conversations between a user and an AI \
assistant so the assistant can continue them without the full transcript. Keep every fact, \
decision, name, number, open question and commitment that may matter later, and what tools \
found. Write a compact summary in plain prose or short bullet points, in the conversation's \
language. Output only the summary.";

/// Why a compaction is attempted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Trigger {
    /// After a run: only when the history exceeds its share of the context window.
    Threshold,
    /// On request, or when the provider reported a context overflow.
    Force,
}

/// What a compaction needs to know about the session it works on.
pub(crate) struct CompactionJob<'a> {
    pub agent: &'a Agent,
    pub session: &'a Session,
    pub candidates: &'a [ModelCandidate],
    /// Messages kept verbatim; 0 means `compaction.keepLastMessages`.
    pub keep_last: usize,
    pub trigger: Trigger,
    /// The run in progress, when compacting in the middle of one.
    pub current: Option<CurrentRun<'a>>,
}

/// Runs a compaction job; `compacted: false` when there is nothing (or not enough) to do. A
/// threshold check whose history is within the budget by its size in bytes alone (no encoding
/// counts more tokens than bytes) skips the tokenizer and reports that size as its tokens.
/// Whether the session's history, as the next run would see it, fits in `share` of the
/// agent's context window (measured like the compaction threshold: a cheap bound first, the
/// tokenizer only near the limit).
pub(crate) async fn within_share(
    services: &Services,
    session: &crate::scheduler::SessionRef,
    (agent, candidates): &(Agent, Vec<ModelCandidate>),
    share: f64,
) -> Result<bool, RuntimeError> {
    let store = services.store.as_ref();
    let fresh = store.sessions().get(session.tenant, &session.key).await?;
    let messages = history::load_window(store, &fresh, &[]).await?;
    let view = HistoryView {
        summary: fresh.summary.as_deref(),
        context_start_seq: fresh.context_start_seq,
        ..HistoryView::default()
    };
    let ordered = history::conversation_order(&messages, &view);
    let chat = history::to_chat_messages(&ordered, view.summary);
    let model = candidates
        .first()
        .map(|c| c.model.as_str())
        .unwrap_or_default();
    let window = RunSettings::resolve(agent, &services.defaults).context_window;
    let budget = (f64::from(window) * share).max(0.0).floor() as usize;
    Ok(services.token_counter.fits(model, &chat, budget))
}

pub(crate) async fn compact(
    services: &Services,
    job: CompactionJob<'_>,
) -> Result<CompactOutcome, RuntimeError> {
    let session = job.session;
    let current_seqs = job.current.map(|c| c.seqs).unwrap_or_default();
    let messages = history::load_window(services.store.as_ref(), session, current_seqs).await?;
    let view = HistoryView {
        summary: session.summary.as_deref(),
        context_start_seq: session.context_start_seq,
        current: job.current,
        concurrent: &[],
    };
    let ordered = history::conversation_order(&messages, &view);
    let model = job
        .candidates
        .first()
        .map(|c| c.model.clone())
        .unwrap_or_default();
    let counter = services.token_counter.as_ref();
    let count = |chat: &[ChatMessage]| counter.count_messages(&model, chat);
    let chat = history::to_chat_messages(&ordered, view.summary);
    let not_compacted = |tokens_before| CompactOutcome {
        compacted: false,
        summarized_messages: 0,
        kept_messages: ordered.len(),
        context_start_seq: session.context_start_seq,
        tokens_before,
        tokens_after: tokens_before,
    };

    let compaction = &services.defaults.compaction;
    if job.trigger == Trigger::Threshold {
        let window = RunSettings::resolve(job.agent, &services.defaults).context_window;
        let budget = f64::from(window) * compaction.max_history_share;
        // After every run: most histories are far below the budget, and `fits` says so
        // without running the tokenizer; the outcome then reports the byte bound it used.
        let whole_budget = budget.max(0.0).floor() as usize;
        if counter.fits(&model, &chat, whole_budget) {
            let bound = goclaw_providers::message_tokens_upper_bound(&chat);
            let reported = if bound <= whole_budget {
                bound
            } else {
                count(&chat)
            };
            return Ok(not_compacted(reported));
        }
    }
    let tokens_before = count(&chat);
    let not_compacted = not_compacted(tokens_before);
    let keep_last = match job.keep_last {
        0 => compaction.keep_last_messages as usize,
        n => n,
    };
    let Some(cut) = choose_cut(&ordered, keep_last) else {
        return Ok(not_compacted);
    };
    let (old, kept) = ordered.split_at(cut);
    let summary = summarize(services, job.candidates, session.summary.as_deref(), old).await?;
    let context_start_seq = kept
        .iter()
        .map(|m| m.seq)
        .min()
        .unwrap_or(session.context_start_seq);
    services
        .store
        .sessions()
        .compact(session.id, &summary, context_start_seq)
        .await?;
    if let Some(observer) = &services.observer {
        observer.compacted(session.tenant_id, &session.session_key);
    }
    let tokens_after = count(&history::to_chat_messages(kept, Some(&summary)));
    tracing::info!(
        session_key = %session.session_key,
        agent = %job.agent.agent_key,
        summarized = old.len(),
        kept = kept.len(),
        context_start_seq,
        tokens_before,
        tokens_after,
        "session compacted"
    );
    Ok(CompactOutcome {
        compacted: true,
        summarized_messages: old.len(),
        kept_messages: kept.len(),
        context_start_seq,
        tokens_before,
        tokens_after,
    })
}

/// Where to split `ordered` (conversation order) into summarized and kept messages: the latest
/// split that keeps at least `keep_last` messages plus any unanswered user messages at the
/// end, does not start the kept part with a tool result (which would separate it from its
/// call), and leaves every summarized message with a lower seq than every kept one (so one
/// pointer can mark the boundary). `None` when no such split exists.
pub(crate) fn choose_cut(ordered: &[&Message], keep_last: usize) -> Option<usize> {
    let len = ordered.len();
    let trailing_users = ordered
        .iter()
        .rev()
        .take_while(|m| m.role == Role::User)
        .count();
    // Waiting user messages are kept on top of the `keep_last` messages of the conversation
    // so far, so a message arriving while a compaction runs does not change what it keeps.
    let keep = (keep_last + trailing_users).max(1);
    if len <= keep {
        return None;
    }
    let mut prefix_max = Vec::with_capacity(len);
    let mut max = i64::MIN;
    for m in ordered {
        max = max.max(m.seq);
        prefix_max.push(max);
    }
    let mut suffix_min = vec![i64::MAX; len + 1];
    for i in (0..len).rev() {
        suffix_min[i] = suffix_min[i + 1].min(ordered[i].seq);
    }
    (1..=len - keep)
        .rev()
        .find(|&cut| ordered[cut].role != Role::Tool && prefix_max[cut - 1] < suffix_min[cut])
}

/// Asks the model for a summary of `old`, merged with the previous summary.
async fn summarize(
    services: &Services,
    candidates: &[ModelCandidate],
    previous: Option<&str>,
    old: &[&Message],
) -> Result<String, RuntimeError> {
    let mut transcript = String::new();
    if let Some(previous) = previous.map(str::trim).filter(|s| !s.is_empty()) {
        transcript.push_str("Summary of the conversation before this part:\n");
        transcript.push_str(previous);
        transcript.push_str("\n\nThe conversation continued:\n");
    }
    for message in old {
        transcript.push_str(&render_for_summary(message));
        transcript.push('\n');
    }
    let prompt = format!(
        "Summarize this conversation, merging in the earlier summary if there is one.\n\n\
         <conversation>\n{transcript}</conversation>"
    );
    let model = candidates
        .first()
        .map(|c| c.model.clone())
        .unwrap_or_default();
    let input_tokens = services.token_counter.count_text(&model, &prompt);
    let request = ChatRequest {
        model,
        system: vec![SystemPart {
            text: SUMMARIZER_PROMPT.to_owned(),
            cacheable: false,
        }],
        messages: vec![ChatMessage::user(prompt)],
        tools: Vec::new(),
        max_tokens: (input_tokens / 25).clamp(1024, 8192) as u32,
        temperature: Some(SUMMARY_TEMPERATURE),
        thinking_budget: None,
    };
    let mut ignore = |_| {};
    let response = tokio::time::timeout(
        SUMMARY_TIMEOUT,
        call_model(candidates, &request, &mut ignore, &services.retry),
    )
    .await
    .map_err(|_| goclaw_core::ProviderError::Timeout)??;
    let summary = sanitize_output(&response.text());
    if summary.is_empty() {
        return Err(RuntimeError::Provider(
            goclaw_core::ProviderError::Protocol("the model returned an empty summary".to_owned()),
        ));
    }
    Ok(summary)
}

fn render_for_summary(message: &Message) -> String {
    match message.role {
        Role::User => format!("User: {}", message.content),
        Role::Assistant => {
            let mut line = format!("Assistant: {}", message.content);
            for call in history::stored_tool_calls(message) {
                line.push_str(&format!(
                    "\n[called tool {} with {}]",
                    call.name, call.arguments
                ));
            }
            line
        }
        Role::Tool => format!(
            "Tool result: {}",
            clip_chars(&message.content, TOOL_RESULT_QUOTE_CHARS)
        ),
        Role::System => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use goclaw_core::{MessageId, SessionId};
    use serde_json::{Value, json};

    use super::*;

    fn message(seq: i64, role: Role) -> Message {
        Message {
            id: MessageId::generate(),
            session_id: SessionId::from_uuid(uuid::Uuid::nil()),
            seq,
            role,
            content: String::new(),
            tool_calls: Value::Null,
            tool_call_id: None,
            metadata: json!({}),
            created_at: Utc::now(),
        }
    }

    /// `spec` is a list of `(seq, role)` in conversation order; role letters u/a/t.
    fn check(spec: &[(i64, char)], keep_last: usize, expected: Option<usize>) {
        let messages: Vec<Message> = spec
            .iter()
            .map(|(seq, role)| {
                let role = match role {
                    'u' => Role::User,
                    'a' => Role::Assistant,
                    _ => Role::Tool,
                };
                message(*seq, role)
            })
            .collect();
        let ordered: Vec<&Message> = messages.iter().collect();
        assert_eq!(
            choose_cut(&ordered, keep_last),
            expected,
            "{spec:?} keep {keep_last}"
        );
    }

    #[test]
    fn cuts() {
        let turns = [(1, 'u'), (2, 'a'), (3, 'u'), (4, 'a'), (5, 'u'), (6, 'a')];
        check(&turns, 4, Some(2));
        check(&turns, 2, Some(4));
        check(&turns, 6, None);
        check(&turns, 10, None);
        // Never start the kept part with a tool result.
        let tools = [(1, 'u'), (2, 'a'), (3, 't'), (4, 'a'), (5, 'u'), (6, 'a')];
        check(&tools, 4, Some(1));
        // A message that arrived during a run sits after the run's answer but has a lower
        // seq: the boundary cannot fall between them.
        let interleaved = [(1, 'u'), (3, 'a'), (2, 'u'), (4, 'a'), (5, 'u'), (6, 'a')];
        check(&interleaved, 4, Some(1));
        check(&interleaved, 3, Some(3));
        // Unanswered user messages at the end are always kept.
        let waiting = [
            (1, 'u'),
            (2, 'a'),
            (3, 'u'),
            (4, 'a'),
            (5, 'u'),
            (6, 'u'),
            (7, 'u'),
        ];
        check(&waiting, 1, Some(3));
        // A message arriving just after a run does not let that run's compaction cut deeper.
        let arriving = [(1, 'u'), (2, 'a'), (3, 'u'), (4, 'a'), (5, 'u')];
        check(&arriving, 4, None);
    }
}
