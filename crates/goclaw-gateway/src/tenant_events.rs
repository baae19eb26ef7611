//! Events that belong to a tenant rather than to one user's run (pairing requests and their
//! answers, cron jobs' runs, heartbeats, teams and their task boards): published once,
//! forwarded by every WebSocket connection to its caller when the event's entry in the access
//! table (`scopes::EVENT_ACCESS`) admits it for that tenant. An event may name the user it is about
//! (a cron job's owner) or, for a team, carry its [`Audience`]: the users the team names, who
//! stand in for the event's owner under an `OwnUser` entry.

use std::sync::Arc;

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
    /// The user the event is about (a cron job's owner), for events only their owner and
    /// the tenant's admins see; empty when it concerns the tenant as a whole.
    pub user_id: String,
    /// The users below admin a team's event concerns; `None` for other events.
    pub audience: Option<Audience>,
}

/// The users an event concerns.
pub type Audience = Arc<[String]>;

impl TenantEvent {
    /// Who owns the event as far as a caller with user id `user_id` is concerned: for a team's
    /// event, that user when the audience names it and nobody (`""`, which only admins see
    /// past) otherwise; for any other event, the user it is about.
    pub fn owner_for<'a>(&'a self, user_id: &'a str) -> &'a str {
        match &self.audience {
            Some(users) if !user_id.is_empty() && users.iter().any(|u| u == user_id) => user_id,
            Some(_) => "",
            None => &self.user_id,
        }
    }
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
            user_id: String::new(),
            audience: None,
        });
    }

    /// Sends `event` about `user_id`'s things (who may see it follows the event's entry in
    /// the access table: the user and the tenant's admins, for an own-user rule).
    pub fn publish_for_user(&self, tenant: TenantId, user_id: &str, event: Event, payload: Value) {
        let _ = self.sender.send(TenantEvent {
            tenant,
            event,
            payload,
            user_id: user_id.to_owned(),
            audience: None,
        });
    }

    /// Sends `event` of a team of `tenant` to the tenant's admins and the team's `audience`.
    pub fn publish_to(&self, tenant: TenantId, event: Event, payload: Value, audience: Audience) {
        let _ = self.sender.send(TenantEvent {
            tenant,
            event,
            payload,
            user_id: String::new(),
            audience: Some(audience),
        });
    }

    /// Every tenant's events from now on; each connection keeps to what it may see.
    pub fn watch(&self) -> broadcast::Receiver<TenantEvent> {
        self.sender.subscribe()
    }
}
