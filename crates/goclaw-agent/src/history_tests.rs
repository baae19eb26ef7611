//! Cases for the conversation order and its conversion to provider messages, one transcript
//! per case, rendered as `role: text` lines.

use chrono::Utc;
use goclaw_core::{MessageId, SessionId};

use super::*;

fn message(seq: i64, role: Role, content: &str, metadata: Value) -> Message {
    Message {
        id: MessageId::generate(),
        session_id: SessionId::from_uuid(uuid::Uuid::nil()),
        seq,
        role,
        content: content.to_owned(),
        tool_calls: Value::Null,
        tool_call_id: None,
        metadata,
        created_at: Utc::now(),
    }
}

fn user(seq: i64, text: &str) -> Message {
    message(seq, Role::User, text, json!({}))
}

fn answer(seq: i64, run: &str, reply: &[i64], text: &str) -> Message {
    message(seq, Role::Assistant, text, run_metadata(run, reply))
}

fn calls(seq: i64, run: &str, reply: &[i64], ids: &[&str]) -> Message {
    let mut m = message(seq, Role::Assistant, "", run_metadata(run, reply));
    let calls: Vec<ToolCall> = ids
        .iter()
        .map(|id| ToolCall {
            id: (*id).to_owned(),
            name: "datetime".to_owned(),
            arguments: json!({}),
        })
        .collect();
    m.tool_calls = serde_json::to_value(calls).expect("calls serialize");
    m
}

fn result(seq: i64, run: &str, reply: &[i64], call: &str, text: &str) -> Message {
    let mut m = message(seq, Role::Tool, text, run_metadata(run, reply));
    m.tool_call_id = Some(call.to_owned());
    m
}

fn dropped(seq: i64, dropped_seq: i64) -> Message {
    message(seq, Role::System, "", json!({ "dropped_seq": dropped_seq }))
}

fn render(chat: &[ChatMessage]) -> Vec<String> {
    chat.iter()
        .map(|m| {
            let role = match m.role {
                ChatRole::User => "user",
                ChatRole::Assistant => "assistant",
                ChatRole::Tool => "tool",
            };
            let parts: Vec<String> = m
                .parts
                .iter()
                .map(|p| match p {
                    ContentPart::Text { text } | ContentPart::Thinking { text, .. } => text.clone(),
                    ContentPart::ToolCall(call) => format!("call {}", call.id),
                    ContentPart::ToolResult {
                        call_id, content, ..
                    } => format!("{call_id}={content}"),
                    ContentPart::Image { mime_type, .. } => format!("image {mime_type}"),
                })
                .collect();
            format!("{role}: {}", parts.join(" | "))
        })
        .collect()
}

fn check(messages: &[Message], view: HistoryView<'_>, expected: &[&str]) {
    assert_eq!(render(&build(messages, &view)), expected);
}

fn plain() -> HistoryView<'static> {
    HistoryView::default()
}

fn current<'a>(run_id: &'a str, seqs: &'a [i64]) -> HistoryView<'a> {
    HistoryView {
        current: Some(CurrentRun { run_id, seqs }),
        ..HistoryView::default()
    }
}

#[test]
fn sequential_turns_keep_their_order() {
    let t = [
        user(1, "u1"),
        answer(2, "r1", &[1], "a2"),
        user(3, "u3"),
        answer(4, "r2", &[3], "a4"),
    ];
    check(
        &t,
        plain(),
        &["user: u1", "assistant: a2", "user: u3", "assistant: a4"],
    );
}

#[test]
fn a_message_that_arrived_during_a_run_follows_that_run_s_answer() {
    let t = [
        user(1, "u1"),
        user(2, "u2"),
        answer(3, "r1", &[1], "a3"),
        answer(4, "r2", &[2], "a4"),
    ];
    check(
        &t,
        plain(),
        &["user: u1", "assistant: a3", "user: u2", "assistant: a4"],
    );
    // While r2 is being prepared, u2 goes after r1's answer.
    check(
        &t[..3],
        current("r2", &[2]),
        &["user: u1", "assistant: a3", "user: u2"],
    );
}

