//! `skills`, `skill_agent_grants` and `skill_user_grants`: uploaded skills of each tenant and
//! who they are granted to. A new version of a slug replaces the row's metadata and `SKILL.md`
//! in place (an archived skill comes back active). Every read and write names its tenant, so
//! another tenant's skill is not found; grants select their skill and agent in that tenant.

use async_trait::async_trait;
use goclaw_core::{
    AgentId, NewSkillVersion, Skill, SkillAgentGrant, SkillPatch, SkillStore, SkillUserGrant,
    StoreError, TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Param, Record, Row, Statement};

const SKILL: &str = "skill";
const GRANT: &str = "skill grant";

const COLUMNS: &str = "id, tenant_id, name, slug, description, owner_id, visibility, version, \
                       status, enabled, tags, author, content, file_path, file_size, file_hash, \
                       created_at, updated_at";
const S_COLUMNS: &str = "s.id, s.tenant_id, s.name, s.slug, s.description, s.owner_id, \
                         s.visibility, s.version, s.status, s.enabled, s.tags, s.author, \
                         s.content, s.file_path, s.file_size, s.file_hash, s.created_at, \
                         s.updated_at";

static EXISTS: Statement = Statement::new("SELECT id FROM skills WHERE tenant_id = ? AND slug = ?");
static PUT: Statement = Statement::joined(&[
    "INSERT INTO skills (id, tenant_id, name, slug, description, owner_id, visibility, version, \
     status, enabled, tags, author, content, file_path, file_size, file_hash, created_at, \
     updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active', {true}, ?, ?, ?, ?, ?, ?, {now}, {now}) \
     ON CONFLICT (tenant_id, slug) DO UPDATE SET name = excluded.name, \
     description = excluded.description, version = excluded.version, tags = excluded.tags, \
     author = excluded.author, content = excluded.content, file_path = excluded.file_path, \
     file_size = excluded.file_size, file_hash = excluded.file_hash, \
     visibility = CASE WHEN skills.status = 'archived' THEN 'private' ELSE skills.visibility END, \
     status = 'active', updated_at = excluded.updated_at RETURNING ",
    COLUMNS,
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM skills WHERE id = ? AND tenant_id = ?",
]);
static GET_BY_SLUG: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM skills WHERE tenant_id = ? AND slug = ? AND status = 'active'",
]);
static NEXT_VERSION: Statement = Statement::new(
    "SELECT COALESCE(MAX(version), 0) + 1 AS next FROM skills WHERE tenant_id = ? AND slug = ?",
);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM skills WHERE tenant_id = ? AND status = 'active' ORDER BY name {bytewise}, id",
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE skills SET name = COALESCE(?, name), description = COALESCE(?, description), \
     visibility = COALESCE(?, visibility), enabled = COALESCE(?, enabled), updated_at = {now} \
     WHERE id = ? AND tenant_id = ? RETURNING ",
    COLUMNS,
]);
static SET_TAGS: Statement =
    Statement::new("UPDATE skills SET tags = ? WHERE id = ? AND tenant_id = ?");
static ARCHIVE: Statement = Statement::new(
    "UPDATE skills SET status = 'archived', updated_at = {now} WHERE id = ? AND tenant_id = ?",
);
static DROP_AGENT_GRANTS: Statement =
    Statement::new("DELETE FROM skill_agent_grants WHERE skill_id = ? AND tenant_id = ?");
static DROP_USER_GRANTS: Statement =
    Statement::new("DELETE FROM skill_user_grants WHERE skill_id = ? AND tenant_id = ?");
