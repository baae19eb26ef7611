DROP TABLE IF EXISTS memory_chunks_vec;
DROP TABLE IF EXISTS memory_chunks_fts;
DROP TABLE IF EXISTS embedding_cache;
DROP TABLE IF EXISTS memory_chunks;
DROP TABLE IF EXISTS memory_documents;
