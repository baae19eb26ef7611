//! Events that belong to a tenant rather than to one user's run (pairing requests and their
//! answers): published once, forwarded by every WebSocket connection to its caller when the
//! event's entry in the access table (`scopes::EVENT_ACCESS`) admits it for that tenant.

use goclaw_core::TenantId;
use serde_json::Value;
use tokio::sync::broadcast;

use crate::scopes::Event;

/// Events kept for a connection that falls behind; it misses older ones.
const CAPACITY: usize = 256;

/// One event of a tenant.
#[derive(Debug, Clone)]
pub struct TenantEvent {
    pub tenant: TenantId,
    pub event: Event,
    pub payload: Value,
}

/// Where tenant events are published and watched.
#[derive(Debug, Clone)]
pub struct TenantEvents {
    sender: broadcast::Sender<TenantEvent>,
}

impl Default for TenantEvents {
    fn default() -> Self {
        Self {
            sender: broadcast::channel(CAPACITY).0,
        }
    }
}

impl TenantEvents {
    /// Sends `event` with `payload` to the watchers of `tenant`'s events.
    pub fn publish(&self, tenant: TenantId, event: Event, payload: Value) {
        // No watcher is no error.
        let _ = self.sender.send(TenantEvent {
            tenant,
            event,
            payload,
        });
    }

    /// Every tenant's events from now on; each connection keeps to what it may see.
    pub fn watch(&self) -> broadcast::Receiver<TenantEvent> {
        self.sender.subscribe()
    }
}
