DROP TABLE IF EXISTS system_configs;
