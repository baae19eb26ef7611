//! Retrieval over memory chunks, vault documents and episodic summaries: full-text and
//! nearest-neighbour search, the one query the engines answer with different machinery, so
//! each is a pair of statements ([`Statement::per_engine`]) rather than one statement with
//! tokens.
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
//!   HNSW index serves); SQLite asks a sqlite-vec table for its `k` nearest within the agent's
//!   partition and the user's metadata values (vault documents, episodes), or, for memory
//!   chunks, ranks by exact cosine distance the candidates the store's in-process index of
//!   binary signatures picked ([`SEARCH_VECTOR`], [`SIGNATURES_ADDED`]).
//! - Memory chunks' full text first leaves out the query's commonest words ([`SEARCH_TEXT`]).
//!
//! The two sides join different tables, so no token could bridge them; everything else — the
//! chunk columns, the scope rule, the parameters and their order — is the same, and the table
//! module runs either without knowing which. The scope rule: the agent's chunks, of the
//! tenant, shared (`user_id` NULL) or of the user bound (a NULL user sees shared ones only).

use super::Statement;

/// The columns of a chunk, from `memory_chunks c`, as `tables::memory` maps them.
pub(crate) const CHUNK_COLUMNS: &str = "c.id, c.document_id, c.agent_id, c.user_id, c.path, \
                                        c.start_line, c.end_line, c.text, c.content_hash, \
                                        c.embedding IS NOT NULL AS has_embedding";

/// Parameters: the query's words (`Param::WordList`), the match budget, agent, user (or
/// NULL), tenant, limit. Returns the chunk columns and `score`, best first.
///
/// Before matching, the query's words are counted — each word's chunks: on SQLite the exact
/// document count of `memory_chunks_fts_words`; on PostgreSQL the planner's statistics of
/// `tsv` (the most common lexemes' shares of the table's rows; 0 for other lexemes, and for
/// all before the first `ANALYZE`) — and words are kept from the rarest up while their counts
/// add up to at most the budget. Any-word matching scores every chunk holding any word, so
/// this bounds the work of one search; the words left out are the commonest, which weigh least
/// in BM25 and tell the fewest chunks apart. When even the rarest word is past the budget (a
/// query of common words alone), the chunks must hold both of the two rarest words instead:
/// fewer chunks to score, and those that any-word matching would rank first. A word the counts
/// do not know (on SQLite, one the tokenizer folds, such as `café`) counts as rare. The counts
/// are of all chunks, not of the scope's: they decide the cost, which is the same. Whatever
/// the words, at most the budget's number of the scope's matches are scored: the newest
/// (SQLite's FTS5 `rowid`, PostgreSQL's time-ordered UUIDv7 ids), so a query of common words
/// alone costs no more than any other. Only the best `limit` of them are joined for their
/// columns (PostgreSQL scores from the matched rows' `tsv` as it reads them).
pub(crate) static SEARCH_TEXT: Statement = Statement::per_engine(
    &[
        "WITH counted AS (\
         SELECT w.value AS word, COALESCE(v.doc, 0) AS chunks FROM json_each(?) AS w \
         LEFT JOIN memory_chunks_fts_words v ON v.term = w.value), \
         budget AS (SELECT ? AS most), \
         kept AS (SELECT word, sum(chunks) OVER (ORDER BY chunks, word) AS running, \
         row_number() OVER (ORDER BY chunks, word) AS place FROM counted), \
         query AS (SELECT COALESCE(CASE WHEN min(k.running) <= b.most \
         THEN group_concat(CASE WHEN k.running <= b.most THEN '\"' || k.word || '\"' END, ' OR ') \
         ELSE group_concat(CASE WHEN k.place <= 2 THEN '\"' || k.word || '\"' END, ' AND ') END, \
         '\"\"') AS text FROM kept k, budget b) \
         SELECT ",
        CHUNK_COLUMNS,
        ", m.score AS score FROM (SELECT * FROM (\
         SELECT chunk_id, tenant_id, agent_id, user_scope, \
         -bm25(memory_chunks_fts) AS score FROM memory_chunks_fts \
         WHERE memory_chunks_fts MATCH (SELECT text FROM query) AND agent_id = ? \
         AND user_scope IN ('', COALESCE(?, '')) AND tenant_id = ? \
         ORDER BY rowid DESC LIMIT (SELECT most FROM budget)) \
         ORDER BY score DESC, chunk_id LIMIT ?) m \
         JOIN memory_chunks c ON c.id = m.chunk_id AND c.tenant_id = m.tenant_id \
         AND c.agent_id = m.agent_id AND COALESCE(c.user_id, '') = m.user_scope \
         ORDER BY m.score DESC, c.id",
    ],
    &[
        "SELECT ",
        CHUNK_COLUMNS,
        ", m.score AS score \
         FROM (SELECT to_tsquery('simple', COALESCE(\
         CASE WHEN min(k.running) <= max(b.most) \
         THEN string_agg(CASE WHEN k.running <= b.most THEN k.quoted END, ' | ') \
         ELSE string_agg(CASE WHEN k.place <= 2 THEN k.quoted END, ' & ') END, '')) AS query, \
         max(b.most) AS most FROM (SELECT '''' || replace(replace(l.lexeme, '\\', '\\\\'), '''', '''''') || '''' \
         AS quoted, sum(l.chunks) OVER (ORDER BY l.chunks, l.lexeme) AS running, \
         row_number() OVER (ORDER BY l.chunks, l.lexeme) AS place FROM (\
         SELECT t.lexeme, COALESCE(s.share * GREATEST(r.reltuples, 0), 0) AS chunks \
         FROM unnest(to_tsvector('simple', ?)) AS t \
         LEFT JOIN (SELECT e.lexeme, e.share FROM pg_stats p, \
         unnest(p.most_common_elems::text::text[], p.most_common_elem_freqs) \
         AS e(lexeme, share) \
         WHERE p.schemaname = current_schema() AND p.tablename = 'memory_chunks' \
         AND p.attname = 'tsv') s ON s.lexeme = t.lexeme \
         LEFT JOIN pg_class r ON r.oid = to_regclass('memory_chunks')) l) k, \
         (SELECT ? AS most) b) AS q, LATERAL (\
         SELECT s.id, ts_rank(s.tsv, q.query)::float8 AS score FROM (\
         SELECT n.id, n.tsv FROM memory_chunks n \
         WHERE n.tsv @@ q.query AND n.agent_id = ? \
         AND (n.user_id IS NULL OR n.user_id = ?) AND n.tenant_id = ? \
         ORDER BY n.id DESC LIMIT q.most) s ORDER BY score DESC, s.id LIMIT ?) m \
         JOIN memory_chunks c ON c.id = m.id \
         ORDER BY m.score DESC, c.id",
    ],
);

