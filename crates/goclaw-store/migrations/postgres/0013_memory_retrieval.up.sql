-- Memory retrieval that stays fast over a large scope. The GIN index over the chunks' words
-- stops collecting new entries in a pending list (`fastupdate`): every full-text search reads
-- that whole list, unsorted, until a vacuum merges it, so with steady writes each search paid
-- for the recent ones. Entries now go into the index as each chunk is written; what the list
-- held is merged now.

ALTER INDEX memory_chunks_tsv_idx SET (fastupdate = off);

SELECT gin_clean_pending_list('memory_chunks_tsv_idx'::regclass);
