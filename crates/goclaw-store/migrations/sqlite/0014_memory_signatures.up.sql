-- SQLite's memory vector index moves into the process: `memory_chunks_vec` becomes a plain
-- table of each embedded chunk's binary signature (`memory_signature(embedding)`), numbered by
-- `seq` in commit order, and `memory_chunks_vec_removed` records the `seq` of every signature
-- that goes. A store keeps each agent's signatures in memory and catches up with both tables
-- before a search (rows past the last `seq` it read), so changes made by any connection or
-- process are seen; it compares the probe with every signature in memory and re-ranks the
-- nearest by exact cosine distance on `memory_chunks.embedding`. sqlite-vec's `vec0` table,
-- which this replaces, scanned its pages and selected its `k` nearest on every query.
--
-- The removal log keeps its newest 100,000 rows (pruned every 1,000th row); a store that
-- finds rows missing after the last one it read reloads that agent's signatures.

DROP TRIGGER memory_chunks_indexed;
DROP TRIGGER memory_chunks_unindexed;
DROP TRIGGER memory_chunks_embedding_unindexed;
DROP TRIGGER memory_chunks_embedding_reindexed;
DROP TABLE memory_chunks_vec;

CREATE TABLE memory_chunks_vec (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    chunk_id TEXT NOT NULL UNIQUE,
    agent_id TEXT NOT NULL,
    user_scope TEXT NOT NULL,
    signature BLOB NOT NULL
);

CREATE INDEX memory_chunks_vec_agent_seq ON memory_chunks_vec (agent_id, seq);

CREATE TABLE memory_chunks_vec_removed (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    vec_seq INTEGER NOT NULL
);

CREATE INDEX memory_chunks_vec_removed_agent_seq ON memory_chunks_vec_removed (agent_id, seq);

INSERT INTO memory_chunks_vec (chunk_id, agent_id, user_scope, signature)
    SELECT id, agent_id, COALESCE(user_id, ''), memory_signature(embedding)
    FROM memory_chunks WHERE embedding IS NOT NULL ORDER BY agent_id, id;

CREATE TRIGGER memory_chunks_indexed AFTER INSERT ON memory_chunks BEGIN
    INSERT INTO memory_chunks_fts (text, chunk_id, tenant_id, agent_id, user_scope)
        VALUES (new.text, new.id, new.tenant_id, new.agent_id, COALESCE(new.user_id, ''));
    INSERT INTO memory_chunks_vec (chunk_id, agent_id, user_scope, signature)
        SELECT new.id, new.agent_id, COALESCE(new.user_id, ''), memory_signature(new.embedding)
        WHERE new.embedding IS NOT NULL;
END;

CREATE TRIGGER memory_chunks_unindexed AFTER DELETE ON memory_chunks BEGIN
    DELETE FROM memory_chunks_fts WHERE chunk_id = old.id;
    DELETE FROM memory_chunks_vec WHERE chunk_id = old.id;
END;

CREATE TRIGGER memory_chunks_embedding_reindexed
AFTER UPDATE OF embedding, agent_id, user_id ON memory_chunks BEGIN
    DELETE FROM memory_chunks_vec WHERE chunk_id = old.id;
    INSERT INTO memory_chunks_vec (chunk_id, agent_id, user_scope, signature)
        SELECT new.id, new.agent_id, COALESCE(new.user_id, ''), memory_signature(new.embedding)
        WHERE new.embedding IS NOT NULL;
END;

CREATE TRIGGER memory_chunks_vec_unindexed AFTER DELETE ON memory_chunks_vec BEGIN
    INSERT INTO memory_chunks_vec_removed (agent_id, vec_seq) VALUES (old.agent_id, old.seq);
END;

CREATE TRIGGER memory_chunks_vec_removed_pruned AFTER INSERT ON memory_chunks_vec_removed
WHEN new.seq % 1000 = 0 BEGIN
    DELETE FROM memory_chunks_vec_removed WHERE seq <= new.seq - 100000;
END;
