//! [`scan_duplicates`]: GoClaw's on-demand duplicate scan of a whole graph — every current
//! entity (up to a limit) is embedded by name and compared with its nearest stored neighbours;
//! pairs at least as similar as the threshold become de-duplication candidates (once per pair,
//! older entity first), for someone to merge or dismiss. Nothing is merged here.

use std::collections::HashSet;

use goclaw_core::{GraphScope, Store};
use uuid::Uuid;

use crate::embed::Embedder;
use crate::index::MemoryError;

/// Neighbours looked at per entity.
const NEIGHBOURS: u32 = 5;

/// Flags the pairs of `scope`'s first `limit` entities (by name) whose similarity is at least
/// `threshold`; how many pairs were flagged.
pub async fn scan_duplicates(
    store: &dyn Store,
    embedder: &dyn Embedder,
    scope: &GraphScope,
    threshold: f64,
    limit: u32,
) -> Result<usize, MemoryError> {
    let graph = store.knowledge_graph();
    let entities = graph.list_entities(scope, limit, 0).await?;
    if entities.is_empty() {
        return Ok(0);
    }
    let names: Vec<String> = entities.iter().map(|e| e.name.clone()).collect();
    let vectors = embedder.embed(&names).await?;
    let mut flagged: HashSet<(Uuid, Uuid)> = HashSet::new();
    for (entity, vector) in entities.iter().zip(&vectors) {
        for near in graph
            .similar_entities(scope, vector, NEIGHBOURS + 1)
            .await?
        {
            if near.entity.id == entity.id || near.similarity < threshold {
                continue;
            }
            let (a, b) =
                if (near.entity.created_at, near.entity.id) <= (entity.created_at, entity.id) {
                    (near.entity.id, entity.id)
                } else {
                    (entity.id, near.entity.id)
                };
            if flagged.insert((a, b)) {
                graph
                    .add_dedup_candidate(scope, a, b, near.similarity)
                    .await?;
            }
        }
    }
    Ok(flagged.len())
}
