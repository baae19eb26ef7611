DROP INDEX agents_tenant_default_uniq;
ALTER TABLE sessions DROP COLUMN context_start_seq;
ALTER TABLE agents DROP COLUMN agent_type;
