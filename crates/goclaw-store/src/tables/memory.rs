//! Memory: documents per agent and owner (`memory_documents`, unique by agent, user — NULL for
//! the agent's shared memory — and path), their chunks (`memory_chunks`), and the embedding
//! cache (`embedding_cache`).
//!
//! A document is written with all of its chunks in one write transaction: the upsert selects
//! from `agents`, so another tenant's or a deleted agent inserts nothing (`NotFound("agent")`),
//! then the old chunks go and the new ones come. The retrieval indexes follow the chunks on
//! their own (a generated column and its indexes on PostgreSQL, triggers on SQLite). Searches
//! run the statement pairs of [`crate::sql::retrieval`](crate::sql) with the same parameters on
//! either engine.

use async_trait::async_trait;
use goclaw_core::{
    AgentId, EmbeddingKey, MemoryChunk, MemoryDocument, MemoryScope, MemoryStore,
    NewMemoryDocument, ScoredChunk, StoreBackend, StoreError, TenantId,
};
use serde_json::Value;
use uuid::Uuid;

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{CHUNK_COLUMNS, Param, Record, Row, SEARCH_TEXT, SEARCH_VECTOR, Statement};

const DOCUMENT_COLUMNS: &str =
    "id, tenant_id, agent_id, user_id, path, content, content_hash, created_at, updated_at";
/// One owner's document: tenant, agent, user (NULL for shared), path.
const OWNER_PATH: &str = "tenant_id = ? AND agent_id = ? \
                          AND COALESCE(user_id, '') = COALESCE(?, '') AND path = ?";

/// At most this many neighbours per query (sqlite-vec's limit, which the engines were first
/// held to); both engines still are.
const MAX_NEIGHBOURS: u32 = 4096;

/// How many chunks a full-text search may have to score: words are kept from the rarest up
/// while their counts add up to it, and at most this many of the scope's matches are scored
/// ([`crate::sql::retrieval`]'s `SEARCH_TEXT`). Measured at 100,000 chunks in
/// docs/benchmarks.md: FTS5 scores a match from its own index and row; PostgreSQL fetches each
/// matching row from the table and ranks its `tsv`, which costs more, so it gets fewer.
fn text_match_budget(backend: StoreBackend) -> i64 {
    match backend {
        StoreBackend::Sqlite => 1_000,
        StoreBackend::Postgres => 500,
    }
}

/// What a nearest-neighbour search hands its statement to find neighbours by: SQLite's
/// candidates (their `memory_chunks_vec.seq`), or PostgreSQL's query vector.
enum Probe {
    Candidates(Value),
    Vector,
}

/// Candidates a nearest-neighbour search takes by binary signature (SQLite) for each result it
/// returns, before re-ranking them by exact cosine distance; at least [`MIN_CANDIDATES`].
const CANDIDATES_PER_RESULT: u32 = 8;
const MIN_CANDIDATES: u32 = 40;

static PUT_DOCUMENT: Statement = Statement::joined(&[
    "INSERT INTO memory_documents (",
    DOCUMENT_COLUMNS,
    ") SELECT ?, tenant_id, id, ?, ?, ?, ?, {now}, {now} FROM agents \
     WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL \
     ON CONFLICT (agent_id, (COALESCE(user_id, '')), path) DO UPDATE SET \
     content = excluded.content, content_hash = excluded.content_hash, \
     updated_at = excluded.updated_at \
     RETURNING ",
    DOCUMENT_COLUMNS,
]);
static DELETE_CHUNKS: Statement = Statement::new("DELETE FROM memory_chunks WHERE document_id = ?");
static INSERT_CHUNK: Statement = Statement::new(
    "INSERT INTO memory_chunks (id, tenant_id, document_id, agent_id, user_id, path, \
     start_line, end_line, text, content_hash, embedding) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
);
static GET_DOCUMENT: Statement = Statement::joined(&[
    "SELECT ",
    DOCUMENT_COLUMNS,
    " FROM memory_documents WHERE ",
    OWNER_PATH,
]);
static DELETE_DOCUMENT: Statement =
    Statement::joined(&["DELETE FROM memory_documents WHERE ", OWNER_PATH]);
