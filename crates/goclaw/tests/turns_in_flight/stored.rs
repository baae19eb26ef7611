//! What a crash test finds in the store after the restart: for every planned turn, its user
//! message stored at most once (exactly once when acknowledged) with its turn record, and
//! exactly one message ending it — the answer or the interruption notice — with the run of
//! that record. The store is read directly because the client API shows neither `reply_to`
//! nor `failed`.

use std::collections::{BTreeMap, BTreeSet};

use goclaw_agent::INTERRUPTED_REASON;
use goclaw_core::{MASTER_TENANT_ID, Message, MessageId, Role, SessionKey, StoreError, TurnStatus};
use goclaw_testkit::TestDatabase;
use serde_json::Value;

use super::{FAST_ANSWER, Ledger, Seen};

/// A stored turn after recovery: its user message's seq, its run, and whether it was answered
/// (else it failed visibly).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredTurn {
    pub seq: i64,
    pub run_id: String,
    pub completed: bool,
}

/// Reads every planned session from the store (the client API does not show `reply_to` or
/// `failed`) and checks the crash left nothing lost, doubled or unanswered. Returns the
/// stored turns by index.
pub async fn check_store(
    db: &TestDatabase,
    ledger: &Ledger,
    seen: &[Seen],
) -> BTreeMap<usize, StoredTurn> {
    let store = db.store();
    let mut stored = BTreeMap::new();
    for (session_key, turns) in ledger.sessions() {
        let key = SessionKey::parse(session_key).expect("planned session keys are valid");
        let session = match store.sessions().get(MASTER_TENANT_ID, &key).await {
            Ok(session) => session,
            Err(StoreError::NotFound(_)) => {
                for &turn in &turns {
                    assert!(
                        !seen[turn].acknowledged,
                        "turn {turn} was acknowledged, but its session {session_key} is not stored"
                    );
                }
                continue;
            }
            Err(error) => panic!("reading session {session_key}: {error}"),
        };
        let messages = store
            .messages()
            .list(session.id, 0, 10_000)
            .await
            .expect("reading a session's messages");
        for message in messages.iter().filter(|m| m.role == Role::User) {
            assert!(
                turns
                    .iter()
                    .any(|&t| ledger.turns[t].message == message.content),
                "a user message nobody sent in {session_key}: {message:?}"
            );
        }
        let mut endings = BTreeSet::new();
        for &turn in &turns {
            let Some((found, ending)) = check_turn(db, ledger, seen, turn, &messages).await else {
                continue;
            };
            endings.insert(ending);
            stored.insert(turn, found);
        }
        let assistant: BTreeSet<_> = messages
            .iter()
            .filter(|m| m.role != Role::User)
            .map(|m| m.id)
            .collect();
        assert_eq!(
            assistant, endings,
            "{session_key} holds messages that end no stored turn: {messages:#?}"
        );
    }
    let unfinished = store
        .turns()
        .unfinished(1000)
        .await
        .expect("reading unfinished turns");
    assert!(
        unfinished.is_empty(),
        "turns still queued after recovery: {unfinished:#?}"
    );
    stored
}

/// Checks one planned turn against its session's `messages`: its user message is stored at
/// most once (exactly once when acknowledged) with its turn record, and exactly one message —
/// the answer for the first wave, the interruption for the second — ends it. Returns the
/// stored turn and the id of that message, or `None` when the message was never stored.
async fn check_turn(
    db: &TestDatabase,
    ledger: &Ledger,
    seen: &[Seen],
    turn: usize,
    messages: &[Message],
) -> Option<(StoredTurn, MessageId)> {
    let planned = &ledger.turns[turn];
    let copies: Vec<&Message> = messages
        .iter()
        .filter(|m| m.role == Role::User && m.content == planned.message)
        .collect();
    assert!(
        copies.len() <= 1,
        "turn {turn}'s message is stored {} times: {copies:#?}",
        copies.len()
    );
    let record = db
        .store()
        .turns()
        .by_idempotency_key(MASTER_TENANT_ID, &planned.user_id, &planned.idempotency_key)
        .await
        .expect("reading a turn by its idempotency key");
    let Some(message) = copies.first() else {
        assert!(
            !seen[turn].acknowledged,
            "turn {turn} was acknowledged, but its message is not stored: {planned:?}"
        );
        assert!(
            record.is_none(),
            "a turn record without its message: {record:?}"
        );
        return None;
    };
    let record =
        record.unwrap_or_else(|| panic!("turn {turn}'s message is stored without a turn record"));
    assert_eq!(record.seq, message.seq, "turn {turn}");
    assert_eq!(record.session_key.as_str(), planned.session_key);
    let endings: Vec<&Message> = messages
        .iter()
        .filter(|m| m.role == Role::Assistant && reply_to(m).contains(&message.seq))
        .collect();
    assert_eq!(
        endings.len(),
        1,
        "turn {turn} (seq {}) needs exactly one answer or failure: {endings:#?}",
        message.seq
    );
    let ending = endings[0];
    let run_id = record.run_id.to_string();
    assert_eq!(ending.metadata["run_id"], run_id.as_str(), "turn {turn}");
    let failed = ending.metadata["failed"] == true;
    if failed {
        assert_eq!(ending.content, INTERRUPTED_REASON, "turn {turn}");
        assert_eq!(record.status, TurnStatus::Failed, "turn {turn}");
    } else {
        assert_eq!(ending.content, FAST_ANSWER, "turn {turn}");
        assert_eq!(record.status, TurnStatus::Completed, "turn {turn}");
    }
    // The first wave was answered before the kill; the model never answered the second.
    assert_eq!(failed, !planned.answered_fast, "turn {turn}: {ending:?}");
    if let Some(seen_run) = &seen[turn].run_id {
        assert_eq!(seen_run, &run_id, "turn {turn}: the run its client saw");
    }
    if let Some(answer) = &seen[turn].answer {
        assert_eq!(answer, FAST_ANSWER, "turn {turn}");
    }
    let found = StoredTurn {
        seq: message.seq,
        run_id,
        completed: !failed,
    };
    Some((found, ending.id))
}

/// The seqs a run's message answers.
fn reply_to(message: &Message) -> Vec<i64> {
    message.metadata["reply_to"]
        .as_array()
        .map(|seqs| seqs.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default()
}
