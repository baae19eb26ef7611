-- The floor program's schema and its two writes per turn, one statement per line, in this order:
-- SQLite table, SQLite insert, PostgreSQL table, PostgreSQL insert.
CREATE TABLE IF NOT EXISTS floor_messages (id INTEGER PRIMARY KEY, session TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, created_at BIGINT NOT NULL)
INSERT INTO floor_messages (session, role, content, created_at) VALUES (?, ?, ?, ?)
CREATE TABLE IF NOT EXISTS floor_messages (id BIGSERIAL PRIMARY KEY, session TEXT NOT NULL, role TEXT NOT NULL, content TEXT NOT NULL, created_at BIGINT NOT NULL)
INSERT INTO floor_messages (session, role, content, created_at) VALUES ($1, $2, $3, $4)
