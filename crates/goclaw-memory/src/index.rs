//! [`MemoryIndex`]: writing memory documents and searching them, the way the memory tools and
//! the memory routes use memory. A write cuts the document into chunks, stores it with them in
//! one transaction, then embeds the chunks (from the embedding cache where it can) and stores
//! the vectors; a search runs full-text and — with an embedder — vector retrieval over what the
//! scope may see and ranks both together ([`crate::rank`]).
//!
//! Embeddings are best effort: a document is stored and searchable by its words even when the
//! embedding provider fails or none is configured; its chunks then have no vector until the
//! document is written again.

use std::collections::HashSet;
use std::sync::Arc;

use goclaw_core::{
    Agent, EmbeddingKey, MemoryChunk, MemoryDocument, MemoryScope, MemoryStore, NewMemoryChunk,
    NewMemoryDocument, Store, StoreError,
};

use crate::chunk::{ChunkOptions, chunk};
use crate::embed::{EmbedError, Embedder, EmbedderSlot, content_hash};
use crate::rank::{Hit, RankOptions, Ranked, Source, rank};
use crate::settings::{ChunkingSlot, agent_ranking};

/// Why a memory write or search failed.
#[derive(Debug, thiserror::Error)]
pub enum MemoryError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("embedding failed: {0}")]
    Embed(#[from] EmbedError),
}

/// Which retrieval a search runs ([`MemoryIndex::search_by`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Retrieval {
    /// Full text and, with an embedder, vectors, ranked together: what memory search uses.
    #[default]
    Hybrid,
    /// Full text only.
    Text,
    /// Vectors only (nothing without an embedder); for measuring each source on its own.
    Vector,
}

/// What a search asks for.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchOptions {
    pub rank: RankOptions,
    /// Only documents whose path starts with this.
    pub path_prefix: Option<String>,
}

/// What a write stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Written {
    pub document: MemoryDocument,
    pub chunks: usize,
    /// Chunks that have a vector now (from the cache or just computed).
    pub embedded: usize,
}

/// Memory of one store, with an optional embedder. Each write and search uses the embedder
/// of its start throughout, even when the slot is switched meanwhile; each write cuts with
/// the chunking in force at its start.
#[derive(Clone)]
pub struct MemoryIndex {
    store: Arc<dyn Store>,
    embedder: EmbedderSlot,
    chunking: ChunkingSlot,
    /// What searches rank by unless the agent or the search says otherwise.
    ranking: RankOptions,
}

impl std::fmt::Debug for MemoryIndex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryIndex")
            .field(
                "embedder",
                &self.embedder.current().map(|e| e.model().to_owned()),
            )
            .field("chunking", &self.chunking.current())
            .field("ranking", &self.ranking)
            .finish_non_exhaustive()
    }
}

impl MemoryIndex {
    /// Memory on `store`; without an embedder searches use full text only.
    pub fn new(store: Arc<dyn Store>, embedder: Option<Arc<dyn Embedder>>) -> Self {
        Self::switchable(store, EmbedderSlot::new(embedder))
    }

    /// Memory on `store` embedding with whatever `slot` holds at the time, so the gateway can
    /// switch embedding providers without rebuilding the tools that hold the index.
    pub fn switchable(store: Arc<dyn Store>, slot: EmbedderSlot) -> Self {
        Self {
            store,
            embedder: slot,
            chunking: ChunkingSlot::default(),
            ranking: RankOptions::default(),
        }
    }

    /// The same index cutting documents with `chunking`.
    pub fn with_chunking(mut self, chunking: ChunkOptions) -> Self {
        self.chunking = ChunkingSlot::new(chunking);
        self
    }

    /// The same index cutting documents with whatever `slot` holds at each write.
    pub fn with_chunking_slot(mut self, slot: ChunkingSlot) -> Self {
        self.chunking = slot;
        self
    }

    /// The same index ranking by `ranking` unless told otherwise
    /// (`agents.defaults.memory`).
    pub fn with_ranking(mut self, ranking: RankOptions) -> Self {
        self.ranking = ranking;
        self
    }

    /// The chunking in force.
    pub fn chunking(&self) -> ChunkOptions {
        self.chunking.current()
    }

