-- Inbound webhooks and their calls. A webhook's secret is kept only as its SHA-256
-- (`secret_hash`, unique among live webhooks, finds the webhook of a bearer call) and as the
-- secret box's ciphertext (`encrypted_secret`, the HMAC key). Every accepted call is a row of
-- `webhook_calls`: unique per webhook and idempotency key, and for an async call the queue of
-- its callback's deliveries.

CREATE TABLE webhooks (
    id                  UUID PRIMARY KEY,
    tenant_id           UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    agent_id            UUID REFERENCES agents (id) ON DELETE SET NULL,
    name                TEXT NOT NULL,
    kind                VARCHAR(20) NOT NULL CHECK (kind IN ('llm', 'message')),
    secret_prefix       VARCHAR(16) NOT NULL,
    secret_hash         VARCHAR(64) NOT NULL,
    encrypted_secret    TEXT NOT NULL DEFAULT '',
    scopes              TEXT[] NOT NULL DEFAULT '{}',
    channel_id          UUID,
    rate_limit_per_min  BIGINT NOT NULL DEFAULT 60,
    ip_allowlist        TEXT[] NOT NULL DEFAULT '{}',
    require_hmac        BOOLEAN NOT NULL DEFAULT false,
    localhost_only      BOOLEAN NOT NULL DEFAULT false,
    revoked             BOOLEAN NOT NULL DEFAULT false,
    created_by          TEXT NOT NULL DEFAULT '',
    created_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at          TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at        TIMESTAMPTZ
);

CREATE INDEX webhooks_tenant_idx ON webhooks (tenant_id);
CREATE INDEX webhooks_tenant_agent_idx ON webhooks (tenant_id, agent_id);
-- A revoked webhook's hash may come back (it finds nothing any more).
CREATE UNIQUE INDEX webhooks_secret_hash_uniq ON webhooks (secret_hash) WHERE NOT revoked;

CREATE TABLE webhook_calls (
    id               UUID PRIMARY KEY,
    tenant_id        UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    webhook_id       UUID NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    agent_id         UUID,
    idempotency_key  TEXT,
    mode             VARCHAR(10) NOT NULL CHECK (mode IN ('sync', 'async')),
    callback_url     TEXT,
    status           VARCHAR(20) NOT NULL DEFAULT 'queued'
                     CHECK (status IN ('queued', 'running', 'done', 'failed', 'dead')),
    attempts         BIGINT NOT NULL DEFAULT 0,
    delivery_id      UUID NOT NULL,
    next_attempt_at  TIMESTAMPTZ,
    started_at       TIMESTAMPTZ,
    completed_at     TIMESTAMPTZ,
    request_payload  JSONB NOT NULL DEFAULT '{}',
    response         JSONB,
    last_error       TEXT,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX webhook_calls_tenant_created_idx ON webhook_calls (tenant_id, created_at);
CREATE INDEX webhook_calls_due_idx ON webhook_calls (status, next_attempt_at);
CREATE INDEX webhook_calls_webhook_created_idx ON webhook_calls (webhook_id, created_at);
CREATE UNIQUE INDEX webhook_calls_idempotency_uniq ON webhook_calls (webhook_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
