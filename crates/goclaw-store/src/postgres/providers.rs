//! LLM providers on PostgreSQL (`llm_providers`), unique by `(tenant, name)`. Partial updates
//! are one `UPDATE … SET col = COALESCE($n, col)` statement, so they need no transaction.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    LlmProvider, LlmProviderPatch, LlmProviderStore, NewLlmProvider, ProviderName, StoreError,
    TenantId,
};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::{corrupt, store_error, store_error_with_parent};
use crate::patch::object_or_empty;

const COLUMNS: &str = "id, tenant_id, name, provider_type, api_base, api_key, enabled, settings, \
                       created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ProviderRow {
    id: Uuid,
    tenant_id: Uuid,
    name: String,
    provider_type: String,
    api_base: String,
    api_key: String,
    enabled: bool,
    settings: serde_json::Value,
    created_at: DateTime<Utc>,
    updated_at: DateTime<Utc>,
}

impl TryFrom<ProviderRow> for LlmProvider {
    type Error = StoreError;

    fn try_from(row: ProviderRow) -> Result<Self, StoreError> {
        Ok(LlmProvider {
            id: row.id,
            tenant_id: TenantId::from_uuid(row.tenant_id),
            name: ProviderName::parse(&row.name).map_err(|e| corrupt("llm_providers", e))?,
            provider_type: row.provider_type,
            api_base: row.api_base,
            api_key_ciphertext: row.api_key,
            enabled: row.enabled,
            settings: row.settings,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

#[async_trait]
impl LlmProviderStore for PostgresStore {
    async fn list(&self, tenant: TenantId) -> Result<Vec<LlmProvider>, StoreError> {
        // `COLLATE "C"` orders bytewise, as SQLite does.
        let sql = format!(
            "SELECT {COLUMNS} FROM llm_providers WHERE tenant_id = $1 ORDER BY name COLLATE \"C\""
        );
        sqlx::query_as::<_, ProviderRow>(&sql)
            .bind(tenant.as_uuid())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "llm provider"))?
            .into_iter()
            .map(LlmProvider::try_from)
            .collect()
    }

    async fn get(&self, tenant: TenantId, name: &ProviderName) -> Result<LlmProvider, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM llm_providers WHERE tenant_id = $1 AND name = $2");
        sqlx::query_as::<_, ProviderRow>(&sql)
            .bind(tenant.as_uuid())
            .bind(name.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "llm provider"))?
            .try_into()
    }

    async fn create(&self, provider: NewLlmProvider) -> Result<LlmProvider, StoreError> {
        let settings = object_or_empty("settings", provider.settings)?;
        let sql = format!(
            "INSERT INTO llm_providers \
             (id, tenant_id, name, provider_type, api_base, api_key, enabled, settings) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING {COLUMNS}"
        );
        sqlx::query_as::<_, ProviderRow>(&sql)
            .bind(Uuid::now_v7())
            .bind(provider.tenant_id.as_uuid())
            .bind(provider.name.as_str())
            .bind(&provider.provider_type)
            .bind(&provider.api_base)
            .bind(&provider.api_key_ciphertext)
            .bind(provider.enabled)
            .bind(&settings)
            .fetch_one(&self.pool)
            .await
            .map_err(
                |e| match store_error_with_parent(e, "llm provider", "tenant") {
                    StoreError::Conflict(_) => StoreError::Conflict(format!(
                        "llm provider {:?} in tenant {}",
                        provider.name.as_str(),
                        provider.tenant_id
                    )),
                    other => other,
                },
            )?
            .try_into()
    }

    async fn update(
        &self,
        tenant: TenantId,
        name: &ProviderName,
        patch: LlmProviderPatch,
    ) -> Result<LlmProvider, StoreError> {
        let settings = patch
            .settings
            .map(|s| object_or_empty("settings", s))
            .transpose()?;
        let sql = format!(
            "UPDATE llm_providers SET provider_type = COALESCE($1, provider_type), \
             api_base = COALESCE($2, api_base), api_key = COALESCE($3, api_key), \
             enabled = COALESCE($4, enabled), settings = COALESCE($5, settings), \
             updated_at = now() \
             WHERE tenant_id = $6 AND name = $7 RETURNING {COLUMNS}"
        );
        sqlx::query_as::<_, ProviderRow>(&sql)
            .bind(patch.provider_type)
            .bind(patch.api_base)
            .bind(patch.api_key_ciphertext)
            .bind(patch.enabled)
            .bind(settings)
            .bind(tenant.as_uuid())
            .bind(name.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "llm provider"))?
            .try_into()
    }

    async fn delete(&self, tenant: TenantId, name: &ProviderName) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM llm_providers WHERE tenant_id = $1 AND name = $2")
            .bind(tenant.as_uuid())
            .bind(name.as_str())
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "llm provider"))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("llm provider"));
        }
        Ok(())
    }
}
