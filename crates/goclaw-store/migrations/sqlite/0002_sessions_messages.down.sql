DROP TRIGGER messages_append_only;
DROP TABLE messages;
DROP TABLE sessions;
