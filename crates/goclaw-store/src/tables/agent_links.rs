//! `agent_links`: who may delegate to whom. A link is written by selecting both of its agents
//! as live agents of its tenant, so none points across tenants or at a deleted agent; the pair
//! is unique (`Conflict`), and a link from an agent to itself is refused before any SQL (the
//! table's `CHECK` holds the same rule). `delegation_link` reads the direction both ways and ignores a link to or from a deleted agent
//! (agents are soft-deleted, so their links stay until the agent row goes).

use async_trait::async_trait;
use goclaw_core::{
    AgentId, AgentLink, AgentLinkPatch, AgentLinkStore, LinkDirection, NewAgentLink, StoreError,
    TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{Record, Row, Statement};

const LINK: &str = "agent link";

const COLUMNS: &str = "id, tenant_id, source_agent_id, target_agent_id, direction, \
                       max_concurrent, settings, status, created_at, updated_at";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO agent_links (id, tenant_id, source_agent_id, target_agent_id, direction, \
     max_concurrent, settings, status, created_at, updated_at) \
     SELECT ?, s.tenant_id, s.id, t.id, ?, ?, ?, ?, {now}, {now} \
     FROM agents s JOIN agents t ON t.tenant_id = s.tenant_id \
     WHERE s.tenant_id = ? AND s.id = ? AND t.id = ? \
     AND s.deleted_at IS NULL AND t.deleted_at IS NULL RETURNING ",
    COLUMNS,
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_links WHERE id = ? AND tenant_id = ?",
]);
static LIST_FROM: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_links WHERE tenant_id = ? AND source_agent_id = ? ORDER BY created_at, id",
]);
static LIST_TO: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_links WHERE tenant_id = ? AND target_agent_id = ? ORDER BY created_at, id",
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE agent_links SET direction = COALESCE(?, direction), \
     max_concurrent = COALESCE(?, max_concurrent), settings = COALESCE(?, settings), \
     status = COALESCE(?, status), updated_at = {now} \
     WHERE id = ? AND tenant_id = ? RETURNING ",
    COLUMNS,
]);
static DELETE: Statement = Statement::new("DELETE FROM agent_links WHERE id = ? AND tenant_id = ?");
/// Parameters: tenant, source, target, target, source.
static DELEGATION_LINK: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM agent_links WHERE tenant_id = ? AND status = 'active' AND (\
     (source_agent_id = ? AND target_agent_id = ? AND direction IN ('outbound', 'bidirectional')) \
     OR (source_agent_id = ? AND target_agent_id = ? AND direction IN ('inbound', 'bidirectional'))) \
     AND NOT EXISTS (SELECT 1 FROM agents a WHERE a.id IN (source_agent_id, target_agent_id) \
     AND a.deleted_at IS NOT NULL) ORDER BY created_at LIMIT 1",
]);

impl Record for AgentLink {
    const TABLE: &'static str = "agent_links";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(AgentLink {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            source_agent_id: row.id("source_agent_id")?,
            target_agent_id: row.id("target_agent_id")?,
            direction: row.parse("direction", |text| {
                LinkDirection::parse(text).ok_or_else(|| format!("direction {text:?}"))
            })?,
            max_concurrent: row.int32("max_concurrent")?,
            settings: row.json("settings")?,
            status: row.text("status")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

#[async_trait]
impl AgentLinkStore for SqlStore {
    async fn create(&self, link: NewAgentLink) -> Result<AgentLink, StoreError> {
        if link.source_agent_id == link.target_agent_id {
            return Err(StoreError::Conflict(
                "agent link from an agent to itself".to_owned(),
            ));
        }
        let params = [
            Uuid::now_v7().into(),
            link.direction.as_str().into(),
            link.max_concurrent.into(),
            (&link.settings).into(),
            (&link.status).into(),
            link.tenant_id.into(),
            link.source_agent_id.into(),
            link.target_agent_id.into(),
        ];
        self.pool
            .fetch_optional(&CREATE, &params)
            .await
            .map_err(|e| store_error(e, LINK))?
            .ok_or(StoreError::NotFound("agent"))?
            .decode()
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<AgentLink, StoreError> {
        self.pool
            .fetch_one(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, LINK))?
            .decode()
    }

    async fn list_from(
        &self,
        tenant: TenantId,
        source: AgentId,
    ) -> Result<Vec<AgentLink>, StoreError> {
        self.pool
            .fetch_all(&LIST_FROM, &[tenant.into(), source.into()])
            .await
            .map_err(|e| store_error(e, LINK))?
            .decode()
    }

    async fn list_to(
        &self,
        tenant: TenantId,
        target: AgentId,
    ) -> Result<Vec<AgentLink>, StoreError> {
        self.pool
            .fetch_all(&LIST_TO, &[tenant.into(), target.into()])
            .await
            .map_err(|e| store_error(e, LINK))?
            .decode()
    }

    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: AgentLinkPatch,
    ) -> Result<AgentLink, StoreError> {
        let params = [
            patch.direction.map(LinkDirection::as_str).into(),
            patch.max_concurrent.map(i64::from).into(),
            patch.settings.as_ref().into(),
            patch.status.as_deref().into(),
            id.into(),
            tenant.into(),
        ];
        self.pool
            .fetch_one(&UPDATE, &params)
            .await
            .map_err(|e| store_error(e, LINK))?
            .decode()
    }

    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, LINK))?;
        if deleted == 0 {
            return Err(StoreError::NotFound(LINK));
        }
        Ok(())
    }

    async fn delegation_link(
        &self,
        tenant: TenantId,
        source: AgentId,
        target: AgentId,
    ) -> Result<Option<AgentLink>, StoreError> {
        let params = [
            tenant.into(),
            source.into(),
            target.into(),
            target.into(),
            source.into(),
        ];
        self.pool
            .fetch_optional(&DELEGATION_LINK, &params)
            .await
            .map_err(|e| store_error(e, LINK))?
            .map(|row| row.decode())
            .transpose()
    }
}
