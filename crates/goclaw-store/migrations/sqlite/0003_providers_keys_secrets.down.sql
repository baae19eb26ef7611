DROP TABLE config_secrets;
DROP TABLE api_keys;
DROP TABLE llm_providers;
