ALTER TABLE channel_inbox DROP COLUMN draft_message_id;
