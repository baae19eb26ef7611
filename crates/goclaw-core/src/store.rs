//! The storage traits: one `Store` per gateway, split into sub-stores by table family.
//!
//! Implementations live in `goclaw-store` (SQLite and PostgreSQL) and must behave identically;
//! the shared test suite there runs every case on both backends.

use async_trait::async_trait;

use crate::domain::{
    Agent, AgentId, AgentKey, AgentPatch, ContextFile, Message, NewAgent, NewMessage, Session,
    SessionFilter, SessionId, SessionKey, SessionPatch, Tenant, TenantId,
};
use crate::llm::Usage;
use crate::tenants::{NewTenant, NewTenantUser, TenantPatch, TenantRole, TenantUser};

/// Which database engine a store runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreBackend {
    Sqlite,
    Postgres,
}

impl StoreBackend {
    /// Lowercase name, as `GOCLAW_STORAGE_BACKEND` spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            StoreBackend::Sqlite => "sqlite",
            StoreBackend::Postgres => "postgres",
        }
    }
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The record asked for does not exist.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// A record with the same unique key already exists.
    #[error("{0} already exists")]
    Conflict(String),
    /// A stored value could not be turned back into a domain value.
    #[error("corrupt row in {table}: {reason}")]
    Corrupt { table: &'static str, reason: String },
    /// The database could not be reached or answered with an error.
    #[error("database error: {0}")]
    Database(#[source] Box<dyn std::error::Error + Send + Sync>),
}

/// Everything the gateway persists, reached through one handle.
#[async_trait]
pub trait Store: Send + Sync {
    /// The engine behind this store.
    fn backend(&self) -> StoreBackend;
    /// Checks that the database answers a trivial query.
    async fn ping(&self) -> Result<(), StoreError>;
    fn tenants(&self) -> &dyn TenantStore;
    fn agents(&self) -> &dyn AgentStore;
    fn sessions(&self) -> &dyn SessionStore;
    fn messages(&self) -> &dyn MessageStore;
    fn context_files(&self) -> &dyn ContextFileStore;
    fn llm_providers(&self) -> &dyn crate::providers::LlmProviderStore;
    fn secrets(&self) -> &dyn crate::secrets::SecretStore;
    fn api_keys(&self) -> &dyn crate::api_keys::ApiKeyStore;
    fn exec_approvals(&self) -> &dyn crate::exec_approvals::ExecApprovalStore;
    fn traces(&self) -> &dyn crate::traces::TraceStore;
    fn turns(&self) -> &dyn crate::turns::TurnStore;
    fn memory(&self) -> &dyn crate::memory::MemoryStore;
    fn system_configs(&self) -> &dyn crate::system_configs::SystemConfigStore;
    fn vault(&self) -> &dyn crate::vault::VaultStore;
    fn episodic(&self) -> &dyn crate::episodic::EpisodicStore;
    fn knowledge_graph(&self) -> &dyn crate::knowledge::KnowledgeGraphStore;
    fn pairing(&self) -> &dyn crate::pairing::PairingStore;
    fn channel_queue(&self) -> &dyn crate::channel_queue::ChannelQueueStore;
    fn webhooks(&self) -> &dyn crate::webhook::WebhookStore;
    fn channel_instances(&self) -> &dyn crate::channel_instances::ChannelInstanceStore;
    fn agent_links(&self) -> &dyn crate::agent_links::AgentLinkStore;
    fn subagent_tasks(&self) -> &dyn crate::subagent_tasks::SubagentTaskStore;
    fn teams(&self) -> &dyn crate::teams::TeamStore;
    fn team_tasks(&self) -> &dyn crate::team_tasks::TeamTaskStore;
    fn task_trail(&self) -> &dyn crate::task_trail::TaskTrailStore;
    fn cron(&self) -> &dyn crate::cron::CronStore;
    fn heartbeats(&self) -> &dyn crate::heartbeat::HeartbeatStore;
    fn skills(&self) -> &dyn crate::skills::SkillStore;
    fn mcp_servers(&self) -> &dyn crate::mcp_servers::McpServerStore;
    fn hooks(&self) -> &dyn crate::hooks::HookStore;
}

/// Tenants and their members; the master tenant exists in every migrated database.
#[async_trait]
pub trait TenantStore: Send + Sync {
    async fn get(&self, id: TenantId) -> Result<Tenant, StoreError>;
    async fn get_by_slug(&self, slug: &str) -> Result<Tenant, StoreError>;
    /// Every tenant, oldest first.
    async fn list(&self) -> Result<Vec<Tenant>, StoreError>;
    /// Creates an active tenant; `Conflict` when the slug (or id) is taken.
    async fn create(&self, tenant: NewTenant) -> Result<Tenant, StoreError>;
    /// Applies a partial change and returns the result; `NotFound` for an unknown tenant.
    async fn update(&self, id: TenantId, patch: TenantPatch) -> Result<Tenant, StoreError>;
    /// Adds a member, or changes the role and name of an existing one; `NotFound("tenant")`
    /// when the tenant does not exist.
    async fn add_user(&self, user: NewTenantUser) -> Result<TenantUser, StoreError>;
    /// Removes a member; whether there was one.
    async fn remove_user(&self, tenant: TenantId, user_id: &str) -> Result<bool, StoreError>;
    /// The members of a tenant, by user id.
    async fn users(&self, tenant: TenantId) -> Result<Vec<TenantUser>, StoreError>;
    /// The role of `user_id` in `tenant`; `None` when it is no member.
    async fn user_role(
        &self,
        tenant: TenantId,
        user_id: &str,
    ) -> Result<Option<TenantRole>, StoreError>;
    /// Every membership of `user_id`, oldest first.
    async fn memberships(&self, user_id: &str) -> Result<Vec<TenantUser>, StoreError>;
}

/// Agent definitions, unique by `(tenant, agent_key)`.
#[async_trait]
pub trait AgentStore: Send + Sync {
    /// Creates an agent; `Conflict` when the key is taken in that tenant.
    async fn create(&self, agent: NewAgent) -> Result<Agent, StoreError>;
    async fn get_by_key(&self, tenant: TenantId, key: &AgentKey) -> Result<Agent, StoreError>;
    /// Agents of a tenant ordered by key (soft-deleted ones excluded).
    async fn list(&self, tenant: TenantId) -> Result<Vec<Agent>, StoreError>;
    /// The tenant's default agent (`is_default`), if any.
    async fn get_default(&self, tenant: TenantId) -> Result<Option<Agent>, StoreError>;
    /// Applies a partial update and returns the result. Setting `is_default` to true clears
    /// it on the tenant's other agents.
    async fn update(
        &self,
        tenant: TenantId,
        key: &AgentKey,
        patch: AgentPatch,
    ) -> Result<Agent, StoreError>;
    /// Soft-deletes an agent; its key becomes free again.
    async fn delete(&self, tenant: TenantId, key: &AgentKey) -> Result<(), StoreError>;
}

/// Sessions, unique by `(tenant, session_key)`.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Returns the session with this key, creating it with the given owner, agent and channel
    /// when it does not exist yet. Safe to call concurrently for the same key.
    async fn get_or_create(
        &self,
        tenant: TenantId,
        key: &SessionKey,
        agent: Option<&Agent>,
        user_id: &str,
        channel: &str,
    ) -> Result<Session, StoreError>;
    async fn get(&self, tenant: TenantId, key: &SessionKey) -> Result<Session, StoreError>;
    /// Sessions matching `filter`, most recently updated first, and how many match in all.
    async fn list(
        &self,
        tenant: TenantId,
        filter: &SessionFilter,
    ) -> Result<(Vec<Session>, u64), StoreError>;
    async fn patch(
        &self,
        tenant: TenantId,
        key: &SessionKey,
        patch: SessionPatch,
    ) -> Result<Session, StoreError>;
    /// Deletes a session and its transcript.
    async fn delete(&self, tenant: TenantId, key: &SessionKey) -> Result<(), StoreError>;
    /// Empties a session: its messages are deleted, the summary cleared, counters reset.
    async fn reset(&self, tenant: TenantId, key: &SessionKey) -> Result<(), StoreError>;
    /// Records a compaction: `summary` stands for every message before `context_start_seq`;
    /// increments `compaction_count`. The transcript itself is kept.
    async fn compact(
        &self,
        session: SessionId,
        summary: &str,
        context_start_seq: i64,
    ) -> Result<(), StoreError>;
    /// Adds a run's token usage to the session's totals.
    async fn add_usage(&self, session: SessionId, usage: &Usage) -> Result<(), StoreError>;
}

