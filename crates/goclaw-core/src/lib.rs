//! Domain types and service traits shared by every goclaw crate.
//!
//! This crate owns the vocabulary of the gateway — tenants, agents, sessions, messages — and
//! the traits behind which storage lives (`Store` and its sub-stores). It knows nothing about
//! SQL, HTTP, WebSocket frames or any particular async IO: other crates implement these traits
//! and the gateway talks to them only through these traits.
#![forbid(unsafe_code)]

pub mod agent_links;
pub mod api_keys;
pub mod caller;
pub mod channel_instances;
pub mod channel_queue;
pub mod clock;
pub mod cron;
pub mod domain;
pub mod episodic;
pub mod exec_approvals;
pub mod heartbeat;
pub mod hooks;
pub mod knowledge;
pub mod llm;
pub mod mcp_servers;
pub mod media;
pub mod memory;
pub mod mime;
pub mod pairing;
pub mod pricing;
pub mod providers;
pub mod sandbox;
pub mod sandbox_process;
pub mod secrets;
pub mod skills;
pub mod store;
pub mod subagent_tasks;
pub mod system_configs;
pub mod task_trail;
pub mod team_tasks;
pub mod teams;
pub mod tenants;
pub mod tool;
pub mod traces;
pub mod turns;
pub mod vault;
pub mod webhook;

