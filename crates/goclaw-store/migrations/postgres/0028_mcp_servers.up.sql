-- MCP servers managed through the API: a tenant's servers (their API key, headers and
-- environment as one secret-box ciphertext in `secrets`), the agents and users they are
-- granted to, and each user's own credentials (ciphertext too). `args` is an array of
-- text; `tool_allow`/`tool_deny` are JSON arrays or NULL.

CREATE TABLE mcp_servers (
    id                        UUID PRIMARY KEY,
    tenant_id                 UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                      TEXT NOT NULL,
    display_name              TEXT NOT NULL DEFAULT '',
    transport                 TEXT NOT NULL
                              CHECK (transport IN ('stdio', 'sse', 'streamable-http')),
    command                   TEXT NOT NULL DEFAULT '',
    args                      TEXT[] NOT NULL DEFAULT '{}',
    url                       TEXT NOT NULL DEFAULT '',
    tool_prefix               TEXT NOT NULL DEFAULT '',
    timeout_sec               BIGINT NOT NULL DEFAULT 60,
    settings                  JSONB NOT NULL DEFAULT '{}',
    enabled                   BOOLEAN NOT NULL DEFAULT true,
    require_user_credentials  BOOLEAN NOT NULL DEFAULT false,
    secrets                   TEXT NOT NULL DEFAULT '',
    created_by                TEXT NOT NULL DEFAULT '',
    created_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE TABLE mcp_agent_grants (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    server_id   UUID NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    agent_id    UUID NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    enabled     BOOLEAN NOT NULL DEFAULT true,
    tool_allow  JSONB,
    tool_deny   JSONB,
    granted_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (server_id, agent_id)
);

CREATE INDEX mcp_agent_grants_agent_idx ON mcp_agent_grants (agent_id);

CREATE TABLE mcp_user_grants (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    server_id   UUID NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    enabled     BOOLEAN NOT NULL DEFAULT true,
    tool_allow  JSONB,
    tool_deny   JSONB,
    granted_by  TEXT NOT NULL DEFAULT '',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (server_id, user_id)
);

CREATE TABLE mcp_user_credentials (
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    server_id   UUID NOT NULL REFERENCES mcp_servers (id) ON DELETE CASCADE,
    user_id     TEXT NOT NULL,
    secrets     TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (server_id, user_id)
);
