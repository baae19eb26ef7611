//! One search over everything an agent knows, as GoClaw's `vault_search` does it: the vault
//! (title, path and summary by words and meaning), the caller's episodic summaries and the
//! caller's knowledge-graph entities are searched at once; each source's scores are divided
//! by that source's best score, then weighted — vault 0.4, episodic 0.3, knowledge graph 0.3 —
//! and the results merged, each id once, best first, [`DEFAULT_MAX_RESULTS`] unless asked.
//!
//! Who sees what is each source's own rule, never the request's: the vault's documents come
//! from the agent's view narrowed by the caller's `visible` predicate (before normalizing, so a
//! hidden document never sets the scale), episodes and entities from the caller's own
//! [`EpisodicScope`]/[`GraphScope`] (one agent, one user, one tenant). The knowledge graph
//! scores an entity by its confidence, as GoClaw does: its store finds entities by name, not
//! by relevance.

use std::sync::Arc;

use goclaw_core::{
    Entity, Episode, EpisodicScope, GraphScope, Store, VaultDocument, VaultScope, VaultView,
};

use super::search::{DEFAULT_MAX_RESULTS, SearchRequest};
use super::{Vault, VaultError};
use crate::episodic::{EpisodicRecall, EpisodicSearchOptions};

/// How much each source counts once normalized.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SourceWeights {
    pub vault: f64,
    pub episodic: f64,
    pub graph: f64,
}

impl Default for SourceWeights {
    /// GoClaw's: vault 0.4, episodic 0.3, knowledge graph 0.3.
    fn default() -> Self {
        Self {
            vault: 0.4,
            episodic: 0.3,
            graph: 0.3,
        }
    }
}

/// The `types` value that asks for episodic summaries.
pub const EPISODIC_TYPE: &str = "episodic";
/// The `types` value that asks for knowledge-graph entities.
pub const GRAPH_TYPE: &str = "kg";

/// A search of every source.
#[derive(Debug, Clone, PartialEq)]
pub struct UnifiedRequest {
    pub query: String,
    /// Only vault documents of this scope (the other sources are the caller's own).
    pub scope: Option<VaultScope>,
    /// GoClaw's `types`: vault document types, `episodic` (episodes, and vault documents of
    /// that type) and `kg` (entities); empty for every source.
    pub types: Vec<String>,
    pub max_results: usize,
    pub weights: SourceWeights,
}

impl UnifiedRequest {
    /// A search for `query` with GoClaw's defaults.
    pub fn new(query: impl Into<String>) -> Self {
        Self {
            query: query.into(),
            scope: None,
            types: Vec::new(),
            max_results: DEFAULT_MAX_RESULTS,
            weights: SourceWeights::default(),
        }
    }

    fn wants(&self, kind: &str) -> bool {
        self.types.is_empty() || self.types.iter().any(|t| t.eq_ignore_ascii_case(kind))
    }

    /// Whether the vault is searched, and for which document types (empty for all).
    fn vault_types(&self) -> Option<Vec<String>> {
        if self.types.is_empty() {
            return Some(Vec::new());
        }
        let types: Vec<String> = self
            .types
            .iter()
            .filter(|t| !t.eq_ignore_ascii_case(GRAPH_TYPE))
            .map(|t| t.to_ascii_lowercase())
            .collect();
        (!types.is_empty()).then_some(types)
    }
}

/// Whose search: the agent's vault view and the caller's own episodes and graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Searcher {
    pub view: VaultView,
    pub episodes: EpisodicScope,
    pub graph: GraphScope,
}

/// What a result is.
#[derive(Debug, Clone, PartialEq)]
pub enum Found {
    Vault(VaultDocument),
    Episode(Episode),
    Entity(Entity),
}

/// One result, scored on the common scale (at most the weight of its source).
#[derive(Debug, Clone, PartialEq)]
pub struct UnifiedHit {
    pub found: Found,
    pub score: f64,
}

impl UnifiedHit {
    /// GoClaw's name of the result's source: `vault`, `episodic` or `kg`.
    pub fn source(&self) -> &'static str {
        match self.found {
            Found::Vault(_) => "vault",
            Found::Episode(_) => EPISODIC_TYPE,
            Found::Entity(_) => GRAPH_TYPE,
        }
    }

    /// The result's id in its own source.
    pub fn id(&self) -> uuid::Uuid {
        match &self.found {
            Found::Vault(d) => d.id,
            Found::Episode(e) => e.id,
            Found::Entity(e) => e.id,
        }
    }
}

/// The unified search; cheap to clone. Without episodic memory only the vault is searched.
#[derive(Clone)]
pub struct UnifiedSearch {
    vault: Vault,
    episodes: Option<EpisodicRecall>,
    store: Arc<dyn Store>,
}

impl UnifiedSearch {
    /// Searches `vault`, and with `episodes` the episodes and the knowledge graph too (both
    /// exist only where episodic memory runs).
    pub fn new(vault: Vault, episodes: Option<EpisodicRecall>) -> Self {
        let store = vault.store().clone();
        Self {
            vault,
            episodes,
            store,
        }
    }

