-- Fields the agent runtime needs: the agent's type, the compaction pointer of a session, and at
-- most one default agent per tenant.

ALTER TABLE agents ADD COLUMN agent_type TEXT NOT NULL DEFAULT 'open';

ALTER TABLE sessions ADD COLUMN context_start_seq INTEGER NOT NULL DEFAULT 0;

-- Keep the oldest default of each tenant before making the rule an index.
UPDATE agents SET is_default = 0
WHERE is_default = 1 AND deleted_at IS NULL
  AND id <> (
      SELECT d.id FROM agents AS d
      WHERE d.tenant_id = agents.tenant_id AND d.is_default = 1 AND d.deleted_at IS NULL
      ORDER BY d.created_at, d.agent_key
      LIMIT 1
  );

CREATE UNIQUE INDEX agents_tenant_default_uniq ON agents (tenant_id)
WHERE is_default = 1 AND deleted_at IS NULL;
