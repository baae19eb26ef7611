-- Hooks (GoClaw's `hooks`, formerly `agent_hooks`): a command or URL fired at points of a
-- run, scoped to the gateway (`global`, kept in the master tenant), a tenant, or some of its
-- agents (`agent_ids`, a JSON array of ids); and `hook_executions`, one row per run of a hook
-- and event.

CREATE TABLE hooks (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_ids     TEXT NOT NULL DEFAULT '[]',
    event         TEXT NOT NULL,
    handler_type  TEXT NOT NULL,
    scope         TEXT NOT NULL CHECK (scope IN ('global', 'tenant', 'agent')),
    name          TEXT NOT NULL DEFAULT '',
    config        TEXT NOT NULL DEFAULT '{}',
    matcher       TEXT NOT NULL DEFAULT '',
    if_expr       TEXT NOT NULL DEFAULT '',
    timeout_ms    INTEGER NOT NULL DEFAULT 5000,
    on_timeout    TEXT NOT NULL DEFAULT 'allow',
    priority      INTEGER NOT NULL DEFAULT 0,
    enabled       INTEGER NOT NULL DEFAULT 1,
    version       INTEGER NOT NULL DEFAULT 1,
    source        TEXT NOT NULL DEFAULT 'ui',
    metadata      TEXT NOT NULL DEFAULT '{}',
    created_by    TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX hooks_event_idx ON hooks (tenant_id, event) WHERE enabled;

CREATE TABLE hook_executions (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    hook_id      TEXT REFERENCES hooks (id) ON DELETE SET NULL,
    session_id   TEXT NOT NULL DEFAULT '',
    event        TEXT NOT NULL,
    input_hash   TEXT NOT NULL DEFAULT '',
    decision     TEXT NOT NULL,
    duration_ms  INTEGER NOT NULL DEFAULT 0,
    retry        INTEGER NOT NULL DEFAULT 0,
    dedup_key    TEXT NOT NULL,
    error        TEXT NOT NULL DEFAULT '',
    metadata     TEXT NOT NULL DEFAULT '{}',
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (dedup_key)
);

CREATE INDEX hook_executions_tenant_idx ON hook_executions (tenant_id, id DESC);
CREATE INDEX hook_executions_hook_idx ON hook_executions (hook_id, id DESC);
