//! LLM providers (`llm_providers`), unique by `(tenant, name)`. Partial updates are one
//! `UPDATE … SET col = COALESCE(?, col)` statement, so they need no transaction.

use async_trait::async_trait;
use goclaw_core::{
    LlmProvider, LlmProviderPatch, LlmProviderStore, NewLlmProvider, ProviderName, StoreError,
    TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::patch::object_or_empty;
use crate::sql::{Record, Row, Statement};

const COLUMNS: &str = "id, tenant_id, name, provider_type, api_base, api_key, enabled, settings, \
                       created_at, updated_at";

static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM llm_providers WHERE tenant_id = ? ORDER BY name {bytewise}",
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM llm_providers WHERE tenant_id = ? AND name = ?",
]);
static CREATE: Statement = Statement::joined(&[
    "INSERT INTO llm_providers \
     (id, tenant_id, name, provider_type, api_base, api_key, enabled, settings, created_at, \
      updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, {now}, {now}) RETURNING ",
    COLUMNS,
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE llm_providers SET provider_type = COALESCE(?, provider_type), \
     api_base = COALESCE(?, api_base), api_key = COALESCE(?, api_key), \
     enabled = COALESCE(?, enabled), settings = COALESCE(?, settings), updated_at = {now} \
     WHERE tenant_id = ? AND name = ? RETURNING ",
    COLUMNS,
]);
static DELETE: Statement =
    Statement::new("DELETE FROM llm_providers WHERE tenant_id = ? AND name = ?");

impl Record for LlmProvider {
    const TABLE: &'static str = "llm_providers";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(LlmProvider {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            name: row.parse("name", ProviderName::parse)?,
            provider_type: row.text("provider_type")?,
            api_base: row.text("api_base")?,
            api_key_ciphertext: row.text("api_key")?,
            enabled: row.bool("enabled")?,
            settings: row.json("settings")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

#[async_trait]
impl LlmProviderStore for SqlStore {
    async fn list(&self, tenant: TenantId) -> Result<Vec<LlmProvider>, StoreError> {
        self.pool
            .fetch_all(&LIST, &[tenant.into()])
            .await
            .map_err(|e| store_error(e, "llm provider"))?
            .decode()
    }

    async fn get(&self, tenant: TenantId, name: &ProviderName) -> Result<LlmProvider, StoreError> {
        self.pool
            .fetch_one(&GET, &[tenant.into(), name.as_str().into()])
            .await
            .map_err(|e| store_error(e, "llm provider"))?
            .decode()
    }

    async fn create(&self, provider: NewLlmProvider) -> Result<LlmProvider, StoreError> {
        let settings = object_or_empty("settings", provider.settings)?;
        let params = [
            Uuid::now_v7().into(),
            provider.tenant_id.into(),
            provider.name.as_str().into(),
            (&provider.provider_type).into(),
            (&provider.api_base).into(),
            (&provider.api_key_ciphertext).into(),
            provider.enabled.into(),
            (&settings).into(),
        ];
        self.pool
            .fetch_one(&CREATE, &params)
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
            .decode()
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
        let params = [
            (&patch.provider_type).into(),
            (&patch.api_base).into(),
            (&patch.api_key_ciphertext).into(),
            patch.enabled.into(),
            settings.as_ref().into(),
            tenant.into(),
            name.as_str().into(),
        ];
        self.pool
            .fetch_one(&UPDATE, &params)
            .await
            .map_err(|e| store_error(e, "llm provider"))?
            .decode()
    }

    async fn delete(&self, tenant: TenantId, name: &ProviderName) -> Result<(), StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE, &[tenant.into(), name.as_str().into()])
            .await
            .map_err(|e| store_error(e, "llm provider"))?;
        if deleted == 0 {
            return Err(StoreError::NotFound("llm provider"));
        }
        Ok(())
    }
}
