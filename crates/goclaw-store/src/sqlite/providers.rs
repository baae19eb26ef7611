//! LLM providers on SQLite (`llm_providers`), unique by `(tenant, name)`. Partial updates are
//! one `UPDATE … SET col = COALESCE(?, col)` statement, so they need no transaction.

use async_trait::async_trait;
use goclaw_core::{
    LlmProvider, LlmProviderPatch, LlmProviderStore, NewLlmProvider, ProviderName, StoreError,
    TenantId,
};
use uuid::Uuid;

use super::{NOW, SqliteStore, parse_id, parse_json, parse_time};
use crate::error::{corrupt, store_error, store_error_with_parent};
use crate::patch::object_or_empty;

const TABLE: &str = "llm_providers";
const COLUMNS: &str = "id, tenant_id, name, provider_type, api_base, api_key, enabled, settings, \
                       created_at, updated_at";

#[derive(sqlx::FromRow)]
struct ProviderRow {
    id: String,
    tenant_id: String,
    name: String,
    provider_type: String,
    api_base: String,
    api_key: String,
    enabled: bool,
    settings: String,
    created_at: String,
    updated_at: String,
}

impl TryFrom<ProviderRow> for LlmProvider {
    type Error = StoreError;

    fn try_from(row: ProviderRow) -> Result<Self, StoreError> {
        Ok(LlmProvider {
            id: Uuid::parse_str(&row.id).map_err(|e| corrupt(TABLE, e))?,
            tenant_id: parse_id(TABLE, &row.tenant_id)?,
            name: ProviderName::parse(&row.name).map_err(|e| corrupt(TABLE, e))?,
            provider_type: row.provider_type,
            api_base: row.api_base,
            api_key_ciphertext: row.api_key,
            enabled: row.enabled,
            settings: parse_json(TABLE, Some(&row.settings))?,
            created_at: parse_time(TABLE, &row.created_at)?,
            updated_at: parse_time(TABLE, &row.updated_at)?,
        })
    }
}

#[async_trait]
impl LlmProviderStore for SqliteStore {
    async fn list(&self, tenant: TenantId) -> Result<Vec<LlmProvider>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM llm_providers WHERE tenant_id = ? ORDER BY name");
        sqlx::query_as::<_, ProviderRow>(&sql)
            .bind(tenant.to_string())
            .fetch_all(&self.pool)
            .await
            .map_err(|e| store_error(e, "llm provider"))?
            .into_iter()
            .map(LlmProvider::try_from)
            .collect()
    }

    async fn get(&self, tenant: TenantId, name: &ProviderName) -> Result<LlmProvider, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM llm_providers WHERE tenant_id = ? AND name = ?");
        sqlx::query_as::<_, ProviderRow>(&sql)
            .bind(tenant.to_string())
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
             (id, tenant_id, name, provider_type, api_base, api_key, enabled, settings, \
              created_at, updated_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, {NOW}, {NOW}) RETURNING {COLUMNS}"
        );
        sqlx::query_as::<_, ProviderRow>(&sql)
            .bind(Uuid::now_v7().to_string())
            .bind(provider.tenant_id.to_string())
            .bind(provider.name.as_str())
            .bind(&provider.provider_type)
            .bind(&provider.api_base)
            .bind(&provider.api_key_ciphertext)
            .bind(provider.enabled)
            .bind(settings.to_string())
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
            "UPDATE llm_providers SET provider_type = COALESCE(?, provider_type), \
             api_base = COALESCE(?, api_base), api_key = COALESCE(?, api_key), \
             enabled = COALESCE(?, enabled), settings = COALESCE(?, settings), \
             updated_at = {NOW} \
             WHERE tenant_id = ? AND name = ? RETURNING {COLUMNS}"
        );
        sqlx::query_as::<_, ProviderRow>(&sql)
            .bind(patch.provider_type)
            .bind(patch.api_base)
            .bind(patch.api_key_ciphertext)
            .bind(patch.enabled)
            .bind(settings.map(|s| s.to_string()))
            .bind(tenant.to_string())
            .bind(name.as_str())
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "llm provider"))?
            .try_into()
    }

    async fn delete(&self, tenant: TenantId, name: &ProviderName) -> Result<(), StoreError> {
        let done = sqlx::query("DELETE FROM llm_providers WHERE tenant_id = ? AND name = ?")
            .bind(tenant.to_string())
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
