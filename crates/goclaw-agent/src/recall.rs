//! The runtime's two doors to long-term memory, both optional and both unable to hold a turn
//! up: [`MemoryRecall`] adds what an agent remembers of a user to a run's system prompt
//! (bounded by [`RECALL_TIMEOUT`]), and [`SessionObserver`] hears of compactions (it must not
//! wait). Memory itself lives elsewhere; the runtime only knows these traits.

use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::{Agent, SessionKey, TenantId};

/// Longest wait for recalled memory before a run goes on without it.
pub const RECALL_TIMEOUT: Duration = Duration::from_secs(2);

/// What an agent remembers of a user, for a run's system prompt.
#[async_trait]
pub trait MemoryRecall: Send + Sync {
    /// A system-prompt section relevant to `message` from `user` of `agent`, or `None`.
    async fn recall(
        &self,
        tenant: TenantId,
        agent: &Agent,
        user_id: &str,
        message: &str,
    ) -> Option<String>;
}

/// Hears of changes to sessions that memory cares about. Calls must return at once.
pub trait SessionObserver: Send + Sync {
    /// The session's history was just compacted.
    fn compacted(&self, tenant: TenantId, session: &SessionKey);
}
