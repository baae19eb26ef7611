-- The platform's id of a draft streamed for an update's answer, recorded when the draft is
-- sent: after a crash the next attempt edits that draft into its answer instead of leaving a
-- half-written message behind.

ALTER TABLE channel_inbox ADD COLUMN draft_message_id TEXT;
