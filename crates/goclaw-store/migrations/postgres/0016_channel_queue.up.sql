-- What the channels received and what they owe: every inbound platform update is stored here
-- (unique per channel and platform id, so a redelivered update is recognized) before the
-- platform is told it arrived, and every reply waits in the outbox until the platform
-- accepted it.

CREATE TABLE channel_inbox (
    id           UUID PRIMARY KEY,
    tenant_id    UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel      VARCHAR(100) NOT NULL,
    platform_id  VARCHAR(255) NOT NULL,
    chat_id      VARCHAR(255) NOT NULL,
    sender_id    VARCHAR(255) NOT NULL,
    payload      JSONB NOT NULL DEFAULT '{}',
    status       VARCHAR(20) NOT NULL DEFAULT 'received',
    attempts     BIGINT NOT NULL DEFAULT 0,
    received_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    settled_at   TIMESTAMPTZ,
    UNIQUE (tenant_id, channel, platform_id)
);

CREATE INDEX channel_inbox_waiting_idx ON channel_inbox (channel, status, received_at);

CREATE TABLE channel_outbox (
    id                   UUID PRIMARY KEY,
    tenant_id            UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel              VARCHAR(100) NOT NULL,
    chat_id              VARCHAR(255) NOT NULL,
    dedup_key            VARCHAR(255) NOT NULL,
    payload              JSONB NOT NULL DEFAULT '{}',
    status               VARCHAR(20) NOT NULL DEFAULT 'pending',
    attempts             BIGINT NOT NULL DEFAULT 0,
    platform_message_id  VARCHAR(255),
    last_error           TEXT,
    created_at           TIMESTAMPTZ NOT NULL DEFAULT now(),
    next_attempt_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    sent_at              TIMESTAMPTZ,
    UNIQUE (tenant_id, channel, dedup_key)
);

CREATE INDEX channel_outbox_due_idx ON channel_outbox (channel, status, next_attempt_at);
