//! The file watcher: one recursive watch over the workspace base (every tenant's workspaces),
//! debounced by 500 ms, that keeps the registry in step with the disk while the gateway runs —
//! a created or changed file is registered (its links read again), a moved file keeps its
//! document and links under the new path, a deleted file or directory is forgotten with the
//! links into it. After a batch that added, moved or removed documents, the links of the
//! documents that mention those names are read again, since a `[[name]]` may now point
//! elsewhere. Symbolic links are not followed.
//!
//! Events go from the watcher's thread to a task over a bounded channel; the task stops with
//! the gateway's shutdown token, and dropping the [`VaultWatcher`] stops the watch.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use goclaw_core::TenantId;
use notify_debouncer_full::notify::event::{ModifyKind, RenameMode};
use notify_debouncer_full::notify::{self, EventKind, RecommendedWatcher, RecursiveMode};
use notify_debouncer_full::{
    DebounceEventResult, DebouncedEvent, Debouncer, RecommendedCache, new_debouncer_opt,
};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use super::registry::Registered;
use super::{Vault, VaultError, classify};

/// How long the watcher waits for a burst of events on one file to settle.
pub const DEBOUNCE: Duration = Duration::from_millis(500);
/// Batches of events waiting for the task; the watcher thread waits when it is full.
const QUEUE: usize = 64;

/// A running watch over the workspace base.
pub struct VaultWatcher {
    _debouncer: Debouncer<RecommendedWatcher, RecommendedCache>,
    task: tokio::task::JoinHandle<()>,
}

/// One change to apply, in tenant-relative paths.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Change {
    Moved { from: String, to: String },
    Touched(String),
}

impl VaultWatcher {
    /// Starts watching `vault`'s base (creating it if missing) until `shutdown` is cancelled.
    pub fn start(vault: Vault, shutdown: CancellationToken) -> Result<Self, VaultError> {
        let base = vault.base().to_path_buf();
        std::fs::create_dir_all(&base).map_err(|source| VaultError::Io {
            path: base.display().to_string(),
            source,
        })?;
        let (tx, rx) = mpsc::channel::<Vec<DebouncedEvent>>(QUEUE);
        let handler = move |result: DebounceEventResult| match result {
            Ok(events) => {
                // The watcher's own thread, outside the runtime: waiting here is back-pressure.
                let _ = tx.blocking_send(events);
            }
            Err(errors) => {
                for error in errors {
                    tracing::warn!(%error, "vault: file watcher error");
                }
            }
        };
        let config = notify::Config::default().with_follow_symlinks(false);
        let mut debouncer = new_debouncer_opt::<_, RecommendedWatcher, RecommendedCache>(
            DEBOUNCE,
            None,
            handler,
            RecommendedCache::new(),
            config,
        )
        .map_err(|e| VaultError::Watch(e.to_string()))?;
        debouncer
            .watch(&base, RecursiveMode::Recursive)
            .map_err(|e| VaultError::Watch(e.to_string()))?;
        let task = tokio::spawn(apply_batches(vault, rx, shutdown));
        tracing::info!(base = %base.display(), "vault: watching workspaces");
        Ok(Self {
            _debouncer: debouncer,
            task,
        })
    }

    /// Whether the watcher's task is still running.
    pub fn is_running(&self) -> bool {
        !self.task.is_finished()
    }
}

impl Drop for VaultWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn apply_batches(
    vault: Vault,
    mut rx: mpsc::Receiver<Vec<DebouncedEvent>>,
    shutdown: CancellationToken,
) {
    loop {
        let events = tokio::select! {
            () = shutdown.cancelled() => return,
            events = rx.recv() => match events {
                Some(events) => events,
                None => return,
            },
        };
        for (tenant, changes) in changes(vault.base(), &events) {
            if let Err(error) = apply(&vault, tenant, changes).await {
                tracing::warn!(tenant = %tenant, %error, "vault: could not apply file changes");
            }
        }
    }
}

/// The changes a batch of events makes, per tenant, in order.
fn changes(base: &Path, events: &[DebouncedEvent]) -> BTreeMap<TenantId, Vec<Change>> {
    let mut out: BTreeMap<TenantId, Vec<Change>> = BTreeMap::new();
    let mut touched: BTreeSet<(TenantId, String)> = BTreeSet::new();
    let locate = |path: &PathBuf| super::locate(base, path);
    for event in events {
        match event.kind {
            EventKind::Access(_) => {}
            EventKind::Modify(ModifyKind::Name(RenameMode::Both)) if event.paths.len() == 2 => {
                match (locate(&event.paths[0]), locate(&event.paths[1])) {
                    (Some((from_tenant, from)), Some((to_tenant, to)))
                        if from_tenant == to_tenant =>
                    {
                        out.entry(from_tenant)
                            .or_default()
                            .push(Change::Moved { from, to });
                    }
                    (from, to) => {
                        for (tenant, path) in [from, to].into_iter().flatten() {
                            touched.insert((tenant, path));
                        }
                    }
                }
            }
            _ => {
                for (tenant, path) in event.paths.iter().filter_map(locate) {
                    touched.insert((tenant, path));
                }
            }
        }
    }
    for (tenant, path) in touched {
        out.entry(tenant).or_default().push(Change::Touched(path));
    }
    out
}

/// What a batch changed in a tenant's link graph: nothing, the documents of these names, or
/// more than can be named (a directory came or went).
#[derive(Default)]
struct GraphChange {
    names: HashSet<String>,
    everything: bool,
}

impl GraphChange {
    fn name(&mut self, path: &str) {
        self.names.insert(classify::title(path).to_lowercase());
    }
}

/// Applies one tenant's changes, then reads again the links of the documents that may now
/// point elsewhere.
async fn apply(vault: &Vault, tenant: TenantId, changes: Vec<Change>) -> Result<(), VaultError> {
    let mut graph = GraphChange::default();
    for change in changes {
        match change {
            Change::Moved { from, to } => {
                vault.moved(tenant, &from, &to).await?;
                if classify::extension_doc_type(&to).is_some() {
                    graph.name(&from);
                    graph.name(&to);
                } else {
                    graph.everything = true;
                }
            }
            Change::Touched(path) => {
                let absolute = vault.absolute(tenant, &path);
                match tokio::fs::symlink_metadata(&absolute).await {
                    Ok(meta) if meta.is_dir() => {
                        let agents = vault.store().agents().list(tenant).await?;
                        let agents = agents
                            .into_iter()
                            .map(|a| (a.agent_key.as_str().to_owned(), a.id))
                            .collect();
                        graph.everything |= vault.register_tree(tenant, &path, &agents).await? > 0;
                    }
                    Ok(_) => match vault.register(tenant, &path).await? {
                        Registered::New(_) => graph.name(&path),
                        Registered::Updated(_) | Registered::Unchanged(_) => {}
                        Registered::Skipped if classify::is_registered(&path) => {
                            // No longer a file the vault keeps (a link now, or too large).
                            if vault.forget(tenant, &path).await? > 0 {
                                graph.name(&path);
                            }
                        }
                        Registered::Skipped => {}
                    },
                    Err(_) => {
                        if vault.forget(tenant, &path).await? > 0 {
                            // A file, or a directory with everything in it.
                            match classify::extension_doc_type(&path) {
                                Some(_) => graph.name(&path),
                                None => graph.everything = true,
                            }
                        }
                    }
                }
            }
        }
    }
    if graph.everything {
        vault.relink(tenant).await?;
    } else if !graph.names.is_empty() {
        vault.relink_mentioning(tenant, Some(&graph.names)).await?;
    }
    Ok(())
}
