DROP INDEX IF EXISTS team_tasks_followup_idx;
ALTER TABLE team_tasks DROP COLUMN followup_chat_id, DROP COLUMN followup_channel,
    DROP COLUMN followup_message, DROP COLUMN followup_max, DROP COLUMN followup_count,
    DROP COLUMN followup_at;
DROP TABLE IF EXISTS team_task_attachments;
DROP TABLE IF EXISTS team_task_events;
