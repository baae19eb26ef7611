-- Episodic memory and the knowledge graph (see the PostgreSQL migration of the same number
-- for what the tables hold). Embeddings are float32 little-endian BLOBs.
--
-- Retrieval over episodic summaries, as for memory chunks: two virtual tables kept in step by
-- triggers, keyed by the summary's UUID (rowids may be renumbered by VACUUM):
-- - `episodic_summaries_fts` (FTS5): the abstract and summary;
-- - `episodic_summaries_vec` (sqlite-vec): the embedding, cosine distance, partitioned by
--   agent with the user as a metadata column, so the k nearest are chosen inside the scope.
-- Entity similarity for de-duplication compares a handful of one user's entities and scans
-- them with `vec_distance_cosine` instead of keeping a third index.

CREATE TABLE episodic_summaries (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL DEFAULT '',
    session_key   TEXT NOT NULL,
    summary       TEXT NOT NULL,
    l0_abstract   TEXT NOT NULL DEFAULT '',
    key_topics    TEXT NOT NULL DEFAULT '[]',
    embedding     BLOB CHECK (embedding IS NULL OR length(embedding) = 6144),
    source_type   TEXT NOT NULL DEFAULT 'session',
    source_id     TEXT NOT NULL,
    turn_count    INTEGER NOT NULL DEFAULT 0,
    token_count   INTEGER NOT NULL DEFAULT 0,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at    TEXT
);

CREATE UNIQUE INDEX episodic_summaries_source_idx
    ON episodic_summaries (agent_id, user_id, source_id);
CREATE INDEX episodic_summaries_scope_idx
    ON episodic_summaries (agent_id, user_id, created_at);
CREATE INDEX episodic_summaries_expires_idx
    ON episodic_summaries (expires_at) WHERE expires_at IS NOT NULL;

CREATE VIRTUAL TABLE episodic_summaries_fts USING fts5 (
    text,
    episodic_id UNINDEXED,
    tokenize = 'unicode61'
);

CREATE VIRTUAL TABLE episodic_summaries_vec USING vec0 (
    episodic_id TEXT PRIMARY KEY,
    agent_id TEXT PARTITION KEY,
    user_id TEXT,
    embedding float[1536] distance_metric=cosine
);

CREATE TRIGGER episodic_summaries_indexed AFTER INSERT ON episodic_summaries BEGIN
    INSERT INTO episodic_summaries_fts (text, episodic_id)
        VALUES (new.l0_abstract || ' ' || new.summary, new.id);
    INSERT INTO episodic_summaries_vec (episodic_id, agent_id, user_id, embedding)
        SELECT new.id, new.agent_id, new.user_id, new.embedding
        WHERE new.embedding IS NOT NULL;
END;

CREATE TRIGGER episodic_summaries_unindexed AFTER DELETE ON episodic_summaries BEGIN
    DELETE FROM episodic_summaries_fts WHERE episodic_id = old.id;
    DELETE FROM episodic_summaries_vec WHERE episodic_id = old.id;
END;

CREATE TRIGGER episodic_summaries_text_reindexed
AFTER UPDATE OF summary, l0_abstract ON episodic_summaries BEGIN
    DELETE FROM episodic_summaries_fts WHERE episodic_id = old.id;
    INSERT INTO episodic_summaries_fts (text, episodic_id)
        VALUES (new.l0_abstract || ' ' || new.summary, new.id);
END;

CREATE TRIGGER episodic_summaries_embedding_reindexed
AFTER UPDATE OF embedding, agent_id, user_id ON episodic_summaries BEGIN
    DELETE FROM episodic_summaries_vec WHERE episodic_id = old.id;
    INSERT INTO episodic_summaries_vec (episodic_id, agent_id, user_id, embedding)
        SELECT new.id, new.agent_id, new.user_id, new.embedding
        WHERE new.embedding IS NOT NULL;
END;

CREATE TABLE kg_entities (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL DEFAULT '',
    external_id   TEXT NOT NULL,
    name          TEXT NOT NULL,
    entity_type   TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    properties    TEXT NOT NULL DEFAULT '{}',
    source_id     TEXT NOT NULL DEFAULT '',
    confidence    REAL NOT NULL DEFAULT 1.0,
    embedding     BLOB CHECK (embedding IS NULL OR length(embedding) = 6144),
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    valid_from    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    valid_until   TEXT
);

CREATE UNIQUE INDEX kg_entities_external_idx ON kg_entities (agent_id, user_id, external_id);
CREATE INDEX kg_entities_current_idx ON kg_entities (agent_id, user_id)
    WHERE valid_until IS NULL;

CREATE TABLE kg_relations (
    id                TEXT PRIMARY KEY NOT NULL,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id          TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id           TEXT NOT NULL DEFAULT '',
    source_entity_id  TEXT NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
    relation_type     TEXT NOT NULL,
    target_entity_id  TEXT NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
    confidence        REAL NOT NULL DEFAULT 1.0,
    properties        TEXT NOT NULL DEFAULT '{}',
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    valid_from        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    valid_until       TEXT
);

CREATE UNIQUE INDEX kg_relations_edge_idx
    ON kg_relations (source_entity_id, relation_type, target_entity_id);
CREATE INDEX kg_relations_target_idx ON kg_relations (target_entity_id);
CREATE INDEX kg_relations_current_idx ON kg_relations (agent_id, user_id)
    WHERE valid_until IS NULL;

CREATE TABLE kg_dedup_candidates (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id      TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL DEFAULT '',
    entity_a_id   TEXT NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
    entity_b_id   TEXT NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
    similarity    REAL NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE UNIQUE INDEX kg_dedup_candidates_pair_idx
    ON kg_dedup_candidates (entity_a_id, entity_b_id);

-- The episodic worker's sweep finds idle sessions of every tenant by their last change.
CREATE INDEX sessions_updated_idx ON sessions (updated_at);
