-- The `vector` extension stays: it may have been installed by the server's administrator, and
-- dropping it needs privileges the gateway's role usually lacks.
DROP TABLE agent_context_files;
DROP TABLE agents;
DROP TABLE tenants;
