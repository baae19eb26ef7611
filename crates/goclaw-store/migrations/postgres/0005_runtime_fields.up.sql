-- Fields the agent runtime needs: the agent's type, the compaction pointer of a session, and at
-- most one default agent per tenant. Counters the runtime treats as 64-bit become BIGINT, as
-- they already are on SQLite.

ALTER TABLE agents ADD COLUMN agent_type VARCHAR(20) NOT NULL DEFAULT 'open';
ALTER TABLE agents ALTER COLUMN context_window TYPE BIGINT;
ALTER TABLE agents ALTER COLUMN max_tool_iterations TYPE BIGINT;

ALTER TABLE sessions ADD COLUMN context_start_seq BIGINT NOT NULL DEFAULT 0;
ALTER TABLE sessions ALTER COLUMN compaction_count TYPE BIGINT;

-- Keep the oldest default of each tenant before making the rule an index.
UPDATE agents SET is_default = false
WHERE is_default AND deleted_at IS NULL
  AND id <> (
      SELECT d.id FROM agents AS d
      WHERE d.tenant_id = agents.tenant_id AND d.is_default AND d.deleted_at IS NULL
      ORDER BY d.created_at, d.agent_key
      LIMIT 1
  );

CREATE UNIQUE INDEX agents_tenant_default_uniq ON agents (tenant_id)
WHERE is_default AND deleted_at IS NULL;
