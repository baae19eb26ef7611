-- Back to 0013's vector index: the signatures in a sqlite-vec `vec0` table, rebuilt from
-- `memory_chunks`.

DROP TRIGGER memory_chunks_vec_removed_pruned;
DROP TRIGGER memory_chunks_vec_unindexed;
DROP TRIGGER memory_chunks_indexed;
DROP TRIGGER memory_chunks_unindexed;
DROP TRIGGER memory_chunks_embedding_reindexed;
DROP TABLE memory_chunks_vec_removed;
DROP TABLE memory_chunks_vec;

CREATE VIRTUAL TABLE memory_chunks_vec USING vec0 (
    chunk_id TEXT PRIMARY KEY,
    agent_id TEXT PARTITION KEY,
    user_scope TEXT,
    signature bit[2048]
);

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
