DROP TABLE IF EXISTS heartbeat_run_logs;
DROP TABLE IF EXISTS agent_heartbeats;