pub use agent_links::{
    AgentLink, AgentLinkPatch, AgentLinkStore, DEFAULT_LINK_MAX_CONCURRENT, LINK_ACTIVE,
    LinkDirection, NewAgentLink,
};
pub use api_keys::{ApiKey, ApiKeyId, ApiKeyScope, ApiKeyStore, NewApiKey};
pub use caller::{SessionNamespace, Trust};
pub use channel_instances::{
    CHANNEL_TYPES, ChannelInstance, ChannelInstancePatch, ChannelInstanceQuery,
    ChannelInstanceStore, NewChannelInstance, is_default_instance,
};
pub use channel_queue::{
    ChannelQueueStore, Inbound, InboundStatus, NewInbound, NewOutbound, Outbound, OutboundStatus,
};
pub use cron::{
    CronClaim, CronJob, CronJobPatch, CronPayload, CronRun, CronRunEnd, CronRunStatus,
    CronSchedule, CronStore, NewCronJob, ScheduleChange, ScheduleError,
};
pub use domain::{
    Agent, AgentId, AgentKey, AgentPatch, ChannelChat, ContextFile, MASTER_TENANT_ID,
    MASTER_TENANT_SLUG, Message, MessageId, NewAgent, NewMessage, ParseError, Role, Session,
    SessionFilter, SessionId, SessionKey, SessionPatch, Tenant, TenantId,
};
pub use episodic::{
    Episode, EpisodicScope, EpisodicStore, IdleSession, NewEpisode, ScoredEpisode, SweepCursor,
};
pub use exec_approvals::{ExecApproval, ExecApprovalStore, NewExecApproval};
pub use heartbeat::{
    Heartbeat, HeartbeatConfig, HeartbeatRun, HeartbeatStatus, HeartbeatStore, NewHeartbeatRun,
};
pub use hooks::{
    DEFAULT_HOOK_SOURCE, DEFAULT_HOOK_TIMEOUT_MS, Decision, HOOK_ERROR_CHARS, HandlerType, Hook,
    HookEvent, HookExecution, HookFilter, HookScope, HookStore, MAX_HOOK_TIMEOUT_MS,
};
pub use knowledge::{
    DedupCandidate, Entity, GraphCounts, GraphScope, KnowledgeGraphStore, NewEntity, NewRelation,
    Relation, SimilarEntity,
};
pub use llm::{
    ChatMessage, ChatRequest, ChatResponse, ChatRole, ContentPart, DeltaSink, ModelInfo, Provider,
    ProviderError, StopReason, StreamDelta, SystemPart, ToolCall, ToolDefinition, Usage,
};
pub use mcp_servers::{
    McpAccess, McpAgentGrant, McpServer, McpServerPatch, McpServerStore, NewMcpServer,
    ToolFilter as McpToolFilter,
};
pub use media::{MAX_IMAGE_BYTES, MediaRef, image_type_of, media_refs};
pub use memory::{
    EMBEDDING_DIMENSIONS, EmbeddingKey, MemoryChunk, MemoryDocument, MemoryScope, MemoryStore,
    NewMemoryChunk, NewMemoryDocument, ScoredChunk,
};
pub use mime::mime_of_name;
pub use pairing::{NewPairingRequest, PairedDevice, PairingAsked, PairingRequest, PairingStore};
pub use pricing::{ModelPrice, PriceList};
pub use providers::{
    LlmProvider, LlmProviderPatch, LlmProviderStore, NewLlmProvider, ProviderName,
};
pub use sandbox::{
    PruneReason, PruneReport, SANDBOX_WORKDIR, Sandbox, SandboxError, SandboxExec, SandboxInfo,
    SandboxOutput,
};
pub use sandbox_process::{
    ProcessOutput, ProcessReaper, ProcessStdin, SandboxProcess, SandboxSpawn,
};
pub use secrets::{EncryptedValue, SecretRef, SecretStore};
pub use skills::{
    NewSkillVersion, SKILL_VISIBILITIES, Skill, SkillAgentGrant, SkillDocument, SkillPatch,
    SkillStore, SkillUserGrant, is_valid_skill_slug, slugify_skill_name,
};
pub use store::{
    AgentStore, ContextFileStore, MessageStore, SessionStore, Store, StoreBackend, StoreError,
    TenantStore,
};
pub use subagent_tasks::{
    NewSubagentTask, SubagentOutcome, SubagentStatus, SubagentTask, SubagentTaskStore,
};
pub use system_configs::{
    EMBEDDING_MODEL_KEY, EMBEDDING_PROVIDER_KEY, SystemConfigStore, is_valid_system_config_key,
};
pub use task_trail::{
    ActorKind, Followup, NewTaskAttachment, NewTaskEvent, NewTaskFollowup, TaskAttachment,
    TaskCounts, TaskEvent, TaskTrailStore,
};
pub use team_tasks::{
    CommentKind, DEFAULT_TASK_LOCK, NewTaskComment, NewTeamTask, TaskComment, TaskEnded, TaskQuery,
    TaskStatus, TeamTask, TeamTaskStore,
};
pub use teams::{MemberRole, NewTeam, TEAM_ACTIVE, Team, TeamMember, TeamPatch, TeamStore};
pub use tenants::{
    MAX_TENANT_NAME_LEN, MAX_TENANT_SLUG_LEN, MAX_TENANT_USER_ID_LEN, NewTenant, NewTenantUser,
    TenantPatch, TenantRole, TenantStatus, TenantUser, is_valid_tenant_slug,
};
pub use tool::{Tool, ToolContext, ToolOutput};
pub use traces::{
    RequestCounts, Span, TRACE_RUNNING, Trace, TraceFilter, TraceStore, UsageGrouping, UsageQuery,
    UsageTotals,
};
pub use turns::{MAX_IDEMPOTENCY_KEY_BYTES, NewTurn, Turn, TurnEnd, TurnStatus, TurnStore};
pub use vault::{
    NewVaultDocument, NewVaultLink, ScoredVaultDocument, VaultBacklink, VaultDocument, VaultFilter,
    VaultLink, VaultOwner, VaultScope, VaultStore, VaultView,
};
pub use webhook::{
    CallMode, CallStatus, CallUpdate, NewWebhook, NewWebhookCall, Webhook, WebhookCall,
    WebhookKind, WebhookPatch, WebhookSecret, WebhookStore,
};

/// The WebSocket/HTTP protocol version this gateway speaks.
pub const PROTOCOL_VERSION: u32 = 3;
