//! Agent teams: a lead agent and its members, named uniquely in their tenant, with settings
//! (`settings.version` ≥ 2 marks GoClaw's v2 teams, whose task boards the recovery ticker
//! tends). The team's task board is [`crate::team_tasks`].

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// The status of a team that works.
pub const TEAM_ACTIVE: &str = "active";

/// A team as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Team {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// Unique in its tenant.
    pub name: String,
    pub description: String,
    pub lead_agent_id: AgentId,
    /// Settings (a JSON object).
    pub settings: Value,
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// What is needed to store a team; its lead becomes its first member (role `lead`).
#[derive(Debug, Clone, PartialEq)]
pub struct NewTeam {
    pub tenant_id: TenantId,
    pub name: String,
    pub description: String,
    pub lead_agent_id: AgentId,
    pub settings: Value,
}

/// A change to a team; `None` leaves a field as it is.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TeamPatch {
    pub name: Option<String>,
    pub description: Option<String>,
    pub settings: Option<Value>,
    pub status: Option<String>,
}

/// A member's part in a team.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberRole {
    Lead,
    Member,
    /// Judges the results members hand in for review (approves or rejects them).
    Reviewer,
}

impl Team {
    /// GoClaw's version of the team (`settings.version`, 1 when absent): v2 teams and later
    /// have their task boards tended by the recovery ticker.
    pub fn version(&self) -> i64 {
        self.settings
            .get("version")
            .and_then(Value::as_i64)
            .unwrap_or(1)
    }
}

impl MemberRole {
    pub fn as_str(self) -> &'static str {
        match self {
            MemberRole::Lead => "lead",
            MemberRole::Member => "member",
            MemberRole::Reviewer => "reviewer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "lead" => Some(MemberRole::Lead),
            "member" => Some(MemberRole::Member),
            "reviewer" => Some(MemberRole::Reviewer),
            _ => None,
        }
    }
}

/// One agent's membership of a team.
#[derive(Debug, Clone, PartialEq)]
pub struct TeamMember {
    pub team_id: Uuid,
    pub agent_id: AgentId,
    pub role: MemberRole,
    pub joined_at: DateTime<Utc>,
}

/// The teams of every tenant and their members.
#[async_trait]
pub trait TeamStore: Send + Sync {
    /// Stores a team with its lead as a member: `NotFound("agent")` when the lead is not a live
    /// agent of the tenant, `Conflict` when the tenant already has a team of that name.
    async fn create(&self, team: NewTeam) -> Result<Team, StoreError>;

    /// A team of `tenant`; `NotFound` for another tenant's.
    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Team, StoreError>;

    /// The tenant's teams ordered by name.
    async fn list(&self, tenant: TenantId) -> Result<Vec<Team>, StoreError>;

    /// Applies `patch` and returns the result (`Conflict` for a name taken in the tenant).
    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: TeamPatch,
    ) -> Result<Team, StoreError>;

    /// Deletes a team with its members and tasks.
    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError>;

    /// Adds a live agent of the tenant to the team, or changes its role when it is already a
    /// member.
    async fn add_member(
        &self,
        tenant: TenantId,
        team: Uuid,
        agent: AgentId,
        role: MemberRole,
    ) -> Result<TeamMember, StoreError>;

    /// Removes a member; `NotFound("team member")` when the agent is not one.
    async fn remove_member(
        &self,
        tenant: TenantId,
        team: Uuid,
        agent: AgentId,
    ) -> Result<(), StoreError>;

    /// The team's members, the lead first, then by joining time.
    async fn members(&self, tenant: TenantId, team: Uuid) -> Result<Vec<TeamMember>, StoreError>;

    /// Every tenant's `active` teams, for the task-recovery ticker.
    async fn active(&self) -> Result<Vec<Team>, StoreError>;

    /// The teams `agent` is a member of.
    async fn teams_of(&self, tenant: TenantId, agent: AgentId) -> Result<Vec<Team>, StoreError>;
}
