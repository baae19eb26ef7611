-- Heartbeats: one periodic check-in per agent, with GoClaw's column names, and the record of
-- its runs. A heartbeat belongs to an agent and goes with it (ON DELETE CASCADE; deleting an
-- agent, a soft delete, deletes its heartbeat in the same transaction), its runs with it.
--
-- A slot fires once: claiming it moves `next_run_at` from the due slot to the next only if it
-- is still the due slot.

CREATE TABLE agent_heartbeats (
    id                  UUID PRIMARY KEY,
    tenant_id           UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id            UUID NOT NULL UNIQUE REFERENCES agents (id) ON DELETE CASCADE,
    enabled             BOOLEAN NOT NULL DEFAULT false,
    interval_sec        BIGINT NOT NULL DEFAULT 1800,
    prompt              TEXT,
    provider_id         UUID,
    model               VARCHAR(200),
    isolated_session    BOOLEAN NOT NULL DEFAULT true,
    light_context       BOOLEAN NOT NULL DEFAULT false,
    ack_max_chars       BIGINT NOT NULL DEFAULT 300,
    max_retries         BIGINT NOT NULL DEFAULT 2,
    active_hours_start  VARCHAR(5),
    active_hours_end    VARCHAR(5),
    timezone            TEXT,
    channel             VARCHAR(50),
    chat_id             TEXT,
    next_run_at         TIMESTAMPTZ,
    last_run_at         TIMESTAMPTZ,
    last_status         VARCHAR(20),
    last_error          TEXT,
    run_count           BIGINT NOT NULL DEFAULT 0,
    suppress_count      BIGINT NOT NULL DEFAULT 0,
    metadata            JSONB NOT NULL DEFAULT '{}',
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (interval_sec >= 300)
);

CREATE INDEX agent_heartbeats_due_idx ON agent_heartbeats (next_run_at) WHERE enabled;

CREATE TABLE heartbeat_run_logs (
    id             UUID PRIMARY KEY,
    heartbeat_id   UUID NOT NULL REFERENCES agent_heartbeats (id) ON DELETE CASCADE,
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id       UUID NOT NULL,
    status         VARCHAR(20) NOT NULL,
    summary        TEXT,
    error          TEXT,
    duration_ms    BIGINT,
    input_tokens   BIGINT NOT NULL DEFAULT 0,
    output_tokens  BIGINT NOT NULL DEFAULT 0,
    skip_reason    VARCHAR(50),
    metadata       JSONB NOT NULL DEFAULT '{}',
    ran_at         TIMESTAMPTZ NOT NULL,
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX heartbeat_run_logs_agent_idx ON heartbeat_run_logs (agent_id, ran_at DESC, id DESC);
CREATE INDEX heartbeat_run_logs_heartbeat_idx ON heartbeat_run_logs (heartbeat_id);
