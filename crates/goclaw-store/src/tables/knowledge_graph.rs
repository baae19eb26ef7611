//! The knowledge graph: entities (`kg_entities`, unique by agent, user and external id),
//! relations (`kg_relations`, unique by source, type and target) and de-duplication
//! candidates (`kg_dedup_candidates`, once per pair).
//!
//! Upserts select from their parents — an entity from `agents`, a relation from its two
//! entities within the scope — so another tenant's agent or another scope's entity stores
//! nothing (`NotFound`). A merge moves the merged entity's relations to the kept one and
//! deletes it in one write transaction; the cascade removes what would have duplicated.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    DedupCandidate, Entity, GraphCounts, GraphScope, KnowledgeGraphStore, NewEntity, NewRelation,
    Relation, SimilarEntity, StoreError, TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{ENTITY_COLUMNS, Param, Record, Row, SIMILAR_ENTITIES, Statement};

/// An entity row as `RETURNING` names it.
const RETURNED_ENTITY: &str = "id, tenant_id, agent_id, user_id, external_id, name, \
                               entity_type, description, properties, source_id, confidence, \
                               created_at, updated_at, valid_from, valid_until";
const RELATION_COLUMNS: &str = "id, agent_id, user_id, source_entity_id, relation_type, \
                                target_entity_id, confidence, properties, created_at, \
                                valid_from, valid_until";
const SCOPE: &str = "tenant_id = ? AND agent_id = ? AND user_id = ?";

static UPSERT_ENTITY: Statement = Statement::joined(&[
    "INSERT INTO kg_entities (id, tenant_id, agent_id, user_id, external_id, name, \
     entity_type, description, properties, source_id, confidence, embedding, created_at, \
     updated_at, valid_from) \
     SELECT ?, tenant_id, id, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, {now}, {now} FROM agents \
     WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL \
     ON CONFLICT (agent_id, user_id, external_id) DO UPDATE SET \
     name = excluded.name, entity_type = excluded.entity_type, \
     description = CASE WHEN excluded.description = '' THEN kg_entities.description \
     ELSE excluded.description END, \
     properties = excluded.properties, source_id = excluded.source_id, \
     confidence = CASE WHEN excluded.confidence > kg_entities.confidence \
     THEN excluded.confidence ELSE kg_entities.confidence END, \
     embedding = COALESCE(excluded.embedding, kg_entities.embedding), \
     updated_at = excluded.updated_at, valid_until = NULL \
     RETURNING ",
    RETURNED_ENTITY,
]);
static GET_ENTITY: Statement = Statement::joined(&[
    "SELECT ",
    ENTITY_COLUMNS,
    " FROM kg_entities k WHERE k.tenant_id = ? AND k.id = ?",
]);
static LIST_ENTITIES: Statement = Statement::joined(&[
    "SELECT ",
    ENTITY_COLUMNS,
    " FROM kg_entities k WHERE k.tenant_id = ? AND k.agent_id = ? AND k.user_id = ? \
     AND k.valid_until IS NULL ORDER BY k.name {bytewise}, k.id LIMIT ? OFFSET ?",
]);
static FIND_ENTITIES: Statement = Statement::joined(&[
    "SELECT ",
    ENTITY_COLUMNS,
    " FROM kg_entities k WHERE k.tenant_id = ? AND k.agent_id = ? AND k.user_id = ? \
     AND k.valid_until IS NULL \
     AND (lower(k.name) LIKE ? ESCAPE '\\' OR lower(k.description) LIKE ? ESCAPE '\\') \
     ORDER BY k.name {bytewise}, k.id LIMIT ?",
]);
static UPSERT_RELATION: Statement = Statement::joined(&[
    "INSERT INTO kg_relations (id, tenant_id, agent_id, user_id, source_entity_id, \
     relation_type, target_entity_id, confidence, properties, created_at, valid_from, \
     valid_until) \
     SELECT ?, s.tenant_id, s.agent_id, s.user_id, s.id, ?, t.id, ?, ?, {now}, {now}, ? \
     FROM kg_entities s, kg_entities t \
     WHERE s.id = ? AND t.id = ? AND s.tenant_id = ? AND s.agent_id = ? AND s.user_id = ? \
     AND t.tenant_id = s.tenant_id AND t.agent_id = s.agent_id AND t.user_id = s.user_id \
     ON CONFLICT (source_entity_id, relation_type, target_entity_id) DO UPDATE SET \
     confidence = CASE WHEN excluded.confidence > kg_relations.confidence \
     THEN excluded.confidence ELSE kg_relations.confidence END, \
     properties = excluded.properties, valid_until = excluded.valid_until \
     RETURNING ",
    RELATION_COLUMNS,
]);
static RELATIONS_OF: Statement = Statement::joined(&[
    "SELECT ",
    RELATION_COLUMNS,
    " FROM kg_relations WHERE ",
    SCOPE,
    " AND (source_entity_id = ? OR target_entity_id = ?) \
     AND valid_from <= ? AND (valid_until IS NULL OR valid_until > ?) \
     ORDER BY created_at, id",
]);
static MOVE_SOURCES: Statement = Statement::new(
    "UPDATE kg_relations SET source_entity_id = ? WHERE source_entity_id = ? \
     AND target_entity_id <> ? AND NOT EXISTS (SELECT 1 FROM kg_relations r \
     WHERE r.source_entity_id = ? AND r.relation_type = kg_relations.relation_type \
     AND r.target_entity_id = kg_relations.target_entity_id)",
);
static MOVE_TARGETS: Statement = Statement::new(
    "UPDATE kg_relations SET target_entity_id = ? WHERE target_entity_id = ? \
     AND source_entity_id <> ? AND NOT EXISTS (SELECT 1 FROM kg_relations r \
     WHERE r.target_entity_id = ? AND r.relation_type = kg_relations.relation_type \
     AND r.source_entity_id = kg_relations.source_entity_id)",
);
static DELETE_ENTITY: Statement =
    Statement::joined(&["DELETE FROM kg_entities WHERE id = ? AND ", SCOPE]);
