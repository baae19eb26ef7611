//! The knowledge graph (GoClaw's L2 tier): entities and the relations between them, extracted
//! from episodic summaries, per agent and user, with temporal validity — a fact is current
//! while its `valid_until` is unset, and a query `as_of` a moment sees what was valid then.
//!
//! Entities are unique by their `external_id` (the extraction's own name for them) within a
//! [`GraphScope`]; relations by source, type and target. Pairs of entities similar enough to be
//! one but not enough to merge on their own are kept as de-duplication candidates.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// Whose graph: a tenant's agent and one user of it (`""` when the sessions had none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct GraphScope {
    pub tenant: TenantId,
    pub agent: AgentId,
    pub user: String,
}

impl GraphScope {
    pub fn new(tenant: TenantId, agent: AgentId, user: impl Into<String>) -> Self {
        Self {
            tenant,
            agent,
            user: user.into(),
        }
    }
}

/// An entity to store, or to update when its `external_id` is known.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEntity {
    pub external_id: String,
    pub name: String,
    pub entity_type: String,
    pub description: String,
    /// A JSON object.
    pub properties: Value,
    /// The episode it was extracted from.
    pub source_id: String,
    pub confidence: f64,
    pub embedding: Option<Vec<f32>>,
}

/// A stored entity (its embedding is not read back).
#[derive(Debug, Clone, PartialEq)]
pub struct Entity {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub agent_id: AgentId,
    pub user_id: String,
    pub external_id: String,
    pub name: String,
    pub entity_type: String,
    pub description: String,
    pub properties: Value,
    pub source_id: String,
    pub confidence: f64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// A relation to store between two entities of one scope.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRelation {
    pub source: Uuid,
    pub relation_type: String,
    pub target: Uuid,
    pub confidence: f64,
    pub properties: Value,
    /// When the fact stopped being true, if it has.
    pub valid_until: Option<DateTime<Utc>>,
}

/// A stored relation.
#[derive(Debug, Clone, PartialEq)]
pub struct Relation {
    pub id: Uuid,
    pub agent_id: AgentId,
    pub user_id: String,
    pub source_entity_id: Uuid,
    pub relation_type: String,
    pub target_entity_id: Uuid,
    pub confidence: f64,
    pub properties: Value,
    pub created_at: DateTime<Utc>,
    pub valid_from: DateTime<Utc>,
    pub valid_until: Option<DateTime<Utc>>,
}

/// An entity near another by embedding.
#[derive(Debug, Clone, PartialEq)]
pub struct SimilarEntity {
    pub entity: Entity,
    /// 1 − cosine distance.
    pub similarity: f64,
}

/// Two entities that may be one.
#[derive(Debug, Clone, PartialEq)]
pub struct DedupCandidate {
    pub id: Uuid,
    pub entity_a: Uuid,
    pub entity_b: Uuid,
    pub similarity: f64,
    pub status: String,
    pub created_at: DateTime<Utc>,
}

/// How big a scope's graph is.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GraphCounts {
    pub entities: u64,
    pub relations: u64,
}

/// Storage of the knowledge graph.
#[async_trait]
pub trait KnowledgeGraphStore: Send + Sync {
    /// Stores the entity, or updates the scope's entity with its `external_id` (name, type,
    /// description, properties, source, the higher confidence, the embedding if given) and
    /// makes it current again. `NotFound("agent")` when the agent is not a live agent of the
    /// tenant.
    async fn upsert_entity(
        &self,
        scope: &GraphScope,
        entity: NewEntity,
    ) -> Result<Entity, StoreError>;

    /// The tenant's entity `id`, if any.
    async fn get_entity(&self, tenant: TenantId, id: Uuid) -> Result<Option<Entity>, StoreError>;

    /// The scope's current entities by name, at most `limit`.
    async fn list_entities(
        &self,
        scope: &GraphScope,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Entity>, StoreError>;

    /// The scope's current entities whose name or description contains `query` (any case),
    /// by name.
    async fn find_entities(
        &self,
        scope: &GraphScope,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Entity>, StoreError>;

    /// The scope's current entities with an embedding, nearest to `embedding` first.
    async fn similar_entities(
        &self,
        scope: &GraphScope,
        embedding: &[f32],
        limit: u32,
    ) -> Result<Vec<SimilarEntity>, StoreError>;

    /// Stores the relation, or updates the one with the same source, type and target (the
    /// higher confidence, the properties, `valid_until` as given).
    /// `NotFound("knowledge graph entity")` unless both entities belong to the scope.
    async fn upsert_relation(
        &self,
        scope: &GraphScope,
        relation: NewRelation,
    ) -> Result<Relation, StoreError>;

    /// The scope's relations from or to `entity` that were valid at `as_of`, oldest first.
    async fn relations_of(
        &self,
        scope: &GraphScope,
        entity: Uuid,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<Relation>, StoreError>;

    /// Merges entity `merged` into `kept`: its relations move to `kept` (those `kept` already
    /// has are dropped), then it is deleted, in one transaction.
    async fn merge_entities(
        &self,
        scope: &GraphScope,
        kept: Uuid,
        merged: Uuid,
    ) -> Result<(), StoreError>;

    /// Records that `a` and `b` may be one entity (once per pair).
    async fn add_dedup_candidate(
        &self,
        scope: &GraphScope,
        a: Uuid,
        b: Uuid,
        similarity: f64,
    ) -> Result<(), StoreError>;

    /// The scope's pending de-duplication candidates, most similar first.
    async fn dedup_candidates(
        &self,
        scope: &GraphScope,
        limit: u32,
    ) -> Result<Vec<DedupCandidate>, StoreError>;

    /// How many current entities and relations the scope has.
    async fn graph_counts(&self, scope: &GraphScope) -> Result<GraphCounts, StoreError>;

    /// How many current entities of each type the scope has, by type.
    async fn entity_type_counts(
        &self,
        scope: &GraphScope,
    ) -> Result<Vec<(String, u64)>, StoreError>;

    /// The scope's current relations, oldest first, at most `limit`.
    async fn list_relations(
        &self,
        scope: &GraphScope,
        limit: u32,
    ) -> Result<Vec<Relation>, StoreError>;

    /// Deletes the scope's entity `id` with its relations and candidate pairs; whether it
    /// was there.
    async fn delete_entity(&self, scope: &GraphScope, id: Uuid) -> Result<bool, StoreError>;

    /// Marks the scope's pending candidate pair `id` as not one entity; whether there was
    /// such a pending pair.
    async fn dismiss_dedup_candidate(
        &self,
        scope: &GraphScope,
        id: Uuid,
    ) -> Result<bool, StoreError>;

    /// Deletes every entity of the scope, with their relations and candidate pairs; how many
    /// entities there were.
    async fn clear_graph(&self, scope: &GraphScope) -> Result<u64, StoreError>;
}
