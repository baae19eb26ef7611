//! The registry of connected WebSocket clients, for `health` and `status`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

/// What `health` reports about one client.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClientInfo {
    pub id: String,
    pub remote_addr: String,
    pub user_id: String,
    pub role: String,
    pub connected_at: DateTime<Utc>,
}

/// Connected clients, shared by every connection task.
#[derive(Debug, Clone, Default)]
pub struct ClientRegistry {
    inner: Arc<Mutex<HashMap<Uuid, ClientInfo>>>,
}

impl ClientRegistry {
    pub fn upsert(&self, id: Uuid, info: ClientInfo) {
        self.with(|map| {
            map.insert(id, info);
        });
    }

    pub fn remove(&self, id: Uuid) {
        self.with(|map| {
            map.remove(&id);
        });
    }

    pub fn list(&self) -> Vec<ClientInfo> {
        let mut clients = self.with(|map| map.values().cloned().collect::<Vec<_>>());
        clients.sort_by_key(|c| c.connected_at);
        clients
    }

    pub fn len(&self) -> usize {
        self.with(|map| map.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn with<T>(&self, f: impl FnOnce(&mut HashMap<Uuid, ClientInfo>) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}
