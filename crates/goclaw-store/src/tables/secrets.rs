//! The encrypted columns: `llm_providers.api_key`, `config_secrets.value`,
//! `mcp_servers.secrets`, `mcp_user_credentials.secrets` and `hooks.secrets`. `replace_all`
//! writes inside one write transaction and rolls back on the first update that finds no row.

use async_trait::async_trait;
use goclaw_core::{EncryptedValue, SecretRef, SecretStore, StoreError, TenantId};
use uuid::Uuid;

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::Statement;

/// Matches values in the encrypted format; `substr` rather than `LIKE`, which ignores case on
/// SQLite and whose `_` and `%` would need escaping.
const ENCRYPTED_API_KEY: &str = "substr(api_key, 1, 8) = 'aes-gcm:'";
const ENCRYPTED_VALUE: &str = "substr(value, 1, 8) = 'aes-gcm:'";
const ENCRYPTED_SECRETS: &str = "substr(secrets, 1, 8) = 'aes-gcm:'";

static COUNT: Statement = Statement::joined(&[
    "SELECT (SELECT COUNT(*) FROM llm_providers WHERE ",
    ENCRYPTED_API_KEY,
    ") + (SELECT COUNT(*) FROM config_secrets WHERE ",
    ENCRYPTED_VALUE,
    ") + (SELECT COUNT(*) FROM mcp_servers WHERE ",
    ENCRYPTED_SECRETS,
    ") + (SELECT COUNT(*) FROM mcp_user_credentials WHERE ",
    ENCRYPTED_SECRETS,
    ") + (SELECT COUNT(*) FROM hooks WHERE ",
    ENCRYPTED_SECRETS,
    ") AS count",
]);
static PROVIDER_KEYS: Statement = Statement::joined(&[
    "SELECT id, api_key FROM llm_providers WHERE ",
    ENCRYPTED_API_KEY,
    " ORDER BY id",
]);
static CONFIG_SECRETS: Statement = Statement::joined(&[
    "SELECT tenant_id, key, value FROM config_secrets WHERE ",
    ENCRYPTED_VALUE,
    " ORDER BY tenant_id, key {bytewise}",
]);
static MCP_SERVER_SECRETS: Statement = Statement::joined(&[
    "SELECT id, secrets FROM mcp_servers WHERE ",
    ENCRYPTED_SECRETS,
    " ORDER BY id",
]);
static MCP_USER_CREDENTIALS: Statement = Statement::joined(&[
    "SELECT server_id, user_id, secrets FROM mcp_user_credentials WHERE ",
    ENCRYPTED_SECRETS,
    " ORDER BY server_id, user_id {bytewise}",
]);
static HOOK_SECRETS: Statement = Statement::joined(&[
    "SELECT id, secrets FROM hooks WHERE ",
    ENCRYPTED_SECRETS,
    " ORDER BY id",
]);
static REPLACE_HOOK_SECRETS: Statement =
    Statement::new("UPDATE hooks SET secrets = ?, updated_at = {now} WHERE id = ?");
static REPLACE_MCP_SERVER_SECRETS: Statement =
    Statement::new("UPDATE mcp_servers SET secrets = ?, updated_at = {now} WHERE id = ?");
static REPLACE_MCP_USER_CREDENTIALS: Statement = Statement::new(
    "UPDATE mcp_user_credentials SET secrets = ?, updated_at = {now} \
     WHERE server_id = ? AND user_id = ?",
);
static REPLACE_PROVIDER_KEY: Statement =
    Statement::new("UPDATE llm_providers SET api_key = ?, updated_at = {now} WHERE id = ?");
static REPLACE_CONFIG_SECRET: Statement = Statement::new(
    "UPDATE config_secrets SET value = ?, updated_at = {now} WHERE tenant_id = ? AND key = ?",
);
static SET_CONFIG_SECRET: Statement = Statement::new(
    "INSERT INTO config_secrets (key, tenant_id, value, updated_at) VALUES (?, ?, ?, {now}) \
     ON CONFLICT (key, tenant_id) DO UPDATE SET value = excluded.value, \
     updated_at = excluded.updated_at",
);

