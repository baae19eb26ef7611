//! Gateway API keys: scopes are a list of names (`TEXT[]` on PostgreSQL, a JSON array on
//! SQLite); a `NULL` tenant marks a system-wide key.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{ApiKey, ApiKeyId, ApiKeyScope, ApiKeyStore, NewApiKey, StoreError, TenantId};

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Record, Row, Statement};

const COLUMNS: &str = "id, tenant_id, name, prefix, scopes, owner_id, expires_at, last_used_at, \
                       revoked, created_by, created_at, updated_at";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO api_keys (id, tenant_id, name, prefix, key_hash, scopes, owner_id, \
     expires_at, created_by, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, {now}) RETURNING ",
    COLUMNS,
]);
static GET: Statement = Statement::joined(&["SELECT ", COLUMNS, " FROM api_keys WHERE id = ?"]);
static BY_HASH: Statement =
    Statement::joined(&["SELECT ", COLUMNS, " FROM api_keys WHERE key_hash = ?"]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM api_keys WHERE (? IS NULL OR tenant_id = ?) ORDER BY created_at DESC, id DESC",
]);
static REVOKE: Statement =
    Statement::new("UPDATE api_keys SET revoked = {true}, updated_at = {now} WHERE id = ?");
static TOUCH: Statement = Statement::new("UPDATE api_keys SET last_used_at = ? WHERE id = ?");

impl Record for ApiKey {
    const TABLE: &'static str = "api_keys";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(ApiKey {
            id: row.id("id")?,
            tenant_id: row.opt_id("tenant_id")?,
            name: row.text("name")?,
            prefix: row.text("prefix")?,
            // A scope this version does not know grants nothing.
            scopes: row
                .text_list("scopes")?
                .iter()
                .filter_map(|n| ApiKeyScope::parse(n).ok())
                .collect(),
            owner_id: row.opt_text("owner_id")?,
            expires_at: row.opt_time("expires_at")?,
            last_used_at: row.opt_time("last_used_at")?,
            revoked: row.bool("revoked")?,
            created_by: row.text("created_by")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

#[async_trait]
impl ApiKeyStore for SqlStore {
    async fn create(&self, key: NewApiKey) -> Result<ApiKey, StoreError> {
        let scopes: Vec<&str> = key.scopes.iter().map(|s| s.as_str()).collect();
        let params = [
            ApiKeyId::generate().into(),
            key.tenant_id.into(),
            (&key.name).into(),
            (&key.prefix).into(),
            (&key.key_hash).into(),
            scopes.as_slice().into(),
            (&key.owner_id).into(),
            key.expires_at.into(),
            (&key.created_by).into(),
        ];
        self.pool
            .fetch_one(&CREATE, &params)
            .await
            .map_err(|e| store_error_with_parent(e, "api key", "tenant"))?
            .decode()
    }

    async fn get(&self, id: ApiKeyId) -> Result<ApiKey, StoreError> {
        self.pool
            .fetch_one(&GET, &[id.into()])
            .await
            .map_err(|e| store_error(e, "api key"))?
            .decode()
    }

    async fn find_by_hash(&self, key_hash: &str) -> Result<Option<ApiKey>, StoreError> {
        self.pool
            .fetch_optional(&BY_HASH, &[key_hash.into()])
            .await
            .map_err(|e| store_error(e, "api key"))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn list(&self, tenant: Option<TenantId>) -> Result<Vec<ApiKey>, StoreError> {
        self.pool
            .fetch_all(&LIST, &[tenant.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, "api key"))?
            .decode()
    }

    async fn revoke(&self, id: ApiKeyId) -> Result<(), StoreError> {
        let revoked = self
            .pool
            .execute(&REVOKE, &[id.into()])
            .await
            .map_err(|e| store_error(e, "api key"))?;
        if revoked == 0 {
            return Err(StoreError::NotFound("api key"));
        }
        Ok(())
    }

    async fn touch(&self, id: ApiKeyId, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.pool
            .execute(&TOUCH, &[at.into(), id.into()])
            .await
            .map_err(|e| store_error(e, "api key"))?;
        Ok(())
    }
}
