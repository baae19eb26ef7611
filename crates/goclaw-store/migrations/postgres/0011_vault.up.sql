-- Knowledge vault: a registry of the files in agents' workspaces (the content stays on disk;
-- the database holds path, title, type, content hash, summary, embedding and metadata) and the
-- links between them (`[[wikilinks]]`).
--
-- Ownership follows GoClaw's scope rule: `personal` documents belong to one agent, `team`
-- documents to one team, `shared` ones to the tenant, `custom` ones are unconstrained.
-- `owner_key` is the owner as text (the agent's or team's id, '' for shared), so one plain
-- unique index keys a document by tenant, scope, owner and path on both engines.
-- `path_basename` is the lower-cased last segment of `path`, for resolving `[[name]]`.
--
-- Retrieval indexes: `tsv`, a generated `tsvector` of title, path and summary ('simple'; the
-- path cut at `/`, `.`, `_` and `-`, as SQLite's FTS5 cuts it, so a directory's name finds its
-- files on both engines) with a GIN index, and the embedding with an HNSW cosine index. `tsv` is derived data: backups leave
-- it out and PostgreSQL recomputes it.

CREATE TABLE vault_documents (
    id             UUID PRIMARY KEY,
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id       UUID REFERENCES agents (id) ON DELETE CASCADE,
    team_id        UUID,
    scope          TEXT NOT NULL DEFAULT 'personal',
    owner_key      TEXT NOT NULL DEFAULT '',
    path           TEXT NOT NULL,
    path_basename  TEXT NOT NULL DEFAULT '',
    title          TEXT NOT NULL DEFAULT '',
    doc_type       TEXT NOT NULL DEFAULT 'note',
    content_hash   TEXT NOT NULL DEFAULT '',
    summary        TEXT NOT NULL DEFAULT '',
    embedding      vector(1536),
    metadata       JSONB NOT NULL DEFAULT '{}',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    tsv            tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', title || ' ' || translate(path, '/._-', '    ') || ' ' || summary)
    ) STORED,
    CONSTRAINT vault_documents_scope_consistency CHECK (
        (scope = 'personal' AND agent_id IS NOT NULL AND team_id IS NULL) OR
        (scope = 'team' AND team_id IS NOT NULL AND agent_id IS NULL) OR
        (scope = 'shared' AND agent_id IS NULL AND team_id IS NULL) OR
        scope = 'custom'
    )
);

CREATE UNIQUE INDEX vault_documents_owner_path_idx
    ON vault_documents (tenant_id, scope, owner_key, path);
CREATE INDEX vault_documents_agent_idx ON vault_documents (agent_id) WHERE agent_id IS NOT NULL;
CREATE INDEX vault_documents_basename_idx ON vault_documents (tenant_id, path_basename);
CREATE INDEX vault_documents_tsv_idx ON vault_documents USING GIN (tsv);
CREATE INDEX vault_documents_embedding_idx ON vault_documents
    USING hnsw (embedding vector_cosine_ops);

CREATE TABLE vault_links (
    id           UUID PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    from_doc_id  UUID NOT NULL REFERENCES vault_documents (id) ON DELETE CASCADE,
    to_doc_id    UUID NOT NULL REFERENCES vault_documents (id) ON DELETE CASCADE,
    link_type    TEXT NOT NULL DEFAULT 'wikilink',
    context      TEXT NOT NULL DEFAULT '',
    metadata     JSONB NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (from_doc_id, to_doc_id, link_type)
);

CREATE INDEX vault_links_to_idx ON vault_links (to_doc_id);