/// Parameters: the vector (`Param::Vector`), agent, user (or NULL), the probe, candidates,
/// tenant, limit. Returns the chunk columns and the exact cosine `distance`, nearest first.
///
/// SQLite's probe is the candidates the store's in-process signature index picked
/// (`crate::signature_index`): a JSON array of `memory_chunks_vec.seq`, of which the first
/// `candidates` are ranked by the cosine distance of their stored embeddings, within the scope
/// (which the index applied too; the scope's columns are kept from the planner's choice of
/// index, `+c.agent_id`, so it looks the candidates up by id rather than scanning the agent's
/// chunks). PostgreSQL's probe is the vector itself: the HNSW index
/// orders by `<=>` (it returns at most `hnsw.ef_search` rows however many are asked for).
pub(crate) static SEARCH_VECTOR: Statement = Statement::per_engine(
    &[
        "SELECT ",
        CHUNK_COLUMNS,
        ", vec_distance_cosine(c.embedding, ?) AS distance FROM memory_chunks c \
         WHERE +c.agent_id = ? AND (c.user_id IS NULL OR +c.user_id = ?) \
         AND c.id IN (SELECT v.chunk_id FROM memory_chunks_vec v \
         WHERE v.seq IN (SELECT value FROM json_each(?) LIMIT ?)) \
         AND +c.tenant_id = ? AND c.embedding IS NOT NULL \
         ORDER BY distance, c.id LIMIT ?",
    ],
    &[
        "SELECT ",
        CHUNK_COLUMNS,
        ", knn.distance AS distance FROM (\
         SELECT n.id, n.embedding <=> ? AS distance FROM memory_chunks n \
         WHERE n.agent_id = ? AND (n.user_id IS NULL OR n.user_id = ?) \
         AND n.embedding IS NOT NULL ORDER BY n.embedding <=> ? LIMIT ?) knn \
         JOIN memory_chunks c ON c.id = knn.id WHERE c.tenant_id = ? \
         ORDER BY knn.distance, c.id LIMIT ?",
    ],
);

