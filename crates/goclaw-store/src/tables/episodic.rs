//! Episodic summaries (`episodic_summaries`), one per summarized stretch of a session, unique
//! by agent, user and `source_id`; and the sweep of idle sessions that feeds their writer.
//!
//! An insert selects from `agents`, so another tenant's or a deleted agent inserts nothing,
//! and does nothing on a `source_id` the scope already has; the two are told apart by a second
//! look. The retrieval indexes follow the rows on their own (a generated column and its
//! indexes on PostgreSQL, triggers on SQLite); searches run the statement pairs of
//! `sql::retrieval`.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    AgentId, Episode, EpisodicScope, EpisodicStore, IdleSession, NewEpisode, ScoredEpisode,
    StoreError, SweepCursor, TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{
    EPISODE_COLUMNS, Param, Record, Row, SEARCH_EPISODES_TEXT, SEARCH_EPISODES_VECTOR, Statement,
};

/// The columns of a row, as an `INSERT … RETURNING` names them (searches and reads use the
/// `e.`-qualified [`EPISODE_COLUMNS`]).
const COLUMNS: &str = "id, tenant_id, agent_id, user_id, session_key, summary, l0_abstract, \
                       key_topics, source_type, source_id, turn_count, token_count, \
                       created_at, expires_at";

/// sqlite-vec answers at most this many neighbours per query; both engines are held to it.
const MAX_NEIGHBOURS: u32 = 4096;

static INSERT_EPISODE: Statement = Statement::joined(&[
    "INSERT INTO episodic_summaries (id, tenant_id, agent_id, user_id, session_key, \
     summary, l0_abstract, key_topics, embedding, source_type, source_id, turn_count, \
     token_count, created_at, expires_at) \
     SELECT ?, tenant_id, id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, ? FROM agents \
     WHERE id = ? AND tenant_id = ? AND deleted_at IS NULL \
     ON CONFLICT (agent_id, user_id, source_id) DO NOTHING \
     RETURNING ",
    COLUMNS,
]);
static EPISODE_EXISTS: Statement = Statement::new(
    "SELECT 1 AS found FROM episodic_summaries \
     WHERE tenant_id = ? AND agent_id = ? AND user_id = ? AND source_id = ?",
);
static GET_EPISODE: Statement = Statement::joined(&[
    "SELECT ",
    EPISODE_COLUMNS,
    " FROM episodic_summaries e WHERE e.tenant_id = ? AND e.id = ?",
]);
static LIST_EPISODES: Statement = Statement::joined(&[
    "SELECT ",
    EPISODE_COLUMNS,
    " FROM episodic_summaries e WHERE e.tenant_id = ? AND e.agent_id = ? \
     AND (? IS NULL OR e.user_id = ?) \
     ORDER BY e.created_at DESC, e.id DESC LIMIT ? OFFSET ?",
]);
static PRUNE_EXPIRED: Statement = Statement::new(
    "DELETE FROM episodic_summaries WHERE expires_at IS NOT NULL AND expires_at <= ?",
);
static IDLE_SESSIONS: Statement = Statement::new(
    "SELECT id, tenant_id, session_key, agent_id, user_id, message_count, updated_at \
     FROM sessions WHERE (updated_at > ? OR (updated_at = ? AND id > ?)) AND updated_at <= ? \
     AND agent_id IS NOT NULL AND message_count > 0 \
     ORDER BY updated_at, id LIMIT ?",
);

impl Record for Episode {
    const TABLE: &'static str = "episodic_summaries";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Episode {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_id: row.id("agent_id")?,
            user_id: row.text("user_id")?,
            session_key: row.text("session_key")?,
            summary: row.text("summary")?,
            l0_abstract: row.text("l0_abstract")?,
            key_topics: row.text_list("key_topics")?,
            source_type: row.text("source_type")?,
            source_id: row.text("source_id")?,
            turn_count: row.int("turn_count")?,
            token_count: row.int("token_count")?,
            created_at: row.time("created_at")?,
            expires_at: row.opt_time("expires_at")?,
        })
    }
}

