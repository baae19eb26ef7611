//! The announce queue: results of subagents waiting to be delivered to the session that
//! spawned them, batched per parent session so a burst of results becomes one message (one
//! parent turn), and the text of that message.
//!
//! The queue only holds batches; when to deliver (at once when no sibling is still running,
//! else after [`ANNOUNCE_DEBOUNCE`] of quiet) is the manager's decision.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use goclaw_core::{AgentKey, SessionKey, SubagentStatus, TenantId, Trust};
use uuid::Uuid;

use crate::scheduler::lock;

/// Quiet time after a result before a batch is delivered while siblings still run (GoClaw's
/// announce debounce).
pub(crate) const ANNOUNCE_DEBOUNCE: Duration = Duration::from_millis(1000);
/// Results in one batch before it is delivered without waiting (GoClaw's cap).
pub(crate) const ANNOUNCE_CAP: usize = 20;

/// Where and as whom a batch is delivered: the spawning session, its agent and its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AnnounceTarget {
    pub tenant: TenantId,
    pub session: SessionKey,
    pub agent_key: AgentKey,
    pub user_id: String,
    pub trust: Trust,
}

/// One subagent's ending, as announced.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Announcement {
    pub id: Uuid,
    pub label: String,
    pub status: SubagentStatus,
    pub result: String,
    pub depth: i32,
    pub input_tokens: i64,
    pub output_tokens: i64,
}

type BatchKey = (TenantId, SessionKey);

struct Batch {
    target: AnnounceTarget,
    items: Vec<Announcement>,
    /// Bumped by every push, so a timer armed before a later push does not deliver early.
    generation: u64,
}

/// Results waiting for delivery, per parent session.
#[derive(Default)]
pub(crate) struct AnnounceQueue {
    batches: Mutex<HashMap<BatchKey, Batch>>,
}

impl AnnounceQueue {
    /// Adds `item` to its parent session's batch; returns the batch's generation and size.
    pub(crate) fn push(&self, target: AnnounceTarget, item: Announcement) -> (u64, usize) {
        let key = (target.tenant, target.session.clone());
        let mut batches = lock(&self.batches);
        let batch = batches.entry(key).or_insert_with(|| Batch {
            target,
            items: Vec::new(),
            generation: 0,
        });
        batch.items.push(item);
        batch.generation += 1;
        (batch.generation, batch.items.len())
    }

    /// Takes the batch of `session` — only if nothing was pushed since `generation`, when
    /// given.
    pub(crate) fn take(
        &self,
        tenant: TenantId,
        session: &SessionKey,
        generation: Option<u64>,
    ) -> Option<(AnnounceTarget, Vec<Announcement>)> {
        let key = (tenant, session.clone());
        let mut batches = lock(&self.batches);
        if let Some(expected) = generation
            && batches.get(&key).is_some_and(|b| b.generation != expected)
        {
            return None;
        }
        batches.remove(&key).map(|b| (b.target, b.items))
    }
}

/// The message that tells the parent how its subagents ended; `still_running` counts its
/// subagents that have not ended yet.
pub(crate) fn announcement_text(items: &[Announcement], still_running: usize) -> String {
    let mut text = match items {
        [item] => format!(
            "[System Message] A subagent task \"{}\" just {} (task={}, depth={}).\n\n\
             Result:\n{}\n\nStats: tokens {} in / {} out\n\n",
            item.label,
            single_status(item),
            item.id,
            item.depth,
            result_or_placeholder(&item.result),
            item.input_tokens,
            item.output_tokens,
        ),
        _ => {
            let mut text = String::from("[System Message] Multiple subagent tasks completed:\n");
            for (n, item) in items.iter().enumerate() {
                text.push_str(&format!(
                    "\n---\nTask #{}: \"{}\" {} (task={}, depth={}, tokens {}/{})\nResult: {}\n",
                    n + 1,
                    item.label,
                    item.status.as_str(),
                    item.id,
                    item.depth,
                    item.input_tokens,
                    item.output_tokens,
                    result_or_placeholder(&item.result),
                ));
            }
            text.push_str("---\n\n");
            text
        }
    };
    if still_running > 0 {
        text.push_str(&format!(
            "{still_running} subagent(s) still running. If they belong to the same piece of \
             work, wait for the remaining results before updating the user; otherwise answer \
             with the result above. Do not copy this [System Message] block: say it in your \
             own words. Reply only NO_REPLY if this result was already delivered to the user."
        ));
    } else {
        text.push_str(
            "All subagent tasks have ended. Turn the result above into your reply to the user \
             now, in your own voice; keep this internal context (stats, task ids, sessions) to \
             yourself and do not copy this [System Message] block. Reply only NO_REPLY if this \
             exact result was already delivered to the user.",
        );
    }
    text
}

