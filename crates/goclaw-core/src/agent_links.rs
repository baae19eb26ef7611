//! Delegation links: which agent may hand work to which. A link joins a source agent to a
//! target agent of the same tenant; its direction says who may delegate (`outbound`: the
//! source to the target, `inbound`: the target to the source, `bidirectional`: both), its
//! `max_concurrent` caps the delegations running over it at once (3 unless set), and only an
//! `active` link counts. One link per ordered pair, never from an agent to itself.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// GoClaw's default cap on the delegations running over one link.
pub const DEFAULT_LINK_MAX_CONCURRENT: i32 = 3;

/// The status of a link that counts.
pub const LINK_ACTIVE: &str = "active";

/// Who may delegate over a link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkDirection {
    /// The source may delegate to the target.
    Outbound,
    /// The target may delegate to the source.
    Inbound,
    /// Either may delegate to the other.
    Bidirectional,
}

impl LinkDirection {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkDirection::Outbound => "outbound",
            LinkDirection::Inbound => "inbound",
            LinkDirection::Bidirectional => "bidirectional",
        }
    }

    /// The direction GoClaw spells `text`; `None` for anything else.
    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "outbound" => Some(LinkDirection::Outbound),
            "inbound" => Some(LinkDirection::Inbound),
            "bidirectional" => Some(LinkDirection::Bidirectional),
            _ => None,
        }
    }
}

/// A delegation link as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct AgentLink {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub source_agent_id: AgentId,
    pub target_agent_id: AgentId,
    pub direction: LinkDirection,
    /// Most delegations running over this link at once.
    pub max_concurrent: i32,
    /// Settings (a JSON object).
    pub settings: Value,
    /// `active` counts; anything else (`disabled`, ...) does not.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What is needed to store a link.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAgentLink {
    pub tenant_id: TenantId,
    pub source_agent_id: AgentId,
    pub target_agent_id: AgentId,
    pub direction: LinkDirection,
    pub max_concurrent: i32,
    pub settings: Value,
    pub status: String,
}

impl NewAgentLink {
    /// An active outbound link from `source` to `target` with GoClaw's defaults.
    pub fn new(tenant_id: TenantId, source: AgentId, target: AgentId) -> Self {
        Self {
            tenant_id,
            source_agent_id: source,
            target_agent_id: target,
            direction: LinkDirection::Outbound,
            max_concurrent: DEFAULT_LINK_MAX_CONCURRENT,
            settings: Value::Object(Default::default()),
            status: LINK_ACTIVE.to_owned(),
        }
    }
}

/// A change to a link; `None` leaves a field as it is. Its two agents never change.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AgentLinkPatch {
    pub direction: Option<LinkDirection>,
    pub max_concurrent: Option<i32>,
    pub settings: Option<Value>,
    pub status: Option<String>,
}

/// The delegation links of every tenant.
#[async_trait]
pub trait AgentLinkStore: Send + Sync {
    /// Stores a link between two live agents of its tenant: `NotFound("agent")` when either is
    /// missing, `Conflict` when the pair is already linked or both ends are the same agent.
    async fn create(&self, link: NewAgentLink) -> Result<AgentLink, StoreError>;

    /// A link of `tenant`; `NotFound` for another tenant's.
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<AgentLink, StoreError>;

    /// The links whose source is `source`, oldest first.
    async fn list_from(
        &self,
        tenant: TenantId,
        source: AgentId,
    ) -> Result<Vec<AgentLink>, StoreError>;

    /// The links whose target is `target`, oldest first.
    async fn list_to(
        &self,
        tenant: TenantId,
        target: AgentId,
    ) -> Result<Vec<AgentLink>, StoreError>;

    /// Applies `patch` and returns the result.
    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: AgentLinkPatch,
    ) -> Result<AgentLink, StoreError>;

    /// Deletes a link; `NotFound` when `tenant` has no such link.
    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError>;

    /// The active link that lets `source` delegate to `target`, if there is one: a link
    /// `source → target` that is outbound or bidirectional, or `target → source` that is
    /// inbound or bidirectional; neither agent deleted.
    async fn delegation_link(
        &self,
        tenant: TenantId,
        source: AgentId,
        target: AgentId,
    ) -> Result<Option<AgentLink>, StoreError>;

    /// Whether `source` may delegate to `target` ([`AgentLinkStore::delegation_link`]).
    async fn can_delegate(
        &self,
        tenant: TenantId,
        source: AgentId,
        target: AgentId,
    ) -> Result<bool, StoreError> {
        Ok(self
            .delegation_link(tenant, source, target)
            .await?
            .is_some())
    }
}
