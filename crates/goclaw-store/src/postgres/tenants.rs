//! Tenants on PostgreSQL.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{StoreError, Tenant, TenantId, TenantStore};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::store_error;

const COLUMNS: &str = "id, slug, name, status, created_at";

#[derive(sqlx::FromRow)]
struct TenantRow {
    id: Uuid,
    slug: String,
    name: String,
    status: String,
    created_at: DateTime<Utc>,
}

impl From<TenantRow> for Tenant {
    fn from(row: TenantRow) -> Self {
        Tenant {
            id: TenantId::from_uuid(row.id),
            slug: row.slug,
            name: row.name,
            status: row.status,
            created_at: row.created_at,
        }
    }
}

#[async_trait]
impl TenantStore for PostgresStore {
    async fn get(&self, id: TenantId) -> Result<Tenant, StoreError> {
        sqlx::query_as::<_, TenantRow>(&format!("SELECT {COLUMNS} FROM tenants WHERE id = $1"))
            .bind(id.as_uuid())
            .fetch_one(&self.pool)
            .await
            .map(Tenant::from)
            .map_err(|e| store_error(e, "tenant"))
    }

    async fn get_by_slug(&self, slug: &str) -> Result<Tenant, StoreError> {
        sqlx::query_as::<_, TenantRow>(&format!("SELECT {COLUMNS} FROM tenants WHERE slug = $1"))
            .bind(slug)
            .fetch_one(&self.pool)
            .await
            .map(Tenant::from)
            .map_err(|e| store_error(e, "tenant"))
    }

    async fn list(&self) -> Result<Vec<Tenant>, StoreError> {
        let rows = sqlx::query_as::<_, TenantRow>(&format!(
            "SELECT {COLUMNS} FROM tenants ORDER BY created_at, slug"
        ))
        .fetch_all(&self.pool)
        .await
        .map_err(|e| store_error(e, "tenant"))?;
        Ok(rows.into_iter().map(Tenant::from).collect())
    }
}