impl Record for IdleSession {
    const TABLE: &'static str = "sessions";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(IdleSession {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            session_key: row.text("session_key")?,
            agent_id: row.id::<AgentId>("agent_id")?,
            user_id: row.text("user_id")?,
            message_count: row.int("message_count")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl SqlStore {
    async fn scored_episodes(
        &self,
        statement: &Statement,
        params: &[Param<'_>],
        score: impl Fn(&Row<'_>) -> Result<f64, StoreError>,
    ) -> Result<Vec<ScoredEpisode>, StoreError> {
        self.pool
            .fetch_all(statement, params)
            .await
            .map_err(|e| store_error(e, "episodic summary"))?
            .map(Episode::TABLE, |row| {
                Ok(ScoredEpisode {
                    episode: Episode::from_row(row)?,
                    score: score(row)?,
                })
            })
    }
}

#[async_trait]
impl EpisodicStore for SqlStore {
    async fn insert_episode(&self, episode: NewEpisode) -> Result<Option<Episode>, StoreError> {
        let scope = &episode.scope;
        let topics: Vec<&str> = episode.key_topics.iter().map(String::as_str).collect();
        let params = [
            Uuid::now_v7().into(),
            scope.user.as_str().into(),
            episode.session_key.as_str().into(),
            episode.summary.as_str().into(),
            episode.l0_abstract.as_str().into(),
            Param::TextList(&topics),
            episode.embedding.as_deref().into(),
            episode.source_type.as_str().into(),
            episode.source_id.as_str().into(),
            episode.turn_count.into(),
            episode.token_count.into(),
            episode.expires_at.into(),
            scope.agent.into(),
            scope.tenant.into(),
        ];
        let inserted = self
            .pool
            .fetch_optional(&INSERT_EPISODE, &params)
            .await
            .map_err(|e| store_error(e, "episodic summary"))?;
        match inserted {
            Some(row) => Ok(Some(row.decode()?)),
            None if self.episode_exists(scope, &episode.source_id).await? => Ok(None),
            None => Err(StoreError::NotFound("agent")),
        }
    }

    async fn episode_exists(
        &self,
        scope: &EpisodicScope,
        source_id: &str,
    ) -> Result<bool, StoreError> {
        let params = [
            scope.tenant.into(),
            scope.agent.into(),
            scope.user.as_str().into(),
            source_id.into(),
        ];
        let found = self
            .pool
            .fetch_optional(&EPISODE_EXISTS, &params)
            .await
            .map_err(|e| store_error(e, "episodic summary"))?;
        Ok(found.is_some())
    }

    async fn get_episode(&self, tenant: TenantId, id: Uuid) -> Result<Option<Episode>, StoreError> {
        self.pool
            .fetch_optional(&GET_EPISODE, &[tenant.into(), id.into()])
            .await
            .map_err(|e| store_error(e, "episodic summary"))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn list_episodes(
        &self,
        tenant: TenantId,
        agent: AgentId,
        user: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Episode>, StoreError> {
        let params = [
            tenant.into(),
            agent.into(),
            user.into(),
            user.into(),
            i64::from(limit).into(),
            i64::from(offset).into(),
        ];
        self.pool
            .fetch_all(&LIST_EPISODES, &params)
            .await
            .map_err(|e| store_error(e, "episodic summary"))?
            .decode()
    }

    async fn search_episodes_text(
        &self,
        scope: &EpisodicScope,
        query: &str,
        limit: u32,
    ) -> Result<Vec<ScoredEpisode>, StoreError> {
        // Without a word there is nothing to match (and both engines refuse an empty query).
        if limit == 0 || !query.chars().any(char::is_alphanumeric) {
            return Ok(Vec::new());
        }
        let params = [
            Param::AnyWords(query),
            scope.agent.into(),
            scope.user.as_str().into(),
            scope.tenant.into(),
            Utc::now().into(),
            i64::from(limit).into(),
        ];
        self.scored_episodes(&SEARCH_EPISODES_TEXT, &params, |row| row.real("score"))
            .await
    }

    async fn search_episodes_vector(
        &self,
        scope: &EpisodicScope,
        embedding: &[f32],
        limit: u32,
    ) -> Result<Vec<ScoredEpisode>, StoreError> {
        if limit == 0 {
            return Ok(Vec::new());
        }
        let params = [
            embedding.into(),
            scope.agent.into(),
            scope.user.as_str().into(),
            i64::from(limit.min(MAX_NEIGHBOURS)).into(),
            scope.tenant.into(),
            Utc::now().into(),
        ];
        self.scored_episodes(&SEARCH_EPISODES_VECTOR, &params, |row| {
            Ok(1.0 - row.real("distance")?)
        })
        .await
    }

    async fn prune_expired_episodes(&self, now: DateTime<Utc>) -> Result<u64, StoreError> {
        self.pool
            .execute(&PRUNE_EXPIRED, &[now.into()])
            .await
            .map_err(|e| store_error(e, "episodic summary"))
    }

    async fn idle_sessions(
        &self,
        after: SweepCursor,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<IdleSession>, StoreError> {
        let params = [
            after.updated_at.into(),
            after.updated_at.into(),
            after.session_id.into(),
            until.into(),
            i64::from(limit).into(),
        ];
        self.pool
            .fetch_all(&IDLE_SESSIONS, &params)
            .await
            .map_err(|e| store_error(e, "session"))?
            .decode()
    }
}
