DROP TRIGGER messages_append_only ON messages;
DROP FUNCTION messages_append_only();
DROP TABLE messages;
DROP TABLE sessions;
