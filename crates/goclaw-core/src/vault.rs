//! The knowledge vault: a registry of the files in agents' workspaces — path, title, type,
//! content hash, summary, embedding and metadata, the content itself staying on disk — and
//! the directed links between them (`[[wikilinks]]`).
//!
//! Who owns a document is a [`VaultOwner`]: one agent (`personal`), one team (`team`), the
//! whole tenant (`shared`), or anything (`custom`), GoClaw's scope rule. Who sees what is a
//! [`VaultView`]: an agent sees its own personal documents and the tenant's shared ones; a
//! tenant-wide view (dashboards, administrators) sees every document of the tenant. The
//! tenant is always part of the key: nothing here crosses tenants.

use std::fmt;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AgentId, ParseError, TenantId};
use crate::store::StoreError;

/// GoClaw's document scopes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VaultScope {
    Personal,
    Team,
    Shared,
    Custom,
}

impl VaultScope {
    /// The stored and wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            VaultScope::Personal => "personal",
            VaultScope::Team => "team",
            VaultScope::Shared => "shared",
            VaultScope::Custom => "custom",
        }
    }

    /// Parses a stored or wire spelling.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        match text {
            "personal" => Ok(VaultScope::Personal),
            "team" => Ok(VaultScope::Team),
            "shared" => Ok(VaultScope::Shared),
            "custom" => Ok(VaultScope::Custom),
            other => Err(ParseError::new(
                "VaultScope",
                format!("unknown scope {other:?}"),
            )),
        }
    }
}

impl fmt::Display for VaultScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Who a document belongs to; the constructors keep GoClaw's scope invariant (personal ⇒ an
/// agent and no team, team ⇒ a team and no agent, shared ⇒ neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct VaultOwner {
    scope: VaultScope,
    agent: Option<AgentId>,
    team: Option<Uuid>,
}

impl VaultOwner {
    /// One agent's own document.
    pub fn personal(agent: AgentId) -> Self {
        Self {
            scope: VaultScope::Personal,
            agent: Some(agent),
            team: None,
        }
    }

    /// One team's document.
    pub fn of_team(team: Uuid) -> Self {
        Self {
            scope: VaultScope::Team,
            agent: None,
            team: Some(team),
        }
    }

    /// A document of the whole tenant.
    pub fn shared() -> Self {
        Self {
            scope: VaultScope::Shared,
            agent: None,
            team: None,
        }
    }

    pub fn scope(&self) -> VaultScope {
        self.scope
    }

    pub fn agent_id(&self) -> Option<AgentId> {
        self.agent
    }

    pub fn team_id(&self) -> Option<Uuid> {
        self.team
    }

    /// The owner as text — the agent's or team's id, `""` for shared — the stored key that
    /// makes `(tenant, scope, owner, path)` unique.
    pub fn key(&self) -> String {
        match (self.agent, self.team) {
            (Some(agent), _) => agent.to_string(),
            (None, Some(team)) => team.to_string(),
            (None, None) => String::new(),
        }
    }
}

/// One registered document.
#[derive(Debug, Clone, PartialEq)]
pub struct VaultDocument {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub agent_id: Option<AgentId>,
    pub team_id: Option<Uuid>,
    pub scope: VaultScope,
    /// Relative to the tenant's workspace root, `/`-separated.
    pub path: String,
    pub title: String,
    /// `context`, `memory`, `note`, `skill`, `episodic`, `media` or `document`.
    pub doc_type: String,
    /// SHA-256 of the file's bytes, lower-case hex.
    pub content_hash: String,
    pub summary: String,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A document to register (or to update, when its tenant, owner and path are known).
#[derive(Debug, Clone, PartialEq)]
pub struct NewVaultDocument {
    pub tenant: TenantId,
    pub owner: VaultOwner,
    pub path: String,
    pub title: String,
    pub doc_type: String,
    pub content_hash: String,
    pub summary: String,
    pub metadata: Value,
}

/// A directed link between two documents of one tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct VaultLink {
    pub id: Uuid,
    pub from_doc_id: Uuid,
    pub to_doc_id: Uuid,
    /// `wikilink` for links found in a document's text.
    pub link_type: String,
    /// The text around the link.
    pub context: String,
    pub metadata: Value,
    pub created_at: DateTime<Utc>,
}

