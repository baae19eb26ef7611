//! Start-up recovery of turns a previous process left unfinished: stored and acknowledged,
//! but neither answered nor marked — the process stopped (crashed, was killed) first.
//!
//! Such a turn is failed, not resumed: its run may have called tools with effects, and
//! running it again could repeat them; a visible failure lets the person decide. Each one
//! gets a message in its session (shown to people, never to the model) and the status
//! `failed`, so no acknowledged message is left without an answer or a reason.

use std::collections::BTreeMap;

use goclaw_core::Store;

use crate::error::RuntimeError;
use crate::history;

/// Why a recovered turn failed, as its session shows it.
pub const INTERRUPTED_REASON: &str =
    "interrupted: the gateway stopped before this message was answered; please send it again";

/// Turns read per batch.
const BATCH: u32 = 500;

/// Fails every unfinished turn; returns how many.
pub(crate) async fn fail_unfinished(store: &dyn Store) -> Result<usize, RuntimeError> {
    let mut ended = 0;
    loop {
        let turns = store.turns().unfinished(BATCH).await?;
        if turns.is_empty() {
            break;
        }
        let mut runs: BTreeMap<_, Vec<i64>> = BTreeMap::new();
        for turn in &turns {
            runs.entry((turn.session_id, turn.run_id))
                .or_default()
                .push(turn.seq);
        }
        for ((session, run), seqs) in runs {
            let end = history::failed_turns(&run.to_string(), &seqs, INTERRUPTED_REASON);
            store.turns().finish_run(session, run, end).await?;
            tracing::warn!(session_id = %session, run_id = %run, turns = seqs.len(), "turn.interrupted: unfinished turns from the last run failed");
            ended += seqs.len();
        }
    }
    Ok(ended)
}
