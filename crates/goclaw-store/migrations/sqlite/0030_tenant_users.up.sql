-- Tenant memberships: which users (opaque ids, as callers and channels present them) belong to
-- which tenant, with GoClaw's roles. A membership goes with its tenant.

CREATE TABLE tenant_users (
    id            TEXT PRIMARY KEY NOT NULL,
    tenant_id     TEXT NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    user_id       TEXT NOT NULL CHECK (length(user_id) BETWEEN 1 AND 255),
    role          TEXT NOT NULL DEFAULT 'member'
                  CHECK (role IN ('owner', 'admin', 'operator', 'member', 'viewer')),
    display_name  TEXT,
    metadata      TEXT NOT NULL DEFAULT '{}',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    updated_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
    UNIQUE (tenant_id, user_id)
);

CREATE INDEX tenant_users_user ON tenant_users (user_id);