    /// The ranking of `agent`'s searches: the index's, with the agent's own `memory_config`
    /// over it ([`agent_ranking`]).
    pub fn ranking_for(&self, agent: &Agent) -> RankOptions {
        agent_ranking(self.ranking, agent)
    }

    fn memory(&self) -> &dyn MemoryStore {
        self.store.memory()
    }

    /// The slot of the embedder this index uses.
    pub fn embedder_slot(&self) -> EmbedderSlot {
        self.embedder.clone()
    }

    /// Whether searches use vectors.
    pub fn has_embedder(&self) -> bool {
        self.embedder.current().is_some()
    }

    /// Stores `content` as the document at `path` of `owner` (replacing what was there), then
    /// embeds its chunks. An embedding failure is logged and leaves the chunks without vectors;
    /// only a store failure fails the write.
    pub async fn write(
        &self,
        owner: MemoryScope,
        path: &str,
        content: &str,
    ) -> Result<Written, MemoryError> {
        let embedder = self.embedder.current();
        let embedder = embedder.as_deref();
        let pieces = chunk(content, self.chunking.current());
        let mut chunks = Vec::with_capacity(pieces.len());
        for piece in pieces {
            let hash = content_hash(&piece.text);
            let embedding = self.cached(embedder, &hash).await?;
            chunks.push(NewMemoryChunk {
                start_line: line_number(piece.start_line),
                end_line: line_number(piece.end_line),
                text: piece.text,
                content_hash: hash,
                embedding,
            });
        }
        let already = chunks.iter().filter(|c| c.embedding.is_some()).count();
        let cached: HashSet<String> = chunks
            .iter()
            .filter(|c| c.embedding.is_some())
            .map(|c| c.content_hash.clone())
            .collect();
        let (document, stored) = self
            .memory()
            .put_document(NewMemoryDocument {
                owner,
                path: path.to_owned(),
                content_hash: content_hash(content),
                content: content.to_owned(),
                chunks,
            })
            .await?;
        let missing: Vec<&MemoryChunk> = stored
            .iter()
            .filter(|c| !cached.contains(&c.content_hash))
            .collect();
        let embedded = match self.embed_chunks(embedder, &document, &missing).await {
            Ok(count) => already + count,
            Err(error) => {
                tracing::warn!(
                    path = %document.path,
                    %error,
                    "memory: chunks stored without embeddings; search uses their words only"
                );
                already
            }
        };
        Ok(Written {
            document,
            chunks: stored.len(),
            embedded,
        })
    }

    /// The scope's chunks that match `query`, ranked; full text only without an embedder or
    /// when embedding the query fails.
    pub async fn search(
        &self,
        scope: &MemoryScope,
        query: &str,
        options: &SearchOptions,
    ) -> Result<Vec<Ranked>, MemoryError> {
        self.search_by(scope, query, options, Retrieval::Hybrid)
            .await
    }

    /// [`MemoryIndex::search`] with the sources `retrieval` names: one source alone is ranked
    /// by the same rule (a lone source counts fully), which is how retrieval quality is
    /// measured per source.
    pub async fn search_by(
        &self,
        scope: &MemoryScope,
        query: &str,
        options: &SearchOptions,
        retrieval: Retrieval,
    ) -> Result<Vec<Ranked>, MemoryError> {
        // Each source returns twice what is wanted, as GoClaw does, so merging has room.
        let limit =
            u32::try_from(options.rank.max_results.saturating_mul(2).max(1)).unwrap_or(u32::MAX);
        let embedder = self.embedder.current();
        // Both sources run at once, on two connections: a search waits for the slower one,
        // not for both in turn.
        let text = async {
            match retrieval {
                Retrieval::Vector => Ok(Vec::new()),
                Retrieval::Hybrid | Retrieval::Text => {
                    self.memory().search_text(scope, query, limit).await
                }
            }
        };
        let vector = self.vector_hits(embedder.as_deref(), scope, query, limit, retrieval);
        let (text, vector) = tokio::join!(text, vector);
        let (text, vector) = (text?, vector?);
        let hits = |found: Vec<goclaw_core::ScoredChunk>| -> Vec<Hit> {
            found
                .into_iter()
                .filter(|s| {
                    options
                        .path_prefix
                        .as_deref()
                        .is_none_or(|prefix| s.chunk.path.starts_with(prefix))
                })
                .map(|s| Hit {
                    path: s.chunk.path,
                    start_line: usize::try_from(s.chunk.start_line).unwrap_or(0),
                    end_line: usize::try_from(s.chunk.end_line).unwrap_or(0),
                    text: s.chunk.text,
                    score: s.score,
                    personal: s.chunk.user_id.is_some(),
                })
                .collect()
        };
        Ok(rank(
            &[(Source::Text, hits(text)), (Source::Vector, hits(vector))],
            &options.rank,
        ))
    }

