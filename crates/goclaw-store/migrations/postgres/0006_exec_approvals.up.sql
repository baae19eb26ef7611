-- Exec approvals: shell commands waiting for (or answered by) an operator, and the programs
-- an operator allowed always for an agent.

CREATE TABLE exec_approvals (
    id           TEXT PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_key    TEXT NOT NULL,
    session_key  TEXT NOT NULL DEFAULT '',
    run_id       TEXT NOT NULL DEFAULT '',
    command      TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'pending'
                 CHECK (status IN ('pending', 'approved', 'denied', 'expired')),
    decision     TEXT,
    created_at   TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    resolved_at  TIMESTAMPTZ,
    resolved_by  TEXT
);

CREATE INDEX idx_exec_approvals_pending ON exec_approvals (status, created_at);

CREATE TABLE exec_allowlist (
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_key   TEXT NOT NULL,
    "binary"    TEXT NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT NOW(),
    UNIQUE (tenant_id, agent_key, "binary")
);
