DROP TABLE IF EXISTS user_context_files;
