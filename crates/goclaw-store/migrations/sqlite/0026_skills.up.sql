-- Uploaded skills: one row per tenant and slug holding the current version's metadata and
-- its SKILL.md (the files of every version stay on disk under the skill store), and the
-- grants that open an `internal` skill to agents and users. `tags` is a JSON array of text.

CREATE TABLE skills (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    slug         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    owner_id     TEXT NOT NULL DEFAULT '',
    visibility   TEXT NOT NULL DEFAULT 'internal'
                 CHECK (visibility IN ('public', 'private', 'internal')),
    version      INTEGER NOT NULL DEFAULT 1,
    status       TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    enabled      INTEGER NOT NULL DEFAULT 1,
    tags         TEXT NOT NULL DEFAULT '[]',
    author       TEXT NOT NULL DEFAULT '',
    content      TEXT NOT NULL DEFAULT '',
    file_path    TEXT NOT NULL DEFAULT '',
    file_size    INTEGER NOT NULL DEFAULT 0,
    file_hash    TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, slug)
);

CREATE TABLE skill_agent_grants (
    id              TEXT PRIMARY KEY,
    tenant_id       TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    skill_id        TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    agent_id        TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    pinned_version  INTEGER NOT NULL DEFAULT 1,
    granted_by      TEXT NOT NULL DEFAULT '',
    created_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (skill_id, agent_id)
);

CREATE INDEX skill_agent_grants_agent_idx ON skill_agent_grants (agent_id);

CREATE TABLE skill_user_grants (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    skill_id    TEXT NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    granted_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (skill_id, user_id)
);

CREATE INDEX skill_user_grants_user_idx ON skill_user_grants (tenant_id, user_id);
