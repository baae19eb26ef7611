-- Back to 0009's retrieval indexes: FTS5 with the chunk id only, and the float vectors in
-- sqlite-vec; both rebuilt from `memory_chunks`.

DROP TRIGGER memory_chunks_indexed;
DROP TRIGGER memory_chunks_unindexed;
DROP TRIGGER memory_chunks_text_reindexed;
DROP TRIGGER memory_chunks_embedding_unindexed;
DROP TRIGGER memory_chunks_embedding_reindexed;
DROP TABLE memory_chunks_fts_words;
DROP TABLE memory_chunks_vec;
DROP TABLE memory_chunks_fts;

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

INSERT INTO memory_chunks_fts (text, chunk_id) SELECT text, id FROM memory_chunks;

INSERT INTO memory_chunks_vec (chunk_id, agent_id, user_scope, embedding)
    SELECT id, agent_id, COALESCE(user_id, ''), embedding
    FROM memory_chunks WHERE embedding IS NOT NULL;

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