static LIST_DOCUMENTS: Statement = Statement::joined(&[
    "SELECT ",
    DOCUMENT_COLUMNS,
    " FROM memory_documents WHERE tenant_id = ? AND agent_id = ? \
     AND (user_id IS NULL OR user_id = ?) AND substr(path, 1, length(?)) = ? \
     ORDER BY path {bytewise}, user_id IS NOT NULL",
]);
static ALL_DOCUMENTS: Statement = Statement::joined(&[
    "SELECT ",
    DOCUMENT_COLUMNS,
    " FROM memory_documents WHERE tenant_id = ? \
     ORDER BY agent_id, path {bytewise}, user_id IS NOT NULL, user_id {bytewise}",
]);
static AGENT_DOCUMENTS: Statement = Statement::joined(&[
    "SELECT ",
    DOCUMENT_COLUMNS,
    " FROM memory_documents WHERE tenant_id = ? AND agent_id = ? \
     ORDER BY path {bytewise}, user_id IS NOT NULL, user_id {bytewise}",
]);
static DOCUMENT_CHUNKS: Statement = Statement::joined(&[
    "SELECT ",
    CHUNK_COLUMNS,
    " FROM memory_chunks c WHERE c.tenant_id = ? AND c.document_id = ? \
     ORDER BY c.start_line, c.id",
]);
static SET_EMBEDDING: Statement =
    Statement::new("UPDATE memory_chunks SET embedding = ? WHERE tenant_id = ? AND id = ?");
static CACHED_EMBEDDING: Statement = Statement::new(
    "SELECT embedding FROM embedding_cache WHERE hash = ? AND provider = ? AND model = ?",
);
static CACHE_EMBEDDING: Statement = Statement::new(
    "INSERT INTO embedding_cache (hash, provider, model, embedding, created_at) \
     VALUES (?, ?, ?, ?, {now}) \
     ON CONFLICT (hash, provider, model) DO UPDATE SET \
     embedding = excluded.embedding, created_at = excluded.created_at",
);

impl Record for MemoryDocument {
    const TABLE: &'static str = "memory_documents";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(MemoryDocument {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_id: row.id("agent_id")?,
            user_id: row.opt_text("user_id")?,
            path: row.text("path")?,
            content: row.text("content")?,
            content_hash: row.text("content_hash")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Record for MemoryChunk {
    const TABLE: &'static str = "memory_chunks";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(MemoryChunk {
            id: row.id("id")?,
            document_id: row.id("document_id")?,
            agent_id: row.id("agent_id")?,
            user_id: row.opt_text("user_id")?,
            path: row.text("path")?,
            start_line: row.int("start_line")?,
            end_line: row.int("end_line")?,
            text: row.text("text")?,
            content_hash: row.text("content_hash")?,
            has_embedding: row.bool("has_embedding")?,
        })
    }
}

fn owner_path<'a>(owner: &'a MemoryScope, path: &'a str) -> [Param<'a>; 4] {
    [
        owner.tenant.into(),
        owner.agent.into(),
        owner.user.as_deref().into(),
        path.into(),
    ]
}

