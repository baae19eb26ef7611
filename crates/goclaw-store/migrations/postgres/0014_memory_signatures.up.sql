-- Nothing changes on PostgreSQL: its HNSW index over `memory_chunks.embedding` serves nearest
-- neighbours as before. (SQLite moves its vector index into the process in this version.)

SELECT 1;
