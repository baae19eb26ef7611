//! Keeping the registry in step with files: registering (or updating) one file, forgetting a
//! file or a directory, following a move, re-reading every document's links, and rescanning a
//! tenant's whole workspace with the bounded walk.
//!
//! A file is registered when its path is eligible ([`classify`]), it is a regular file (never a
//! symbolic link) of at most 50 MB, and its owner is known. Its content hash is the SHA-256 of
//! its bytes; an unchanged hash changes nothing. A markdown file's links are read each time it
//! changes; with an embedder, the title, path and the first 3,000 characters are embedded (an
//! embedding failure is logged, the document stays searchable by its words).

use std::collections::{HashMap, HashSet};

use goclaw_core::{
    AgentId, MASTER_TENANT_ID, NewVaultDocument, TenantId, VaultDocument, VaultFilter, VaultScope,
    VaultView,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

use super::walk::{WalkLimits, walk};
use super::{Vault, VaultError, classify};
use crate::embed::content_hash;

/// Characters of a document's text that are embedded with its title and path.
const EMBEDDED_CHARS: usize = 3000;
/// Most documents one relink or prune reads.
const MAX_DOCUMENTS: u32 = 5000;

/// What registering a file did.
#[derive(Debug, Clone, PartialEq)]
pub enum Registered {
    New(VaultDocument),
    Updated(VaultDocument),
    Unchanged(VaultDocument),
    /// Not a file the vault registers (or no longer there).
    Skipped,
}

/// GoClaw's answer to a rescan (`POST /v1/vault/rescan`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RescanResult {
    pub scanned: usize,
    pub new: usize,
    pub updated: usize,
    pub unchanged: usize,
    /// Unchanged documents still without a summary, queued again for enrichment (0 while no
    /// enricher runs).
    pub reenqueued: usize,
    pub skipped: usize,
    pub errors: usize,
    pub truncated: bool,
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

impl Vault {
    /// The tenant's live agents by key.
    async fn agents_by_key(
        &self,
        tenant: TenantId,
    ) -> Result<HashMap<String, AgentId>, VaultError> {
        let agents = self.store.agents().list(tenant).await?;
        Ok(agents
            .into_iter()
            .map(|a| (a.agent_key.as_str().to_owned(), a.id))
            .collect())
    }

    /// Registers or updates the file at `path` of `tenant`'s workspace.
    pub async fn register(&self, tenant: TenantId, path: &str) -> Result<Registered, VaultError> {
        // Most events are for files the vault never keeps: no query for those.
        if !classify::is_registered(path) {
            return Ok(Registered::Skipped);
        }
        let agents = self.agents_by_key(tenant).await?;
        self.register_with(tenant, path, &agents).await
    }

    async fn register_with(
        &self,
        tenant: TenantId,
        path: &str,
        agents: &HashMap<String, AgentId>,
    ) -> Result<Registered, VaultError> {
        if !classify::is_registered(path) {
            return Ok(Registered::Skipped);
        }
        let Some(owner) = classify::owner_of(path, agents) else {
            return Ok(Registered::Skipped);
        };
        if owner.scope() == VaultScope::Shared
            && let Some((top, _)) = path.split_once('/')
            && self
                .store
                .vault()
                .has_personal_under(tenant, &format!("{top}/"))
                .await?
        {
            // A deleted agent's workspace: its users' files never become everyone's.
            return Ok(Registered::Skipped);
        }
        let absolute = self.absolute(tenant, path);
        let Ok(meta) = tokio::fs::symlink_metadata(&absolute).await else {
            return Ok(Registered::Skipped);
        };
        if !meta.is_file() || meta.len() > WalkLimits::default().max_file_bytes {
            return Ok(Registered::Skipped);
        }
        let bytes = match tokio::fs::read(&absolute).await {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Registered::Skipped),
            Err(source) => {
                return Err(VaultError::Io {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        let hash = sha256_hex(&bytes);
        let vault = self.store.vault();
        let existing = vault.find_document(tenant, &owner, path).await?;
        if let Some(existing) = existing.as_ref().filter(|d| d.content_hash == hash) {
            return Ok(Registered::Unchanged(existing.clone()));
        }
        let document = vault
            .upsert_document(NewVaultDocument {
                tenant,
                owner,
                path: path.to_owned(),
                title: classify::title(path),
                doc_type: classify::doc_type(path).to_owned(),
                content_hash: hash,
                summary: String::new(),
                metadata: serde_json::json!({}),
            })
            .await?;
        let text = String::from_utf8_lossy(&bytes);
        if classify::is_markdown(path) {
            self.sync_links(&document, &text).await?;
        }
        self.embed_document(&document, &text).await;
        self.enqueue_enrichment(&document);
        Ok(match existing {
            Some(_) => Registered::Updated(document),
            None => Registered::New(document),
        })
    }

    /// Embeds a document's title, path and the start of its text, when there is an embedder.
    async fn embed_document(&self, document: &VaultDocument, text: &str) {
        let excerpt: String = text.chars().take(EMBEDDED_CHARS).collect();
        let input = format!("{}\n{}\n{excerpt}", document.title, document.path);
        self.store_embedding(document, &input).await;
    }

    /// Embeds a document again with its new summary; the vector stored, if any.
    pub(crate) async fn embed_summarized(
        &self,
        document: &VaultDocument,
        summary: &str,
        text: &str,
    ) -> Option<Vec<f32>> {
        let excerpt: String = text.chars().take(EMBEDDED_CHARS).collect();
        let input = format!(
            "{}\n{}\n{summary}\n{excerpt}",
            document.title, document.path
        );
        self.store_embedding(document, &input).await
    }

    /// Embeds `input` as `document`'s embedding, when there is an embedder; failures are
    /// logged (the document stays searchable by its words).
    async fn store_embedding(&self, document: &VaultDocument, input: &str) -> Option<Vec<f32>> {
        self.embedder.current()?;
        let vector = match self.embedding(input).await {
            Ok(vector) => vector?,
            Err(error) => {
                tracing::warn!(path = %document.path, %error, "vault: document not embedded");
                return None;
            }
        };
        match self
            .store
            .vault()
            .set_embedding(document.tenant_id, document.id, Some(&vector))
            .await
        {
            Ok(()) => Some(vector),
            Err(error) => {
                tracing::warn!(path = %document.path, %error, "vault: embedding not stored");
                None
            }
        }
    }

    /// The embedding of `text` from the cache or the embedder; `None` without an embedder.
    pub(crate) async fn embedding(&self, text: &str) -> Result<Option<Vec<f32>>, VaultError> {
        let Some(embedder) = self.embedder.current() else {
            return Ok(None);
        };
        let hash = content_hash(text);
        let key = goclaw_core::EmbeddingKey {
            hash: &hash,
            provider: embedder.provider(),
            model: embedder.model(),
        };
        if let Some(vector) = self.store.memory().cached_embedding(key).await? {
            return Ok(Some(vector));
        }
        let vector = embedder
            .embed(&[text.to_owned()])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| crate::embed::EmbedError::Malformed("no vector".to_owned()))?;
        self.store.memory().cache_embedding(key, &vector).await?;
        Ok(Some(vector))
    }

    /// Forgets the document at `path` — every owner's — and, when `path` was a directory,
    /// every document under it; how many were forgotten.
    pub async fn forget(&self, tenant: TenantId, path: &str) -> Result<usize, VaultError> {
        let vault = self.store.vault();
        let mut forgotten = 0;
        for document in vault
            .lookup(&VaultView::tenant(tenant), path, false)
            .await?
        {
            if vault.delete_document(tenant, document.id).await? {
                forgotten += 1;
            }
        }
        // A name the vault would register is a file; anything else may have been a directory.
        if classify::extension_doc_type(path).is_some() {
            return Ok(forgotten);
        }
        let under = format!("{}/", path.trim_end_matches('/'));
        for document in self.all_documents(tenant).await? {
            if document.path.starts_with(&under)
                && vault.delete_document(tenant, document.id).await?
            {
                forgotten += 1;
            }
        }
        Ok(forgotten)
    }

    /// Follows a file moved from `from` to `to`: the document keeps its id and the links into
    /// it when it stays with its owner and stays eligible; otherwise the old document is
    /// forgotten and the new path registered. Directories are followed file by file.
    pub async fn moved(&self, tenant: TenantId, from: &str, to: &str) -> Result<(), VaultError> {
        let agents = self.agents_by_key(tenant).await?;
        let absolute = self.absolute(tenant, to);
        let is_dir = tokio::fs::symlink_metadata(&absolute)
            .await
            .is_ok_and(|m| m.is_dir());
        if is_dir {
            self.forget(tenant, from).await?;
            self.register_tree(tenant, to, &agents).await?;
            return Ok(());
        }
        let vault = self.store.vault();
        let old_owner = classify::owner_of(from, &agents);
        let new_owner = classify::owner_of(to, &agents);
        let existing = match old_owner {
            Some(owner) => vault.find_document(tenant, &owner, from).await?,
            None => None,
        };
        match existing {
            Some(document) if new_owner == old_owner && classify::is_registered(to) => {
                let taken = match new_owner {
                    Some(owner) => vault.find_document(tenant, &owner, to).await?,
                    None => None,
                };
                if let Some(taken) = taken {
                    vault.delete_document(tenant, taken.id).await?;
                }
                vault
                    .move_document(tenant, document.id, to, &classify::title(to))
                    .await?;
                let doc_type = classify::doc_type(to);
                if doc_type != document.doc_type {
                    // The type follows the place; re-register to store it.
                    self.register_with(tenant, to, &agents).await?;
                }
            }
            Some(document) => {
                vault.delete_document(tenant, document.id).await?;
                self.register_with(tenant, to, &agents).await?;
            }
            None => {
                self.register_with(tenant, to, &agents).await?;
            }
        }
        Ok(())
    }

    /// Registers every eligible file under the directory `path`; how many were new or changed.
    pub(crate) async fn register_tree(
        &self,
        tenant: TenantId,
        path: &str,
        agents: &HashMap<String, AgentId>,
    ) -> Result<usize, VaultError> {
        let root = self.tenant_root(tenant);
        let prefix = path.to_owned();
        let skip = skip_top(tenant);
        let (entries, _) =
            tokio::task::spawn_blocking(move || walk(&root, &prefix, skip, WalkLimits::default()))
                .await
                .map_err(|e| VaultError::Watch(e.to_string()))?;
        let mut changed = 0;
        for entry in entries {
            match self.register_with(tenant, &entry.path, agents).await? {
                Registered::New(_) | Registered::Updated(_) => changed += 1,
                Registered::Unchanged(_) | Registered::Skipped => {}
            }
        }
        Ok(changed)
    }

    /// Every document of the tenant (at most 5,000).
    async fn all_documents(&self, tenant: TenantId) -> Result<Vec<VaultDocument>, VaultError> {
        let filter = VaultFilter {
            limit: MAX_DOCUMENTS,
            ..VaultFilter::default()
        };
        Ok(self
            .store
            .vault()
            .list_documents(&VaultView::tenant(tenant), &filter)
            .await?)
    }

    /// Reads the links of every markdown document of the tenant again (after documents came,
    /// went or moved, links may point elsewhere); how many documents were read.
    pub async fn relink(&self, tenant: TenantId) -> Result<usize, VaultError> {
        self.relink_mentioning(tenant, None).await
    }

    /// Like [`Vault::relink`], but only documents whose text mentions one of `names` (lower-case
    /// file names without extension) are linked again: a link can only have changed where its
    /// target names a document that came, went or moved. `None` relinks every document.
    pub async fn relink_mentioning(
        &self,
        tenant: TenantId,
        names: Option<&HashSet<String>>,
    ) -> Result<usize, VaultError> {
        let mut read = 0;
        for document in self.all_documents(tenant).await? {
            if !classify::is_markdown(&document.path) {
                continue;
            }
            let absolute = self.absolute(tenant, &document.path);
            let is_file = tokio::fs::symlink_metadata(&absolute)
                .await
                .is_ok_and(|m| m.is_file());
            if !is_file {
                continue;
            }
            let Ok(bytes) = tokio::fs::read(&absolute).await else {
                continue;
            };
            let text = String::from_utf8_lossy(&bytes);
            if let Some(names) = names {
                let lower = text.to_lowercase();
                if !lower.contains("[[") || !names.iter().any(|n| lower.contains(n.as_str())) {
                    continue;
                }
            }
            self.sync_links(&document, &text).await?;
            read += 1;
        }
        Ok(read)
    }

    /// Walks the tenant's workspace, registers what is new or changed, forgets documents whose
    /// file is gone, and reads every document's links again.
    pub async fn rescan(&self, tenant: TenantId) -> Result<RescanResult, VaultError> {
        let agents = self.agents_by_key(tenant).await?;
        let root = self.tenant_root(tenant);
        let skip = skip_top(tenant);
        let (entries, stats) =
            tokio::task::spawn_blocking(move || walk(&root, "", skip, WalkLimits::default()))
                .await
                .map_err(|e| VaultError::Watch(e.to_string()))?;
        let mut result = RescanResult {
            scanned: stats.eligible,
            skipped: stats.skipped_excluded + stats.skipped_symlinks + stats.skipped_too_large,
            truncated: stats.truncated,
            ..RescanResult::default()
        };
        let mut seen = HashSet::new();
        for entry in &entries {
            seen.insert(entry.path.clone());
            match self.register_with(tenant, &entry.path, &agents).await {
                Ok(Registered::New(_)) => result.new += 1,
                Ok(Registered::Updated(_)) => result.updated += 1,
                Ok(Registered::Unchanged(document)) => {
                    result.unchanged += 1;
                    if self.enqueue_enrichment(&document) {
                        result.reenqueued += 1;
                    }
                }
                Ok(Registered::Skipped) => result.skipped += 1,
                Err(error) => {
                    tracing::warn!(path = %entry.path, %error, "vault: rescan could not register a file");
                    result.errors += 1;
                }
            }
        }
        // A truncated walk has not seen everything, so it forgets nothing.
        if !stats.truncated {
            for document in self.all_documents(tenant).await? {
                // A file created since the walk (and registered by the watcher) stays.
                let gone = !seen.contains(&document.path)
                    && tokio::fs::symlink_metadata(self.absolute(tenant, &document.path))
                        .await
                        .is_err();
                if gone {
                    self.store
                        .vault()
                        .delete_document(tenant, document.id)
                        .await?;
                }
            }
        }
        self.relink(tenant).await?;
        tracing::info!(
            tenant = %tenant,
            scanned = result.scanned,
            new = result.new,
            updated = result.updated,
            unchanged = result.unchanged,
            skipped = result.skipped,
            errors = result.errors,
            truncated = result.truncated,
            "vault.rescan"
        );
        Ok(result)
    }

    /// Rescans every tenant's workspace that exists on disk.
    pub async fn rescan_all(&self) -> Result<(), VaultError> {
        for tenant in self.store.tenants().list().await? {
            if tokio::fs::metadata(self.tenant_root(tenant.id))
                .await
                .is_ok()
            {
                self.rescan(tenant.id).await?;
            }
        }
        Ok(())
    }
}

/// Top-level directories a walk of the tenant's root leaves out: the master tenant's root
/// holds the other tenants' under `tenants/`.
fn skip_top(tenant: TenantId) -> &'static [&'static str] {
    if tenant == MASTER_TENANT_ID {
        &["tenants"]
    } else {
        &[]
    }
}
