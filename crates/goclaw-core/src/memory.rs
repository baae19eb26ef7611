//! Stored memory: documents an agent remembers (`MEMORY.md`, `memory/**`), the chunks they are
//! split into for retrieval, full-text and vector search over those chunks, and the cache of
//! embeddings by content hash.
//!
//! Who sees what is a [`MemoryScope`]: a tenant, an agent and optionally a user. A document
//! belongs to exactly one owner — the agent's shared memory (no user) or one user's — and
//! searches and listings with a user see that user's memory and the shared memory, without a
//! user only the shared memory. Chunking and ranking are not decided here.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// The length of every stored chunk embedding (GoClaw's fixed 1536 dimensions).
pub const EMBEDDING_DIMENSIONS: usize = 1536;

/// Whose memory: a tenant's agent, and a user of it or (`None`) the agent's shared memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemoryScope {
    pub tenant: TenantId,
    pub agent: AgentId,
    pub user: Option<String>,
}

impl MemoryScope {
    /// The agent's shared memory.
    pub fn shared(tenant: TenantId, agent: AgentId) -> Self {
        Self {
            tenant,
            agent,
            user: None,
        }
    }

    /// `user`'s memory of the agent (and, when searching, the shared memory too).
    pub fn user(tenant: TenantId, agent: AgentId, user: impl Into<String>) -> Self {
        Self {
            tenant,
            agent,
            user: Some(user.into()),
        }
    }
}

/// One stored memory document.
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryDocument {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub agent_id: AgentId,
    /// `None`: shared by every user of the agent.
    pub user_id: Option<String>,
    pub path: String,
    pub content: String,
    pub content_hash: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// One chunk of a document to store with it.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMemoryChunk {
    pub start_line: i64,
    pub end_line: i64,
    pub text: String,
    pub content_hash: String,
    /// Known already (from the cache, say); usually set later with
    /// [`MemoryStore::set_chunk_embedding`]. Must have [`EMBEDDING_DIMENSIONS`] values.
    pub embedding: Option<Vec<f32>>,
}

/// A document to store, with every chunk it is split into.
#[derive(Debug, Clone, PartialEq)]
pub struct NewMemoryDocument {
    /// The owner: the scope's user, or the agent's shared memory.
    pub owner: MemoryScope,
    pub path: String,
    pub content: String,
    pub content_hash: String,
    pub chunks: Vec<NewMemoryChunk>,
}

/// One stored chunk (its embedding is not read back).
#[derive(Debug, Clone, PartialEq)]
pub struct MemoryChunk {
    pub id: Uuid,
    pub document_id: Uuid,
    pub agent_id: AgentId,
    pub user_id: Option<String>,
    pub path: String,
    pub start_line: i64,
    pub end_line: i64,
    pub text: String,
    pub content_hash: String,
    /// Whether the chunk has a vector (searchable by meaning, not only by its words).
    pub has_embedding: bool,
}

/// A chunk found by a search; higher scores are better matches.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredChunk {
    pub chunk: MemoryChunk,
    /// Full text: the engine's relevance (PostgreSQL `ts_rank`, SQLite's negated BM25), not
    /// comparable across engines. Vector: 1 − cosine distance.
    pub score: f64,
}

/// The key of a cached embedding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmbeddingKey<'a> {
    /// The content hash of the embedded text.
    pub hash: &'a str,
    pub provider: &'a str,
    pub model: &'a str,
}

/// Storage of memory documents, their chunks, and cached embeddings.
#[async_trait]
pub trait MemoryStore: Send + Sync {
    /// Stores the document at `path` of its owner with its chunks, replacing the document's
    /// earlier content and every earlier chunk, in one transaction. `NotFound("agent")` when
    /// the agent is not a live agent of the tenant.
    async fn put_document(
        &self,
        document: NewMemoryDocument,
    ) -> Result<(MemoryDocument, Vec<MemoryChunk>), StoreError>;

    /// The document at `path` of exactly this owner (no fallback to the shared memory).
    async fn get_document(
        &self,
        owner: &MemoryScope,
        path: &str,
    ) -> Result<Option<MemoryDocument>, StoreError>;

    /// Deletes the document at `path` of exactly this owner with its chunks; `false` when
    /// there was none.
    async fn delete_document(&self, owner: &MemoryScope, path: &str) -> Result<bool, StoreError>;

    /// The documents the scope sees whose path starts with `path_prefix` (`""` for all), by
    /// path, then shared before the user's.
    async fn list_documents(
        &self,
        scope: &MemoryScope,
        path_prefix: &str,
    ) -> Result<Vec<MemoryDocument>, StoreError>;

    /// Every document of `agent` (or of every agent) of the tenant, whoever owns it: by
    /// agent, path, then shared before users' copies. For administrators and re-indexing.
    async fn all_documents(
        &self,
        tenant: TenantId,
        agent: Option<AgentId>,
    ) -> Result<Vec<MemoryDocument>, StoreError>;

    /// The chunks of one document of the tenant, in line order.
    async fn document_chunks(
        &self,
        tenant: TenantId,
        document: Uuid,
    ) -> Result<Vec<MemoryChunk>, StoreError>;

    /// Chunks the scope sees holding any word of `query`, most relevant first (by the engine's
    /// full-text rank: a chunk holding more of the words ranks higher), at most `limit`.
    async fn search_text(
        &self,
        scope: &MemoryScope,
        query: &str,
        limit: u32,
    ) -> Result<Vec<ScoredChunk>, StoreError>;

    /// Chunks the scope sees that have an embedding, nearest to `embedding` first, at most
    /// `limit`.
    async fn search_vector(
        &self,
        scope: &MemoryScope,
        embedding: &[f32],
        limit: u32,
    ) -> Result<Vec<ScoredChunk>, StoreError>;

    /// Sets (or with `None` clears) the embedding of a chunk of the tenant;
    /// `NotFound("memory chunk")` when there is no such chunk.
    async fn set_chunk_embedding(
        &self,
        tenant: TenantId,
        chunk: Uuid,
        embedding: Option<&[f32]>,
    ) -> Result<(), StoreError>;

    /// The cached embedding under `key`, if any.
    async fn cached_embedding(&self, key: EmbeddingKey<'_>)
    -> Result<Option<Vec<f32>>, StoreError>;

    /// Caches `embedding` under `key`, replacing an earlier one.
    async fn cache_embedding(
        &self,
        key: EmbeddingKey<'_>,
        embedding: &[f32],
    ) -> Result<(), StoreError>;
}
