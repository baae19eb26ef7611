//! The encrypted columns on SQLite: `llm_providers.api_key` and `config_secrets.value`.
//! `replace_all` writes inside one `BEGIN IMMEDIATE` transaction and rolls back on the first
//! update that finds no row.

use async_trait::async_trait;
use goclaw_core::{EncryptedValue, SecretRef, SecretStore, StoreError, TenantId};
use uuid::Uuid;

use super::{NOW, SqliteStore, parse_id};
use crate::error::{corrupt, store_error, store_error_with_parent};

/// Matches values in the encrypted format; `substr` rather than `LIKE`, which ignores case.
const ENCRYPTED_API_KEY: &str = "substr(api_key, 1, 8) = 'aes-gcm:'";
const ENCRYPTED_VALUE: &str = "substr(value, 1, 8) = 'aes-gcm:'";

#[async_trait]
impl SecretStore for SqliteStore {
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
        let providers: Vec<(String, String)> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let sql = format!(
            "SELECT tenant_id, key, value FROM config_secrets WHERE {ENCRYPTED_VALUE} \
             ORDER BY tenant_id, key"
        );
        let configs: Vec<(String, String, String)> = sqlx::query_as(&sql)
            .fetch_all(&self.pool)
            .await
            .map_err(db_error)?;
        let mut values = Vec::with_capacity(providers.len() + configs.len());
        for (id, value) in providers {
            let id = Uuid::parse_str(&id).map_err(|e| corrupt("llm_providers", e))?;
            values.push(EncryptedValue {
                secret: SecretRef::LlmProviderApiKey { id },
                value,
            });
        }
        for (tenant, key, value) in configs {
            let tenant: TenantId = parse_id("config_secrets", &tenant)?;
            values.push(EncryptedValue {
                secret: SecretRef::ConfigSecret { tenant, key },
                value,
            });
        }
        Ok(values)
    }

    async fn replace_all(&self, updates: Vec<(SecretRef, String)>) -> Result<(), StoreError> {
        let db_error = |e| store_error(e, "secret");
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(db_error)?;
        for (secret, value) in &updates {
            let done = match secret {
                SecretRef::LlmProviderApiKey { id } => {
                    let sql = format!(
                        "UPDATE llm_providers SET api_key = ?, updated_at = {NOW} WHERE id = ?"
                    );
                    sqlx::query(&sql)
                        .bind(value)
                        .bind(id.to_string())
                        .execute(&mut *tx)
                        .await
                }
                SecretRef::ConfigSecret { tenant, key } => {
                    let sql = format!(
                        "UPDATE config_secrets SET value = ?, updated_at = {NOW} \
                         WHERE tenant_id = ? AND key = ?"
                    );
                    sqlx::query(&sql)
                        .bind(value)
                        .bind(tenant.to_string())
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
        let sql = format!(
            "INSERT INTO config_secrets (key, tenant_id, value, updated_at) VALUES (?, ?, ?, {NOW}) \
             ON CONFLICT (key, tenant_id) DO UPDATE SET value = excluded.value, \
             updated_at = excluded.updated_at"
        );
        sqlx::query(&sql)
            .bind(key)
            .bind(tenant.to_string())
            .bind(value)
            .execute(&self.pool)
            .await
            .map_err(|e| store_error_with_parent(e, "config secret", "tenant"))?;
        Ok(())
    }
}
