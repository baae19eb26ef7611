//! Retrieval over memory chunks: full-text and nearest-neighbour search, the one query the
//! engines answer with different machinery, so each is a pair of statements
//! ([`Statement::per_engine`]) rather than one statement with tokens.
//!
//! - Full text: a chunk matches when it holds any word of the query (`Param::Words`), so a
//!   question in natural language finds the chunks that share its words, ranked by relevance.
//!   PostgreSQL parses the query's tokens with the parser that made the chunk's generated `tsv`
//!   column (`to_tsvector('simple', …)`, so `INC-2146` or `10.20.3.21` give the same lexemes in
//!   both), ORs the lexemes, each quoted, into a `to_tsquery` and scores with `ts_rank`; SQLite matches the FTS5 table
//!   `memory_chunks_fts` with the OR-ed words and scores with `-bm25(…)` (BM25 is
//!   lower-is-better; negated, higher is better on both engines, though the two scales are not
//!   comparable).
//! - Nearest neighbours: PostgreSQL orders by `embedding <=> ?` (cosine distance, which the
//!   HNSW index serves); SQLite asks the sqlite-vec table `memory_chunks_vec` for its `k`
//!   nearest within the agent's partition and the user's metadata values.
//!
//! The two sides join different tables, so no token could bridge them; everything else — the
//! chunk columns, the scope rule, the parameters and their order — is the same, and the table
//! module runs either without knowing which. The scope rule: the agent's chunks, of the
//! tenant, shared (`user_id` NULL) or of the user bound (a NULL user sees shared ones only).

use super::Statement;

/// The columns of a chunk, from `memory_chunks c`, as `tables::memory` maps them.
pub(crate) const CHUNK_COLUMNS: &str = "c.id, c.document_id, c.agent_id, c.user_id, c.path, \
                                        c.start_line, c.end_line, c.text, c.content_hash";

/// Parameters: the query's words (`Param::Words`), agent, user (or NULL), tenant, limit.
/// Returns the chunk columns and `score`, best first.
pub(crate) static SEARCH_TEXT: Statement = Statement::per_engine(
    &[
        "SELECT ",
        CHUNK_COLUMNS,
        ", -bm25(memory_chunks_fts) AS score \
         FROM memory_chunks_fts JOIN memory_chunks c ON c.id = memory_chunks_fts.chunk_id \
         WHERE memory_chunks_fts MATCH ? AND c.agent_id = ? \
         AND (c.user_id IS NULL OR c.user_id = ?) AND c.tenant_id = ? \
         ORDER BY score DESC, c.id LIMIT ?",
    ],
    &[
        "SELECT ",
        CHUNK_COLUMNS,
        ", ts_rank(c.tsv, q.query)::float8 AS score \
         FROM memory_chunks c, (SELECT to_tsquery('simple', COALESCE(string_agg(\
         '''' || replace(replace(l.lexeme, '\\', '\\\\'), '''', '''''') || '''', \
         ' | '), '')) AS query FROM unnest(to_tsvector('simple', ?)) AS l) AS q \
         WHERE c.tsv @@ q.query AND c.agent_id = ? \
         AND (c.user_id IS NULL OR c.user_id = ?) AND c.tenant_id = ? \
         ORDER BY score DESC, c.id LIMIT ?",
    ],
);

/// Parameters: the vector (`Param::Vector`), agent, user (or NULL), limit, tenant. Returns
/// the chunk columns and the cosine `distance`, nearest first.
pub(crate) static SEARCH_VECTOR: Statement = Statement::per_engine(
    &[
        "SELECT ",
        CHUNK_COLUMNS,
        ", knn.distance AS distance FROM (\
         SELECT chunk_id, distance FROM memory_chunks_vec \
         WHERE embedding MATCH ? AND agent_id = ? AND user_scope IN ('', COALESCE(?, '')) \
         AND k = ?) knn \
         JOIN memory_chunks c ON c.id = knn.chunk_id WHERE c.tenant_id = ? \
         ORDER BY knn.distance, c.id",
    ],
    &[
        "SELECT ",
        CHUNK_COLUMNS,
        ", knn.distance AS distance FROM (\
         SELECT n.id, n.embedding <=> ? AS distance FROM memory_chunks n \
         WHERE n.agent_id = ? AND (n.user_id IS NULL OR n.user_id = ?) \
         AND n.embedding IS NOT NULL ORDER BY distance LIMIT ?) knn \
         JOIN memory_chunks c ON c.id = knn.id WHERE c.tenant_id = ? \
         ORDER BY knn.distance, c.id",
    ],
);
