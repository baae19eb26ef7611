//! The task that drives one session's queue: it waits until the pending run is due (the
//! debounce has passed), takes the session's turn and a lane permit, runs it, publishes the
//! run's terminal event (which ends the stream of every turn it answered), compacts the
//! history if it grew too large, and goes on with the next pending run — or ends when there
//! is none.

use std::sync::Arc;

use goclaw_core::{NewMessage, Role, Trust, TurnEnd, TurnStatus};
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::compaction::{self, CompactionJob, Trigger};
use crate::events::RunEmitter;
use crate::history::{self, CurrentRun};
use crate::hub::StreamError;
use crate::run::{self, RunPlan, RunReport};
use crate::runtime::{Inner, Services};
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

/// Takes every queued run out of the session's queue, cancelled; hand them to [`drop_runs`].
pub(crate) fn take_queued(state: &mut SessionState) -> Vec<PendingRun> {
    let runs: Vec<PendingRun> = std::mem::take(&mut state.pending).into();
    for run in &runs {
        run.cancel.cancel();
    }
    runs
}

/// Ends queued runs that will never execute: their streams end with `reason`, and their turns
/// are marked dropped, with a message in the session saying why.
pub(crate) async fn drop_runs(
    services: &Services,
    session: &SessionRef,
    runs: Vec<PendingRun>,
    reason: &str,
) {
    for run in &runs {
        services
            .events
            .end_run(run.run_id, StreamError::Dropped(reason.to_owned()));
    }
    let store = services.store.as_ref();
    let session_id = match store.sessions().get(session.tenant, &session.key).await {
        Ok(found) => found.id,
        Err(error) => {
            tracing::warn!(session_key = %session.key, error = %error, "recording dropped turns failed");
            return;
        }
    };
    for run in runs {
        let seqs: Vec<i64> = run.messages.iter().map(|m| m.seq).collect();
        let mut marker = NewMessage::text(Role::System, format!("[not answered: {reason}]"));
        marker.metadata = json!({ "run_id": run.run_id.to_string(), "not_answered": seqs });
        let end = TurnEnd {
            status: TurnStatus::Dropped,
            error: Some(reason.to_owned()),
            message: Some(marker),
        };
        if let Err(error) = store
            .turns()
            .finish_run(session_id, run.run_id.as_uuid(), end)
            .await
        {
            tracing::warn!(run_id = %run.run_id, error = %error, "recording dropped turns failed");
        }
    }
}

async fn drive(inner: &Arc<Inner>, session: &SessionRef, entry: &SessionEntry) {
    while let Some((lane, cancel)) = wait_until_due(inner, session, entry).await {
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
        announce_end(inner, session, &pending, &report.outcome);
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

/// Publishes the terminal event of a run that ended with `outcome`, which ends the stream of
/// every turn it answered.
fn announce_end(inner: &Inner, session: &SessionRef, pending: &PendingRun, outcome: &RunOutcome) {
    let events = &inner.services.events;
    let (Some(last), Some(terminal)) = (pending.messages.last(), outcome.terminal_event()) else {
        let reason = match outcome {
            RunOutcome::Dropped { reason } => reason.clone(),
            _ => "no message to answer".to_owned(),
        };
        events.end_run(pending.run_id, StreamError::Dropped(reason));
        return;
    };
    RunEmitter::new(
        events.clone(),
        session.tenant,
        last.agent_key.to_string(),
        session.key.clone(),
        pending.run_id,
        last.user_id.clone(),
        last.channel.clone(),
    )
    .emit(terminal);
}

/// Waits until the pending run's debounce has passed; `None` (and the worker flag cleared)
/// when there is no pending run any more.
async fn wait_until_due(
    inner: &Inner,
    session: &SessionRef,
    entry: &SessionEntry,
) -> Option<(Lane, CancellationToken)> {
    loop {
        if inner.shutdown.is_cancelled() {
            let runs = take_queued(&mut entry.state());
            drop_runs(
                &inner.services,
                session,
                runs,
                crate::runtime::SHUTTING_DOWN_REASON,
            )
            .await;
        }
        let (ready_at, cancel, lane) = {
            let mut state = entry.state();
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
            record_failure(&inner.services, session, pending, &message).await;
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

/// Ends the turns of a run that stopped without recording its end, with a visible failure.
async fn record_failure(
    services: &Services,
    session: &SessionRef,
    pending: &PendingRun,
    error: &str,
) {
    let store = services.store.as_ref();
    let seqs: Vec<i64> = pending.messages.iter().map(|m| m.seq).collect();
    let end = history::failed_turns(&pending.run_id.to_string(), &seqs, error);
    let result = match store.sessions().get(session.tenant, &session.key).await {
        Ok(found) => store
            .turns()
            .finish_run(found.id, pending.run_id.as_uuid(), end)
            .await
            .map(drop),
        Err(error) => Err(error),
    };
    if let Err(error) = result {
        tracing::warn!(run_id = %pending.run_id, error = %error, "recording a failed run failed");
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
