DROP TABLE IF EXISTS cron_run_logs;
DROP TABLE IF EXISTS cron_jobs;
