//! [`GraphSearch`]: what the knowledge graph knows around the entities a query names — a
//! breadth-first walk along relations valid at a moment, at most [`super::MAX_DEPTH`] steps
//! and [`MAX_RESULTS`] entities, with the relations of the entities found first.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use goclaw_core::{Entity, GraphScope, Relation, Store, StoreError};
use uuid::Uuid;

use super::{DEFAULT_DEPTH, MAX_DEPTH};

/// Most entities one search returns (GoClaw's 20).
pub const MAX_RESULTS: usize = 20;
/// Most relations returned beside them (GoClaw's 10).
pub const MAX_RELATIONS: usize = 10;
/// Most entities a query starts from.
const MAX_STARTS: u32 = 5;

/// An entity reached, how far from where the walk started, by which names, and by which
/// relation it was reached (empty for a starting entity).
#[derive(Debug, Clone, PartialEq)]
pub struct GraphHit {
    pub entity: Entity,
    pub depth: u32,
    pub path: Vec<String>,
    pub via: String,
}

/// The entities reached and the relations of the starting ones.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GraphSearchResult {
    pub hits: Vec<GraphHit>,
    pub relations: Vec<Relation>,
}

/// Searches one store's knowledge graphs; cheap to clone.
#[derive(Clone)]
pub struct GraphSearch {
    store: Arc<dyn Store>,
}

impl std::fmt::Debug for GraphSearch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GraphSearch").finish_non_exhaustive()
    }
}

impl GraphSearch {
    pub fn new(store: Arc<dyn Store>) -> Self {
        Self { store }
    }

    /// Starts from `entity` (an id of the scope's) or else from the current entities whose
    /// name or description holds `query` (of `entity_type` when given), and walks up to
    /// `max_depth` relations (default 2, at most 5) valid at `as_of`.
    pub async fn search(
        &self,
        scope: &GraphScope,
        query: &str,
        entity: Option<Uuid>,
        entity_type: Option<&str>,
        max_depth: Option<u32>,
        as_of: DateTime<Utc>,
    ) -> Result<GraphSearchResult, StoreError> {
        let graph = self.store.knowledge_graph();
        let depth_limit = max_depth.unwrap_or(DEFAULT_DEPTH).clamp(1, MAX_DEPTH);
        let starts: Vec<Entity> = match entity {
            Some(id) => graph
                .get_entity(scope.tenant, id)
                .await?
                .filter(|e| e.agent_id == scope.agent && e.user_id == scope.user)
                .into_iter()
                .collect(),
            None => graph
                .find_entities(scope, query, MAX_STARTS * 4)
                .await?
                .into_iter()
                .filter(|e| entity_type.is_none_or(|t| e.entity_type.eq_ignore_ascii_case(t)))
                .take(MAX_STARTS as usize)
                .collect(),
        };
        let mut result = GraphSearchResult::default();
        let mut seen: HashSet<Uuid> = HashSet::new();
        let mut queue: VecDeque<usize> = VecDeque::new();
        for start in starts {
            if seen.insert(start.id) && result.hits.len() < MAX_RESULTS {
                queue.push_back(result.hits.len());
                result.hits.push(GraphHit {
                    path: vec![start.name.clone()],
                    entity: start,
                    depth: 0,
                    via: String::new(),
                });
            }
        }
        let mut edges_seen: HashSet<Uuid> = HashSet::new();
        while let Some(at) = queue.pop_front() {
            let (id, depth, path) = {
                let hit = &result.hits[at];
                (hit.entity.id, hit.depth, hit.path.clone())
            };
            if depth >= depth_limit {
                continue;
            }
            for relation in graph.relations_of(scope, id, as_of).await? {
                if depth == 0
                    && result.relations.len() < MAX_RELATIONS
                    && edges_seen.insert(relation.id)
                {
                    result.relations.push(relation.clone());
                }
                let next = if relation.source_entity_id == id {
                    relation.target_entity_id
                } else {
                    relation.source_entity_id
                };
                if result.hits.len() >= MAX_RESULTS || !seen.insert(next) {
                    continue;
                }
                let Some(found) = graph.get_entity(scope.tenant, next).await? else {
                    continue;
                };
                let mut path = path.clone();
                path.push(found.name.clone());
                queue.push_back(result.hits.len());
                result.hits.push(GraphHit {
                    entity: found,
                    depth: depth + 1,
                    path,
                    via: relation.relation_type.clone(),
                });
            }
        }
        Ok(result)
    }
}
