//! [`GraphExtractor`]: turns each new episode into entities and relations, then folds
//! duplicates together.
//!
//! Entities are embedded by name (when an embedder is configured) so that the same thing
//! extracted under two ids can be found: a new entity at least [`super::AUTO_MERGE_SIMILARITY`]
//! close to an older one whose name is alike is merged into it (the older is kept), one at
//! least [`super::CANDIDATE_SIMILARITY`] close is recorded as a candidate pair. Without an
//! embedder only the extraction's ids unite entities.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use goclaw_core::{Agent, Entity, Episode, GraphScope, NewEntity, NewRelation, Store};

use super::extract::{Extraction, GRAPH_SYSTEM_PROMPT, parse_extraction};
use super::{DedupAction, dedup_action};
use crate::embed::{Embedder, EmbedderSlot};
use crate::episodic::{BackgroundModel, EpisodeListener, ModelError};
use crate::index::MemoryError;

/// Neighbours looked at per new entity when de-duplicating.
const DEDUP_NEIGHBOURS: u32 = 5;

/// What one ingestion did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct IngestReport {
    pub entities: usize,
    pub relations: usize,
    pub merged: usize,
    pub candidates: usize,
}

/// Extracts a knowledge graph from every new episode.
pub struct GraphExtractor {
    store: Arc<dyn Store>,
    model: Arc<dyn BackgroundModel>,
    embedder: EmbedderSlot,
    call_timeout: Duration,
}

impl GraphExtractor {
    pub fn new(
        store: Arc<dyn Store>,
        model: Arc<dyn BackgroundModel>,
        embedder: Option<Arc<dyn Embedder>>,
        call_timeout: Duration,
    ) -> Self {
        Self {
            store,
            model,
            embedder: EmbedderSlot::new(embedder),
            call_timeout,
        }
    }

    /// The same extractor embedding names with whatever `slot` holds at the time.
    pub fn with_embedder_slot(mut self, slot: EmbedderSlot) -> Self {
        self.embedder = slot;
        self
    }

    /// Stores `extraction` (from the episode `source_id`) in `scope`'s graph and
    /// de-duplicates the entities it touched.
    pub async fn ingest(
        &self,
        scope: &GraphScope,
        source_id: &str,
        extraction: Extraction,
    ) -> Result<IngestReport, MemoryError> {
        let graph = self.store.knowledge_graph();
        let vectors = self.embed_names(&extraction).await;
        let mut report = IngestReport::default();
        // The entities stored now, with their vectors, and where each extraction id is.
        let mut stored: Vec<(Entity, Option<Vec<f32>>)> = Vec::new();
        let mut by_id: HashMap<String, usize> = HashMap::new();
        for (extracted, vector) in extraction.entities.into_iter().zip(vectors) {
            let entity = graph
                .upsert_entity(
                    scope,
                    NewEntity {
                        external_id: extracted.id.clone(),
                        name: extracted.name,
                        entity_type: extracted.entity_type,
                        description: extracted.description,
                        properties: extracted.properties,
                        source_id: source_id.to_owned(),
                        confidence: 1.0,
                        embedding: vector.clone(),
                    },
                )
                .await?;
            report.entities += 1;
            by_id.insert(extracted.id, stored.len());
            stored.push((entity, vector));
        }
        let id_of = |external: &str| by_id.get(external).map(|&at| stored[at].0.id);
        for relation in extraction.relations {
            let (Some(source), Some(target)) = (id_of(&relation.source), id_of(&relation.target))
            else {
                continue;
            };
            let valid_until = relation.ended.map(|at| at.unwrap_or_else(Utc::now));
            graph
                .upsert_relation(
                    scope,
                    NewRelation {
                        source,
                        relation_type: relation.relation_type,
                        target,
                        confidence: relation.confidence,
                        properties: serde_json::json!({}),
                        valid_until,
                    },
                )
                .await?;
            report.relations += 1;
        }
        let mut gone = Vec::new();
        for (entity, vector) in &stored {
            let Some(vector) = vector else { continue };
            if gone.contains(&entity.id) {
                continue;
            }
            let (merged, candidates) = self.dedup(scope, entity, vector).await?;
            if let Some(merged) = merged {
                gone.push(merged);
                report.merged += 1;
            }
            report.candidates += candidates;
        }
        Ok(report)
    }

