-- What the channels received and what they owe: every inbound platform update is stored here
-- (unique per channel and platform id, so a redelivered update is recognized) before the
-- platform is told it arrived, and every reply waits in the outbox until the platform
-- accepted it.

CREATE TABLE channel_inbox (
    id           TEXT PRIMARY KEY,
    tenant_id    TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel      TEXT NOT NULL,
    platform_id  TEXT NOT NULL,
    chat_id      TEXT NOT NULL,
    sender_id    TEXT NOT NULL,
    payload      TEXT NOT NULL DEFAULT '{}',
    status       TEXT NOT NULL DEFAULT 'received',
    attempts     INTEGER NOT NULL DEFAULT 0,
    received_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    settled_at   TEXT,
    UNIQUE (tenant_id, channel, platform_id)
);

CREATE INDEX channel_inbox_waiting_idx ON channel_inbox (channel, status, received_at);

CREATE TABLE channel_outbox (
    id                   TEXT PRIMARY KEY,
    tenant_id            TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    channel              TEXT NOT NULL,
    chat_id              TEXT NOT NULL,
    dedup_key            TEXT NOT NULL,
    payload              TEXT NOT NULL DEFAULT '{}',
    status               TEXT NOT NULL DEFAULT 'pending',
    attempts             INTEGER NOT NULL DEFAULT 0,
    platform_message_id  TEXT,
    last_error           TEXT,
    created_at           TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    next_attempt_at      TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    sent_at              TEXT,
    UNIQUE (tenant_id, channel, dedup_key)
);

CREATE INDEX channel_outbox_due_idx ON channel_outbox (channel, status, next_attempt_at);
