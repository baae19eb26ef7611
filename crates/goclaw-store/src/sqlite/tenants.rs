//! Tenants on SQLite.

use async_trait::async_trait;
use goclaw_core::{StoreError, Tenant, TenantId, TenantStore};

use super::{SqliteStore, parse_id, parse_time};
use crate::error::store_error;

const COLUMNS: &str = "id, slug, name, status, created_at";

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: String,
    slug: String,
    name: String,
    status: String,
    created_at: String,
}

impl TryFrom<TenantRow> for Tenant {
    type Error = StoreError;

    fn try_from(row: TenantRow) -> Result<Self, StoreError> {
        Ok(Tenant {
            id: parse_id("tenants", &row.id)?,
            slug: row.slug,
            name: row.name,
            status: row.status,
            created_at: parse_time("tenants", &row.created_at)?,
        })
    }
}

#[async_trait]
impl TenantStore for SqliteStore {
    async fn get(&self, id: TenantId) -> Result<Tenant, StoreError> {
        sqlx::query_as::<_, TenantRow>(&format!("SELECT {COLUMNS} FROM tenants WHERE id = ?"))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "tenant"))?
            .try_into()
    }

    async fn get_by_slug(&self, slug: &str) -> Result<Tenant, StoreError> {
        sqlx::query_as::<_, TenantRow>(&format!("SELECT {COLUMNS} FROM tenants WHERE slug = ?"))
            .bind(slug)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "tenant"))?
            .try_into()
    }

    async fn list(&self) -> Result<Vec<Tenant>, StoreError> {
        sqlx::query_as::<_, TenantRow>(&format!(
            "SELECT {COLUMNS} FROM tenants ORDER BY created_at, slug"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| store_error(e, "tenant"))?
        .into_iter()
        .map(Tenant::try_from)
        .collect()
    }
}
