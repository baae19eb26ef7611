-- Back to the GIN index's default pending list.

ALTER INDEX memory_chunks_tsv_idx RESET (fastupdate);
