-- Channel instances: a tenant's bot on a platform, the agent that answers it, its settings
-- (`config`, a JSON object) and its credentials, kept only as the secret box's encryption of
-- their JSON (`encrypted_credentials`) beside the names of the keys it holds
-- (`credential_keys`, a JSON array of text). The name is unique in its tenant: sessions,
-- pairings and the channel queues know the channel by it.

CREATE TABLE channel_instances (
    id                     TEXT PRIMARY KEY,
    tenant_id              TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    display_name           TEXT NOT NULL DEFAULT '',
    channel_type           TEXT NOT NULL,
    agent_id               TEXT REFERENCES agents (id) ON DELETE SET NULL,
    encrypted_credentials  TEXT,
    credential_keys        TEXT NOT NULL DEFAULT '[]',
    config                 TEXT NOT NULL DEFAULT '{}',
    enabled                INTEGER NOT NULL DEFAULT 1,
    created_by             TEXT NOT NULL DEFAULT '',
    created_at             TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at             TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, name)
);

CREATE INDEX channel_instances_tenant_agent_idx ON channel_instances (tenant_id, agent_id);
