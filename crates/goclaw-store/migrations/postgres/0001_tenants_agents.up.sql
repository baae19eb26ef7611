-- Tenants, agents and their context files. Every tenant-owned row cascades with its tenant.
-- pgvector is created here so that later migrations can declare vector columns.

CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE tenants (
    id          UUID PRIMARY KEY,
    slug        VARCHAR(100) NOT NULL UNIQUE,
    name        VARCHAR(255) NOT NULL,
    status      VARCHAR(20) NOT NULL DEFAULT 'active',
    settings    JSONB NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

INSERT INTO tenants (id, slug, name)
VALUES ('0193a5b0-7000-7000-8000-000000000001', 'master', 'Master');

CREATE TABLE agents (
    id                    UUID PRIMARY KEY,
    tenant_id             UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_key             VARCHAR(100) NOT NULL,
    display_name          VARCHAR(255) NOT NULL DEFAULT '',
    provider              VARCHAR(100) NOT NULL DEFAULT '',
    model                 VARCHAR(255) NOT NULL DEFAULT '',
    is_default            BOOLEAN NOT NULL DEFAULT false,
    context_window        INTEGER NOT NULL DEFAULT 200000,
    max_tool_iterations   INTEGER NOT NULL DEFAULT 20,
    workspace             TEXT NOT NULL DEFAULT '',
    restrict_to_workspace BOOLEAN NOT NULL DEFAULT true,
    other_config          JSONB NOT NULL DEFAULT '{}',
    status                VARCHAR(20) NOT NULL DEFAULT 'active',
    created_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at            TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at            TIMESTAMPTZ
);

-- A soft-deleted agent frees its key for reuse.
CREATE UNIQUE INDEX agents_tenant_key_uniq ON agents (tenant_id, agent_key) WHERE deleted_at IS NULL;

CREATE TABLE agent_context_files (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id    UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    file_name   VARCHAR(255) NOT NULL,
    content     TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (agent_id, file_name)
);
