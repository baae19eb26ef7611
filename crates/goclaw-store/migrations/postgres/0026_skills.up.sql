-- Uploaded skills: one row per tenant and slug holding the current version's metadata and
-- its SKILL.md (the files of every version stay on disk under the skill store), and the
-- grants that open an `internal` skill to agents and users.

CREATE TABLE skills (
    id           UUID PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    slug         TEXT NOT NULL,
    description  TEXT NOT NULL DEFAULT '',
    owner_id     TEXT NOT NULL DEFAULT '',
    visibility   VARCHAR(10) NOT NULL DEFAULT 'internal'
                 CHECK (visibility IN ('public', 'private', 'internal')),
    version      BIGINT NOT NULL DEFAULT 1,
    status       VARCHAR(20) NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'archived')),
    enabled      BOOLEAN NOT NULL DEFAULT true,
    tags         TEXT[] NOT NULL DEFAULT '{}',
    author       TEXT NOT NULL DEFAULT '',
    content      TEXT NOT NULL DEFAULT '',
    file_path    TEXT NOT NULL DEFAULT '',
    file_size    BIGINT NOT NULL DEFAULT 0,
    file_hash    TEXT NOT NULL DEFAULT '',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, slug)
);

CREATE TABLE skill_agent_grants (
    id              UUID PRIMARY KEY,
    tenant_id       UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    skill_id        UUID NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    agent_id        UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    pinned_version  BIGINT NOT NULL DEFAULT 1,
    granted_by      TEXT NOT NULL DEFAULT '',
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (skill_id, agent_id)
);

CREATE INDEX skill_agent_grants_agent_idx ON skill_agent_grants (agent_id);

CREATE TABLE skill_user_grants (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    skill_id    UUID NOT NULL REFERENCES skills (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    granted_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (skill_id, user_id)
);

CREATE INDEX skill_user_grants_user_idx ON skill_user_grants (tenant_id, user_id);