static ENTITY_IN_SCOPE: Statement =
    Statement::joined(&["SELECT id FROM kg_entities WHERE id = ? AND ", SCOPE]);
static ADD_CANDIDATE: Statement = Statement::joined(&[
    "INSERT INTO kg_dedup_candidates (id, tenant_id, agent_id, user_id, entity_a_id, \
     entity_b_id, similarity, status, created_at) \
     SELECT ?, a.tenant_id, a.agent_id, a.user_id, a.id, b.id, ?, 'pending', {now} \
     FROM kg_entities a, kg_entities b \
     WHERE a.id = ? AND b.id = ? AND a.tenant_id = ? AND a.agent_id = ? AND a.user_id = ? \
     AND b.tenant_id = a.tenant_id AND b.agent_id = a.agent_id AND b.user_id = a.user_id \
     ON CONFLICT (entity_a_id, entity_b_id) DO NOTHING",
]);
static CANDIDATES: Statement = Statement::joined(&[
    "SELECT id, entity_a_id, entity_b_id, similarity, status, created_at \
     FROM kg_dedup_candidates WHERE ",
    SCOPE,
    " AND status = 'pending' ORDER BY similarity DESC, id LIMIT ?",
]);
static COUNT_ENTITIES: Statement = Statement::joined(&[
    "SELECT COUNT(*) AS n FROM kg_entities WHERE ",
    SCOPE,
    " AND valid_until IS NULL",
]);
static COUNT_RELATIONS: Statement = Statement::joined(&[
    "SELECT COUNT(*) AS n FROM kg_relations WHERE ",
    SCOPE,
    " AND valid_until IS NULL",
]);