    /// The scope's chunks nearest the query's vector; none without an embedder, when
    /// `retrieval` is text only, or when embedding the query fails (logged). A query embedded
    /// now is written to the embedding cache by a task of its own, which the search does not
    /// wait for (a failure is logged).
    async fn vector_hits(
        &self,
        embedder: Option<&dyn Embedder>,
        scope: &MemoryScope,
        query: &str,
        limit: u32,
        retrieval: Retrieval,
    ) -> Result<Vec<goclaw_core::ScoredChunk>, StoreError> {
        let Some(embedder) = embedder else {
            return Ok(Vec::new());
        };
        if retrieval == Retrieval::Text {
            return Ok(Vec::new());
        }
        let hash = content_hash(query);
        match self.cached(Some(embedder), &hash).await {
            Ok(Some(vector)) => return self.memory().search_vector(scope, &vector, limit).await,
            Ok(None) => {}
            Err(error) => {
                tracing::warn!(%error, "memory: query embedding cache unreadable; searching its words only");
                return Ok(Vec::new());
            }
        }
        let embedded = embedder
            .embed(&[query.to_owned()])
            .await
            .map_err(MemoryError::from)
            .and_then(|vectors| {
                vectors.into_iter().next().ok_or_else(|| {
                    EmbedError::Malformed("no vector for the query".to_owned()).into()
                })
            });
        let vector = match embedded {
            Ok(vector) => vector,
            Err(error) => {
                tracing::warn!(%error, "memory: query not embedded; searching its words only");
                return Ok(Vec::new());
            }
        };
        // The search does not wait for the cache: the vector is written behind it.
        let store = self.store.clone();
        let (provider, model) = (embedder.provider().to_owned(), embedder.model().to_owned());
        let cached = vector.clone();
        tokio::spawn(async move {
            let key = EmbeddingKey {
                hash: &hash,
                provider: &provider,
                model: &model,
            };
            if let Err(error) = store.memory().cache_embedding(key, &cached).await {
                tracing::warn!(%error, "memory: query embedding not cached");
            }
        });
        self.memory().search_vector(scope, &vector, limit).await
    }

    /// The cached vector of a text with this hash, for `embedder`.
    async fn cached(
        &self,
        embedder: Option<&dyn Embedder>,
        hash: &str,
    ) -> Result<Option<Vec<f32>>, StoreError> {
        match embedder {
            Some(embedder) => self.memory().cached_embedding(key(embedder, hash)).await,
            None => Ok(None),
        }
    }

    /// Embeds `chunks` of `document`, stores their vectors and caches them; how many.
    async fn embed_chunks(
        &self,
        embedder: Option<&dyn Embedder>,
        document: &MemoryDocument,
        chunks: &[&MemoryChunk],
    ) -> Result<usize, MemoryError> {
        let Some(embedder) = embedder else {
            return Ok(0);
        };
        if chunks.is_empty() {
            return Ok(0);
        }
        let texts: Vec<String> = chunks.iter().map(|c| c.text.clone()).collect();
        let vectors = embedder.embed(&texts).await?;
        for (chunk, vector) in chunks.iter().zip(&vectors) {
            self.memory()
                .set_chunk_embedding(document.tenant_id, chunk.id, Some(vector))
                .await?;
            self.memory()
                .cache_embedding(key(embedder, &chunk.content_hash), vector)
                .await?;
        }
        Ok(vectors.len())
    }
}

fn key<'a>(embedder: &'a dyn Embedder, hash: &'a str) -> EmbeddingKey<'a> {
    EmbeddingKey {
        hash,
        provider: embedder.provider(),
        model: embedder.model(),
    }
}

fn line_number(line: usize) -> i64 {
    i64::try_from(line).unwrap_or(i64::MAX)
}
