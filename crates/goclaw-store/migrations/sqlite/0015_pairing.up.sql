-- Pairing, as GoClaw's `pairing_requests` and `paired_devices`: codes waiting for an operator,
-- and the senders an operator let in on a channel, each with its expiry.

CREATE TABLE pairing_requests (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code        TEXT NOT NULL UNIQUE,
    sender_id   TEXT NOT NULL,
    channel     TEXT NOT NULL,
    chat_id     TEXT NOT NULL DEFAULT '',
    account_id  TEXT NOT NULL DEFAULT 'default',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at  TEXT NOT NULL,
    UNIQUE (tenant_id, sender_id, channel)
);

CREATE INDEX pairing_requests_account_idx ON pairing_requests (tenant_id, account_id);

CREATE TABLE paired_devices (
    id          TEXT PRIMARY KEY,
    tenant_id   TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sender_id   TEXT NOT NULL,
    channel     TEXT NOT NULL,
    chat_id     TEXT NOT NULL DEFAULT '',
    paired_by   TEXT NOT NULL,
    paired_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    expires_at  TEXT NOT NULL,
    UNIQUE (tenant_id, sender_id, channel)
);
