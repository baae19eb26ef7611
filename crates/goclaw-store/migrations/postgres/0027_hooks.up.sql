-- Hooks (GoClaw's `hooks`, formerly `agent_hooks`): a command or URL fired at points of a
-- run, scoped to the gateway (`global`, kept in the master tenant), a tenant, or some of its
-- agents (`agent_ids`); and `hook_executions`, one row per run of a hook and event.

CREATE TABLE hooks (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_ids     UUID[] NOT NULL DEFAULT '{}',
    event         VARCHAR(32) NOT NULL,
    handler_type  VARCHAR(16) NOT NULL,
    scope         VARCHAR(16) NOT NULL CHECK (scope IN ('global', 'tenant', 'agent')),
    name          TEXT NOT NULL DEFAULT '',
    config        JSONB NOT NULL DEFAULT '{}',
    matcher       TEXT NOT NULL DEFAULT '',
    if_expr       TEXT NOT NULL DEFAULT '',
    timeout_ms    BIGINT NOT NULL DEFAULT 5000,
    on_timeout    VARCHAR(16) NOT NULL DEFAULT 'allow',
    priority      BIGINT NOT NULL DEFAULT 0,
    enabled       BOOLEAN NOT NULL DEFAULT true,
    version       BIGINT NOT NULL DEFAULT 1,
    source        VARCHAR(16) NOT NULL DEFAULT 'ui',
    metadata      JSONB NOT NULL DEFAULT '{}',
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX hooks_event_idx ON hooks (tenant_id, event) WHERE enabled;

CREATE TABLE hook_executions (
    id           UUID PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hook_id      UUID REFERENCES hooks (id) ON DELETE SET NULL,
    session_id   TEXT NOT NULL DEFAULT '',
    event        VARCHAR(32) NOT NULL,
    input_hash   TEXT NOT NULL DEFAULT '',
    decision     VARCHAR(16) NOT NULL,
    duration_ms  BIGINT NOT NULL DEFAULT 0,
    retry        BIGINT NOT NULL DEFAULT 0,
    dedup_key    TEXT NOT NULL,
    error        TEXT NOT NULL DEFAULT '',
    metadata     JSONB NOT NULL DEFAULT '{}',
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (dedup_key)
);

CREATE INDEX hook_executions_tenant_idx ON hook_executions (tenant_id, id DESC);
CREATE INDEX hook_executions_hook_idx ON hook_executions (hook_id, id DESC);
