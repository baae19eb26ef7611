//! Gateway API keys on SQLite: scopes are a JSON array of names, times ISO-8601 text.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{ApiKey, ApiKeyId, ApiKeyScope, ApiKeyStore, NewApiKey, StoreError, TenantId};

use super::{NOW, SqliteStore, parse_id, parse_time};
use crate::error::{corrupt, store_error, store_error_with_parent};

const COLUMNS: &str = "id, tenant_id, name, prefix, scopes, owner_id, expires_at, last_used_at, \
                       revoked, created_by, created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ApiKeyRow {
    id: String,
    tenant_id: Option<String>,
    name: String,
    prefix: String,
    scopes: String,
    owner_id: Option<String>,
    expires_at: Option<String>,
    last_used_at: Option<String>,
    revoked: bool,
    created_by: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<ApiKeyRow> for ApiKey {
    type Error = StoreError;

    fn try_from(row: ApiKeyRow) -> Result<Self, StoreError> {
        let time = |text: &str| parse_time("api_keys", text);
        let names: Vec<String> =
            serde_json::from_str(&row.scopes).map_err(|e| corrupt("api_keys", e))?;
        Ok(ApiKey {
            id: parse_id("api_keys", &row.id)?,
            tenant_id: row
                .tenant_id
                .as_deref()
                .map(|id| parse_id("api_keys", id))
                .transpose()?,
            name: row.name,
            prefix: row.prefix,
            // A scope this version does not know grants nothing.
            scopes: names
                .iter()
                .filter_map(|n| ApiKeyScope::parse(n).ok())
                .collect(),
            owner_id: row.owner_id,
            expires_at: row.expires_at.as_deref().map(time).transpose()?,
            last_used_at: row.last_used_at.as_deref().map(time).transpose()?,
            revoked: row.revoked,
            created_by: row.created_by,
            created_at: time(&row.created_at)?,
            updated_at: time(&row.updated_at)?,
        })
    }
}

/// A time in the stored text format, which sorts chronologically.
fn time_text(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

#[async_trait]
impl ApiKeyStore for SqliteStore {
    async fn create(&self, key: NewApiKey) -> Result<ApiKey, StoreError> {
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        let sql = format!(
            "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, owner_id, \
             expires_at, created_by, created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {NOW}, {NOW}) RETURNING {COLUMNS}"
        );
        sqlx::query_as::<_, ApiKeyRow>(&sql)
            .bind(ApiKeyId::generate().to_string())
            .bind(key.tenant_id.map(|t| t.to_string()))
            .bind(&key.name)
            .bind(&key.prefix)
            .bind(&key.key_hash)
            .bind(serde_json::json!(scopes).to_string())
            .bind(&key.owner_id)
            .bind(key.expires_at.map(time_text))
            .bind(&key.created_by)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error_with_parent(e, "api key", "tenant"))?
            .try_into()
    }

    async fn get(&self, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        sqlx::query_as::<_, ApiKeyRow>(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?"))
            .bind(id.to_string())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "api key"))?
            .try_into()
    }

    async fn find_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM api_keys WHERE key_hash = ?");
        sqlx::query_as::<_, ApiKeyRow>(&sql)
            .bind(key_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(|e| store_error(e, "api key"))?
            .map(ApiKey::try_from)
            .transpose()
    }

    async fn list(&self, tenant: Option<TenantId>) -> Result<Vec<ApiKey>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM api_keys WHERE (? IS NULL OR tenant_id = ?) \
             ORDER BY created_at DESC, id DESC"
        );
        let tenant = tenant.map(|t| t.to_string());
        sqlx::query_as::<_, ApiKeyRow>(&sql)
            .bind(&tenant)
            .bind(&tenant)
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "api key"))?
            .into_iter()
            .map(ApiKey::try_from)
            .collect()
    }

    async fn revoke(&self, id: ApiKeyId) -> Result<(), StoreError> {
        let sql = format!("UPDATE api_keys SET revoked = 1, updated_at = {NOW} WHERE id = ?");
        let done = sqlx::query(&sql)
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "api key"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("api key"));
        }
        Ok(())
    }

    async fn touch(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_keys SET last_used_at = ? WHERE id = ?")
            .bind(time_text(at))
            .bind(id.to_string())
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "api key"))?;
        Ok(())
    }
}
