-- Unanswered-for-now group messages are read back per chat, newest first, as the history the
-- bot is given when it is next mentioned.

CREATE INDEX channel_inbox_chat_idx ON channel_inbox (tenant_id, channel, chat_id, received_at);
