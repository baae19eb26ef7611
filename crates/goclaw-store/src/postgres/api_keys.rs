//! Gateway API keys on PostgreSQL: scopes are a `TEXT[]` of names.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{ApiKey, ApiKeyId, ApiKeyScope, ApiKeyStore, NewApiKey, StoreError, TenantId};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::{store_error, store_error_with_parent};

const COLUMNS: &str = "id, tenant_id, name, prefix, scopes, owner_id, expires_at, last_used_at, \
                       revoked, created_by, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: Uuid,
    tenant_id: Option<Uuid>,
    name: String,
    prefix: String,
    scopes: Vec<String>,
    owner_id: Option<String>,
    expires_at: Option<DateTime<Utc>>,
    last_used_at: Option<DateTime<Utc>>,
    revoked: bool,
    created_by: String,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl From<ApiKeyRow> for ApiKey {
    fn from(row: ApiKeyRow) -> Self {
        ApiKey {
            id: ApiKeyId::from_uuid(row.id),
            tenant_id: row.tenant_id.map(TenantId::from_uuid),
            name: row.name,
            prefix: row.prefix,
            // A scope this version does not know grants nothing.
            scopes: row
                .scopes
                .iter()
                .filter_map(|n| ApiKeyScope::parse(n).ok())
                .collect(),
            owner_id: row.owner_id,
            expires_at: row.expires_at,
            last_used_at: row.last_used_at,
            revoked: row.revoked,
            created_by: row.created_by,
            created_at: row.created_at,
            updated_at: row.updated_at,
        }
    }
}

#[async_trait]
impl ApiKeyStore for PostgresStore {
    async fn create(&self, key: NewApiKey) -> Result<ApiKey, StoreError> {
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        let sql = format!(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, owner_id, \
             expires_at, created_by) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING {COLUMNS}"
        );
        let row = sqlx::query_as::<_, ApiKeyRow>(&sql)
            .bind(ApiKeyId::generate().as_uuid())
            .bind(key.tenant_id.map(|t| t.as_uuid()))
            .bind(&key.name)
            .bind(&key.prefix)
            .bind(&key.key_hash)
            .bind(&scopes)
            .bind(&key.owner_id)
            .bind(key.expires_at)
            .bind(&key.created_by)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error_with_parent(e, "api key", "tenant"))?;
        Ok(row.into())
    }

    async fn get(&self, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        sqlx::query_as::<_, ApiKeyRow>(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = $1"))
            .bind(id.as_uuid())
            .fetch_one(&self.pool)
            .await
            .map(ApiKey::from)
            .map_err(|e| store_error(e, "api key"))
    }

    async fn find_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = $1");
        let row = sqlx::query_as::<_, ApiKeyRow>(&sql)
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "api key"))?;
        Ok(row.map(ApiKey::from))
    }

    async fn list(&self, tenant: Option<TenantId>) -> Result<Vec<ApiKey>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys WHERE ($1::uuid IS NULL OR tenant_id = $1) \
             ORDER BY created_at DESC, id DESC"
        );
        let rows = sqlx::query_as::<_, ApiKeyRow>(&sql)
            .bind(tenant.map(|t| t.as_uuid()))
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "api key"))?;
        Ok(rows.into_iter().map(ApiKey::from).collect())
    }

    async fn revoke(&self, id: ApiKeyId) -> Result<(), StoreError> {
        let done =
            sqlx::query("UPDATE api_keys SET revoked = true, updated_at = now() WHERE id = $1")
                .bind(id.as_uuid())
                .execute(&self.pool)
                .await
                .map_err(|e| store_error(e, "api key"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("api key"));
        }
        Ok(())
    }

    async fn touch(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = $1 WHERE id = $2")
            .bind(at)
            .bind(id.as_uuid())
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "api key"))?;
        Ok(())
    }
}
