//! Each tenant's vault enrichment progress: how many of the documents queued since its
//! enrichment last went idle are through, told to whoever watches (the gateway pushes it to the
//! tenant's WebSocket clients as `vault.enrich.progress`) and asked for by the status route.
//!
//! A tenant's run starts with the first document queued while it is idle (counts reset to
//! that one document), is announced when the worker takes up its first batch, moves on each
//! time documents are through (summarized, given up, skipped or stopped), and completes when
//! every queued document is: `complete` with the final counts, which the status keeps (as
//! `idle`) until the next run starts. Queueing itself sends nothing, so a rescan that queues
//! thousands is told as the worker gets through them, not all at once.

use std::collections::HashMap;
use std::sync::Mutex;

use goclaw_core::TenantId;
use tokio::sync::broadcast;

/// Events kept for a watcher that falls behind; an older one is dropped (the next carries the
/// counts anyway).
const WATCH_CAPACITY: usize = 256;

/// Where a tenant's enrichment stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnrichPhase {
    /// Documents are queued or in the model's hands.
    Enriching,
    /// The run just ended: every queued document is through (events only).
    Complete,
    /// Nothing queued (the status route's answer between runs).
    Idle,
}

impl EnrichPhase {
    /// The wire name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Enriching => "enriching",
            Self::Complete => "complete",
            Self::Idle => "idle",
        }
    }
}

/// One tenant's progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnrichProgress {
    pub tenant: TenantId,
    pub phase: EnrichPhase,
    /// Documents of this run that are through.
    pub done: u64,
    /// Documents queued in this run.
    pub total: u64,
    pub running: bool,
}

#[derive(Debug, Clone, Copy, Default)]
struct Run {
    done: u64,
    total: u64,
    running: bool,
    /// The run's start is still to be announced.
    unannounced: bool,
}

/// Every tenant's run and the watchers of their changes.
pub(crate) struct ProgressBoard {
    runs: Mutex<HashMap<TenantId, Run>>,
    events: broadcast::Sender<EnrichProgress>,
}

impl Default for ProgressBoard {
    fn default() -> Self {
        Self {
            runs: Mutex::default(),
            events: broadcast::channel(WATCH_CAPACITY).0,
        }
    }
}

impl ProgressBoard {
    /// A document of `tenant` was queued.
    pub(crate) fn queued(&self, tenant: TenantId) {
        self.update(tenant, |run| {
            if !run.running {
                *run = Run {
                    running: true,
                    unannounced: true,
                    ..Run::default()
                };
            }
            run.total += 1;
            None
        });
    }

    /// The worker took up a batch of `tenant`: its run is announced if it was not yet.
    pub(crate) fn began(&self, tenant: TenantId) {
        self.update(tenant, |run| {
            let announce = run.running && run.unannounced;
            run.unannounced = false;
            announce.then_some(EnrichPhase::Enriching)
        });
    }

    /// `count` documents of `tenant` are through.
    pub(crate) fn through(&self, tenant: TenantId, count: u64) {
        if count == 0 {
            return;
        }
        self.update(tenant, |run| {
            if !run.running {
                return None;
            }
            run.done = (run.done + count).min(run.total);
            run.unannounced = false;
            if run.done >= run.total {
                run.running = false;
                Some(EnrichPhase::Complete)
            } else {
                Some(EnrichPhase::Enriching)
            }
        });
    }

    /// Where `tenant`'s enrichment stands now.
    pub(crate) fn status(&self, tenant: TenantId) -> EnrichProgress {
        let run = self
            .runs
            .lock()
            .ok()
            .and_then(|runs| runs.get(&tenant).copied())
            .unwrap_or_default();
        progress(
            tenant,
            &run,
            if run.running {
                EnrichPhase::Enriching
            } else {
                EnrichPhase::Idle
            },
        )
    }

    /// Every tenant's progress events from now on.
    pub(crate) fn watch(&self) -> broadcast::Receiver<EnrichProgress> {
        self.events.subscribe()
    }

    /// Applies `change` to `tenant`'s run and sends the event it asks for.
    fn update(&self, tenant: TenantId, change: impl FnOnce(&mut Run) -> Option<EnrichPhase>) {
        let Ok(mut runs) = self.runs.lock() else {
            return;
        };
        let run = runs.entry(tenant).or_default();
        if let Some(phase) = change(run) {
            // Sent under the lock, so watchers see a tenant's events in order; no watcher is
            // no error.
            let _ = self.events.send(progress(tenant, run, phase));
        }
    }
}

fn progress(tenant: TenantId, run: &Run, phase: EnrichPhase) -> EnrichProgress {
    EnrichProgress {
        tenant,
        phase,
        done: run.done,
        total: run.total,
        running: run.running,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tenant(n: u128) -> TenantId {
        TenantId::from_uuid(uuid::Uuid::from_u128(n))
    }

    fn next(rx: &mut broadcast::Receiver<EnrichProgress>) -> Option<(EnrichPhase, u64, u64)> {
        rx.try_recv().ok().map(|p| (p.phase, p.done, p.total))
    }

    #[test]
    fn a_run_is_announced_once_moves_per_batch_and_completes() {
        let board = ProgressBoard::default();
        let mut rx = board.watch();
        let acme = tenant(1);
        for _ in 0..7 {
            board.queued(acme);
        }
        assert_eq!(next(&mut rx), None, "queueing alone sends nothing");
        board.began(acme);
        assert_eq!(next(&mut rx), Some((EnrichPhase::Enriching, 0, 7)));
        board.began(acme);
        assert_eq!(next(&mut rx), None, "announced once");
        board.through(acme, 5);
        assert_eq!(next(&mut rx), Some((EnrichPhase::Enriching, 5, 7)));
        assert!(board.status(acme).running);
        board.through(acme, 2);
        assert_eq!(next(&mut rx), Some((EnrichPhase::Complete, 7, 7)));
        let status = board.status(acme);
        assert_eq!(
            (status.phase, status.done, status.total, status.running),
            (EnrichPhase::Idle, 7, 7, false)
        );

        // The next document starts a new run from zero.
        board.queued(acme);
        let status = board.status(acme);
        assert_eq!(
            (status.phase, status.done, status.total),
            (EnrichPhase::Enriching, 0, 1)
        );
    }

    #[test]
    fn tenants_have_their_own_runs() {
        let board = ProgressBoard::default();
        let mut rx = board.watch();
        let (acme, globex) = (tenant(1), tenant(2));
        board.queued(acme);
        board.queued(acme);
        board.queued(globex);
        board.through(globex, 1);
        let event = rx.try_recv().expect("globex's event");
        assert_eq!(
            (event.tenant, event.phase, event.done, event.total),
            (globex, EnrichPhase::Complete, 1, 1)
        );
        assert_eq!(board.status(acme).total, 2);
        assert!(board.status(acme).running);
        assert_eq!(board.status(tenant(3)).phase, EnrichPhase::Idle);
        assert_eq!(board.status(tenant(3)).total, 0);
    }

    #[test]
    fn documents_through_outside_a_run_change_nothing() {
        let board = ProgressBoard::default();
        let mut rx = board.watch();
        board.through(tenant(1), 3);
        assert_eq!(next(&mut rx), None);
        assert_eq!(board.status(tenant(1)).done, 0);
    }
}
