DROP TABLE agent_context_files;
DROP TABLE agents;
DROP TABLE tenants;