static GRANT_AGENT: Statement = Statement::new(
    "INSERT INTO skill_agent_grants (id, tenant_id, skill_id, agent_id, pinned_version, \
     granted_by, created_at) \
     SELECT ?, s.tenant_id, s.id, a.id, ?, ?, {now} FROM skills s \
     JOIN agents a ON a.tenant_id = s.tenant_id \
     WHERE s.id = ? AND s.tenant_id = ? AND a.id = ? AND a.deleted_at IS NULL \
     ON CONFLICT (skill_id, agent_id) DO UPDATE SET pinned_version = excluded.pinned_version",
);
static PROMOTE: Statement = Statement::new(
    "UPDATE skills SET visibility = 'internal', updated_at = {now} \
     WHERE id = ? AND tenant_id = ? AND visibility = 'private'",
);
static REVOKE_AGENT: Statement = Statement::new(
    "DELETE FROM skill_agent_grants WHERE skill_id = ? AND tenant_id = ? AND agent_id = ?",
);
static DEMOTE: Statement = Statement::new(
    "UPDATE skills SET visibility = 'private', updated_at = {now} \
     WHERE id = ? AND tenant_id = ? AND visibility = 'internal' \
     AND NOT EXISTS (SELECT 1 FROM skill_agent_grants g WHERE g.skill_id = skills.id)",
);
static GRANT_USER: Statement = Statement::new(
    "INSERT INTO skill_user_grants (id, tenant_id, skill_id, user_id, granted_by, created_at) \
     SELECT ?, s.tenant_id, s.id, ?, ?, {now} FROM skills s WHERE s.id = ? AND s.tenant_id = ? \
     ON CONFLICT (skill_id, user_id) DO NOTHING",
);
static REVOKE_USER: Statement = Statement::new(
    "DELETE FROM skill_user_grants WHERE skill_id = ? AND tenant_id = ? AND user_id = ?",
);
static AGENT_GRANTS: Statement = Statement::new(
    "SELECT skill_id, agent_id, pinned_version, granted_by, created_at FROM skill_agent_grants \
     WHERE skill_id = ? AND tenant_id = ? ORDER BY created_at, agent_id",
);
static USER_GRANTS: Statement = Statement::new(
    "SELECT skill_id, user_id, granted_by, created_at FROM skill_user_grants \
     WHERE skill_id = ? AND tenant_id = ? ORDER BY created_at, user_id {bytewise}",
);
static ACCESSIBLE: Statement = Statement::joined(&[
    "SELECT ",
    S_COLUMNS,
    " FROM skills s WHERE s.tenant_id = ? AND s.status = 'active' AND s.enabled = {true} AND ( \
     s.visibility = 'public' \
     OR (s.visibility = 'private' AND s.owner_id = ?) \
     OR (s.visibility = 'internal' AND ( \
        EXISTS (SELECT 1 FROM skill_agent_grants g WHERE g.skill_id = s.id AND g.agent_id = ?) \
        OR EXISTS (SELECT 1 FROM skill_user_grants u WHERE u.skill_id = s.id AND u.user_id = ?)))) \
     ORDER BY s.name {bytewise}, s.id",
]);

impl Record for Skill {
    const TABLE: &'static str = "skills";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Skill {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            name: row.text("name")?,
            slug: row.text("slug")?,
            description: row.text("description")?,
            owner_id: row.text("owner_id")?,
            visibility: row.text("visibility")?,
            version: row.int("version")?,
            status: row.text("status")?,
            enabled: row.bool("enabled")?,
            tags: row.text_list("tags")?,
            author: row.text("author")?,
            content: row.text("content")?,
            file_path: row.text("file_path")?,
            file_size: row.int("file_size")?,
            file_hash: row.text("file_hash")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Record for SkillAgentGrant {
    const TABLE: &'static str = "skill_agent_grants";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(SkillAgentGrant {
            skill_id: row.id("skill_id")?,
            agent_id: row.id("agent_id")?,
            pinned_version: row.int("pinned_version")?,
            granted_by: row.text("granted_by")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Record for SkillUserGrant {
    const TABLE: &'static str = "skill_user_grants";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(SkillUserGrant {
            skill_id: row.id("skill_id")?,
            user_id: row.text("user_id")?,
            granted_by: row.text("granted_by")?,
            created_at: row.time("created_at")?,
        })
    }
}

#[async_trait]
impl SkillStore for SqlStore {
    async fn put_version(&self, skill: NewSkillVersion) -> Result<(Skill, bool), StoreError> {
        let db_error = |e| store_error_with_parent(e, SKILL, "tenant");
        let tags: Vec<&str> = skill.tags.iter().map(String::as_str).collect();
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let existed = tx
            .fetch_optional(&EXISTS, &[skill.tenant_id.into(), (&skill.slug).into()])
            .await
            .map_err(db_error)?
            .is_some();
        let params = [
            Uuid::now_v7().into(),
            skill.tenant_id.into(),
            (&skill.name).into(),
            (&skill.slug).into(),
            (&skill.description).into(),
            (&skill.owner_id).into(),
            (&skill.visibility).into(),
            skill.version.into(),
            Param::TextList(&tags),
            (&skill.author).into(),
            (&skill.content).into(),
            (&skill.file_path).into(),
            skill.file_size.into(),
            (&skill.file_hash).into(),
        ];
        let stored: Skill = tx
            .fetch_one(&PUT, &params)
            .await
            .map_err(db_error)?
            .decode()?;
        tx.commit().await.map_err(db_error)?;
        Ok((stored, !existed))
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Skill, StoreError> {
        self.pool
            .fetch_optional(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, SKILL))?
            .ok_or(StoreError::NotFound(SKILL))?
            .decode()
    }

    async fn get_by_slug(&self, tenant: TenantId, slug: &str) -> Result<Skill, StoreError> {
        self.pool
            .fetch_optional(&GET_BY_SLUG, &[tenant.into(), slug.into()])
            .await
            .map_err(|e| store_error(e, SKILL))?
            .ok_or(StoreError::NotFound(SKILL))?
            .decode()
    }