    /// The results of every source `request` asks for, best first. A source that fails is
    /// logged and left out, so one broken source does not hide the others.
    pub async fn search(
        &self,
        searcher: &Searcher,
        request: &UnifiedRequest,
        visible: impl Fn(&VaultDocument) -> bool,
    ) -> Result<Vec<UnifiedHit>, VaultError> {
        let wanted = request.max_results.max(1);
        let each = wanted.saturating_mul(2);
        let (vault, episodes, entities) = tokio::join!(
            self.vault_hits(searcher, request, each),
            self.episode_hits(searcher, request, each),
            self.entity_hits(searcher, request, each),
        );
        let vault: Vec<UnifiedHit> = vault?
            .into_iter()
            .filter(|h| matches!(&h.found, Found::Vault(d) if visible(d)))
            .take(each)
            .collect();
        let weights = request.weights;
        let mut all = Vec::new();
        for (hits, weight) in [
            (vault, weights.vault),
            (episodes, weights.episodic),
            (entities, weights.graph),
        ] {
            all.extend(normalized(hits, weight));
        }
        all.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut seen = std::collections::HashSet::new();
        all.retain(|h| seen.insert(h.id()));
        all.truncate(wanted);
        Ok(all)
    }

    async fn vault_hits(
        &self,
        searcher: &Searcher,
        request: &UnifiedRequest,
        each: usize,
    ) -> Result<Vec<UnifiedHit>, VaultError> {
        let Some(doc_types) = request.vault_types() else {
            return Ok(Vec::new());
        };
        // Room for the documents the caller's predicate leaves out.
        let search = SearchRequest {
            query: request.query.clone(),
            scope: request.scope,
            doc_types,
            max_results: each.saturating_mul(2),
        };
        let hits = self.vault.search(&searcher.view, &search).await?;
        Ok(hits
            .into_iter()
            .map(|h| UnifiedHit {
                found: Found::Vault(h.document),
                score: h.score,
            })
            .collect())
    }

    async fn episode_hits(
        &self,
        searcher: &Searcher,
        request: &UnifiedRequest,
        each: usize,
    ) -> Vec<UnifiedHit> {
        let Some(recall) = self
            .episodes
            .as_ref()
            .filter(|_| request.wants(EPISODIC_TYPE))
        else {
            return Vec::new();
        };
        let options = EpisodicSearchOptions {
            max_results: each,
            min_score: 0.0,
        };
        match recall
            .search(&searcher.episodes, &request.query, options)
            .await
        {
            Ok(hits) => hits
                .into_iter()
                .map(|h| UnifiedHit {
                    found: Found::Episode(h.episode),
                    score: h.score,
                })
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "vault search: episodic memory not searched");
                Vec::new()
            }
        }
    }

    async fn entity_hits(
        &self,
        searcher: &Searcher,
        request: &UnifiedRequest,
        each: usize,
    ) -> Vec<UnifiedHit> {
        if self.episodes.is_none() || !request.wants(GRAPH_TYPE) {
            return Vec::new();
        }
        let limit = u32::try_from(each).unwrap_or(u32::MAX);
        let graph = self.store.knowledge_graph();
        match graph
            .find_entities(&searcher.graph, request.query.trim(), limit)
            .await
        {
            Ok(entities) => entities
                .into_iter()
                .map(|e| UnifiedHit {
                    score: e.confidence,
                    found: Found::Entity(e),
                })
                .collect(),
            Err(error) => {
                tracing::warn!(%error, "vault search: knowledge graph not searched");
                Vec::new()
            }
        }
    }
}

/// `hits` with each score divided by the best one and multiplied by `weight`; unchanged when
/// the best is not positive (nothing to scale by), none when the source weighs nothing.
fn normalized(mut hits: Vec<UnifiedHit>, weight: f64) -> Vec<UnifiedHit> {
    if weight <= 0.0 {
        return Vec::new();
    }
    let best = hits.iter().map(|h| h.score).fold(0.0_f64, f64::max);
    if best > 0.0 {
        for hit in &mut hits {
            hit.score = hit.score / best * weight;
        }
    }
    hits
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scores(hits: &[UnifiedHit]) -> Vec<f64> {
        hits.iter()
            .map(|h| (h.score * 1000.0).round() / 1000.0)
            .collect()
    }

    fn entity(confidence: f64) -> UnifiedHit {
        let now = chrono::Utc::now();
        UnifiedHit {
            score: confidence,
            found: Found::Entity(Entity {
                id: uuid::Uuid::new_v4(),
                tenant_id: goclaw_core::MASTER_TENANT_ID,
                agent_id: goclaw_core::AgentId::generate(),
                user_id: String::new(),
                external_id: String::new(),
                name: String::new(),
                entity_type: String::new(),
                description: String::new(),
                properties: serde_json::Value::Null,
                source_id: String::new(),
                confidence,
                created_at: now,
                updated_at: now,
                valid_from: now,
                valid_until: None,
            }),
        }
    }

    #[test]
    fn each_source_is_scaled_by_its_best_then_weighted() {
        let hits = normalized(vec![entity(0.8), entity(0.4), entity(0.2)], 0.3);
        assert_eq!(scores(&hits), [0.3, 0.15, 0.075]);
        assert!(normalized(vec![entity(0.8)], 0.0).is_empty());
        assert_eq!(scores(&normalized(vec![entity(0.0)], 0.4)), [0.0]);
    }

    #[test]
    fn types_choose_the_sources() {
        let with = |types: &[&str]| UnifiedRequest {
            types: types.iter().map(|t| (*t).to_owned()).collect(),
            ..UnifiedRequest::new("q")
        };
        let all = with(&[]);
        assert_eq!(
            (all.vault_types(), all.wants("episodic"), all.wants("kg")),
            (Some(vec![]), true, true)
        );
        let graph = with(&["kg"]);
        assert_eq!(
            (
                graph.vault_types(),
                graph.wants("episodic"),
                graph.wants("kg")
            ),
            (None, false, true)
        );
        let notes = with(&["note", "Episodic"]);
        assert_eq!(
            (
                notes.vault_types(),
                notes.wants("episodic"),
                notes.wants("kg")
            ),
            (
                Some(vec!["note".to_owned(), "episodic".to_owned()]),
                true,
                false
            )
        );
    }
}