impl SqlStore {
    async fn scored(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
        score: impl Fn(&Row<'_>) -> Result<f64, StoreError>,
    ) -> Result<Vec<ScoredChunk>, StoreError> {
        self.pool
            .fetch_all(statement, params)
            .await
            .map_err(|e| store_error(e, "memory chunk"))?
            .map(MemoryChunk::TABLE, |row| {
                Ok(ScoredChunk {
                    chunk: MemoryChunk::from_row(row)?,
                    score: score(row)?,
                })
            })
    }
}

#[async_trait]
impl MemoryStore for SqlStore {
    async fn put_document(
        &self,
        document: NewMemoryDocument,
    ) -> Result<(MemoryDocument, Vec<MemoryChunk>), StoreError> {
        let db_error = |e| store_error(e, "memory document");
        let owner = &document.owner;
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let params = [
            Uuid::now_v7().into(),
            owner.user.as_deref().into(),
            document.path.as_str().into(),
            document.content.as_str().into(),
            document.content_hash.as_str().into(),
            owner.agent.into(),
            owner.tenant.into(),
        ];
        let stored: MemoryDocument = tx
            .fetch_optional(&PUT_DOCUMENT, &params)
            .await
            .map_err(db_error)?
            .ok_or(StoreError::NotFound("agent"))?
            .decode()?;
        tx.execute(&DELETE_CHUNKS, &[stored.id.into()])
            .await
            .map_err(db_error)?;
        let mut chunks = Vec::with_capacity(document.chunks.len());
        for chunk in document.chunks {
            let id = Uuid::now_v7();
            let params = [
                id.into(),
                stored.tenant_id.into(),
                stored.id.into(),
                stored.agent_id.into(),
                stored.user_id.as_deref().into(),
                stored.path.as_str().into(),
                chunk.start_line.into(),
                chunk.end_line.into(),
                chunk.text.as_str().into(),
                chunk.content_hash.as_str().into(),
                chunk.embedding.as_deref().into(),
            ];
            tx.execute(&INSERT_CHUNK, &params)
                .await
                .map_err(|e| store_error(e, "memory chunk"))?;
            chunks.push(MemoryChunk {
                id,
                document_id: stored.id,
                agent_id: stored.agent_id,
                user_id: stored.user_id.clone(),
                path: stored.path.clone(),
                start_line: chunk.start_line,
                end_line: chunk.end_line,
                has_embedding: chunk.embedding.is_some(),
                text: chunk.text,
                content_hash: chunk.content_hash,
            });
        }
        tx.commit().await.map_err(db_error)?;
        Ok((stored, chunks))
    }

    async fn get_document(
        &self,
        owner: &MemoryScope,
        path: &str,
    ) -> Result<Option<MemoryDocument>, StoreError> {
        self.pool
            .fetch_optional(&GET_DOCUMENT, &owner_path(owner, path))
            .await
            .map_err(|e| store_error(e, "memory document"))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn delete_document(&self, owner: &MemoryScope, path: &str) -> Result<bool, StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE_DOCUMENT, &owner_path(owner, path))
            .await
            .map_err(|e| store_error(e, "memory document"))?;
        Ok(deleted > 0)
    }

    async fn list_documents(
        &self,
        scope: &MemoryScope,
        path_prefix: &str,
    ) -> Result<Vec<MemoryDocument>, StoreError> {
        let params = [
            scope.tenant.into(),
            scope.agent.into(),
            scope.user.as_deref().into(),
            path_prefix.into(),
            path_prefix.into(),
        ];
        self.pool
            .fetch_all(&LIST_DOCUMENTS, &params)
            .await
            .map_err(|e| store_error(e, "memory document"))?
            .decode()
    }

    async fn all_documents(
        &self,
        tenant: TenantId,
        agent: Option<AgentId>,
    ) -> Result<Vec<MemoryDocument>, StoreError> {
        let rows = match agent {
            Some(agent) => {
                self.pool
                    .fetch_all(&AGENT_DOCUMENTS, &[tenant.into(), agent.into()])
                    .await
            }
            None => self.pool.fetch_all(&ALL_DOCUMENTS, &[tenant.into()]).await,
        };
        rows.map_err(|e| store_error(e, "memory document"))?
            .decode()
    }

    async fn document_chunks(
        &self,
        tenant: TenantId,
        document: Uuid,
    ) -> Result<Vec<MemoryChunk>, StoreError> {
        self.pool
            .fetch_all(&DOCUMENT_CHUNKS, &[tenant.into(), document.into()])
            .await
            .map_err(|e| store_error(e, "memory chunk"))?
            .decode()
    }

