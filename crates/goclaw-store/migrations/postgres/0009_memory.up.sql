-- Memory: documents (MEMORY.md, memory/**) stored per agent and user (user_id NULL = shared by
-- every user of the agent), the chunks they are split into for retrieval, and a cache of
-- embeddings by content hash so an unchanged text is never sent to the provider twice.
--
-- Retrieval indexes: a `tsvector` of each chunk's text ('simple': no stemming, no stop words,
-- so any language is found by its words) with a GIN index, and the chunk's embedding with an
-- HNSW cosine index. `tsv` is derived data: backups leave it out and PostgreSQL recomputes it.

CREATE TABLE memory_documents (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id      UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       VARCHAR(255),
    path          TEXT NOT NULL,
    content       TEXT NOT NULL DEFAULT '',
    content_hash  TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX memory_documents_owner_path_idx
    ON memory_documents (agent_id, (COALESCE(user_id, '')), path);

CREATE TABLE memory_chunks (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    document_id   UUID NOT NULL REFERENCES memory_documents (id) ON DELETE CASCADE,
    agent_id      UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       VARCHAR(255),
    path          TEXT NOT NULL,
    start_line    BIGINT NOT NULL,
    end_line      BIGINT NOT NULL,
    text          TEXT NOT NULL,
    content_hash  TEXT NOT NULL DEFAULT '',
    embedding     vector(1536),
    tsv           tsvector GENERATED ALWAYS AS (to_tsvector('simple', text)) STORED
);

CREATE INDEX memory_chunks_document_idx ON memory_chunks (document_id, start_line);
CREATE INDEX memory_chunks_scope_idx ON memory_chunks (agent_id, user_id);
CREATE INDEX memory_chunks_tsv_idx ON memory_chunks USING GIN (tsv);
CREATE INDEX memory_chunks_embedding_idx ON memory_chunks
    USING hnsw (embedding vector_cosine_ops);

CREATE TABLE embedding_cache (
    hash        TEXT NOT NULL,
    provider    VARCHAR(255) NOT NULL,
    model       VARCHAR(255) NOT NULL,
    embedding   vector NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (hash, provider, model)
);
