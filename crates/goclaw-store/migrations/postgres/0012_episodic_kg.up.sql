-- Episodic memory and the knowledge graph.
--
-- `episodic_summaries`: one summary per finished stretch of a session (the L1 tier), written
-- by the episodic worker: the summary, a short abstract (L0, what auto-inject shows), topics,
-- an optional embedding, and an expiry (90 days by default). `source_id` names what was
-- summarized (session key and last message), unique per agent and user, so a session is never
-- summarized twice for the same messages. `user_id` is '' for sessions without a user, as in
-- GoClaw. Retrieval: a generated `tsv` ('simple', like memory chunks) with a GIN index, and an
-- HNSW cosine index over the embedding; `tsv` is derived data, left out of backups.
--
-- `kg_entities`, `kg_relations`: the knowledge graph extracted from episodic summaries, per
-- agent and user, with temporal validity (`valid_until` NULL = current). Entities are unique
-- by their external id (the extraction's own name for them) within an agent's user; relations
-- by (source, type, target). `kg_dedup_candidates` holds entity pairs similar enough to review
-- but not to merge on their own.

CREATE TABLE episodic_summaries (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id      UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       VARCHAR(255) NOT NULL DEFAULT '',
    session_key   TEXT NOT NULL,
    summary       TEXT NOT NULL,
    l0_abstract   TEXT NOT NULL DEFAULT '',
    key_topics    TEXT[] NOT NULL DEFAULT '{}',
    embedding     vector(1536),
    source_type   TEXT NOT NULL DEFAULT 'session',
    source_id     TEXT NOT NULL,
    turn_count    BIGINT NOT NULL DEFAULT 0,
    token_count   BIGINT NOT NULL DEFAULT 0,
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at    TIMESTAMPTZ,
    tsv           tsvector GENERATED ALWAYS AS
                      (to_tsvector('simple', l0_abstract || ' ' || summary)) STORED
);

CREATE UNIQUE INDEX episodic_summaries_source_idx
    ON episodic_summaries (agent_id, user_id, source_id);
CREATE INDEX episodic_summaries_scope_idx
    ON episodic_summaries (agent_id, user_id, created_at);
CREATE INDEX episodic_summaries_expires_idx
    ON episodic_summaries (expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX episodic_summaries_tsv_idx ON episodic_summaries USING GIN (tsv);
CREATE INDEX episodic_summaries_embedding_idx ON episodic_summaries
    USING hnsw (embedding vector_cosine_ops);

CREATE TABLE kg_entities (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id      UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       VARCHAR(255) NOT NULL DEFAULT '',
    external_id   TEXT NOT NULL,
    name          TEXT NOT NULL,
    entity_type   TEXT NOT NULL DEFAULT '',
    description   TEXT NOT NULL DEFAULT '',
    properties    JSONB NOT NULL DEFAULT '{}',
    source_id     TEXT NOT NULL DEFAULT '',
    confidence    DOUBLE PRECISION NOT NULL DEFAULT 1.0,
    embedding     vector(1536),
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    valid_from    TIMESTAMPTZ NOT NULL DEFAULT now(),
    valid_until   TIMESTAMPTZ
);

CREATE UNIQUE INDEX kg_entities_external_idx ON kg_entities (agent_id, user_id, external_id);
CREATE INDEX kg_entities_current_idx ON kg_entities (agent_id, user_id)
    WHERE valid_until IS NULL;

CREATE TABLE kg_relations (
    id                UUID PRIMARY KEY,
    tenant_id         UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id          UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id           VARCHAR(255) NOT NULL DEFAULT '',
    source_entity_id  UUID NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
    relation_type     TEXT NOT NULL,
    target_entity_id  UUID NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
    confidence        DOUBLE PRECISION NOT NULL DEFAULT 1.0,
    properties        JSONB NOT NULL DEFAULT '{}',
    created_at        TIMESTAMPTZ NOT NULL DEFAULT now(),
    valid_from        TIMESTAMPTZ NOT NULL DEFAULT now(),
    valid_until       TIMESTAMPTZ
);

CREATE UNIQUE INDEX kg_relations_edge_idx
    ON kg_relations (source_entity_id, relation_type, target_entity_id);
CREATE INDEX kg_relations_target_idx ON kg_relations (target_entity_id);
CREATE INDEX kg_relations_current_idx ON kg_relations (agent_id, user_id)
    WHERE valid_until IS NULL;

CREATE TABLE kg_dedup_candidates (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id      UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id       VARCHAR(255) NOT NULL DEFAULT '',
    entity_a_id   UUID NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
    entity_b_id   UUID NOT NULL REFERENCES kg_entities (id) ON DELETE CASCADE,
    similarity    DOUBLE PRECISION NOT NULL,
    status        TEXT NOT NULL DEFAULT 'pending',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE UNIQUE INDEX kg_dedup_candidates_pair_idx
    ON kg_dedup_candidates (entity_a_id, entity_b_id);

-- The episodic worker's sweep finds idle sessions of every tenant by their last change.
CREATE INDEX sessions_updated_idx ON sessions (updated_at);