    async fn search_text(
        &self,
        scope: &MemoryScope,
        query: &str,
        limit: u32,
    ) -> Result<Vec<ScoredChunk>, StoreError> {
        // Without a word there is nothing to match (and FTS5 refuses an empty query).
        if limit == 0 || !query.chars().any(char::is_alphanumeric) {
            return Ok(Vec::new());
        }
        let params = [
            Param::WordList(query),
            text_match_budget(self.pool.backend()).into(),
            scope.agent.into(),
            scope.user.as_deref().into(),
            scope.tenant.into(),
            i64::from(limit).into(),
        ];
        self.scored(&SEARCH_TEXT, &params, |row| row.real("score"))
            .await
    }

    async fn search_vector(
        &self,
        scope: &MemoryScope,
        embedding: &[f32],
        limit: u32,
    ) -> Result<Vec<ScoredChunk>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let limit = limit.min(MAX_NEIGHBOURS);
        // SQLite ranks the candidates its in-process index picked by signature; PostgreSQL's
        // HNSW index is asked for the results themselves.
        let (probe, candidates) = match self.pool.backend() {
            StoreBackend::Sqlite => {
                let candidates = limit
                    .saturating_mul(CANDIDATES_PER_RESULT)
                    .clamp(MIN_CANDIDATES, MAX_NEIGHBOURS);
                let nearest = self
                    .signatures
                    .nearest(
                        &self.pool,
                        scope.agent,
                        scope.user.as_deref(),
                        embedding,
                        candidates as usize,
                    )
                    .await?;
                (Probe::Candidates(Value::from(nearest)), candidates)
            }
            StoreBackend::Postgres => (Probe::Vector, limit),
        };
        let probe = match &probe {
            Probe::Candidates(seqs) => Param::Json(Some(seqs)),
            Probe::Vector => embedding.into(),
        };
        let params = [
            embedding.into(),
            scope.agent.into(),
            scope.user.as_deref().into(),
            probe,
            i64::from(candidates).into(),
            scope.tenant.into(),
            i64::from(limit).into(),
        ];
        self.scored(&SEARCH_VECTOR, &params, |row| {
            Ok(1.0 - row.real("distance")?)
        })
        .await
    }

    async fn set_chunk_embedding(
        &self,
        tenant: TenantId,
        chunk: Uuid,
        embedding: Option<&[f32]>,
    ) -> Result<(), StoreError> {
        let updated = self
            .pool
            .execute(
                &SET_EMBEDDING,
                &[embedding.into(), tenant.into(), chunk.into()],
            )
            .await
            .map_err(|e| store_error(e, "memory chunk"))?;
        if updated == 0 {
            return Err(StoreError::NotFound("memory chunk"));
        }
        Ok(())
    }

    async fn cached_embedding(
        &self,
        key: EmbeddingKey<'_>,
    ) -> Result<Option<Vec<f32>>, StoreError> {
        let params = [key.hash.into(), key.provider.into(), key.model.into()];
        let row = self
            .pool
            .fetch_optional(&CACHED_EMBEDDING, &params)
            .await
            .map_err(|e| store_error(e, "embedding"))?;
        match row {
            Some(row) => row.read("embedding_cache").opt_vector("embedding"),
            None => Ok(None),
        }
    }

    async fn cache_embedding(
        &self,
        key: EmbeddingKey<'_>,
        embedding: &[f32],
    ) -> Result<(), StoreError> {
        let params = [
            key.hash.into(),
            key.provider.into(),
            key.model.into(),
            embedding.into(),
        ];
        self.pool
            .execute(&CACHE_EMBEDDING, &params)
            .await
            .map_err(|e| store_error(e, "embedding"))?;
        Ok(())
    }
}
