//! Tenants.

use async_trait::async_trait;
use goclaw_core::{StoreError, Tenant, TenantId, TenantStore};

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{Record, Row, Statement};

const COLUMNS: &str = "id, slug, name, status, created_at";

static BY_ID: Statement = Statement::joined(&["SELECT ", COLUMNS, " FROM tenants WHERE id = ?"]);
static BY_SLUG: Statement =
    Statement::joined(&["SELECT ", COLUMNS, " FROM tenants WHERE slug = ?"]);
static ALL: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM tenants ORDER BY created_at, slug",
]);

impl Record for Tenant {
    const TABLE: &'static str = "tenants";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: row.id("id")?,
            slug: row.text("slug")?,
            name: row.text("name")?,
            status: row.text("status")?,
            created_at: row.time("created_at")?,
        })
    }
}

#[async_trait]
impl TenantStore for SqlStore {
    async fn get(&self, id: TenantId) -> Result<Tenant, StoreError> {
        self.pool
            .fetch_one(&BY_ID, &[id.into()])
            .await
            .map_err(|e| store_error(e, "tenant"))?
            .decode()
    }

    async fn get_by_slug(&self, slug: &str) -> Result<Tenant, StoreError> {
        self.pool
            .fetch_one(&BY_SLUG, &[slug.into()])
            .await
            .map_err(|e| store_error(e, "tenant"))?
            .decode()
    }

    async fn list(&self) -> Result<Vec<Tenant>, StoreError> {
        self.pool
            .fetch_all(&ALL, &[])
            .await
            .map_err(|e| store_error(e, "tenant"))?
            .decode()
    }
}
