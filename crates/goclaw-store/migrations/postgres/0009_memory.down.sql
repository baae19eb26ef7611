DROP TABLE IF EXISTS embedding_cache;
DROP TABLE IF EXISTS memory_chunks;
DROP TABLE IF EXISTS memory_documents;