/// SQLite only. Parameters: agent, seq, limit. An agent's chunk signatures numbered after
/// `seq`, oldest first: `seq`, `user_scope` ('' = shared), `signature` (a blob of
/// `crate::signature::SIGNATURE_BYTES`).
pub(crate) static SIGNATURES_ADDED: Statement = Statement::new(
    "SELECT seq, user_scope, signature FROM memory_chunks_vec \
     WHERE agent_id = ? AND seq > ? ORDER BY seq LIMIT ?",
);

/// SQLite only. No parameters. The oldest and newest `seq` of the removal log (0 when empty).
pub(crate) static SIGNATURE_REMOVALS_SPAN: Statement = Statement::new(
    "SELECT COALESCE(min(seq), 0) AS oldest, COALESCE(max(seq), 0) AS newest \
     FROM memory_chunks_vec_removed",
);

/// SQLite only. Parameters: agent, after, up to. The `vec_seq` of the agent's signatures
/// removed with a log `seq` in (after, up to].
pub(crate) static SIGNATURES_REMOVED: Statement = Statement::new(
    "SELECT vec_seq FROM memory_chunks_vec_removed \
     WHERE agent_id = ? AND seq > ? AND seq <= ? ORDER BY seq",
);

/// The columns of a vault document, from `vault_documents d`, as `tables::vault` maps them.
pub(crate) const VAULT_COLUMNS: &str = "d.id, d.tenant_id, d.agent_id, d.team_id, d.scope, \
                                        d.path, d.title, d.doc_type, d.content_hash, d.summary, \
                                        d.metadata, d.created_at, d.updated_at";

/// Parameters: the query's words (`Param::Words`), tenant, agent (or NULL for the whole
/// tenant) twice, limit. Full text over title, path and summary: PostgreSQL's generated `tsv`,
/// SQLite's FTS5 table `vault_documents_fts`. Returns the document columns and `score`.
pub(crate) static VAULT_SEARCH_TEXT: Statement = Statement::per_engine(
    &[
        "SELECT ",
        VAULT_COLUMNS,
        ", -bm25(vault_documents_fts) AS score \
         FROM vault_documents_fts JOIN vault_documents d ON d.id = vault_documents_fts.doc_id \
         WHERE vault_documents_fts MATCH ? AND d.tenant_id = ? \
         AND (? IS NULL OR d.scope = 'shared' OR (d.scope = 'personal' AND d.agent_id = ?)) \
         ORDER BY score DESC, d.id LIMIT ?",
    ],
    &[
        "SELECT ",
        VAULT_COLUMNS,
        ", ts_rank(d.tsv, q.query)::float8 AS score \
         FROM vault_documents d, plainto_tsquery('simple', ?) AS q(query) \
         WHERE d.tsv @@ q.query AND d.tenant_id = ? \
         AND (? IS NULL OR d.scope = 'shared' OR (d.scope = 'personal' AND d.agent_id = ?)) \
         ORDER BY score DESC, d.id LIMIT ?",
    ],
);

/// Parameters: the vector, tenant, agent, limit. The documents the agent sees (its personal
/// ones and the shared ones) nearest first: SQLite asks `vault_documents_vec` within the
/// tenant's partition for `visible_to` '' (shared) or the agent; PostgreSQL orders by `<=>`.
/// Returns the document columns and the cosine `distance`.
pub(crate) static VAULT_SEARCH_VECTOR: Statement = Statement::per_engine(
    &[
        "SELECT ",
        VAULT_COLUMNS,
        ", knn.distance AS distance FROM (\
         SELECT doc_id, distance FROM vault_documents_vec \
         WHERE embedding MATCH ? AND tenant_id = ? AND visible_to IN ('', ?) AND k = ?) knn \
         JOIN vault_documents d ON d.id = knn.doc_id ORDER BY knn.distance, d.id",
    ],
    &[
        "SELECT ",
        VAULT_COLUMNS,
        ", knn.distance AS distance FROM (\
         SELECT n.id, n.embedding <=> ? AS distance FROM vault_documents n \
         WHERE n.tenant_id = ? \
         AND (n.scope = 'shared' OR (n.scope = 'personal' AND n.agent_id = ?)) \
         AND n.embedding IS NOT NULL ORDER BY distance LIMIT ?) knn \
         JOIN vault_documents d ON d.id = knn.id ORDER BY knn.distance, d.id",
    ],
);

/// The columns of an episodic summary, from `episodic_summaries e`, as `tables::episodic`
/// maps them.
pub(crate) const EPISODE_COLUMNS: &str = "e.id, e.tenant_id, e.agent_id, e.user_id, \
                                          e.session_key, e.summary, e.l0_abstract, \
                                          e.key_topics, e.source_type, e.source_id, \
                                          e.turn_count, e.token_count, e.created_at, \
                                          e.expires_at";

