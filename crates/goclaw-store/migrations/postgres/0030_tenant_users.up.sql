-- Tenant memberships: which users (opaque ids, as callers and channels present them) belong to
-- which tenant, with GoClaw's roles. A membership goes with its tenant.

CREATE TABLE tenant_users (
    id            UUID PRIMARY KEY,
    tenant_id     UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       VARCHAR(255) NOT NULL CHECK (length(user_id) >= 1),
    role          VARCHAR(20) NOT NULL DEFAULT 'member'
                  CHECK (role IN ('owner', 'admin', 'operator', 'member', 'viewer')),
    display_name  VARCHAR(255),
    metadata      JSONB NOT NULL DEFAULT '{}',
    created_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (tenant_id, user_id)
);

CREATE INDEX tenant_users_user ON tenant_users (user_id);
