//! The task that drives one session's queue: it waits until the pending run is due (the
//! debounce has passed), takes its slots of the session and a lane permit, and starts it in a
//! task of its own, which publishes the run's terminal event (ending the stream of every turn
//! it answered) and compacts the history if it grew too large; the worker goes on with the
//! next pending run — or ends when there is none. Where a session allows overlapping runs
//! (groups), the next one may start while earlier ones still execute.

use std::sync::Arc;

use tokio::sync::OwnedSemaphorePermit;

use goclaw_core::{NewMessage, Role, Trust, TurnEnd, TurnStatus};
use serde_json::json;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use crate::compaction::{self, CompactionJob, Trigger};
use crate::events::RunEmitter;
use crate::history::{self, CurrentRun};
use crate::hub::StreamError;
use crate::run::{self, ConcurrentRun, RunPlan, RunReport};
use crate::runtime::{Inner, Services};
use crate::scheduler::{
    ActiveRun, Lane, PendingRun, ProgressHandle, SESSION_SLOTS, SessionEntry, SessionRef,
    SessionState, THROTTLE_SHARE, concurrent_runs,
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
        let weight = entry.run_weight(&session.key);
        let slots = tokio::select! {
            slots = entry.slots.clone().acquire_many_owned(weight) => slots.ok(),
            _ = cancel.cancelled() => None,
            _ = inner.shutdown.cancelled() => None,
        };
        let Some(slots) = slots else {
            continue; // aborted or shutting down: the next wait sees it
        };
        let waiting_since = Instant::now();
        let permit = tokio::select! {
            permit = inner.lanes.acquire(lane) => permit,
            _ = cancel.cancelled() => None,
            _ = inner.shutdown.cancelled() => None,
        };
        let Some(permit) = permit else {
            continue;
        };
        inner
            .services
            .metrics
            .lane_wait(lane.as_str(), waiting_since.elapsed());
        let Some(taken) = take_pending(entry, session.tenant).await else {
            continue;
        };
        // The run's task holds the session's entry, so it outlives this worker if need be.
        let held = inner.sessions.checkout(session);
        let (inner, session) = (inner.clone(), session.clone());
        let started = Started {
            lane,
            slots,
            permit,
        };
        let tasks = inner.tasks.clone();
        tasks.spawn(async move {
            conclude(&inner, &session, &held, taken, started).await;
            inner.sessions.release(&session, held);
        });
    }
}

/// What a run holds while it executes.
struct Started {
    lane: Lane,
    /// Its slots of the session.
    slots: OwnedSemaphorePermit,
    /// Its place in the lane.
    permit: OwnedSemaphorePermit,
}

/// Executes a taken run and everything after it: the history check, the terminal event, then
/// any compaction.
async fn conclude(
    inner: &Arc<Inner>,
    session: &SessionRef,
    entry: &SessionEntry,
    (pending, progress, concurrent): Taken,
    started: Started,
) {
    let Started {
        lane,
        slots,
        permit,
    } = started;
    let metrics = &inner.services.metrics;
    metrics.run_started(lane.as_str());
    let report = execute(inner, session, &pending, progress, concurrent).await;
    metrics.run_completed(lane.as_str(), report.outcome.status());
    drop(permit);
    // Not running any more before anyone hears the outcome: a status query or an abort
    // right after it must not find this run.
    entry.state().active.retain(|a| a.run_id != pending.run_id);
    let completed = matches!(report.outcome, RunOutcome::Completed { .. });
    let resolved = report.resolved.filter(|_| completed);
    // Measured before the outcome is heard, so a message answering it already finds the
    // session throttled if it must be.
    let pressing = match &resolved {
        Some(resolved) => history_pressing(inner, session, entry, resolved).await,
        None => false,
    };
    announce_end(inner, session, &pending, &report.outcome);
    let Some(resolved) = resolved else {
        return;
    };
    // Still holding the slots: the next run waits for the compaction (if any).
    tokio::select! {
        _ = compact_with_every_slot(inner, session, entry, resolved, slots, pressing) => {}
        _ = inner.shutdown.cancelled() => {}
    }
}

/// In a session whose runs may overlap: whether its history now fills more than
/// [`THROTTLE_SHARE`] of the context window — then its runs go one at a time until it no
/// longer does, and the history is checked for compaction. Always `true` (check) elsewhere.
async fn history_pressing(
    inner: &Inner,
    session: &SessionRef,
    entry: &SessionEntry,
    resolved: &(goclaw_core::Agent, Vec<crate::model::ModelCandidate>),
) -> bool {
    if concurrent_runs(&session.key) == 1 {
        return true;
    }
    let services = inner.services.as_ref();
    let share = THROTTLE_SHARE.min(services.defaults.compaction.max_history_share);
    match compaction::within_share(services, session, resolved, share).await {
        Ok(within) => {
            entry.state().throttled = !within;
            !within
        }
        Err(error) => {
            tracing::warn!(session_key = %session.key, error = %error, "measuring the history failed");
            false
        }
    }
}

/// Compacts the history if it outgrew its share, holding every slot of the session so no
/// other run of it executes meanwhile. A run that holds only some slots gives them back
/// before it waits for all (two finishing runs each waiting for the other's slot would wait
/// forever); one whose history is not `pressing` skips the check.
async fn compact_with_every_slot(
    inner: &Inner,
    session: &SessionRef,
    entry: &SessionEntry,
    resolved: (goclaw_core::Agent, Vec<crate::model::ModelCandidate>),
    slots: OwnedSemaphorePermit,
    pressing: bool,
) {
    if !pressing {
        return;
    }
    let alone = if slots.num_permits() < SESSION_SLOTS as usize {
        drop(slots);
        match entry.exclusive().await {
            Some(alone) => alone,
            None => return,
        }
    } else {
        slots
    };
    compact_if_needed(inner, session, resolved).await;
    drop(alone);
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

/// A run taken out of the queue: its messages, its progress, and the runs of the session
/// executing beside it.
type Taken = (PendingRun, ProgressHandle, Vec<ConcurrentRun>);

/// Takes the pending run's messages and makes it an active run.
async fn take_pending(entry: &SessionEntry, tenant: goclaw_core::TenantId) -> Option<Taken> {
    let _intake = entry.intake.lock().await;
    let mut state = entry.state();
    let mut pending = state.pending.pop_front()?;
    pending.messages.sort_by_key(|m| m.seq);
    let concurrent = state
        .active
        .iter()
        .map(|a| ConcurrentRun {
            run_id: a.run_id.to_string(),
            seqs: a.seqs.clone(),
        })
        .collect();
    let progress = ProgressHandle::new();
    let agent_key = pending
        .messages
        .last()
        .map(|m| m.agent_key.to_string())
        .unwrap_or_default();
    state.active.push(ActiveRun {
        run_id: pending.run_id,
        seqs: pending.messages.iter().map(|m| m.seq).collect(),
        tenant,
        agent_key,
        cancel: pending.cancel.clone(),
        progress: progress.clone(),
    });
    Some((pending, progress, concurrent))
}

/// Runs the pending run in a task of its own, so a panic fails the run instead of the queue.
async fn execute(
    inner: &Arc<Inner>,
    session: &SessionRef,
    pending: &PendingRun,
    progress: ProgressHandle,
    concurrent: Vec<ConcurrentRun>,
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
        overrides: last.overrides.clone(),
        concurrent,
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
