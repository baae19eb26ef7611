-- Cron jobs: an agent's scheduled turns, with GoClaw's column names. The schedule is one of
-- three kinds (`at` → `run_at`, `every` → `interval_ms`, `cron` → `cron_expression` and an
-- optional `timezone`); `anchor_at` is where `every` periods are counted from. A job belongs
-- to an agent and goes with it (ON DELETE CASCADE; deleting an agent, a soft delete, deletes
-- its jobs in the same transaction). Names are unique per tenant and agent.
--
-- A job fires once per due time: claiming it moves `next_run_at` from the due time to the
-- next one only if it is still the due time, and records a `running` row in `cron_run_logs`
-- in the same transaction, so a run a stopped gateway never finished is still found.

CREATE TABLE cron_jobs (
    id                TEXT PRIMARY KEY,
    tenant_id         TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id          TEXT NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    user_id           TEXT,
    name              TEXT NOT NULL,
    enabled           INTEGER NOT NULL DEFAULT 1,
    schedule_kind     TEXT NOT NULL,
    cron_expression   TEXT,
    interval_ms       INTEGER,
    run_at            TEXT,
    timezone          TEXT,
    anchor_at         TEXT NOT NULL,
    payload           TEXT NOT NULL,
    delete_after_run  INTEGER NOT NULL DEFAULT 0,
    deliver           INTEGER NOT NULL DEFAULT 0,
    deliver_channel   TEXT NOT NULL DEFAULT '',
    deliver_to        TEXT NOT NULL DEFAULT '',
    wake_heartbeat    INTEGER NOT NULL DEFAULT 0,
    stateless         INTEGER NOT NULL DEFAULT 1,
    next_run_at       TEXT,
    last_run_at       TEXT,
    last_status       TEXT,
    last_error        TEXT,
    created_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, agent_id, name),
    CHECK (
        (schedule_kind = 'at' AND run_at IS NOT NULL)
        OR (schedule_kind = 'every' AND interval_ms IS NOT NULL)
        OR (schedule_kind = 'cron' AND cron_expression IS NOT NULL)
    )
);

CREATE INDEX cron_jobs_due_idx ON cron_jobs (next_run_at) WHERE enabled;
CREATE INDEX cron_jobs_agent_idx ON cron_jobs (agent_id);

CREATE TABLE cron_run_logs (
    id             TEXT PRIMARY KEY,
    job_id         TEXT NOT NULL REFERENCES cron_jobs (id) ON DELETE CASCADE,
    tenant_id      TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id       TEXT NOT NULL,
    status         TEXT NOT NULL,
    due_at         TEXT NOT NULL,
    started_at     TEXT NOT NULL,
    ended_at       TEXT,
    duration_ms    INTEGER,
    summary        TEXT,
    error          TEXT,
    input_tokens   INTEGER NOT NULL DEFAULT 0,
    output_tokens  INTEGER NOT NULL DEFAULT 0,
    run_id         TEXT,
    session_key    TEXT
);

CREATE INDEX cron_run_logs_job_idx ON cron_run_logs (job_id, started_at DESC, id DESC);
CREATE INDEX cron_run_logs_running_idx ON cron_run_logs (started_at) WHERE status = 'running';
