-- LLM providers, gateway API keys and encrypted configuration secrets. Secret values
-- (`llm_providers.api_key`, `config_secrets.value`) hold `aes-gcm:` ciphertext, never plaintext.

CREATE TABLE llm_providers (
    id             UUID PRIMARY KEY,
    tenant_id      UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name           VARCHAR(100) NOT NULL,
    provider_type  VARCHAR(50) NOT NULL DEFAULT 'openai_compat',
    api_base       TEXT NOT NULL DEFAULT '',
    api_key        TEXT NOT NULL DEFAULT '',
    enabled        BOOLEAN NOT NULL DEFAULT true,
    settings       JSONB NOT NULL DEFAULT '{}',
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, name)
);

-- `tenant_id` NULL marks a system-wide key.
CREATE TABLE api_keys (
    id            UUID PRIMARY KEY,
    tenant_id     UUID REFERENCES tenants (id) ON DELETE CASCADE,
    name          VARCHAR(100) NOT NULL,
    prefix        VARCHAR(16) NOT NULL,
    key_hash      VARCHAR(64) NOT NULL UNIQUE,
    scopes        TEXT[] NOT NULL DEFAULT '{}',
    owner_id      VARCHAR(255),
    expires_at    TIMESTAMPTZ,
    last_used_at  TIMESTAMPTZ,
    revoked       BOOLEAN NOT NULL DEFAULT false,
    created_by    VARCHAR(255) NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE INDEX api_keys_prefix_idx ON api_keys (prefix);
CREATE INDEX api_keys_tenant_idx ON api_keys (tenant_id);

CREATE TABLE config_secrets (
    key         VARCHAR(255) NOT NULL,
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    value       TEXT NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (key, tenant_id)
);
