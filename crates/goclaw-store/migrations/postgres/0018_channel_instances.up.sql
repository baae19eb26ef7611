-- Channel instances: a tenant's bot on a platform, the agent that answers it, its settings
-- (`config`, a JSON object) and its credentials, kept only as the secret box's encryption of
-- their JSON (`encrypted_credentials`) beside the names of the keys it holds
-- (`credential_keys`). The name is unique in its tenant: sessions, pairings and the channel
-- queues know the channel by it.

CREATE TABLE channel_instances (
    id                     UUID PRIMARY KEY,
    tenant_id              UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name                   TEXT NOT NULL,
    display_name           TEXT NOT NULL DEFAULT '',
    channel_type           VARCHAR(50) NOT NULL,
    agent_id               UUID REFERENCES agents (id) ON DELETE SET NULL,
    encrypted_credentials  TEXT,
    credential_keys        TEXT[] NOT NULL DEFAULT '{}',
    config                 JSONB NOT NULL DEFAULT '{}',
    enabled                BOOLEAN NOT NULL DEFAULT true,
    created_by             TEXT NOT NULL DEFAULT '',
    created_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at             TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

CREATE INDEX channel_instances_tenant_agent_idx ON channel_instances (tenant_id, agent_id);
