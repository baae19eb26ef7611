//! The knowledge vault outside the database: which workspace files are registered and as what
//! ([`classify`]), a bounded walk of a workspace ([`walk`]), wikilinks and their resolution
//! ([`links`]), registering, moving and forgetting files and rescanning a tenant's workspace
//! ([`registry`]), ranked search ([`search`]), one search over the vault, episodic memory
//! and the knowledge graph ([`unified`]), the file watcher that keeps the registry in step
//! with the disk ([`watcher`]), and the enrichment that summarizes and links what is
//! registered ([`enrich`]).
//!
//! [`Vault`] is the service all of it hangs on: the store, an optional embedder, and the
//! workspace base directory (`agents.defaults.workspace`). A tenant's workspace root is the
//! base for the master tenant and `<base>/tenants/<tenant id>` for any other — the layout the
//! agent runtime gives workspaces — and every registered path is relative to that root.

pub mod classify;
pub mod enrich;
pub mod links;
pub mod progress;
pub mod registry;
pub mod search;
pub mod unified;
pub mod walk;
pub mod watcher;

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use goclaw_core::{MASTER_TENANT_ID, Store, StoreError, TenantId, VaultDocument};

use crate::embed::{EmbedError, Embedder, EmbedderSlot};

pub use enrich::{EnrichSettings, EnrichStats, VaultEnricher};
pub use links::{Wikilink, wikilinks};
pub use progress::{EnrichPhase, EnrichProgress};
pub use registry::{Registered, RescanResult};
pub use search::{SearchRequest, VaultHit};
pub use unified::{Found, Searcher, SourceWeights, UnifiedHit, UnifiedRequest, UnifiedSearch};
pub use watcher::VaultWatcher;

/// Why a vault operation failed.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cannot read {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Embed(#[from] EmbedError),
    #[error("the file watcher failed: {0}")]
    Watch(String),
}

/// The vault service; cloning is cheap and shares everything.
#[derive(Clone)]
pub struct Vault {
    store: Arc<dyn Store>,
    embedder: EmbedderSlot,
    base: Arc<PathBuf>,
    /// The enrichment queue, once a [`VaultEnricher`] runs.
    enrichment: enrich::EnrichSlot,
}

impl Vault {
    /// The vault over `store` for the workspaces under `base`; documents are embedded (and
    /// searched by meaning too) when an `embedder` is given.
    pub fn new(store: Arc<dyn Store>, embedder: Option<Arc<dyn Embedder>>, base: PathBuf) -> Self {
        Self::switchable(store, EmbedderSlot::new(embedder), base)
    }

    /// The vault embedding with whatever `slot` holds at the time (nothing while it holds
    /// none), so the gateway can switch embedding providers without rebuilding it.
    pub fn switchable(store: Arc<dyn Store>, embedder: EmbedderSlot, base: PathBuf) -> Self {
        // Events name paths under what was watched, so the base is kept as the disk spells it
        // (created first: a path that does not exist yet cannot be resolved).
        let _ = std::fs::create_dir_all(&base);
        let base = std::fs::canonicalize(&base).unwrap_or(base);
        Self {
            store,
            embedder,
            base: Arc::new(base),
            enrichment: Arc::default(),
        }
    }

    /// The workspace base directory.
    pub fn base(&self) -> &Path {
        &self.base
    }

    /// The store the vault writes to.
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The root of `tenant`'s workspaces.
    pub fn tenant_root(&self, tenant: TenantId) -> PathBuf {
        if tenant == MASTER_TENANT_ID {
            self.base.to_path_buf()
        } else {
            self.base.join("tenants").join(tenant.to_string())
        }
    }

    /// The tenant and tenant-relative path of an absolute path under the base (see
    /// [`locate`]).
    pub fn locate(&self, absolute: &Path) -> Option<(TenantId, String)> {
        locate(&self.base, absolute)
    }

    /// The absolute path of a tenant-relative one.
    pub fn absolute(&self, tenant: TenantId, path: &str) -> PathBuf {
        self.tenant_root(tenant).join(path)
    }

    /// Whether documents are embedded.
    pub fn has_embedder(&self) -> bool {
        self.embedder.current().is_some()
    }

    /// Queues `document` for enrichment when an enricher runs and it has no summary yet;
    /// whether it was queued.
    pub(crate) fn enqueue_enrichment(&self, document: &VaultDocument) -> bool {
        document.summary.is_empty()
            && self
                .enrichment
                .get()
                .is_some_and(|queue| queue.offer(document))
    }
}

/// The tenant and tenant-relative path of `absolute` under the workspace `base`; `None`
/// outside it, for `..` or non-UTF-8 names, and for the `tenants/` directory itself.
pub fn locate(base: &Path, absolute: &Path) -> Option<(TenantId, String)> {
    let relative = absolute.strip_prefix(base).ok()?;
    let mut parts = Vec::new();
    for component in relative.components() {
        match component {
            Component::Normal(part) => parts.push(part.to_str()?),
            _ => return None,
        }
    }
    match parts.as_slice() {
        ["tenants", tenant, rest @ ..] => {
            let tenant: TenantId = tenant.parse().ok()?;
            (tenant != MASTER_TENANT_ID && !rest.is_empty()).then(|| (tenant, rest.join("/")))
        }
        ["tenants"] | [] => None,
        parts => Some((MASTER_TENANT_ID, parts.join("/"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_located_in_their_tenant() {
        let base = Path::new("/data/ws");
        let acme: TenantId = "0193a5b0-7000-7000-8000-0000000000a1".parse().expect("id");
        let check = |path: &str, expected: Option<(TenantId, &str)>| {
            assert_eq!(
                locate(base, Path::new(path)),
                expected.map(|(t, p)| (t, p.to_owned())),
                "{path}"
            );
        };
        check(
            "/data/ws/keeper/a.md",
            Some((MASTER_TENANT_ID, "keeper/a.md")),
        );
        check(
            &format!("/data/ws/tenants/{acme}/keeper/a.md"),
            Some((acme, "keeper/a.md")),
        );
        check("/data/ws/tenants/not-a-tenant/a.md", None);
        check("/data/ws/tenants", None);
        check("/data/ws", None);
        check("/elsewhere/a.md", None);
    }
}
