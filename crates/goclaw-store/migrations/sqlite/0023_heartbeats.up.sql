-- Heartbeats: one periodic check-in per agent, with GoClaw's column names, and the record of
-- its runs. A heartbeat belongs to an agent and goes with it (ON DELETE CASCADE; deleting an
-- agent, a soft delete, deletes its heartbeat in the same transaction), its runs with it.
--
-- A slot fires once: claiming it moves `next_run_at` from the due slot to the next only if it
-- is still the due slot.

CREATE TABLE agent_heartbeats (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id            TEXT NOT NULL UNIQUE REFERENCES agents (id) ON DELETE CASCADE,
    enabled             INTEGER NOT NULL DEFAULT 0,
    interval_sec        INTEGER NOT NULL DEFAULT 1800,
    prompt              TEXT,
    provider_id         TEXT,
    model               TEXT,
    isolated_session    INTEGER NOT NULL DEFAULT 1,
    light_context       INTEGER NOT NULL DEFAULT 0,
    ack_max_chars       INTEGER NOT NULL DEFAULT 300,
    max_retries         INTEGER NOT NULL DEFAULT 2,
    active_hours_start  TEXT,
    active_hours_end    TEXT,
    timezone            TEXT,
    channel             TEXT,
    chat_id             TEXT,
    next_run_at         TEXT,
    last_run_at         TEXT,
    last_status         TEXT,
    last_error          TEXT,
    run_count           INTEGER NOT NULL DEFAULT 0,
    suppress_count      INTEGER NOT NULL DEFAULT 0,
    metadata            TEXT NOT NULL DEFAULT '{}',
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    CHECK (interval_sec >= 300)
);

CREATE INDEX agent_heartbeats_due_idx ON agent_heartbeats (next_run_at) WHERE enabled;

CREATE TABLE heartbeat_run_logs (
    id             TEXT PRIMARY KEY,
    heartbeat_id   TEXT NOT NULL REFERENCES agent_heartbeats (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id       TEXT NOT NULL,
    status         TEXT NOT NULL,
    summary        TEXT,
    error          TEXT,
    duration_ms    INTEGER,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    skip_reason    TEXT,
    metadata       TEXT NOT NULL DEFAULT '{}',
    ran_at         TEXT NOT NULL,
    created_at     TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX heartbeat_run_logs_agent_idx ON heartbeat_run_logs (agent_id, ran_at DESC, id DESC);
CREATE INDEX heartbeat_run_logs_heartbeat_idx ON heartbeat_run_logs (heartbeat_id);
