-- Knowledge vault: a registry of the files in agents' workspaces (the content stays on disk;
-- the database holds path, title, type, content hash, summary, embedding and metadata) and the
-- links between them (`[[wikilinks]]`). Embeddings are float32 little-endian BLOBs.
--
-- Ownership follows GoClaw's scope rule: `personal` documents belong to one agent, `team`
-- documents to one team, `shared` ones to the tenant, `custom` ones are unconstrained.
-- `owner_key` is the owner as text (the agent's or team's id, '' for shared), so one plain
-- unique index keys a document by tenant, scope, owner and path on both engines.
-- `path_basename` is the lower-cased last segment of `path`, for resolving `[[name]]`.
--
-- Retrieval indexes are two virtual tables kept in step with `vault_documents` by triggers,
-- keyed by the document's UUID (not `rowid`, which VACUUM may renumber):
-- - `vault_documents_fts` (FTS5): title, path and summary;
-- - `vault_documents_vec` (sqlite-vec): the embedding, cosine distance, partitioned by tenant,
--   with `visible_to` (the agent's id for personal documents, '' for shared ones, '-' for any
--   other scope) so a nearest-neighbour query is confined to one agent's view.
-- Both are derived data: backups leave them out and the triggers rebuild them.

CREATE TABLE vault_documents (
    id             TEXT PRIMARY KEY NOT NULL,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id       TEXT REFERENCES agents (id) ON DELETE CASCADE,
    team_id        TEXT,
    scope          TEXT NOT NULL DEFAULT 'personal',
    owner_key      TEXT NOT NULL DEFAULT '',
    path           TEXT NOT NULL,
    path_basename  TEXT NOT NULL DEFAULT '',
    title          TEXT NOT NULL DEFAULT '',
    doc_type       TEXT NOT NULL DEFAULT 'note',
    content_hash   TEXT NOT NULL DEFAULT '',
    summary        TEXT NOT NULL DEFAULT '',
    embedding      BLOB CHECK (embedding IS NULL OR length(embedding) = 6144),
    metadata       TEXT NOT NULL DEFAULT '{}',
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CONSTRAINT vault_documents_scope_consistency CHECK (
        (scope = 'personal' AND agent_id IS NOT NULL AND team_id IS NULL) OR
        (scope = 'team' AND team_id IS NOT NULL AND agent_id IS NULL) OR
        (scope = 'shared' AND agent_id IS NULL AND team_id IS NULL) OR
        scope = 'custom'
    )
);

CREATE UNIQUE INDEX vault_documents_owner_path_idx
    ON vault_documents (tenant_id, scope, owner_key, path);
CREATE INDEX vault_documents_agent_idx ON vault_documents (agent_id);
CREATE INDEX vault_documents_basename_idx ON vault_documents (tenant_id, path_basename);

CREATE TABLE vault_links (
    id           TEXT PRIMARY KEY NOT NULL,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    from_doc_id  TEXT NOT NULL REFERENCES vault_documents (id) ON DELETE CASCADE,
    to_doc_id    TEXT NOT NULL REFERENCES vault_documents (id) ON DELETE CASCADE,
    link_type    TEXT NOT NULL DEFAULT 'wikilink',
    context      TEXT NOT NULL DEFAULT '',
    metadata     TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (from_doc_id, to_doc_id, link_type)
);

CREATE INDEX vault_links_to_idx ON vault_links (to_doc_id);

CREATE VIRTUAL TABLE vault_documents_fts USING fts5 (
    title,
    path,
    summary,
    doc_id UNINDEXED,
    tokenize = 'unicode61'
);

CREATE VIRTUAL TABLE vault_documents_vec USING vec0 (
    doc_id TEXT PRIMARY KEY,
    tenant_id TEXT PARTITION KEY,
    visible_to TEXT,
    embedding float[1536] distance_metric=cosine
);

CREATE TRIGGER vault_documents_indexed AFTER INSERT ON vault_documents BEGIN
    INSERT INTO vault_documents_fts (title, path, summary, doc_id)
        VALUES (new.title, new.path, new.summary, new.id);
    INSERT INTO vault_documents_vec (doc_id, tenant_id, visible_to, embedding)
        SELECT new.id, new.tenant_id,
               CASE new.scope WHEN 'personal' THEN new.agent_id WHEN 'shared' THEN '' ELSE '-' END,
               new.embedding
        WHERE new.embedding IS NOT NULL;
END;

CREATE TRIGGER vault_documents_unindexed AFTER DELETE ON vault_documents BEGIN
    DELETE FROM vault_documents_fts WHERE doc_id = old.id;
    DELETE FROM vault_documents_vec WHERE doc_id = old.id;
END;

CREATE TRIGGER vault_documents_text_reindexed
AFTER UPDATE OF title, path, summary ON vault_documents BEGIN
    DELETE FROM vault_documents_fts WHERE doc_id = old.id;
    INSERT INTO vault_documents_fts (title, path, summary, doc_id)
        VALUES (new.title, new.path, new.summary, new.id);
END;

CREATE TRIGGER vault_documents_embedding_reindexed
AFTER UPDATE OF embedding, scope, agent_id ON vault_documents BEGIN
    DELETE FROM vault_documents_vec WHERE doc_id = old.id;
    INSERT INTO vault_documents_vec (doc_id, tenant_id, visible_to, embedding)
        SELECT new.id, new.tenant_id,
               CASE new.scope WHEN 'personal' THEN new.agent_id WHEN 'shared' THEN '' ELSE '-' END,
               new.embedding
        WHERE new.embedding IS NOT NULL;
END;
