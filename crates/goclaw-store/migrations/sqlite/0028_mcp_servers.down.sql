DROP TABLE IF EXISTS mcp_user_credentials;
DROP TABLE IF EXISTS mcp_user_grants;
DROP TABLE IF EXISTS mcp_agent_grants;
DROP TABLE IF EXISTS mcp_servers;
