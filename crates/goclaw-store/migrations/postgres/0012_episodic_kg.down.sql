DROP INDEX IF EXISTS sessions_updated_idx;
DROP TABLE IF EXISTS kg_dedup_candidates;
DROP TABLE IF EXISTS kg_relations;
DROP TABLE IF EXISTS kg_entities;
DROP TABLE IF EXISTS episodic_summaries;
