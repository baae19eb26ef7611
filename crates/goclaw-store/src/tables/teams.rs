//! `agent_teams` and `agent_team_members`: teams and who is in them. A team is created with its
//! lead as its first member in one write transaction, the lead selected as a live agent of the
//! team's tenant; a member is added the same way (adding one again changes its role). Every
//! read and write is scoped by tenant: another tenant's team is not found.

use async_trait::async_trait;
use goclaw_core::{
    AgentId, MemberRole, NewTeam, StoreError, Team, TeamMember, TeamPatch, TeamStore, TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{Record, Row, Statement};

const TEAM: &str = "team";
const MEMBER: &str = "team member";

const COLUMNS: &str =
    "id, tenant_id, name, description, lead_agent_id, settings, status, created_at, updated_at";
const JOINED_COLUMNS: &str = "t.id, t.tenant_id, t.name, t.description, t.lead_agent_id, \
                              t.settings, t.status, t.created_at, t.updated_at";
const MEMBER_COLUMNS: &str = "team_id, agent_id, role, joined_at";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO agent_teams (id, tenant_id, name, description, lead_agent_id, settings, \
     status, created_at, updated_at) \
     SELECT ?, a.tenant_id, ?, ?, a.id, ?, 'active', {now}, {now} FROM agents a \
     WHERE a.id = ? AND a.tenant_id = ? AND a.deleted_at IS NULL RETURNING ",
    COLUMNS,
]);
static ADD_LEAD: Statement = Statement::new(
    "INSERT INTO agent_team_members (team_id, agent_id, role, joined_at) \
     VALUES (?, ?, 'lead', {now})",
);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_teams WHERE id = ? AND tenant_id = ?",
]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_teams WHERE tenant_id = ? ORDER BY name {bytewise}, id",
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE agent_teams SET name = COALESCE(?, name), description = COALESCE(?, description), \
     settings = COALESCE(?, settings), status = COALESCE(?, status), updated_at = {now} \
     WHERE id = ? AND tenant_id = ? RETURNING ",
    COLUMNS,
]);
static DELETE: Statement = Statement::new("DELETE FROM agent_teams WHERE id = ? AND tenant_id = ?");
static ADD_MEMBER: Statement = Statement::joined(&[
    "INSERT INTO agent_team_members (team_id, agent_id, role, joined_at) \
     SELECT t.id, a.id, ?, {now} FROM agent_teams t JOIN agents a ON a.tenant_id = t.tenant_id \
     WHERE t.id = ? AND t.tenant_id = ? AND a.id = ? AND a.deleted_at IS NULL \
     ON CONFLICT (team_id, agent_id) DO UPDATE SET role = excluded.role RETURNING ",
    MEMBER_COLUMNS,
]);
static REMOVE_MEMBER: Statement = Statement::new(
    "DELETE FROM agent_team_members WHERE team_id = ? AND agent_id = ? \
     AND team_id IN (SELECT id FROM agent_teams WHERE tenant_id = ?)",
);
static MEMBERS: Statement = Statement::new(
    "SELECT m.team_id, m.agent_id, m.role, m.joined_at FROM agent_team_members m \
     JOIN agent_teams t ON t.id = m.team_id WHERE t.id = ? AND t.tenant_id = ? \
     ORDER BY CASE m.role WHEN 'lead' THEN 0 ELSE 1 END, m.joined_at, m.agent_id",
);
static ACTIVE: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_teams WHERE status = 'active' ORDER BY tenant_id, id",
]);
static TEAMS_OF: Statement = Statement::joined(&[
    "SELECT ",
    JOINED_COLUMNS,
    " FROM agent_teams t JOIN agent_team_members m ON m.team_id = t.id \
     WHERE t.tenant_id = ? AND m.agent_id = ? ORDER BY t.name {bytewise}, t.id",
]);

