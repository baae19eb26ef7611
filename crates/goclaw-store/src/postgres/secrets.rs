//! The encrypted columns on PostgreSQL: `llm_providers.api_key` and `config_secrets.value`.
//! `replace_all` writes inside one transaction and rolls back on the first update that finds
//! no row.

use async_trait::async_trait;
use goclaw_core::{EncryptedValue, SecretRef, SecretStore, StoreError, TenantId};
use uuid::Uuid;

use super::PostgresStore;
use crate::error::{store_error, store_error_with_parent};

/// Matches values in the encrypted format; `substr` rather than `LIKE`, whose `_` and `%` would
/// need escaping.
const ENCRYPTED_API_KEY: &str = "substr(api_key, 1, 8) = 'aes-gcm:'";
const ENCRYPTED_VALUE: &str = "substr(value, 1, 8) = 'aes-gcm:'";

#[async_trait]
impl SecretStore for PostgresStore {
    async fn count_encrypted(&self) -> Result<u64, StoreError> {
        let sql = format!(
            "SELECT (SELECT COUNT(*) FROM llm_providers WHERE {ENCRYPTED_API_KEY}) \
                  + (SELECT COUNT(*) FROM config_secrets WHERE {ENCRYPTED_VALUE})"
        );
        let count: i64 = sqlx::query_scalar(&sql)
            .fetch_one(&self.pool)
            .await
            .map_err(|e| store_error(e, "secret"))?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn list_encrypted(&self) -> Result<Vec<EncryptedValue>, StoreError> {
        let db_error = |e| store_error(e, "secret");
        let sql =
            format!("SELECT id, api_key FROM llm_providers WHERE {ENCRYPTED_API_KEY} ORDER BY id");
        let providers: Vec<(Uuid, String)> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let sql = format!(
            "SELECT tenant_id, key, value FROM config_secrets WHERE {ENCRYPTED_VALUE} \
             ORDER BY tenant_id, key COLLATE \"C\""
        );
        let configs: Vec<(Uuid, String, String)> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let providers = providers.into_iter().map(|(id, value)| EncryptedValue {
            secret: SecretRef::LlmProviderApiKey { id },
            value,
        });
        let configs = configs
            .into_iter()
            .map(|(tenant, key, value)| EncryptedValue {
                secret: SecretRef::ConfigSecret {
                    tenant: TenantId::from_uuid(tenant),
                    key,
                },
                value,
            });
        Ok(providers.chain(configs).collect())
    }

    async fn replace_all(&self, updates: Vec<(SecretRef, String)>) -> Result<(), StoreError> {
        let db_error = |e| store_error(e, "secret");
        let mut tx = self.pool.begin().await.map_err(db_error)?;
        for (secret, value) in &updates {
            let done =
                match secret {
                    SecretRef::LlmProviderApiKey { id } => sqlx::query(
                        "UPDATE llm_providers SET api_key = $1, updated_at = now() WHERE id = $2",
                    )
                    .bind(value)
                    .bind(id)
                    .execute(&mut *tx)
                    .await,
                    SecretRef::ConfigSecret { tenant, key } => {
                        sqlx::query(
                            "UPDATE config_secrets SET value = $1, updated_at = now() \
                         WHERE tenant_id = $2 AND key = $3",
                        )
                        .bind(value)
                        .bind(tenant.as_uuid())
                        .bind(key)
                        .execute(&mut *tx)
                        .await
                    }
                }
                .map_err(db_error)?;
            if done.rows_affected() == 0 {
                // Dropping `tx` rolls back every update made so far.
                return Err(StoreError::NotFound(match secret {
                    SecretRef::LlmProviderApiKey { .. } => "llm provider",
                    SecretRef::ConfigSecret { .. } => "config secret",
                }));
            }
        }
        tx.commit().await.map_err(db_error)
    }

    async fn set_config_secret(
        &self,
        tenant: TenantId,
        key: &str,
        value: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO config_secrets (key, tenant_id, value) VALUES ($1, $2, $3) \
             ON CONFLICT (key, tenant_id) DO UPDATE SET value = excluded.value, updated_at = now()",
        )
        .bind(key)
        .bind(tenant.as_uuid())
        .bind(value)
        .execute(&self.pool)
        .await
        .map_err(|e| store_error_with_parent(e, "config secret", "tenant"))?;
        Ok(())
    }
}
