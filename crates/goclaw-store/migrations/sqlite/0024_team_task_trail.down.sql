DROP INDEX IF EXISTS team_tasks_followup_idx;
ALTER TABLE team_tasks DROP COLUMN followup_chat_id;
ALTER TABLE team_tasks DROP COLUMN followup_channel;
ALTER TABLE team_tasks DROP COLUMN followup_message;
ALTER TABLE team_tasks DROP COLUMN followup_max;
ALTER TABLE team_tasks DROP COLUMN followup_count;
ALTER TABLE team_tasks DROP COLUMN followup_at;
DROP TABLE IF EXISTS team_task_attachments;
DROP TABLE IF EXISTS team_task_events;
