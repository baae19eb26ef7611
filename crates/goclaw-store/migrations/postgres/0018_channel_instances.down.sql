DROP TABLE IF EXISTS channel_instances;
