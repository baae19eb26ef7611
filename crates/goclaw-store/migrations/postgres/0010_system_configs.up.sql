-- Per-tenant settings that are not secrets (`embedding.provider`, `gateway.rate_limit_rpm`,
-- ...), as GoClaw's `system_configs`: one text value per key and tenant. A tenant without a
-- key of its own reads the master tenant's value.

CREATE TABLE system_configs (
    tenant_id   UUID NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    key         VARCHAR(100) NOT NULL,
    value       TEXT NOT NULL DEFAULT '',
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant_id, key)
);