/// Parameters: the query's words (`Param::AnyWords`), agent, user, tenant, now (episodes
/// expired by then are left out), limit. Returns the episode columns and `score`, best first.
/// Any word matches: a question shares few of its words with the summary that answers it.
pub(crate) static SEARCH_EPISODES_TEXT: Statement = Statement::per_engine(
    &[
        "SELECT ",
        EPISODE_COLUMNS,
        ", -bm25(episodic_summaries_fts) AS score \
         FROM episodic_summaries_fts \
         JOIN episodic_summaries e ON e.id = episodic_summaries_fts.episodic_id \
         WHERE episodic_summaries_fts MATCH ? AND e.agent_id = ? AND e.user_id = ? \
         AND e.tenant_id = ? AND (e.expires_at IS NULL OR e.expires_at > ?) \
         ORDER BY score DESC, e.id LIMIT ?",
    ],
    &[
        "SELECT ",
        EPISODE_COLUMNS,
        ", ts_rank(e.tsv, q.query)::float8 AS score \
         FROM episodic_summaries e, to_tsquery('simple', ?) AS q(query) \
         WHERE e.tsv @@ q.query AND e.agent_id = ? AND e.user_id = ? \
         AND e.tenant_id = ? AND (e.expires_at IS NULL OR e.expires_at > ?) \
         ORDER BY score DESC, e.id LIMIT ?",
    ],
);

/// Parameters: the vector (`Param::Vector`), agent, user, limit, tenant, now. Returns the
/// episode columns and the cosine `distance`, nearest first.
pub(crate) static SEARCH_EPISODES_VECTOR: Statement = Statement::per_engine(
    &[
        "SELECT ",
        EPISODE_COLUMNS,
        ", knn.distance AS distance FROM (\
         SELECT episodic_id, distance FROM episodic_summaries_vec \
         WHERE embedding MATCH ? AND agent_id = ? AND user_id = ? AND k = ?) knn \
         JOIN episodic_summaries e ON e.id = knn.episodic_id WHERE e.tenant_id = ? \
         AND (e.expires_at IS NULL OR e.expires_at > ?) \
         ORDER BY knn.distance, e.id",
    ],
    &[
        "SELECT ",
        EPISODE_COLUMNS,
        ", knn.distance AS distance FROM (\
         SELECT n.id, n.embedding <=> ? AS distance FROM episodic_summaries n \
         WHERE n.agent_id = ? AND n.user_id = ? AND n.embedding IS NOT NULL \
         ORDER BY distance LIMIT ?) knn \
         JOIN episodic_summaries e ON e.id = knn.id WHERE e.tenant_id = ? \
         AND (e.expires_at IS NULL OR e.expires_at > ?) \
         ORDER BY knn.distance, e.id",
    ],
);

/// The columns of a knowledge-graph entity, from `kg_entities k`, as `tables::knowledge_graph`
/// maps them.
pub(crate) const ENTITY_COLUMNS: &str = "k.id, k.tenant_id, k.agent_id, k.user_id, \
                                         k.external_id, k.name, k.entity_type, k.description, \
                                         k.properties, k.source_id, k.confidence, \
                                         k.created_at, k.updated_at, k.valid_from, \
                                         k.valid_until";

/// Parameters: the vector (`Param::Vector`), tenant, agent, user, limit. Returns the entity
/// columns and the cosine `distance`, nearest first. One user's graph is small, so both
/// engines compare every current entity of the scope (sqlite-vec's `vec_distance_cosine`,
/// pgvector's `<=>`) instead of keeping a nearest-neighbour index.
pub(crate) static SIMILAR_ENTITIES: Statement = Statement::per_engine(
    &[
        "SELECT ",
        ENTITY_COLUMNS,
        ", vec_distance_cosine(k.embedding, ?) AS distance FROM kg_entities k \
         WHERE k.tenant_id = ? AND k.agent_id = ? AND k.user_id = ? \
         AND k.embedding IS NOT NULL AND k.valid_until IS NULL \
         ORDER BY distance, k.id LIMIT ?",
    ],
    &[
        "SELECT ",
        ENTITY_COLUMNS,
        ", (k.embedding <=> ?)::float8 AS distance FROM kg_entities k \
         WHERE k.tenant_id = ? AND k.agent_id = ? AND k.user_id = ? \
         AND k.embedding IS NOT NULL AND k.valid_until IS NULL \
         ORDER BY distance, k.id LIMIT ?",
    ],
);
