//! The knowledge graph (GoClaw's L2 tier): entities and relations extracted from each new
//! episodic summary, de-duplicated, valid in time, and searched by traversal.
//!
//! - `extract.rs`: the extraction prompt and the lenient reading of the model's JSON.
//! - [`GraphExtractor`] (`ingest.rs`), an [`crate::episodic::EpisodeListener`]: asks the
//!   agent's model for the episode's entities and relations, stores them (an entity by its
//!   extraction id, a relation between two of them, `valid_until` when the fact has ended),
//!   then de-duplicates the new entities by embedding and name ([`dedup_action`]).
//! - [`GraphSearch`] (`traverse.rs`): from the entities a query names, a breadth-first walk
//!   of at most [`MAX_DEPTH`] relations (default [`DEFAULT_DEPTH`]) valid at a moment.
//! - [`scan_duplicates`] (`scan.rs`): a whole graph compared with itself by embedding,
//!   similar pairs kept as candidates.

mod extract;
mod ingest;
mod scan;
mod traverse;

pub use extract::{
    ExtractedEntity, ExtractedRelation, Extraction, GRAPH_SYSTEM_PROMPT, parse_extraction,
};
pub use ingest::{GraphExtractor, IngestReport};
pub use scan::scan_duplicates;
pub use traverse::{GraphHit, GraphSearch, GraphSearchResult, MAX_RELATIONS, MAX_RESULTS};

/// Embedding similarity at or above which two entities whose names also match are merged.
pub const AUTO_MERGE_SIMILARITY: f64 = 0.98;
/// Name similarity (Jaro-Winkler) an automatic merge also needs.
pub const AUTO_MERGE_NAME_SIMILARITY: f64 = 0.85;
/// Embedding similarity at or above which two entities are kept as a candidate pair.
pub const CANDIDATE_SIMILARITY: f64 = 0.90;
/// Relations a traversal follows without being told.
pub const DEFAULT_DEPTH: u32 = 2;
/// Most relations a traversal follows.
pub const MAX_DEPTH: u32 = 5;

/// What de-duplication does with two entities.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DedupAction {
    Merge,
    Candidate,
    Keep,
}

/// GoClaw's rule: merge at embedding similarity ≥ 0.98 when the names are also alike
/// (Jaro-Winkler ≥ 0.85, case-insensitive), keep as a candidate pair at ≥ 0.90, else nothing.
pub fn dedup_action(similarity: f64, name_a: &str, name_b: &str) -> DedupAction {
    if similarity >= AUTO_MERGE_SIMILARITY
        && strsim::jaro_winkler(&name_a.to_lowercase(), &name_b.to_lowercase())
            >= AUTO_MERGE_NAME_SIMILARITY
    {
        return DedupAction::Merge;
    }
    if similarity >= CANDIDATE_SIMILARITY {
        return DedupAction::Candidate;
    }
    DedupAction::Keep
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(similarity: f64, a: &str, b: &str, expected: DedupAction) {
        assert_eq!(
            dedup_action(similarity, a, b),
            expected,
            "{similarity} {a:?} {b:?}"
        );
    }

    #[test]
    fn dedup_follows_goclaws_thresholds() {
        check(0.99, "Ada Lovelace", "ada lovelace", DedupAction::Merge);
        check(0.98, "Ada Lovelace", "Ada Lovelace.", DedupAction::Merge);
        check(
            0.99,
            "Ada Lovelace",
            "Charles Babbage",
            DedupAction::Candidate,
        );
        check(0.95, "Ada Lovelace", "Ada Lovelace", DedupAction::Candidate);
        check(0.90, "Ada", "Lab", DedupAction::Candidate);
        check(0.8999, "Ada", "Ada", DedupAction::Keep);
        check(0.2, "x", "y", DedupAction::Keep);
    }
}