    /// Merges `entity` into an older twin (or a younger twin into it), or records candidates;
    /// the merged entity's id and how many candidates.
    async fn dedup(
        &self,
        scope: &GraphScope,
        entity: &Entity,
        vector: &[f32],
    ) -> Result<(Option<uuid::Uuid>, usize), MemoryError> {
        let graph = self.store.knowledge_graph();
        let near = graph
            .similar_entities(scope, vector, DEDUP_NEIGHBOURS + 1)
            .await?;
        let mut candidates = 0;
        for other in near.iter().filter(|s| s.entity.id != entity.id) {
            match dedup_action(other.similarity, &entity.name, &other.entity.name) {
                DedupAction::Merge => {
                    let (kept, merged) = older_first(&other.entity, entity);
                    graph.merge_entities(scope, kept.id, merged.id).await?;
                    tracing::info!(
                        kept = %kept.id,
                        merged = %merged.id,
                        similarity = other.similarity,
                        "knowledge graph: entities merged"
                    );
                    return Ok((Some(merged.id), candidates));
                }
                DedupAction::Candidate => {
                    let (a, b) = older_first(&other.entity, entity);
                    graph
                        .add_dedup_candidate(scope, a.id, b.id, other.similarity)
                        .await?;
                    candidates += 1;
                }
                DedupAction::Keep => {}
            }
        }
        Ok((None, candidates))
    }

    /// One vector per extracted entity (by name), `None` where embedding failed or no
    /// embedder is configured.
    async fn embed_names(&self, extraction: &Extraction) -> Vec<Option<Vec<f32>>> {
        let count = extraction.entities.len();
        let Some(embedder) = self.embedder.current() else {
            return vec![None; count];
        };
        if count == 0 {
            return Vec::new();
        }
        let names: Vec<String> = extraction.entities.iter().map(|e| e.name.clone()).collect();
        match embedder.embed(&names).await {
            Ok(vectors) if vectors.len() == count => vectors.into_iter().map(Some).collect(),
            Ok(_) => vec![None; count],
            Err(error) => {
                tracing::warn!(%error, "knowledge graph: entities not embedded");
                vec![None; count]
            }
        }
    }
}

/// The older of two entities first (by creation, then id).
fn older_first<'a>(a: &'a Entity, b: &'a Entity) -> (&'a Entity, &'a Entity) {
    if (a.created_at, a.id) <= (b.created_at, b.id) {
        (a, b)
    } else {
        (b, a)
    }
}

impl GraphExtractor {
    /// Asks the model for the graph of `text`, drops relations below `min_confidence`, and
    /// stores the rest in `scope` from `source_id` ([`GraphExtractor::ingest`]).
    pub async fn extract_text(
        &self,
        agent: &Agent,
        scope: &GraphScope,
        source_id: &str,
        text: &str,
        min_confidence: f64,
    ) -> Result<IngestReport, ModelError> {
        let prompt =
            format!("Extract the knowledge graph of these notes.\n\n<notes>\n{text}\n</notes>");
        let answer = tokio::time::timeout(
            self.call_timeout,
            self.model.complete(agent, GRAPH_SYSTEM_PROMPT, &prompt),
        )
        .await
        .map_err(|_| ModelError(format!("no answer within {:?}", self.call_timeout)))??;
        let mut extraction = parse_extraction(&answer);
        extraction
            .relations
            .retain(|r| r.confidence >= min_confidence);
        self.ingest(scope, source_id, extraction)
            .await
            .map_err(|e| ModelError(e.to_string()))
    }
}

#[async_trait]
impl EpisodeListener for GraphExtractor {
    async fn episode_created(&self, agent: &Agent, episode: &Episode) -> Result<(), ModelError> {
        let scope = GraphScope::new(episode.tenant_id, episode.agent_id, episode.user_id.clone());
        let report = self
            .extract_text(
                agent,
                &scope,
                &episode.id.to_string(),
                &episode.summary,
                0.0,
            )
            .await?;
        tracing::info!(
            episode = %episode.id,
            entities = report.entities,
            relations = report.relations,
            merged = report.merged,
            candidates = report.candidates,
            "knowledge graph: episode extracted"
        );
        Ok(())
    }
}
