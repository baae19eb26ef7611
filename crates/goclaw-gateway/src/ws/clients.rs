//! The registry of connected WebSocket clients: who is connected, for `health` and `status`,
//! and which connections authenticated with which API key or browser pairing, so that revoking
//! the key or the pairing closes them at once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use goclaw_core::{ApiKeyId, TenantId};
use serde::Serialize;
use tokio_util::sync::CancellationToken;
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
    /// The tenant the client works in; only the owner sees other tenants' clients.
    #[serde(skip)]
    pub tenant_id: TenantId,
}

/// Connected clients, shared by every connection task.
#[derive(Debug, Clone, Default)]
pub struct ClientRegistry {
    inner: Arc<Mutex<Clients>>,
}

/// What a connection authenticated with that can be taken back.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Credential {
    ApiKey(ApiKeyId),
    /// A browser paired in a tenant, by its sender id.
    BrowserPairing(TenantId, String),
}

#[derive(Debug, Default)]
struct Clients {
    info: HashMap<Uuid, ClientInfo>,
    /// Connections by the credential they authenticated with; cancelling a token closes one.
    by_key: HashMap<Credential, HashMap<Uuid, CancellationToken>>,
    key_of: HashMap<Uuid, Credential>,
}

impl ClientRegistry {
    pub fn upsert(&self, id: Uuid, info: ClientInfo) {
        self.with(|clients| {
            clients.info.insert(id, info);
        });
    }

    /// Forgets connection `id`, its API key binding included.
    pub fn remove(&self, id: Uuid) {
        self.with(|clients| {
            clients.info.remove(&id);
            clients.unbind(id);
        });
    }

    /// Binds connection `id` to API key `key`; the token is cancelled when the key is revoked.
    pub fn bind_key(&self, id: Uuid, key: ApiKeyId) -> CancellationToken {
        self.bind(id, Credential::ApiKey(key))
    }

    /// Closes every connection authenticated with API key `key`; returns how many.
    pub fn close_key(&self, key: ApiKeyId) -> usize {
        self.close(&Credential::ApiKey(key))
    }

    /// Binds connection `id` to `credential`; the token is cancelled when it is taken back.
    pub fn bind(&self, id: Uuid, key: Credential) -> CancellationToken {
        let revoked = CancellationToken::new();
        self.with(|clients| {
            clients.unbind(id);
            clients
                .by_key
                .entry(key.clone())
                .or_default()
                .insert(id, revoked.clone());
            clients.key_of.insert(id, key);
        });
        revoked
    }

    /// Closes every connection authenticated with `key`; returns how many.
    pub fn close(&self, key: &Credential) -> usize {
        let tokens = self.with(|clients| {
            let bound = clients.by_key.remove(key).unwrap_or_default();
            for id in bound.keys() {
                clients.key_of.remove(id);
            }
            bound
        });
        for token in tokens.values() {
            token.cancel();
        }
        tokens.len()
    }

    pub fn list(&self) -> Vec<ClientInfo> {
        let mut clients = self.with(|clients| clients.info.values().cloned().collect::<Vec<_>>());
        clients.sort_by_key(|c| c.connected_at);
        clients
    }

    pub fn len(&self) -> usize {
        self.with(|clients| clients.info.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn with<T>(&self, f: impl FnOnce(&mut Clients) -> T) -> T {
        let mut guard = match self.inner.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        f(&mut guard)
    }
}

impl Clients {
    fn unbind(&mut self, id: Uuid) {
        let Some(key) = self.key_of.remove(&id) else {
            return;
        };
        if let Some(bound) = self.by_key.get_mut(&key) {
            bound.remove(&id);
            if bound.is_empty() {
                self.by_key.remove(&key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn closing_a_key_cancels_only_its_connections() {
        let registry = ClientRegistry::default();
        let (alice, bob) = (ApiKeyId::generate(), ApiKeyId::generate());
        let (a1, a2, b1) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
        let a1_token = registry.bind_key(a1, alice);
        let a2_token = registry.bind_key(a2, alice);
        let b1_token = registry.bind_key(b1, bob);
        registry.remove(a2);
        assert_eq!(registry.close_key(alice), 1);
        assert!(a1_token.is_cancelled());
        assert!(!a2_token.is_cancelled(), "a closed connection is forgotten");
        assert!(!b1_token.is_cancelled());
        assert_eq!(registry.close_key(alice), 0);
        registry.remove(b1);
        assert_eq!(registry.close_key(bob), 0);
    }
}
