DROP TABLE IF EXISTS channel_outbox;
DROP TABLE IF EXISTS channel_inbox;