    async fn next_version(&self, tenant: TenantId, slug: &str) -> Result<i64, StoreError> {
        let row = self
            .pool
            .fetch_one(&NEXT_VERSION, &[tenant.into(), slug.into()])
            .await
            .map_err(|e| store_error(e, SKILL))?;
        row.read("skills").int("next")
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<Skill>, StoreError> {
        self.pool
            .fetch_all(&LIST, &[tenant.into()])
            .await
            .map_err(|e| store_error(e, SKILL))?
            .decode()
    }

    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: SkillPatch,
    ) -> Result<Skill, StoreError> {
        let db_error = |e| store_error(e, SKILL);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        if let Some(tags) = &patch.tags {
            let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
            tx.execute(
                &SET_TAGS,
                &[Param::TextList(&tags), id.into(), tenant.into()],
            )
            .await
            .map_err(db_error)?;
        }
        let params = [
            patch.name.as_deref().into(),
            patch.description.as_deref().into(),
            patch.visibility.as_deref().into(),
            patch.enabled.into(),
            id.into(),
            tenant.into(),
        ];
        let updated: Skill = tx
            .fetch_optional(&UPDATE, &params)
            .await
            .map_err(db_error)?
            .ok_or(StoreError::NotFound(SKILL))?
            .decode()?;
        tx.commit().await.map_err(db_error)?;
        Ok(updated)
    }

    async fn archive(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let db_error = |e| store_error(e, SKILL);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let archived = tx
            .execute(&ARCHIVE, &[id.into(), tenant.into()])
            .await
            .map_err(db_error)?;
        if archived == 0 {
            return Err(StoreError::NotFound(SKILL));
        }
        for statement in [&DROP_AGENT_GRANTS, &DROP_USER_GRANTS] {
            tx.execute(statement, &[id.into(), tenant.into()])
                .await
                .map_err(db_error)?;
        }
        tx.commit().await.map_err(db_error)
    }

    async fn grant_agent(
        &self,
        tenant: TenantId,
        skill: Uuid,
        agent: AgentId,
        version: i64,
        granted_by: &str,
    ) -> Result<(), StoreError> {
        let db_error = |e| store_error(e, GRANT);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let params = [
            Uuid::now_v7().into(),
            version.into(),
            granted_by.into(),
            skill.into(),
            tenant.into(),
            agent.into(),
        ];
        if tx.execute(&GRANT_AGENT, &params).await.map_err(db_error)? == 0 {
            return Err(StoreError::NotFound("skill or agent"));
        }
        tx.execute(&PROMOTE, &[skill.into(), tenant.into()])
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)
    }

    async fn revoke_agent(
        &self,
        tenant: TenantId,
        skill: Uuid,
        agent: AgentId,
    ) -> Result<bool, StoreError> {
        let db_error = |e| store_error(e, GRANT);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        let revoked = tx
            .execute(&REVOKE_AGENT, &[skill.into(), tenant.into(), agent.into()])
            .await
            .map_err(db_error)?;
        tx.execute(&DEMOTE, &[skill.into(), tenant.into()])
            .await
            .map_err(db_error)?;
        tx.commit().await.map_err(db_error)?;
        Ok(revoked > 0)
    }

    async fn grant_user(
        &self,
        tenant: TenantId,
        skill: Uuid,
        user: &str,
        granted_by: &str,
    ) -> Result<(), StoreError> {
        let params = [
            Uuid::now_v7().into(),
            user.into(),
            granted_by.into(),
            skill.into(),
            tenant.into(),
        ];
        self.pool
            .execute(&GRANT_USER, &params)
            .await
            .map_err(|e| store_error(e, GRANT))?;
        // Granting twice selects the skill and changes nothing; a missing skill selects none.
        self.get(tenant, skill).await.map(|_| ())
    }

    async fn revoke_user(
        &self,
        tenant: TenantId,
        skill: Uuid,
        user: &str,
    ) -> Result<bool, StoreError> {
        let revoked = self
            .pool
            .execute(&REVOKE_USER, &[skill.into(), tenant.into(), user.into()])
            .await
            .map_err(|e| store_error(e, GRANT))?;
        Ok(revoked > 0)
    }

    async fn agent_grants(
        &self,
        tenant: TenantId,
        skill: Uuid,
    ) -> Result<Vec<SkillAgentGrant>, StoreError> {
        self.pool
            .fetch_all(&AGENT_GRANTS, &[skill.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, GRANT))?
            .decode()
    }

    async fn user_grants(
        &self,
        tenant: TenantId,
        skill: Uuid,
    ) -> Result<Vec<SkillUserGrant>, StoreError> {
        self.pool
            .fetch_all(&USER_GRANTS, &[skill.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, GRANT))?
            .decode()
    }

    async fn accessible(
        &self,
        tenant: TenantId,
        agent: Option<AgentId>,
        user: &str,
    ) -> Result<Vec<Skill>, StoreError> {
        let agent: Param<'_> = match agent {
            Some(agent) => agent.into(),
            None => Param::Id(None),
        };
        self.pool
            .fetch_all(
                &ACCESSIBLE,
                &[tenant.into(), user.into(), agent, user.into()],
            )
            .await
            .map_err(|e| store_error(e, SKILL))?
            .decode()
    }
}
