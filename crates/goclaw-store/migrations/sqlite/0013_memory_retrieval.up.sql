-- Memory retrieval that stays fast over a large scope. Both retrieval indexes of 0009 are
-- rebuilt from `memory_chunks` in new shapes (they are derived data, filled by the triggers):
--
-- - `memory_chunks_fts` carries the chunk's scope (tenant, agent, owning user, '' = shared) as
--   UNINDEXED columns, so a full-text search checks the scope of each match on the row FTS5
--   already reads, instead of looking every match up in `memory_chunks`; the fts5vocab table
--   `memory_chunks_fts_words` gives each word's document count, which a search uses to leave
--   out words that would make it score a large share of the chunks.
-- - `memory_chunks_vec` holds a 1024-bit signature of each embedding
--   (`memory_signature(embedding)`, a SimHash the store defines on every connection) instead of
--   the 1536 floats: a nearest-neighbour query compares 128 bytes per chunk by Hamming distance
--   to pick candidates, which the search re-ranks by exact cosine distance on
--   `memory_chunks.embedding`.

DROP TRIGGER memory_chunks_indexed;
DROP TRIGGER memory_chunks_unindexed;
DROP TRIGGER memory_chunks_text_reindexed;
DROP TRIGGER memory_chunks_embedding_reindexed;
DROP TABLE memory_chunks_vec;
DROP TABLE memory_chunks_fts;

CREATE VIRTUAL TABLE memory_chunks_fts USING fts5 (
    text,
    chunk_id UNINDEXED,
    tenant_id UNINDEXED,
    agent_id UNINDEXED,
    user_scope UNINDEXED,
    tokenize = 'unicode61'
);

CREATE VIRTUAL TABLE memory_chunks_fts_words USING fts5vocab (memory_chunks_fts, row);

CREATE VIRTUAL TABLE memory_chunks_vec USING vec0 (
    chunk_id TEXT PRIMARY KEY,
    agent_id TEXT PARTITION KEY,
    user_scope TEXT,
    signature bit[2048]
);

INSERT INTO memory_chunks_fts (text, chunk_id, tenant_id, agent_id, user_scope)
    SELECT text, id, tenant_id, agent_id, COALESCE(user_id, '') FROM memory_chunks;

INSERT INTO memory_chunks_vec (chunk_id, agent_id, user_scope, signature)
    SELECT id, agent_id, COALESCE(user_id, ''), vec_bit(memory_signature(embedding))
    FROM memory_chunks WHERE embedding IS NOT NULL;

CREATE TRIGGER memory_chunks_indexed AFTER INSERT ON memory_chunks BEGIN
    INSERT INTO memory_chunks_fts (text, chunk_id, tenant_id, agent_id, user_scope)
        VALUES (new.text, new.id, new.tenant_id, new.agent_id, COALESCE(new.user_id, ''));
    INSERT INTO memory_chunks_vec (chunk_id, agent_id, user_scope, signature)
        SELECT new.id, new.agent_id, COALESCE(new.user_id, ''),
               vec_bit(memory_signature(new.embedding))
        WHERE new.embedding IS NOT NULL;
END;

CREATE TRIGGER memory_chunks_unindexed AFTER DELETE ON memory_chunks BEGIN
    DELETE FROM memory_chunks_fts WHERE chunk_id = old.id;
    DELETE FROM memory_chunks_vec WHERE chunk_id = old.id;
END;

CREATE TRIGGER memory_chunks_text_reindexed
AFTER UPDATE OF text, tenant_id, agent_id, user_id ON memory_chunks BEGIN
    DELETE FROM memory_chunks_fts WHERE chunk_id = old.id;
    INSERT INTO memory_chunks_fts (text, chunk_id, tenant_id, agent_id, user_scope)
        VALUES (new.text, new.id, new.tenant_id, new.agent_id, COALESCE(new.user_id, ''));
END;

-- The old signature goes before the update and the new one comes after it, in two triggers:
-- sqlite-vec 0.1.9 refuses the `bit` vector of an INSERT … SELECT that follows a DELETE from
-- the same table in one trigger ("expected to be of type , but a float32 vector").
CREATE TRIGGER memory_chunks_embedding_unindexed
BEFORE UPDATE OF embedding, agent_id, user_id ON memory_chunks BEGIN
    DELETE FROM memory_chunks_vec WHERE chunk_id = old.id;
END;

CREATE TRIGGER memory_chunks_embedding_reindexed
AFTER UPDATE OF embedding, agent_id, user_id ON memory_chunks BEGIN
    INSERT INTO memory_chunks_vec (chunk_id, agent_id, user_scope, signature)
        SELECT new.id, new.agent_id, COALESCE(new.user_id, ''),
               vec_bit(memory_signature(new.embedding))
        WHERE new.embedding IS NOT NULL;
END;