impl Record for Team {
    const TABLE: &'static str = "agent_teams";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Team {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            name: row.text("name")?,
            description: row.text("description")?,
            lead_agent_id: row.id("lead_agent_id")?,
            settings: row.json("settings")?,
            status: row.text("status")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Record for TeamMember {
    const TABLE: &'static str = "agent_team_members";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(TeamMember {
            team_id: row.id("team_id")?,
            agent_id: row.id("agent_id")?,
            role: row.parse("role", |text| {
                MemberRole::parse(text).ok_or_else(|| format!("role {text:?}"))
            })?,
            joined_at: row.time("joined_at")?,
        })
    }
}

#[async_trait]
impl TeamStore for SqlStore {
    async fn create(&self, team: NewTeam) -> Result<Team, StoreError> {
        let db_error = |e| store_error(e, TEAM);
        let params = [
            Uuid::now_v7().into(),
            (&team.name).into(),
            (&team.description).into(),
            (&team.settings).into(),
            team.lead_agent_id.into(),
            team.tenant_id.into(),
        ];
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let created: Team = tx
            .fetch_optional(&CREATE, &params)
            .await
            .map_err(db_error)?
            .ok_or(StoreError::NotFound("agent"))?
            .decode()?;
        tx.execute(
            &ADD_LEAD,
            &[created.id.into(), created.lead_agent_id.into()],
        )
        .await
        .map_err(|e| store_error(e, MEMBER))?;
        tx.commit().await.map_err(db_error)?;
        Ok(created)
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Team, StoreError> {
        self.pool
            .fetch_one(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, TEAM))?
            .decode()
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<Team>, StoreError> {
        self.pool
            .fetch_all(&LIST, &[tenant.into()])
            .await
            .map_err(|e| store_error(e, TEAM))?
            .decode()
    }

    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: TeamPatch,
    ) -> Result<Team, StoreError> {
        let params = [
            patch.name.as_deref().into(),
            patch.description.as_deref().into(),
            patch.settings.as_ref().into(),
            patch.status.as_deref().into(),
            id.into(),
            tenant.into(),
        ];
        self.pool
            .fetch_one(&UPDATE, &params)
            .await
            .map_err(|e| store_error(e, TEAM))?
            .decode()
    }

    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, TEAM))?;
        if deleted == 0 {
            return Err(StoreError::NotFound(TEAM));
        }
        Ok(())
    }

    async fn add_member(
        &self,
        tenant: TenantId,
        team: Uuid,
        agent: AgentId,
        role: MemberRole,
    ) -> Result<TeamMember, StoreError> {
        let params = [
            role.as_str().into(),
            team.into(),
            tenant.into(),
            agent.into(),
        ];
        if let Some(row) = self
            .pool
            .fetch_optional(&ADD_MEMBER, &params)
            .await
            .map_err(|e| store_error(e, MEMBER))?
        {
            return row.decode();
        }
        // Nothing was selected: the team or the live agent is missing.
        TeamStore::get(self, tenant, team).await?;
        Err(StoreError::NotFound("agent"))
    }

    async fn remove_member(
        &self,
        tenant: TenantId,
        team: Uuid,
        agent: AgentId,
    ) -> Result<(), StoreError> {
        let removed = self
            .pool
            .execute(&REMOVE_MEMBER, &[team.into(), agent.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, MEMBER))?;
        if removed == 0 {
            return Err(StoreError::NotFound(MEMBER));
        }
        Ok(())
    }

    async fn members(&self, tenant: TenantId, team: Uuid) -> Result<Vec<TeamMember>, StoreError> {
        self.pool
            .fetch_all(&MEMBERS, &[team.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, MEMBER))?
            .decode()
    }

    async fn active(&self) -> Result<Vec<Team>, StoreError> {
        self.pool
            .fetch_all(&ACTIVE, &[])
            .await
            .map_err(|e| store_error(e, TEAM))?
            .decode()
    }

    async fn teams_of(&self, tenant: TenantId, agent: AgentId) -> Result<Vec<Team>, StoreError> {
        self.pool
            .fetch_all(&TEAMS_OF, &[tenant.into(), agent.into()])
            .await
            .map_err(|e| store_error(e, TEAM))?
            .decode()
    }
}
