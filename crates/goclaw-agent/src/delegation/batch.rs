//! Async delegations started from one calling session report back together, as GoClaw's do:
//! one that ends while others from the same session still run is held (`accumulated`, with
//! the number still running), and the last one to end announces every held result with its
//! own in one message (`announce`). While they run, the oldest of them reports them all every
//! [`PROGRESS_EVERY`] (`progress`), so a dashboard shows one progress line per session.
//!
//! Holding and announcing are decided under the lock of the running delegations, so of
//! several ending at once exactly one announces, and no result is announced twice or lost.

use std::time::{Duration, Instant};

use goclaw_core::TenantId;
use serde_json::{Value, json};
use uuid::Uuid;

/// How often running async delegations report their progress (GoClaw's ticker).
pub const PROGRESS_EVERY: Duration = Duration::from_secs(30);
/// The longest preview of a result in an announcement event.
const PREVIEW_CHARS: usize = 200;

/// Where an async delegation reports back: the calling session of a tenant.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(super) struct Caller {
    pub tenant: TenantId,
    pub session: String,
}

/// A running async delegation, as the progress report lists it.
#[derive(Debug, Clone)]
pub(super) struct Active {
    pub id: Uuid,
    pub target_key: String,
    pub target_display_name: String,
    pub started: Instant,
}

/// An ended async delegation whose result waits to be announced.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Held {
    pub delegation_id: String,
    pub target_key: String,
    pub target_display_name: String,
    /// `completed`, `failed` or `cancelled`.
    pub phase: &'static str,
    /// The result, or why there is none.
    pub text: String,
}

impl Held {
    /// The lines announcing this result.
    fn announcement(&self) -> String {
        format!(
            "[Delegation {} to {} {}]\n{}",
            self.delegation_id, self.target_key, self.phase, self.text
        )
    }
}

/// What the end of an async delegation leads to.
#[derive(Debug, PartialEq)]
pub(super) enum Finish {
    /// Held until the others from the same session end.
    Held { remaining: usize },
    /// The last one: every held result, in the order they ended, this one last.
    Announce(Vec<Held>),
}

/// The message announcing `results` to the calling session.
pub(super) fn announcement(results: &[Held]) -> String {
    results
        .iter()
        .map(Held::announcement)
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// The `delegation.progress` payload of `active` (those of one calling session), reported by
/// the oldest of them; `None` for any other reporter.
pub(super) fn progress(reporter: Uuid, active: &[Active], base: &Value) -> Option<Value> {
    let oldest = active.iter().map(|a| a.id).min()?;
    if oldest != reporter {
        return None;
    }
    let items: Vec<Value> = active
        .iter()
        .map(|a| {
            json!({
                "delegation_id": a.id.to_string(),
                "target_agent_key": a.target_key,
                "target_display_name": a.target_display_name,
                "elapsed_ms": u64::try_from(a.started.elapsed().as_millis()).unwrap_or(u64::MAX),
            })
        })
        .collect();
    Some(json!({
        "source_agent_id": base["source_agent_id"],
        "source_agent_key": base["source_agent_key"],
        "user_id": base["user_id"],
        "channel": base["channel"],
        "chat_id": base["chat_id"],
        "active_delegations": items,
    }))
}

/// The `delegation.announce` payload of `results`; `total_elapsed_ms` counts from `since`
/// (when the announcing delegation started).
pub(super) fn announced(results: &[Held], base: &Value, since: Instant) -> Value {
    let summaries: Vec<Value> = results
        .iter()
        .map(|r| {
            json!({
                "agent_key": r.target_key,
                "display_name": r.target_display_name,
                "has_media": false,
                "content_preview": r.text.chars().take(PREVIEW_CHARS).collect::<String>(),
            })
        })
        .collect();
    json!({
        "source_agent_id": base["source_agent_id"],
        "source_agent_key": base["source_agent_key"],
        "source_display_name": base["source_display_name"],
        "user_id": base["user_id"],
        "channel": base["channel"],
        "chat_id": base["chat_id"],
        "results": summaries,
        "total_elapsed_ms": u64::try_from(since.elapsed().as_millis()).unwrap_or(u64::MAX),
        "has_media": false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(id: &str, phase: &'static str, text: &str) -> Held {
        Held {
            delegation_id: id.to_owned(),
            target_key: "researcher".to_owned(),
            target_display_name: "Researcher".to_owned(),
            phase,
            text: text.to_owned(),
        }
    }

    #[test]
    fn results_are_announced_together_in_order() {
        let text = announcement(&[
            held("d1", "completed", "A"),
            held("d2", "failed", "timeout"),
        ]);
        assert_eq!(
            text,
            "[Delegation d1 to researcher completed]\nA\n\n[Delegation d2 to researcher failed]\ntimeout"
        );
    }

    #[test]
    fn the_oldest_running_delegation_reports_progress() {
        let first = Uuid::now_v7();
        let second = Uuid::now_v7();
        let active = |id| Active {
            id,
            target_key: "researcher".to_owned(),
            target_display_name: String::new(),
            started: Instant::now(),
        };
        let running = [active(second), active(first)];
        let base = json!({"source_agent_key": "lead", "user_id": "alice", "chat_id": "s"});
        assert_eq!(progress(second, &running, &base), None);
        let report = progress(first, &running, &base).expect("the oldest reports");
        assert_eq!(report["source_agent_key"], "lead");
        assert_eq!(
            report["active_delegations"].as_array().map(Vec::len),
            Some(2)
        );
        assert_eq!(progress(first, &[], &base), None);
    }
}
