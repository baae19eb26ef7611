//! The task that drives one session's queue: it waits until the pending run is due (the
//! debounce has passed), takes the session's turn and a lane permit, runs it, hands the
//! outcome to every message it answered, compacts the history if it grew too large, and goes
//! on with the next pending run — or ends when there is none.

use std::sync::Arc;

use goclaw_core::Trust;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::compaction::{self, CompactionJob, Trigger};
use crate::events::{AgentEventKind, RunEmitter};
use crate::history::CurrentRun;
use crate::run::{self, RunPlan, RunReport};
use crate::runtime::Inner;
use crate::scheduler::{
    ActiveRun, Lane, PendingRun, ProgressHandle, SessionEntry, SessionRef, SessionState,
};
use crate::types::RunOutcome;

/// Starts the worker of a session that has none.
pub(crate) fn spawn(inner: Arc<Inner>, session: SessionRef, entry: Arc<SessionEntry>) {
    let tasks = inner.tasks.clone();
    tasks.spawn(async move {
        drive(&inner, &session, &entry).await;
        inner.sessions.release(&session, entry);
    });
}

/// Removes every queued run, telling their submitters why.
pub(crate) fn drop_pending(state: &mut SessionState, reason: &str) {
    for pending in std::mem::take(&mut state.pending) {
        pending.cancel.cancel();
        for message in pending.messages {
            let _ = message.reply.send(RunOutcome::Dropped {
                reason: reason.to_owned(),
            });
        }
    }
}

async fn drive(inner: &Arc<Inner>, session: &SessionRef, entry: &SessionEntry) {
    while let Some((lane, cancel)) = wait_until_due(inner, entry).await {
        let turn = entry.turn.lock().await;
        let waiting_since = Instant::now();
        let permit = tokio::select! {
            permit = inner.lanes.acquire(lane) => permit,
            _ = cancel.cancelled() => None,
            _ = inner.shutdown.cancelled() => None,
        };
        let Some(permit) = permit else {
            continue; // aborted or shutting down: the next wait sees it
        };
        let metrics = &inner.services.metrics;
        metrics.lane_wait(lane.as_str(), waiting_since.elapsed());
        let Some((pending, progress)) = take_pending(entry, session.tenant).await else {
            continue;
        };
        metrics.run_started(lane.as_str());
        let report = execute(inner, session, &pending, progress).await;
        metrics.run_completed(lane.as_str(), report.outcome.status());
        drop(permit);
        // Not running any more before anyone hears the outcome: a status query or an abort
        // right after it must not find this run.
        entry.state().active = None;
        for message in pending.messages {
            let _ = message.reply.send(report.outcome.clone());
        }
        let completed = matches!(report.outcome, RunOutcome::Completed { .. });
        if let Some(resolved) = report.resolved.filter(|_| completed) {
            // Still holding the turn: the next run waits for the compaction.
            tokio::select! {
                _ = compact_if_needed(inner, session, resolved) => {}
                _ = inner.shutdown.cancelled() => {}
            }
        }
        drop(turn);
    }
}

/// Waits until the pending run's debounce has passed; `None` (and the worker flag cleared)
/// when there is no pending run any more.
async fn wait_until_due(inner: &Inner, entry: &SessionEntry) -> Option<(Lane, CancellationToken)> {
    loop {
        let (ready_at, cancel, lane) = {
            let mut state = entry.state();
            if inner.shutdown.is_cancelled() {
                drop_pending(&mut state, crate::runtime::SHUTTING_DOWN_REASON);
            }
            match state.pending.front() {
                None => {
                    state.worker = false;
                    return None;
                }
                Some(p) => (p.ready_at(), p.cancel.clone(), p.lane),
            }
        };
        if Instant::now() >= ready_at {
            return Some((lane, cancel));
        }
        tokio::select! {
            _ = tokio::time::sleep_until(ready_at) => {}
            _ = cancel.cancelled() => {}
            _ = inner.shutdown.cancelled() => {}
        }
    }
}

/// Takes the pending run's messages and makes it the active run.
async fn take_pending(
    entry: &SessionEntry,
    tenant: goclaw_core::TenantId,
) -> Option<(PendingRun, ProgressHandle)> {
    let _intake = entry.intake.lock().await;
    let mut state = entry.state();
    let mut pending = state.pending.pop_front()?;
    pending.messages.sort_by_key(|m| m.seq);
    let progress = ProgressHandle::new();
    let agent_key = pending
        .messages
        .last()
        .map(|m| m.agent_key.to_string())
        .unwrap_or_default();
    state.active = Some(ActiveRun {
        run_id: pending.run_id,
        tenant,
        agent_key,
        cancel: pending.cancel.clone(),
        progress: progress.clone(),
    });
    Some((pending, progress))
}

/// Runs the pending run in a task of its own, so a panic fails the run instead of the queue.
async fn execute(
    inner: &Arc<Inner>,
    session: &SessionRef,
    pending: &PendingRun,
    progress: ProgressHandle,
) -> RunReport {
    let Some(last) = pending.messages.last() else {
        return RunReport {
            outcome: RunOutcome::Dropped {
                reason: "no message to answer".to_owned(),
            },
            resolved: None,
        };
    };
    let plan = RunPlan {
        session: session.clone(),
        run_id: pending.run_id,
        agent_key: last.agent_key.clone(),
        user_id: last.user_id.clone(),
        trust: pending
            .messages
            .iter()
            .map(|m| m.trust)
            .min()
            .unwrap_or(Trust::User),
        channel: last.channel.clone(),
        seqs: pending.messages.iter().map(|m| m.seq).collect(),
        text: pending
            .messages
            .iter()
            .map(|m| m.content.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
        cancel: pending.cancel.clone(),
        progress,
    };
    let handle = inner
        .tasks
        .spawn(run::execute(inner.services.clone(), plan));
    match handle.await {
        Ok(report) => report,
        Err(error) => {
            tracing::error!(
                session_key = %session.key,
                agent = %last.agent_key,
                run_id = %pending.run_id,
                error = %error,
                "run panicked"
            );
            let message = "internal error: the run stopped unexpectedly".to_owned();
            RunEmitter::new(
                inner.services.events.clone(),
                session.tenant,
                last.agent_key.to_string(),
                session.key.clone(),
                pending.run_id,
                last.user_id.clone(),
                last.channel.clone(),
            )
            .emit(AgentEventKind::RunFailed {
                error: message.clone(),
            });
            RunReport {
                outcome: RunOutcome::Failed {
                    run_id: pending.run_id,
                    error: message,
                },
                resolved: None,
            }
        }
    }
}

/// Compacts the session when its history exceeds its share of the context window.
async fn compact_if_needed(
    inner: &Inner,
    session: &SessionRef,
    (agent, candidates): (goclaw_core::Agent, Vec<crate::model::ModelCandidate>),
) {
    let services = inner.services.as_ref();
    let result = async {
        let fresh = services
            .store
            .sessions()
            .get(session.tenant, &session.key)
            .await?;
        let job = CompactionJob {
            agent: &agent,
            session: &fresh,
            candidates: &candidates,
            keep_last: 0,
            trigger: Trigger::Threshold,
            current: None::<CurrentRun<'_>>,
        };
        compaction::compact(services, job).await
    }
    .await;
    if let Err(error) = result {
        tracing::warn!(
            session_key = %session.key,
            agent = %agent.agent_key,
            error = %error,
            "compaction after the run failed"
        );
    }
}