fn single_status(item: &Announcement) -> String {
    match item.status {
        SubagentStatus::Failed => format!("failed: {}", item.result),
        SubagentStatus::Cancelled => "was cancelled".to_owned(),
        _ => "completed successfully".to_owned(),
    }
}

fn result_or_placeholder(result: &str) -> &str {
    if result.trim().is_empty() {
        "(no output)"
    } else {
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(label: &str, status: SubagentStatus, result: &str) -> Announcement {
        Announcement {
            id: Uuid::nil(),
            label: label.to_owned(),
            status,
            result: result.to_owned(),
            depth: 1,
            input_tokens: 10,
            output_tokens: 5,
        }
    }

    fn target(session: &str) -> AnnounceTarget {
        AnnounceTarget {
            tenant: goclaw_core::MASTER_TENANT_ID,
            session: SessionKey::parse(session).expect("key"),
            agent_key: AgentKey::parse("a").expect("agent"),
            user_id: "u1".to_owned(),
            trust: Trust::User,
        }
    }

    #[test]
    fn batches_are_per_session_and_a_stale_timer_takes_nothing() {
        let queue = AnnounceQueue::default();
        let one = target("s1");
        let tenant = one.tenant;
        let (first, _) = queue.push(one.clone(), item("a", SubagentStatus::Completed, "A"));
        let (second, size) = queue.push(one.clone(), item("b", SubagentStatus::Completed, "B"));
        queue.push(target("s2"), item("c", SubagentStatus::Failed, "C"));
        assert_eq!(size, 2);
        assert!(queue.take(tenant, &one.session, Some(first)).is_none());
        let (to, items) = queue
            .take(tenant, &one.session, Some(second))
            .expect("batch");
        assert_eq!(to, one);
        assert_eq!(
            items.iter().map(|i| i.label.as_str()).collect::<Vec<_>>(),
            ["a", "b"]
        );
        assert!(queue.take(tenant, &one.session, None).is_none());
        let s2 = SessionKey::parse("s2").expect("key");
        assert_eq!(queue.take(tenant, &s2, None).expect("s2").1.len(), 1);
    }

    #[test]
    fn texts_name_every_result_and_what_is_still_running() {
        let cases: [(Vec<Announcement>, usize, &[&str]); 4] = [
            (
                vec![item("alpha", SubagentStatus::Completed, "ALPHA RESULT")],
                0,
                &[
                    "\"alpha\" just completed successfully",
                    "ALPHA RESULT",
                    "All subagent tasks have ended",
                ],
            ),
            (
                vec![item("beta", SubagentStatus::Failed, "interrupted")],
                2,
                &[
                    "\"beta\" just failed: interrupted",
                    "2 subagent(s) still running",
                ],
            ),
            (
                vec![item("gamma", SubagentStatus::Completed, " ")],
                0,
                &["(no output)"],
            ),
            (
                vec![
                    item("one", SubagentStatus::Completed, "R1"),
                    item("two", SubagentStatus::Cancelled, "R2"),
                ],
                0,
                &[
                    "Multiple subagent tasks completed",
                    "Task #1: \"one\" completed",
                    "Result: R1",
                    "Task #2: \"two\" cancelled",
                    "Result: R2",
                ],
            ),
        ];
        for (items, running, expected) in cases {
            let text = announcement_text(&items, running);
            for needle in expected {
                assert!(text.contains(needle), "{needle:?} missing from {text}");
            }
        }
    }
}
