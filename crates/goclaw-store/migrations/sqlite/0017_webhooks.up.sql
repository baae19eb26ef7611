-- Inbound webhooks and their calls. A webhook's secret is kept only as its SHA-256
-- (`secret_hash`, unique among live webhooks, finds the webhook of a bearer call) and as the
-- secret box's ciphertext (`encrypted_secret`, the HMAC key). Every accepted call is a row of
-- `webhook_calls`: unique per webhook and idempotency key, and for an async call the queue of
-- its callback's deliveries. `scopes` and `ip_allowlist` are JSON arrays of text.

CREATE TABLE webhooks (
    id                  TEXT PRIMARY KEY,
    tenant_id           TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id            TEXT REFERENCES agents (id) ON DELETE SET NULL,
    name                TEXT NOT NULL,
    kind                TEXT NOT NULL CHECK (kind IN ('llm', 'message')),
    secret_prefix       TEXT NOT NULL,
    secret_hash         TEXT NOT NULL,
    encrypted_secret    TEXT NOT NULL DEFAULT '',
    scopes              TEXT NOT NULL DEFAULT '[]',
    channel_id          TEXT,
    rate_limit_per_min  INTEGER NOT NULL DEFAULT 60,
    ip_allowlist        TEXT NOT NULL DEFAULT '[]',
    require_hmac        INTEGER NOT NULL DEFAULT 0,
    localhost_only      INTEGER NOT NULL DEFAULT 0,
    revoked             INTEGER NOT NULL DEFAULT 0,
    created_by          TEXT NOT NULL DEFAULT '',
    created_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at          TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    last_used_at        TEXT
);

CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id);
CREATE INDEX webhooks_tenant_agent_idx ON webhooks (tenant_id, agent_id);
-- A revoked webhook's hash may come back (it finds nothing any more).
CREATE UNIQUE INDEX webhooks_secret_hash_uniq ON webhooks (secret_hash) WHERE NOT revoked;

CREATE TABLE webhook_calls (
    id               TEXT PRIMARY KEY,
    tenant_id        TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    webhook_id       TEXT NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    agent_id         TEXT,
    idempotency_key  TEXT,
    mode             TEXT NOT NULL CHECK (mode IN ('sync', 'async')),
    callback_url     TEXT,
    status           TEXT NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0,
    delivery_id      TEXT NOT NULL,
    next_attempt_at  TEXT,
    started_at       TEXT,
    completed_at     TEXT,
    request_payload  TEXT NOT NULL DEFAULT '{}',
    response         TEXT,
    last_error       TEXT,
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
);

CREATE INDEX webhook_calls_tenant_created_idx ON webhook_calls (tenant_id, created_at);
CREATE INDEX webhook_calls_due_idx ON webhook_calls (status, next_attempt_at);
CREATE INDEX webhook_calls_webhook_created_idx ON webhook_calls (webhook_id, created_at);
CREATE UNIQUE INDEX webhook_calls_idempotency_uniq ON webhook_calls (webhook_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