/// An outgoing link to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewVaultLink {
    pub to_doc_id: Uuid,
    pub context: String,
}

/// A link into a document, with what the linking document is.
#[derive(Debug, Clone, PartialEq)]
pub struct VaultBacklink {
    pub from_doc_id: Uuid,
    pub context: String,
    pub title: String,
    pub path: String,
    pub team_id: Option<Uuid>,
}

/// Whose documents a read sees.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VaultView {
    pub tenant: TenantId,
    /// `Some`: that agent's personal documents and the tenant's shared ones. `None`: every
    /// document of the tenant.
    pub agent: Option<AgentId>,
}

impl VaultView {
    /// What an agent sees: its own documents and the shared ones.
    pub fn agent(tenant: TenantId, agent: AgentId) -> Self {
        Self {
            tenant,
            agent: Some(agent),
        }
    }

    /// Every document of the tenant.
    pub fn tenant(tenant: TenantId) -> Self {
        Self {
            tenant,
            agent: None,
        }
    }

    /// Whether `document` is in this view.
    pub fn sees(&self, document: &VaultDocument) -> bool {
        if document.tenant_id != self.tenant {
            return false;
        }
        match self.agent {
            None => true,
            Some(agent) => match document.scope {
                VaultScope::Shared => true,
                VaultScope::Personal => document.agent_id == Some(agent),
                VaultScope::Team | VaultScope::Custom => false,
            },
        }
    }
}

/// Narrowing of a listing.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct VaultFilter {
    pub scope: Option<VaultScope>,
    /// Any of these types; empty for all.
    pub doc_types: Vec<String>,
    pub limit: u32,
    pub offset: u32,
}

/// A document found by a search; higher scores are better matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredVaultDocument {
    pub document: VaultDocument,
    /// Full text: the engine's relevance, not comparable across engines. Vector: 1 − cosine
    /// distance.
    pub score: f64,
}

/// Storage of the vault registry and its links.
#[async_trait]
pub trait VaultStore: Send + Sync {
    /// Registers the document at `path` of its owner, or updates its title, type, hash,
    /// summary and metadata. `NotFound("agent")` when a personal owner is not a live agent of
    /// the tenant.
    async fn upsert_document(
        &self,
        document: NewVaultDocument,
    ) -> Result<VaultDocument, StoreError>;

    /// The document with this id, in the tenant.
    async fn get_document(
        &self,
        tenant: TenantId,
        id: Uuid,
    ) -> Result<Option<VaultDocument>, StoreError>;

    /// The document at `path` of exactly this owner.
    async fn find_document(
        &self,
        tenant: TenantId,
        owner: &VaultOwner,
        path: &str,
    ) -> Result<Option<VaultDocument>, StoreError>;

    /// The documents in `view` at `path` — or, with `by_basename`, whose lower-cased last path
    /// segment is `path` — the agent's own before shared ones, then by path.
    async fn lookup(
        &self,
        view: &VaultView,
        path: &str,
        by_basename: bool,
    ) -> Result<Vec<VaultDocument>, StoreError>;

    /// Whether the tenant has a `personal` document under the directory `prefix` (`a/`): the
    /// directory is an agent's workspace, whether or not the agent is still live.
    async fn has_personal_under(&self, tenant: TenantId, prefix: &str) -> Result<bool, StoreError>;

    /// Deletes a document with every link from or to it; `false` when there was none.
    async fn delete_document(&self, tenant: TenantId, id: Uuid) -> Result<bool, StoreError>;

