-- Pairing, as GoClaw's `pairing_requests` and `paired_devices`: codes waiting for an operator,
-- and the senders an operator let in on a channel, each with its expiry.

CREATE TABLE pairing_requests (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    code        VARCHAR(8) NOT NULL UNIQUE,
    sender_id   VARCHAR(128) NOT NULL,
    channel     VARCHAR(64) NOT NULL,
    chat_id     VARCHAR(255) NOT NULL DEFAULT '',
    account_id  VARCHAR(128) NOT NULL DEFAULT 'default',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, sender_id, channel)
);

CREATE INDEX pairing_requests_account_idx ON pairing_requests (tenant_id, account_id);

CREATE TABLE paired_devices (
    id          UUID PRIMARY KEY,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    sender_id   VARCHAR(128) NOT NULL,
    channel     VARCHAR(64) NOT NULL,
    chat_id     VARCHAR(255) NOT NULL DEFAULT '',
    paired_by   VARCHAR(255) NOT NULL,
    paired_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at  TIMESTAMPTZ NOT NULL,
    UNIQUE (tenant_id, sender_id, channel)
);
