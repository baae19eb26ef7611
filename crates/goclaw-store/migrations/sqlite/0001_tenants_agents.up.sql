-- Tenants, agents and their context files. Every tenant-owned row cascades with its tenant.

CREATE TABLE tenants (
    id          TEXT PRIMARY KEY NOT NULL,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    status      TEXT NOT NULL DEFAULT 'active',
    settings    TEXT NOT NULL DEFAULT '{}',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

INSERT INTO tenants (id, slug, name)
VALUES ('0193a5b0-7000-7000-8000-000000000001', 'master', 'Master');

CREATE TABLE agents (
    id                    TEXT PRIMARY KEY NOT NULL,
    tenant_id             TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_key             TEXT NOT NULL,
    display_name          TEXT NOT NULL DEFAULT '',
    provider              TEXT NOT NULL DEFAULT '',
    model                 TEXT NOT NULL DEFAULT '',
    is_default            INTEGER NOT NULL DEFAULT 0,
    context_window        INTEGER NOT NULL DEFAULT 200000,
    max_tool_iterations   INTEGER NOT NULL DEFAULT 20,
    workspace             TEXT NOT NULL DEFAULT '',
    restrict_to_workspace INTEGER NOT NULL DEFAULT 1,
    other_config          TEXT NOT NULL DEFAULT '{}',
    status                TEXT NOT NULL DEFAULT 'active',
    created_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at            TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    deleted_at            TEXT
);

-- A soft-deleted agent frees its key for reuse.
CREATE UNIQUE INDEX agents_tenant_key_uniq ON agents (tenant_id, agent_key) WHERE deleted_at IS NULL;

CREATE TABLE agent_context_files (
    id          TEXT PRIMARY KEY NOT NULL,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id    TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    file_name   TEXT NOT NULL,
    content     TEXT NOT NULL DEFAULT '',
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (agent_id, file_name)
);