static TYPE_COUNTS: Statement = Statement::joined(&[
    "SELECT entity_type, COUNT(*) AS n FROM kg_entities WHERE ",
    SCOPE,
    " AND valid_until IS NULL GROUP BY entity_type ORDER BY entity_type {bytewise}",
]);
static LIST_RELATIONS: Statement = Statement::joined(&[
    "SELECT ",
    RELATION_COLUMNS,
    " FROM kg_relations WHERE ",
    SCOPE,
    " AND valid_until IS NULL ORDER BY created_at, id LIMIT ?",
]);
static DISMISS_CANDIDATE: Statement = Statement::joined(&[
    "UPDATE kg_dedup_candidates SET status = 'dismissed' WHERE id = ? AND ",
    SCOPE,
    " AND status = 'pending'",
]);
static CLEAR_GRAPH: Statement = Statement::joined(&["DELETE FROM kg_entities WHERE ", SCOPE]);

impl Record for Entity {
    const TABLE: &'static str = "kg_entities";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Entity {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_id: row.id("agent_id")?,
            user_id: row.text("user_id")?,
            external_id: row.text("external_id")?,
            name: row.text("name")?,
            entity_type: row.text("entity_type")?,
            description: row.text("description")?,
            properties: row.json("properties")?,
            source_id: row.text("source_id")?,
            confidence: row.real("confidence")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            valid_from: row.time("valid_from")?,
            valid_until: row.opt_time("valid_until")?,
        })
    }
}

impl Record for Relation {
    const TABLE: &'static str = "kg_relations";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Relation {
            id: row.id("id")?,
            agent_id: row.id("agent_id")?,
            user_id: row.text("user_id")?,
            source_entity_id: row.id("source_entity_id")?,
            relation_type: row.text("relation_type")?,
            target_entity_id: row.id("target_entity_id")?,
            confidence: row.real("confidence")?,
            properties: row.json("properties")?,
            created_at: row.time("created_at")?,
            valid_from: row.time("valid_from")?,
            valid_until: row.opt_time("valid_until")?,
        })
    }
}

impl Record for DedupCandidate {
    const TABLE: &'static str = "kg_dedup_candidates";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(DedupCandidate {
            id: row.id("id")?,
            entity_a: row.id("entity_a_id")?,
            entity_b: row.id("entity_b_id")?,
            similarity: row.real("similarity")?,
            status: row.text("status")?,
            created_at: row.time("created_at")?,
        })
    }
}

fn scope_params(scope: &GraphScope) -> [Param<'_>; 3] {
    [
        scope.tenant.into(),
        scope.agent.into(),
        scope.user.as_str().into(),
    ]
}