/// Context files of agents (AGENTS.md, SOUL.md, IDENTITY.md, USER.md, TOOLS.md, ...).
#[async_trait]
pub trait ContextFileStore: Send + Sync {
    /// Files of an agent ordered by name.
    async fn list(&self, agent: AgentId) -> Result<Vec<ContextFile>, StoreError>;
    async fn get(&self, agent: AgentId, file_name: &str)
    -> Result<Option<ContextFile>, StoreError>;
    /// Creates or replaces a file.
    async fn set(
        &self,
        tenant: TenantId,
        agent: AgentId,
        file_name: &str,
        content: &str,
    ) -> Result<ContextFile, StoreError>;
    /// `user`'s own files of an agent ordered by name (`user_context_files`).
    async fn list_for_user(
        &self,
        agent: AgentId,
        user: &str,
    ) -> Result<Vec<ContextFile>, StoreError>;
    async fn get_for_user(
        &self,
        agent: AgentId,
        user: &str,
        file_name: &str,
    ) -> Result<Option<ContextFile>, StoreError>;
    /// Creates or replaces `user`'s own file; only for a live agent of `tenant`, else
    /// `NotFound("agent")`.
    async fn set_for_user(
        &self,
        tenant: TenantId,
        agent: AgentId,
        user: &str,
        file_name: &str,
        content: &str,
    ) -> Result<ContextFile, StoreError>;
}

/// The append-only transcript of each session.
#[async_trait]
pub trait MessageStore: Send + Sync {
    /// Appends a message, giving it the next `seq` of its session. Concurrent appends to one
    /// session never share or skip a `seq`.
    async fn append(&self, session: SessionId, message: NewMessage) -> Result<Message, StoreError>;
    /// Messages with `seq > after_seq`, in order, at most `limit`.
    async fn list(
        &self,
        session: SessionId,
        after_seq: i64,
        limit: u32,
    ) -> Result<Vec<Message>, StoreError>;
}
