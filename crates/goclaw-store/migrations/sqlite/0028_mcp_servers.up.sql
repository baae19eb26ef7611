-- MCP servers managed through the API: a tenant's servers (their API key, headers and
-- environment as one secret-box ciphertext in `secrets`), the agents and users they are
-- granted to, and each user's own credentials (ciphertext too). `args` is a JSON array of
-- text; `tool_allow`/`tool_deny` are JSON arrays or NULL.

CREATE TABLE mcp_servers (
    id                        TEXT PRIMARY KEY,
    tenant_id                 TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                      TEXT NOT NULL,
    display_name              TEXT NOT NULL DEFAULT '',
    transport                 TEXT NOT NULL
                              CHECK (transport IN ('stdio', 'sse', 'streamable-http')),
    command                   TEXT NOT NULL DEFAULT '',
    args                      TEXT NOT NULL DEFAULT '[]',
    url                       TEXT NOT NULL DEFAULT '',
    tool_prefix               TEXT NOT NULL DEFAULT '',
    timeout_sec               INTEGER NOT NULL DEFAULT 60,
    settings                  TEXT NOT NULL DEFAULT '{}',
    enabled                   INTEGER NOT NULL DEFAULT 1,
    require_user_credentials  INTEGER NOT NULL DEFAULT 0,
    secrets                   TEXT NOT NULL DEFAULT '',
    created_by                TEXT NOT NULL DEFAULT '',
    created_at                TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at                TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, name)
);

CREATE TABLE mcp_agent_grants (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    server_id   TEXT NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    agent_id    TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    enabled     INTEGER NOT NULL DEFAULT 1,
    tool_allow  TEXT,
    tool_deny   TEXT,
    granted_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (server_id, agent_id)
);

CREATE INDEX mcp_agent_grants_agent_idx ON mcp_agent_grants (agent_id);

CREATE TABLE mcp_user_grants (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    server_id   TEXT NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    enabled     INTEGER NOT NULL DEFAULT 1,
    tool_allow  TEXT,
    tool_deny   TEXT,
    granted_by  TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (server_id, user_id)
);

CREATE TABLE mcp_user_credentials (
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    server_id   TEXT NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    secrets     TEXT NOT NULL,
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    PRIMARY KEY (server_id, user_id)
);
