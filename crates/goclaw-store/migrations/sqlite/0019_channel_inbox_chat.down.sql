DROP INDEX IF EXISTS channel_inbox_chat_idx;
