//! What this backend remembers about its containers: scope key, creation and last use, and a
//! lock per container name so that concurrent first commands create it only once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use chrono::{DateTime, Utc};

/// One container this backend manages.
#[derive(Debug, Clone)]
pub(crate) struct Tracked {
    pub key: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: DateTime<Utc>,
}

/// Containers by name, and the per-name creation locks.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    tracked: Mutex<HashMap<String, Tracked>>,
    locks: Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
}

fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Registry {
    /// The lock serialising creation and removal of `name`.
    pub(crate) fn lock_for(&self, name: &str) -> Arc<tokio::sync::Mutex<()>> {
        locked(&self.locks)
            .entry(name.to_owned())
            .or_default()
            .clone()
    }

    pub(crate) fn get(&self, name: &str) -> Option<Tracked> {
        locked(&self.tracked).get(name).cloned()
    }

    pub(crate) fn insert(&self, name: &str, tracked: Tracked) {
        locked(&self.tracked).insert(name.to_owned(), tracked);
    }

    /// Records a use of `name` at `now`; false if it is not tracked.
    pub(crate) fn touch(&self, name: &str, now: DateTime<Utc>) -> bool {
        match locked(&self.tracked).get_mut(name) {
            Some(tracked) => {
                tracked.last_used_at = tracked.last_used_at.max(now);
                true
            }
            None => false,
        }
    }

    pub(crate) fn forget(&self, name: &str) {
        locked(&self.tracked).remove(name);
    }

    pub(crate) fn clear(&self) {
        locked(&self.tracked).clear();
    }

    pub(crate) fn len(&self) -> usize {
        locked(&self.tracked).len()
    }
}