#[test]
fn the_current_run_s_messages_go_last_and_newer_ones_wait() {
    let t = [
        user(1, "u1"),
        user(2, "u2"),
        answer(3, "r1", &[1], "a3"),
        user(4, "u4"),
    ];
    check(
        &t,
        current("r2", &[2]),
        &["user: u1", "assistant: a3", "user: u2"],
    );
}

#[test]
fn the_current_run_s_own_messages_follow_its_users() {
    let t = [
        user(1, "u1"),
        calls(2, "r1", &[1], &["c1"]),
        user(3, "later"),
        result(4, "r1", &[1], "c1", "now"),
    ];
    check(
        &t,
        current("r1", &[1]),
        &["user: u1", "assistant: call c1", "tool: c1=now"],
    );
}

#[test]
fn several_user_messages_of_one_run_become_one() {
    let t = [user(1, "a"), user(2, "b"), user(3, "c")];
    check(&t, current("r1", &[1, 2, 3]), &["user: a\nb\nc"]);
}

#[test]
fn dropped_messages_are_left_out() {
    let t = [user(1, "u1"), user(2, "u2"), dropped(3, 1)];
    check(&t, current("r1", &[2]), &["user: u2"]);
}

#[test]
fn unanswered_older_messages_stay_in_place() {
    // u1's run failed without an answer; it is still part of the conversation.
    let t = [
        user(1, "u1"),
        user(2, "u2"),
        answer(3, "r2", &[2], "a3"),
        user(4, "u4"),
    ];
    check(
        &t,
        current("r3", &[4]),
        &["user: u1\nu2", "assistant: a3", "user: u4"],
    );
}

#[test]
fn the_summary_replaces_messages_before_the_pointer() {
    let t = [
        user(1, "u1"),
        answer(2, "r1", &[1], "a2"),
        user(3, "u3"),
        answer(4, "r2", &[3], "a4"),
    ];
    let view = HistoryView {
        summary: Some("S"),
        context_start_seq: 3,
        current: None,
        concurrent: &[],
    };
    check(
        &t,
        view,
        &[
            "user: [Previous conversation summary]\nS",
            &format!("assistant: {SUMMARY_ACK}"),
            "user: u3",
            "assistant: a4",
        ],
    );
}

#[test]
fn current_messages_before_the_pointer_are_still_seen() {
    let t = [
        user(1, "u1"),
        answer(2, "r1", &[], "a2"),
        answer(3, "r1", &[], "a3"),
    ];
    let view = HistoryView {
        summary: Some("S"),
        context_start_seq: 3,
        current: Some(CurrentRun {
            run_id: "r2",
            seqs: &[1],
        }),
        concurrent: &[],
    };
    check(
        &t,
        view,
        &[
            "user: [Previous conversation summary]\nS",
            &format!("assistant: {SUMMARY_ACK}"),
            "assistant: a3",
            "user: u1",
        ],
    );
}

#[test]
fn tool_pairs_are_repaired() {
    let t = [
        user(1, "u1"),
        calls(2, "r1", &[1], &["c1", "c2"]),
        result(3, "r1", &[1], "c1", "one"),
        result(4, "r1", &[1], "zz", "orphan"),
        answer(5, "r1", &[1], "done"),
    ];
    check(
        &t,
        plain(),
        &[
            "user: u1",
            "assistant: call c1 | call c2",
            &format!("tool: c1=one | c2={INTERRUPTED_TOOL_RESULT}"),
            "assistant: done",
        ],
    );
    let orphan = [user(1, "u1"), result(2, "r1", &[1], "c9", "x")];
    check(&orphan, plain(), &["user: u1"]);
}

#[test]
fn empty_assistant_messages_are_skipped() {
    let t = [user(1, "u1"), answer(2, "r1", &[1], ""), user(3, "u3")];
    check(&t, current("r2", &[3]), &["user: u1\nu3"]);
}

#[test]
fn an_unanswered_message_follows_the_turn_it_interrupted() {
    // u2 arrived while r1 answered u1, and its own run was cancelled before it started.
    let t = [
        user(1, "u1"),
        user(2, "u2"),
        answer(3, "r1", &[1], "partial"),
        user(4, "u4"),
    ];
    check(
        &t,
        current("r3", &[4]),
        &["user: u1", "assistant: partial", "user: u2\nu4"],
    );
    check(
        &t[..3],
        plain(),
        &["user: u1", "assistant: partial", "user: u2"],
    );
}