#[async_trait]
impl SecretStore for SqlStore {
    async fn count_encrypted(&self) -> Result<u64, StoreError> {
        let count = self
            .pool
            .fetch_one(&COUNT, &[])
            .await
            .map_err(|e| store_error(e, "secret"))?
            .read("config_secrets")
            .int("count")?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn list_encrypted(&self) -> Result<Vec<EncryptedValue>, StoreError> {
        let db_error = |e| store_error(e, "secret");
        let providers = self
            .pool
            .fetch_all(&PROVIDER_KEYS, &[])
            .await
            .map_err(db_error)?
            .map("llm_providers", |row| {
                Ok(EncryptedValue {
                    secret: SecretRef::LlmProviderApiKey {
                        id: row.id::<Uuid>("id")?,
                    },
                    value: row.text("api_key")?,
                })
            })?;
        let configs = self
            .pool
            .fetch_all(&CONFIG_SECRETS, &[])
            .await
            .map_err(db_error)?
            .map("config_secrets", |row| {
                Ok(EncryptedValue {
                    secret: SecretRef::ConfigSecret {
                        tenant: row.id("tenant_id")?,
                        key: row.text("key")?,
                    },
                    value: row.text("value")?,
                })
            })?;
        let servers = self
            .pool
            .fetch_all(&MCP_SERVER_SECRETS, &[])
            .await
            .map_err(db_error)?
            .map("mcp_servers", |row| {
                Ok(EncryptedValue {
                    secret: SecretRef::McpServerSecrets { id: row.id("id")? },
                    value: row.text("secrets")?,
                })
            })?;
        let credentials = self
            .pool
            .fetch_all(&MCP_USER_CREDENTIALS, &[])
            .await
            .map_err(db_error)?
            .map("mcp_user_credentials", |row| {
                Ok(EncryptedValue {
                    secret: SecretRef::McpUserCredentials {
                        server: row.id("server_id")?,
                        user: row.text("user_id")?,
                    },
                    value: row.text("secrets")?,
                })
            })?;
        let hooks = self
            .pool
            .fetch_all(&HOOK_SECRETS, &[])
            .await
            .map_err(db_error)?
            .map("hooks", |row| {
                Ok(EncryptedValue {
                    secret: SecretRef::HookSecrets { id: row.id("id")? },
                    value: row.text("secrets")?,
                })
            })?;
        Ok(providers
            .into_iter()
            .chain(configs)
            .chain(servers)
            .chain(credentials)
            .chain(hooks)
            .collect())
    }

    async fn replace_all(&self, updates: Vec<(SecretRef, String)>) -> Result<(), StoreError> {
        let db_error = |e| store_error(e, "secret");
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        for (secret, value) in &updates {
            let replaced = match secret {
                SecretRef::LlmProviderApiKey { id } => {
                    tx.execute(&REPLACE_PROVIDER_KEY, &[value.into(), (*id).into()])
                        .await
                }
                SecretRef::ConfigSecret { tenant, key } => {
                    let params = [value.into(), (*tenant).into(), key.into()];
                    tx.execute(&REPLACE_CONFIG_SECRET, &params).await
                }
                SecretRef::McpServerSecrets { id } => {
                    tx.execute(&REPLACE_MCP_SERVER_SECRETS, &[value.into(), (*id).into()])
                        .await
                }
                SecretRef::McpUserCredentials { server, user } => {
                    let params = [value.into(), (*server).into(), user.into()];
                    tx.execute(&REPLACE_MCP_USER_CREDENTIALS, &params).await
                }
                SecretRef::HookSecrets { id } => {
                    tx.execute(&REPLACE_HOOK_SECRETS, &[value.into(), (*id).into()])
                        .await
                }
            }
            .map_err(db_error)?;
            if replaced == 0 {
                // Dropping `tx` rolls back every update made so far.
                return Err(StoreError::NotFound(match secret {
                    SecretRef::LlmProviderApiKey { .. } => "llm provider",
                    SecretRef::ConfigSecret { .. } => "config secret",
                    SecretRef::McpServerSecrets { .. } => "mcp server",
                    SecretRef::McpUserCredentials { .. } => "mcp user credentials",
                    SecretRef::HookSecrets { .. } => "hook",
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
        self.pool
            .execute(
                &SET_CONFIG_SECRET,
                &[key.into(), tenant.into(), value.into()],
            )
            .await
            .map_err(|e| store_error_with_parent(e, "config secret", "tenant"))?;
        Ok(())
    }
}
