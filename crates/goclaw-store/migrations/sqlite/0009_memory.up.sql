-- Memory: documents (MEMORY.md, memory/**) stored per agent and user (user_id NULL = shared by
-- every user of the agent), the chunks they are split into for retrieval, and a cache of
-- embeddings by content hash so an unchanged text is never sent to the provider twice.
-- Embeddings are float32 little-endian BLOBs (the form sqlite-vec reads).
--
-- Retrieval indexes are two virtual tables kept in step with `memory_chunks` by the triggers
-- below, so every write path — the store, a restore — fills them:
-- - `memory_chunks_fts` (FTS5): the chunk's text, keyed by the chunk's id;
-- - `memory_chunks_vec` (sqlite-vec): the chunk's embedding, cosine distance, partitioned by
--   agent, with the owning user ('' = shared) as a metadata column, so a nearest-neighbour
--   query is confined to one agent's scope before it picks its k rows.
-- Both are keyed by the chunk's UUID, not by `rowid`: a table without an INTEGER PRIMARY KEY
-- may have its rowids renumbered by VACUUM, which would silently point the indexes at other
-- chunks. They are derived data: backups leave them out and the triggers rebuild them.

CREATE TABLE memory_documents (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       TEXT,
    path          TEXT NOT NULL,
    content       TEXT NOT NULL DEFAULT '',
    content_hash  TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE UNIQUE INDEX memory_documents_owner_path_idx
    ON memory_documents (agent_id, (COALESCE(user_id, '')), path);

CREATE TABLE memory_chunks (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    document_id   TEXT NOT NULL REFERENCES memory_documents (id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       TEXT,
    path          TEXT NOT NULL,
    start_line    INTEGER NOT NULL,
    end_line      INTEGER NOT NULL,
    text          TEXT NOT NULL,
    content_hash  TEXT NOT NULL DEFAULT '',
    embedding     BLOB CHECK (embedding IS NULL OR length(embedding) = 6144)
);

CREATE INDEX memory_chunks_document_idx ON memory_chunks (document_id, start_line);
CREATE INDEX memory_chunks_scope_idx ON memory_chunks (agent_id, user_id);

CREATE TABLE embedding_cache (
    hash        TEXT NOT NULL,
    provider    TEXT NOT NULL,
    model       TEXT NOT NULL,
    embedding   BLOB NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (hash, provider, model)
);

CREATE VIRTUAL TABLE memory_chunks_fts USING fts5 (
    text,
    chunk_id UNINDEXED,
    tokenize = 'unicode61'
);

CREATE VIRTUAL TABLE memory_chunks_vec USING vec0 (
    chunk_id TEXT PRIMARY KEY,
    agent_id TEXT PARTITION KEY,
    user_scope TEXT,
    embedding float[1536] distance_metric=cosine
);

CREATE TRIGGER memory_chunks_indexed AFTER INSERT ON memory_chunks BEGIN
    INSERT INTO memory_chunks_fts (text, chunk_id) VALUES (new.text, new.id);
    INSERT INTO memory_chunks_vec (chunk_id, agent_id, user_scope, embedding)
        SELECT new.id, new.agent_id, COALESCE(new.user_id, ''), new.embedding
        WHERE new.embedding IS NOT NULL;
END;

CREATE TRIGGER memory_chunks_unindexed AFTER DELETE ON memory_chunks BEGIN
    DELETE FROM memory_chunks_fts WHERE chunk_id = old.id;
    DELETE FROM memory_chunks_vec WHERE chunk_id = old.id;
END;

CREATE TRIGGER memory_chunks_text_reindexed AFTER UPDATE OF text ON memory_chunks BEGIN
    DELETE FROM memory_chunks_fts WHERE chunk_id = old.id;
    INSERT INTO memory_chunks_fts (text, chunk_id) VALUES (new.text, new.id);
END;

CREATE TRIGGER memory_chunks_embedding_reindexed
AFTER UPDATE OF embedding, agent_id, user_id ON memory_chunks BEGIN
    DELETE FROM memory_chunks_vec WHERE chunk_id = old.id;
    INSERT INTO memory_chunks_vec (chunk_id, agent_id, user_scope, embedding)
        SELECT new.id, new.agent_id, COALESCE(new.user_id, ''), new.embedding
        WHERE new.embedding IS NOT NULL;
END;
