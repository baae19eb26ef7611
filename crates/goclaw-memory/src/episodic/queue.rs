//! The worker's queue: bounded, never waited on, and holding each session at most once.
//!
//! A session already waiting is not queued again (the sweep and a compaction may both name
//! it); a full queue refuses the newcomer. Either way the caller returns at once.

use std::collections::HashSet;
use std::sync::Mutex;

use goclaw_core::{SessionKey, TenantId};
use tokio::sync::mpsc;

use super::Trigger;

/// One session to summarize.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct EpisodeJob {
    pub tenant: TenantId,
    pub session: SessionKey,
    pub trigger: Trigger,
}

/// What became of an enqueue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Enqueued {
    Queued,
    /// The session was waiting already.
    AlreadyQueued,
    /// The queue was full; the session was refused and counted.
    Rejected,
    /// The worker is stopping.
    Closed,
}

pub(crate) struct EpisodeQueue {
    sender: mpsc::Sender<EpisodeJob>,
    waiting: Mutex<HashSet<(TenantId, String)>>,
}

impl EpisodeQueue {
    pub(crate) fn new(capacity: usize) -> (Self, mpsc::Receiver<EpisodeJob>) {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        let queue = Self {
            sender,
            waiting: Mutex::new(HashSet::new()),
        };
        (queue, receiver)
    }

    /// Queues `job` unless its session waits already or the queue is full.
    pub(crate) fn push(&self, job: EpisodeJob) -> Enqueued {
        let key = (job.tenant, job.session.to_string());
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if waiting.contains(&key) {
            return Enqueued::AlreadyQueued;
        }
        match self.sender.try_send(job) {
            Ok(()) => {
                waiting.insert(key);
                Enqueued::Queued
            }
            Err(mpsc::error::TrySendError::Full(_)) => Enqueued::Rejected,
            Err(mpsc::error::TrySendError::Closed(_)) => Enqueued::Closed,
        }
    }

    /// Marks `job`'s session as taken, so it may be queued again.
    pub(crate) fn taken(&self, job: &EpisodeJob) {
        let key = (job.tenant, job.session.to_string());
        self.waiting
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&key);
    }

    /// Sessions waiting.
    pub(crate) fn depth(&self) -> usize {
        self.waiting.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

#[cfg(test)]
mod tests {
    use goclaw_core::MASTER_TENANT_ID;

    use super::*;

    fn job(name: &str) -> EpisodeJob {
        EpisodeJob {
            tenant: MASTER_TENANT_ID,
            session: SessionKey::parse(&format!("agent:a:ws:direct:{name}")).expect("key"),
            trigger: Trigger::Idle,
        }
    }

    #[test]
    fn a_full_queue_refuses_and_a_waiting_session_is_not_queued_twice() {
        let (queue, mut receiver) = EpisodeQueue::new(2);
        assert_eq!(queue.push(job("a")), Enqueued::Queued);
        assert_eq!(queue.push(job("a")), Enqueued::AlreadyQueued);
        assert_eq!(queue.push(job("b")), Enqueued::Queued);
        assert_eq!(queue.push(job("c")), Enqueued::Rejected);
        assert_eq!(queue.depth(), 2);
        let first = receiver.try_recv().expect("a job");
        queue.taken(&first);
        assert_eq!(queue.depth(), 1);
        assert_eq!(
            queue.push(job("a")),
            Enqueued::Queued,
            "taken, so queued again"
        );
        drop(receiver);
        assert_eq!(queue.push(job("d")), Enqueued::Closed);
    }
}