    /// Moves a document to `path` (and `title`), keeping its id and links.
    /// `Conflict` when its owner already has a document there.
    async fn move_document(
        &self,
        tenant: TenantId,
        id: Uuid,
        path: &str,
        title: &str,
    ) -> Result<VaultDocument, StoreError>;

    /// The documents in `view`, by path, narrowed by `filter`.
    async fn list_documents(
        &self,
        view: &VaultView,
        filter: &VaultFilter,
    ) -> Result<Vec<VaultDocument>, StoreError>;

    /// How many documents [`VaultStore::list_documents`] would find without limit and offset.
    async fn count_documents(
        &self,
        view: &VaultView,
        filter: &VaultFilter,
    ) -> Result<u64, StoreError>;

    /// Documents in `view` whose title, path or summary hold every word of `query`, best
    /// first, at most `limit`.
    async fn search_text(
        &self,
        view: &VaultView,
        query: &str,
        limit: u32,
    ) -> Result<Vec<ScoredVaultDocument>, StoreError>;

    /// Documents an agent sees that have an embedding, nearest first, at most `limit`.
    async fn search_vector(
        &self,
        tenant: TenantId,
        agent: AgentId,
        embedding: &[f32],
        limit: u32,
    ) -> Result<Vec<ScoredVaultDocument>, StoreError>;

    /// Sets (or clears) a document's embedding; `NotFound("vault document")` without one.
    async fn set_embedding(
        &self,
        tenant: TenantId,
        id: Uuid,
        embedding: Option<&[f32]>,
    ) -> Result<(), StoreError>;

    /// Replaces every outgoing `wikilink` of a document with `links`, in one transaction;
    /// links to documents of another tenant are refused with `NotFound("vault document")`.
    async fn replace_wikilinks(
        &self,
        tenant: TenantId,
        from: Uuid,
        links: &[NewVaultLink],
    ) -> Result<Vec<VaultLink>, StoreError>;

    /// Sets a document's summary (searched with its title and path);
    /// `NotFound("vault document")` without one.
    async fn set_summary(
        &self,
        tenant: TenantId,
        id: Uuid,
        summary: &str,
    ) -> Result<(), StoreError>;

    /// Replaces every `similar` link of a document (documents close in meaning, found by the
    /// enrichment; the relation is symmetric) — outgoing and incoming — with `links` and their
    /// reverse, in one transaction; `context` holds the similarity. Links to documents of
    /// another tenant are refused with `NotFound("vault document")`.
    async fn replace_similar_links(
        &self,
        tenant: TenantId,
        from: Uuid,
        links: &[NewVaultLink],
    ) -> Result<Vec<VaultLink>, StoreError>;

    /// A document's outgoing links.
    async fn out_links(&self, tenant: TenantId, id: Uuid) -> Result<Vec<VaultLink>, StoreError>;

    /// The links into a document, with their source documents.
    async fn backlinks(&self, tenant: TenantId, id: Uuid)
    -> Result<Vec<VaultBacklink>, StoreError>;

    /// Changes a document's title, type and metadata (its place and owner follow its file);
    /// `None` without such a document.
    async fn update_document(
        &self,
        tenant: TenantId,
        id: Uuid,
        title: &str,
        doc_type: &str,
        metadata: &Value,
    ) -> Result<Option<VaultDocument>, StoreError>;

    /// Links `from` to `to` with `link_type` (not `wikilink`: those follow the text), or
    /// changes the context of that link; `None` unless both are documents of the tenant.
    async fn add_link(
        &self,
        tenant: TenantId,
        from: Uuid,
        to: Uuid,
        link_type: &str,
        context: &str,
    ) -> Result<Option<VaultLink>, StoreError>;

    /// The tenant's link `id`.
    async fn get_link(&self, tenant: TenantId, id: Uuid) -> Result<Option<VaultLink>, StoreError>;

    /// Deletes the tenant's link `id`; whether there was one.
    async fn delete_link(&self, tenant: TenantId, id: Uuid) -> Result<bool, StoreError>;
}