/// A `LIKE … ESCAPE '\'` pattern matching text that contains `query`, lower-cased, its own
/// `%`, `_` and `\` taken literally.
fn contains_pattern(query: &str) -> String {
    let mut pattern = String::from("%");
    for c in query.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// What a database error is about, in messages.
const WHAT: &str = "knowledge graph";

#[async_trait]
impl KnowledgeGraphStore for SqlStore {
    async fn upsert_entity(
        &self,
        scope: &GraphScope,
        entity: NewEntity,
    ) -> Result<Entity, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            scope.user.as_str().into(),
            entity.external_id.as_str().into(),
            entity.name.as_str().into(),
            entity.entity_type.as_str().into(),
            entity.description.as_str().into(),
            (&entity.properties).into(),
            entity.source_id.as_str().into(),
            entity.confidence.into(),
            entity.embedding.as_deref().into(),
            scope.agent.into(),
            scope.tenant.into(),
        ];
        self.pool
            .fetch_optional(&UPSERT_ENTITY, &params)
            .await
            .map_err(|e| store_error(e, WHAT))?
            .ok_or(StoreError::NotFound("agent"))?
            .decode()
    }

    async fn get_entity(&self, tenant: TenantId, id: Uuid) -> Result<Option<Entity>, StoreError> {
        self.pool
            .fetch_optional(&GET_ENTITY, &[tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, WHAT))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn list_entities(
        &self,
        scope: &GraphScope,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Entity>, StoreError> {
        let [tenant, agent, user] = scope_params(scope);
        let params = [
            tenant,
            agent,
            user,
            i64::from(limit).into(),
            i64::from(offset).into(),
        ];
        self.pool
            .fetch_all(&LIST_ENTITIES, &params)
            .await
            .map_err(|e| store_error(e, WHAT))?
            .decode()
    }

    async fn find_entities(
        &self,
        scope: &GraphScope,
        query: &str,
        limit: u32,
    ) -> Result<Vec<Entity>, StoreError> {
        let query = query.trim();
        if query.is_empty() || limit == 0 {
            return Ok(Vec::new());
        }
        let pattern = contains_pattern(query);
        let [tenant, agent, user] = scope_params(scope);
        let params = [
            tenant,
            agent,
            user,
            pattern.as_str().into(),
            pattern.as_str().into(),
            i64::from(limit).into(),
        ];
        self.pool
            .fetch_all(&FIND_ENTITIES, &params)
            .await
            .map_err(|e| store_error(e, WHAT))?
            .decode()
    }

    async fn similar_entities(
        &self,
        scope: &GraphScope,
        embedding: &[f32],
        limit: u32,
    ) -> Result<Vec<SimilarEntity>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let [tenant, agent, user] = scope_params(scope);
        let params = [
            embedding.into(),
            tenant,
            agent,
            user,
            i64::from(limit).into(),
        ];
        self.pool
            .fetch_all(&SIMILAR_ENTITIES, &params)
            .await
            .map_err(|e| store_error(e, WHAT))?
            .map(Entity::TABLE, |row| {
                Ok(SimilarEntity {
                    entity: Entity::from_row(row)?,
                    similarity: 1.0 - row.real("distance")?,
                })
            })
    }

    async fn upsert_relation(
        &self,
        scope: &GraphScope,
        relation: NewRelation,
    ) -> Result<Relation, StoreError> {
        let [tenant, agent, user] = scope_params(scope);
        let params = [
            Uuid::now_v7().into(),
            relation.relation_type.as_str().into(),
            relation.confidence.into(),
            (&relation.properties).into(),
            relation.valid_until.into(),
            relation.source.into(),
            relation.target.into(),
            tenant,
            agent,
            user,
        ];
        self.pool
            .fetch_optional(&UPSERT_RELATION, &params)
            .await
            .map_err(|e| store_error(e, WHAT))?
            .ok_or(StoreError::NotFound("knowledge graph entity"))?
            .decode()
    }

    async fn relations_of(
        &self,
        scope: &GraphScope,
        entity: Uuid,
        as_of: DateTime<Utc>,
    ) -> Result<Vec<Relation>, StoreError> {
        let [tenant, agent, user] = scope_params(scope);
        let params = [
            tenant,
            agent,
            user,
            entity.into(),
            entity.into(),
            as_of.into(),
            as_of.into(),
        ];
        self.pool
            .fetch_all(&RELATIONS_OF, &params)
            .await
            .map_err(|e| store_error(e, WHAT))?
            .decode()
    }

    async fn merge_entities(
        &self,
        scope: &GraphScope,
        kept: Uuid,
        merged: Uuid,
    ) -> Result<(), StoreError> {
        if kept == merged {
            return Ok(());
        }
        let mut tx = self
            .pool
            .begin_write()
            .await
            .map_err(|e| store_error(e, WHAT))?;
        for id in [kept, merged] {
            let [tenant, agent, user] = scope_params(scope);
            tx.fetch_optional(&ENTITY_IN_SCOPE, &[id.into(), tenant, agent, user])
                .await
                .map_err(|e| store_error(e, WHAT))?
                .ok_or(StoreError::NotFound("knowledge graph entity"))?;
        }
        let moving = [kept.into(), merged.into(), kept.into(), kept.into()];
        tx.execute(&MOVE_SOURCES, &moving)
            .await
            .map_err(|e| store_error(e, WHAT))?;
        tx.execute(&MOVE_TARGETS, &moving)
            .await
            .map_err(|e| store_error(e, WHAT))?;
        let [tenant, agent, user] = scope_params(scope);
        tx.execute(&DELETE_ENTITY, &[merged.into(), tenant, agent, user])
            .await
            .map_err(|e| store_error(e, WHAT))?;
        tx.commit().await.map_err(|e| store_error(e, WHAT))
    }

    async fn add_dedup_candidate(
        &self,
        scope: &GraphScope,
        a: Uuid,
        b: Uuid,
        similarity: f64,
    ) -> Result<(), StoreError> {
        let [tenant, agent, user] = scope_params(scope);
        let params = [
            Uuid::now_v7().into(),
            similarity.into(),
            a.into(),
            b.into(),
            tenant,
            agent,
            user,
        ];
        self.pool
            .execute(&ADD_CANDIDATE, &params)
            .await
            .map_err(|e| store_error(e, WHAT))?;
        Ok(())
    }

    async fn dedup_candidates(
        &self,
        scope: &GraphScope,
        limit: u32,
    ) -> Result<Vec<DedupCandidate>, StoreError> {
        let [tenant, agent, user] = scope_params(scope);
        self.pool
            .fetch_all(&CANDIDATES, &[tenant, agent, user, i64::from(limit).into()])
            .await
            .map_err(|e| store_error(e, WHAT))?
            .decode()
    }

    async fn graph_counts(&self, scope: &GraphScope) -> Result<GraphCounts, StoreError> {
        let count = |statement: &'static Statement| async move {
            let row = self
                .pool
                .fetch_one(statement, &scope_params(scope))
                .await
                .map_err(|e| store_error(e, WHAT))?;
            let n = row.read("knowledge graph").int("n")?;
            Ok::<u64, StoreError>(u64::try_from(n).unwrap_or(0))
        };
        Ok(GraphCounts {
            entities: count(&COUNT_ENTITIES).await?,
            relations: count(&COUNT_RELATIONS).await?,
        })
    }

    async fn entity_type_counts(
        &self,
        scope: &GraphScope,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        self.pool
            .fetch_all(&TYPE_COUNTS, &scope_params(scope))
            .await
            .map_err(|e| store_error(e, WHAT))?
            .map(Entity::TABLE, |row| {
                let n = row.int("n")?;
                Ok((row.text("entity_type")?, u64::try_from(n).unwrap_or(0)))
            })
    }

    async fn list_relations(
        &self,
        scope: &GraphScope,
        limit: u32,
    ) -> Result<Vec<Relation>, StoreError> {
        let [tenant, agent, user] = scope_params(scope);
        self.pool
            .fetch_all(
                &LIST_RELATIONS,
                &[tenant, agent, user, i64::from(limit).into()],
            )
            .await
            .map_err(|e| store_error(e, WHAT))?
            .decode()
    }

    async fn delete_entity(&self, scope: &GraphScope, id: Uuid) -> Result<bool, StoreError> {
        let [tenant, agent, user] = scope_params(scope);
        let deleted = self
            .pool
            .execute(&DELETE_ENTITY, &[id.into(), tenant, agent, user])
            .await
            .map_err(|e| store_error(e, WHAT))?;
        Ok(deleted > 0)
    }

    async fn dismiss_dedup_candidate(
        &self,
        scope: &GraphScope,
        id: Uuid,
    ) -> Result<bool, StoreError> {
        let [tenant, agent, user] = scope_params(scope);
        let dismissed = self
            .pool
            .execute(&DISMISS_CANDIDATE, &[id.into(), tenant, agent, user])
            .await
            .map_err(|e| store_error(e, WHAT))?;
        Ok(dismissed > 0)
    }

    async fn clear_graph(&self, scope: &GraphScope) -> Result<u64, StoreError> {
        self.pool
            .execute(&CLEAR_GRAPH, &scope_params(scope))
            .await
            .map_err(|e| store_error(e, WHAT))
    }
}
