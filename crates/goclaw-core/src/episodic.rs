//! Episodic memory (GoClaw's L1 tier): one summary per finished stretch of a session — the
//! summary itself, a short abstract (L0) for prompts, its topics and an optional embedding —
//! kept per agent and user for a limited time.
//!
//! Who sees what is an [`EpisodicScope`]: a tenant's agent and exactly one user (`""` for
//! sessions without one). Unlike memory documents there is no shared tier: an episode is what
//! one user told the agent. A summary is identified for de-duplication by its `source_id`
//! (the session and the last message it covers), unique within the scope.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// Whose episodes: a tenant's agent and one user of it (`""` when the session had none).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct EpisodicScope {
    pub tenant: TenantId,
    pub agent: AgentId,
    pub user: String,
}

impl EpisodicScope {
    pub fn new(tenant: TenantId, agent: AgentId, user: impl Into<String>) -> Self {
        Self {
            tenant,
            agent,
            user: user.into(),
        }
    }
}

/// An episode to store.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEpisode {
    pub scope: EpisodicScope,
    pub session_key: String,
    pub summary: String,
    /// About one sentence: what auto-inject shows.
    pub l0_abstract: String,
    pub key_topics: Vec<String>,
    /// [`crate::EMBEDDING_DIMENSIONS`] values, or none (then found by its words only).
    pub embedding: Option<Vec<f32>>,
    /// `session` for the episodic worker's summaries.
    pub source_type: String,
    /// What was summarized; unique within the scope.
    pub source_id: String,
    pub turn_count: i64,
    pub token_count: i64,
    pub expires_at: Option<DateTime<Utc>>,
}

/// A stored episode (its embedding is not read back).
#[derive(Debug, Clone, PartialEq)]
pub struct Episode {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub agent_id: AgentId,
    pub user_id: String,
    pub session_key: String,
    pub summary: String,
    pub l0_abstract: String,
    pub key_topics: Vec<String>,
    pub source_type: String,
    pub source_id: String,
    pub turn_count: i64,
    pub token_count: i64,
    pub created_at: DateTime<Utc>,
    pub expires_at: Option<DateTime<Utc>>,
}

/// An episode found by a search; higher scores are better.
#[derive(Debug, Clone, PartialEq)]
pub struct ScoredEpisode {
    pub episode: Episode,
    /// Full text: the engine's relevance (not comparable across engines). Vector:
    /// 1 − cosine distance.
    pub score: f64,
}

/// A session whose last message is older than some moment: a candidate for a summary.
#[derive(Debug, Clone, PartialEq)]
pub struct IdleSession {
    /// The session's row id.
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub session_key: String,
    pub agent_id: AgentId,
    pub user_id: String,
    pub message_count: i64,
    /// When its last message (or other change) was stored.
    pub updated_at: DateTime<Utc>,
}

impl IdleSession {
    /// This session's place in the sweep's order.
    pub fn cursor(&self) -> SweepCursor {
        SweepCursor {
            updated_at: self.updated_at,
            session_id: self.id,
        }
    }
}

/// A place in the order idle sessions are swept in — last change, then row id — so a sweep
/// can resume exactly after the last session it handled, even among many changed in the same
/// instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct SweepCursor {
    pub updated_at: DateTime<Utc>,
    pub session_id: Uuid,
}

impl SweepCursor {
    /// After every session changed at or before `at`.
    pub fn after(at: DateTime<Utc>) -> Self {
        Self {
            updated_at: at,
            session_id: Uuid::max(),
        }
    }
}

/// Storage of episodic summaries.
#[async_trait]
pub trait EpisodicStore: Send + Sync {
    /// Stores an episode; `None` when the scope already has one with this `source_id` (the
    /// earlier one is kept). `NotFound("agent")` when the agent is not a live agent of the
    /// tenant.
    async fn insert_episode(&self, episode: NewEpisode) -> Result<Option<Episode>, StoreError>;

    /// Whether the scope has an episode with this `source_id`.
    async fn episode_exists(
        &self,
        scope: &EpisodicScope,
        source_id: &str,
    ) -> Result<bool, StoreError>;

    /// The episode `id` of the tenant, if any (expired ones included until pruned).
    async fn get_episode(&self, tenant: TenantId, id: Uuid) -> Result<Option<Episode>, StoreError>;

    /// The agent's episodes, newest first; only `user`'s when given.
    async fn list_episodes(
        &self,
        tenant: TenantId,
        agent: AgentId,
        user: Option<&str>,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<Episode>, StoreError>;

    /// The scope's unexpired episodes holding any word of `query`, best first, at most
    /// `limit`.
    async fn search_episodes_text(
        &self,
        scope: &EpisodicScope,
        query: &str,
        limit: u32,
    ) -> Result<Vec<ScoredEpisode>, StoreError>;

    /// The scope's unexpired episodes with an embedding, nearest to `embedding` first.
    async fn search_episodes_vector(
        &self,
        scope: &EpisodicScope,
        embedding: &[f32],
        limit: u32,
    ) -> Result<Vec<ScoredEpisode>, StoreError>;

    /// Deletes the episodes that expired before `now`; how many.
    async fn prune_expired_episodes(&self, now: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Sessions of every tenant with an agent and at least one message that come after
    /// `after` in the sweep's order (see [`SweepCursor`]) and were last changed no later than
    /// `until`, in that order, at most `limit`.
    async fn idle_sessions(
        &self,
        after: SweepCursor,
        until: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<IdleSession>, StoreError>;
}
