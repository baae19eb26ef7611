DROP INDEX agents_tenant_default_uniq;
ALTER TABLE sessions ALTER COLUMN compaction_count TYPE INTEGER;
ALTER TABLE sessions DROP COLUMN context_start_seq;
ALTER TABLE agents ALTER COLUMN max_tool_iterations TYPE INTEGER;
ALTER TABLE agents ALTER COLUMN context_window TYPE INTEGER;
ALTER TABLE agents DROP COLUMN agent_type;
