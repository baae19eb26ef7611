//! `tenants` and `tenant_users`: tenants, created and changed by owners, and the memberships
//! that admit users to them. Adding a member who already belongs changes its role and name;
//! a membership goes with its tenant (`ON DELETE CASCADE`).

use async_trait::async_trait;
use goclaw_core::{
    NewTenant, NewTenantUser, StoreError, Tenant, TenantId, TenantPatch, TenantRole, TenantStore,
    TenantUser,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Record, Row, Statement};

const TENANT: &str = "tenant";
const MEMBER: &str = "tenant user";

const COLUMNS: &str = "id, slug, name, status, settings, created_at, updated_at";
const USER_COLUMNS: &str =
    "id, tenant_id, user_id, role, display_name, metadata, created_at, updated_at";

static BY_ID: Statement = Statement::joined(&["SELECT ", COLUMNS, " FROM tenants WHERE id = ?"]);
static BY_SLUG: Statement =
    Statement::joined(&["SELECT ", COLUMNS, " FROM tenants WHERE slug = ?"]);
static ALL: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM tenants ORDER BY created_at, slug",
]);
static CREATE: Statement = Statement::joined(&[
    "INSERT INTO tenants (id, slug, name, status, settings, created_at, updated_at) \
     VALUES (?, ?, ?, 'active', ?, {now}, {now}) RETURNING ",
    COLUMNS,
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE tenants SET name = COALESCE(?, name), status = COALESCE(?, status), \
     settings = COALESCE(?, settings), updated_at = {now} WHERE id = ? RETURNING ",
    COLUMNS,
]);
static ADD_USER: Statement = Statement::joined(&[
    "INSERT INTO tenant_users (id, tenant_id, user_id, role, display_name, metadata, \
     created_at, updated_at) VALUES (?, ?, ?, ?, ?, '{}', {now}, {now}) \
     ON CONFLICT (tenant_id, user_id) DO UPDATE SET role = excluded.role, \
     display_name = COALESCE(excluded.display_name, tenant_users.display_name), \
     updated_at = excluded.updated_at RETURNING ",
    USER_COLUMNS,
]);
static REMOVE_USER: Statement =
    Statement::new("DELETE FROM tenant_users WHERE tenant_id = ? AND user_id = ?");
static USERS: Statement = Statement::joined(&[
    "SELECT ",
    USER_COLUMNS,
    " FROM tenant_users WHERE tenant_id = ? ORDER BY user_id {bytewise}",
]);
static ROLE: Statement =
    Statement::new("SELECT role FROM tenant_users WHERE tenant_id = ? AND user_id = ?");
static MEMBERSHIPS: Statement = Statement::joined(&[
    "SELECT ",
    USER_COLUMNS,
    " FROM tenant_users WHERE user_id = ? ORDER BY created_at, tenant_id",
]);

impl Record for Tenant {
    const TABLE: &'static str = "tenants";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: row.id("id")?,
            slug: row.text("slug")?,
            name: row.text("name")?,
            status: row.text("status")?,
            settings: row.json("settings")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

fn role(row: &Row<'_>) -> Result<TenantRole, StoreError> {
    row.parse("role", |text| {
        TenantRole::parse(text).map_err(|e| e.to_string())
    })
}

impl Record for TenantUser {
    const TABLE: &'static str = "tenant_users";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(TenantUser {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            user_id: row.text("user_id")?,
            role: role(row)?,
            display_name: row.opt_text("display_name")?,
            metadata: row.json("metadata")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

#[async_trait]
impl TenantStore for SqlStore {
    async fn get(&self, id: TenantId) -> Result<Tenant, StoreError> {
        self.pool
            .fetch_one(&BY_ID, &[id.into()])
            .await
            .map_err(|e| store_error(e, TENANT))?
            .decode()
    }

    async fn get_by_slug(&self, slug: &str) -> Result<Tenant, StoreError> {
        self.pool
            .fetch_one(&BY_SLUG, &[slug.into()])
            .await
            .map_err(|e| store_error(e, TENANT))?
            .decode()
    }

    async fn list(&self) -> Result<Vec<Tenant>, StoreError> {
        self.pool
            .fetch_all(&ALL, &[])
            .await
            .map_err(|e| store_error(e, TENANT))?
            .decode()
    }

    async fn create(&self, tenant: NewTenant) -> Result<Tenant, StoreError> {
        let params = [
            tenant.id.into(),
            tenant.slug.as_str().into(),
            tenant.name.as_str().into(),
            (&tenant.settings).into(),
        ];
        self.pool
            .fetch_one(&CREATE, &params)
            .await
            .map_err(|e| store_error(e, TENANT))?
            .decode()
    }

    async fn update(&self, id: TenantId, patch: TenantPatch) -> Result<Tenant, StoreError> {
        let params = [
            patch.name.as_deref().into(),
            patch.status.map(|s| s.as_str()).into(),
            patch.settings.as_ref().into(),
            id.into(),
        ];
        self.pool
            .fetch_one(&UPDATE, &params)
            .await
            .map_err(|e| store_error(e, TENANT))?
            .decode()
    }

    async fn add_user(&self, user: NewTenantUser) -> Result<TenantUser, StoreError> {
        let params = [
            Uuid::new_v4().into(),
            user.tenant_id.into(),
            user.user_id.as_str().into(),
            user.role.as_str().into(),
            user.display_name.as_deref().into(),
        ];
        self.pool
            .fetch_one(&ADD_USER, &params)
            .await
            .map_err(|e| store_error_with_parent(e, MEMBER, TENANT))?
            .decode()
    }

    async fn remove_user(&self, tenant: TenantId, user_id: &str) -> Result<bool, StoreError> {
        let removed = self
            .pool
            .execute(&REMOVE_USER, &[tenant.into(), user_id.into()])
            .await
            .map_err(|e| store_error(e, MEMBER))?;
        Ok(removed > 0)
    }

    async fn users(&self, tenant: TenantId) -> Result<Vec<TenantUser>, StoreError> {
        self.pool
            .fetch_all(&USERS, &[tenant.into()])
            .await
            .map_err(|e| store_error(e, MEMBER))?
            .decode()
    }

    async fn user_role(
        &self,
        tenant: TenantId,
        user_id: &str,
    ) -> Result<Option<TenantRole>, StoreError> {
        let row = self
            .pool
            .fetch_optional(&ROLE, &[tenant.into(), user_id.into()])
            .await
            .map_err(|e| store_error(e, MEMBER))?;
        row.map(|row| role(&row.read("tenant_users"))).transpose()
    }

    async fn memberships(&self, user_id: &str) -> Result<Vec<TenantUser>, StoreError> {
        self.pool
            .fetch_all(&MEMBERSHIPS, &[user_id.into()])
            .await
            .map_err(|e| store_error(e, MEMBER))?
            .decode()
    }
}
