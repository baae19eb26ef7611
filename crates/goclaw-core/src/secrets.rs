//! Every encrypted column of the database behind one trait, so that the start-up key check and
//! key rotation see all of them: `llm_providers.api_key`, `config_secrets.value`,
//! `mcp_servers.secrets`, `mcp_user_credentials.secrets` and `hooks.secrets`. A column
//! that starts holding ciphertext gets a [`SecretRef`] variant here and is covered everywhere.

use async_trait::async_trait;
use uuid::Uuid;

use crate::domain::TenantId;
use crate::store::StoreError;

/// Where one encrypted value lives: its table and the row's key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum SecretRef {
    /// `llm_providers.api_key` of the provider with this id.
    LlmProviderApiKey { id: Uuid },
    /// `config_secrets.value` under `(key, tenant)`.
    ConfigSecret { tenant: TenantId, key: String },
    /// `mcp_servers.secrets` of the server with this id.
    McpServerSecrets { id: Uuid },
    /// `mcp_user_credentials.secrets` of a user for a server.
    McpUserCredentials { server: Uuid, user: String },
    /// `hooks.secrets` (an `http` hook's header values) of the hook with this id.
    HookSecrets { id: Uuid },
}

impl SecretRef {
    /// The table the value is stored in.
    pub fn table(&self) -> &'static str {
        match self {
            SecretRef::LlmProviderApiKey { .. } => "llm_providers",
            SecretRef::ConfigSecret { .. } => "config_secrets",
            SecretRef::McpServerSecrets { .. } => "mcp_servers",
            SecretRef::McpUserCredentials { .. } => "mcp_user_credentials",
            SecretRef::HookSecrets { .. } => "hooks",
        }
    }
}

impl std::fmt::Display for SecretRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SecretRef::LlmProviderApiKey { id } => write!(f, "llm_providers.api_key (id {id})"),
            SecretRef::ConfigSecret { tenant, key } => {
                write!(f, "config_secrets.value (key {key:?}, tenant {tenant})")
            }
            SecretRef::McpServerSecrets { id } => write!(f, "mcp_servers.secrets (id {id})"),
            SecretRef::McpUserCredentials { server, user } => write!(
                f,
                "mcp_user_credentials.secrets (server {server}, user {user:?})"
            ),
            SecretRef::HookSecrets { id } => write!(f, "hooks.secrets (id {id})"),
        }
    }
}

/// One stored ciphertext. `Debug` does not print the value.
#[derive(Clone, PartialEq, Eq)]
pub struct EncryptedValue {
    pub secret: SecretRef,
    /// `aes-gcm:…`.
    pub value: String,
}

impl std::fmt::Debug for EncryptedValue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EncryptedValue")
            .field("secret", &self.secret)
            .field("value", &"***")
            .finish()
    }
}

/// The encrypted values across all tables.
#[async_trait]
pub trait SecretStore: Send + Sync {
    /// How many stored values start with `aes-gcm:`.
    async fn count_encrypted(&self) -> Result<u64, StoreError>;
    /// Every stored value that starts with `aes-gcm:`, ordered by table, then row key.
    async fn list_encrypted(&self) -> Result<Vec<EncryptedValue>, StoreError>;
    /// Writes every `(where, new value)` pair in one transaction: all of them or, when one
    /// names a row that does not exist (`NotFound`) or anything fails, none.
    async fn replace_all(&self, updates: Vec<(SecretRef, String)>) -> Result<(), StoreError>;
    /// Creates or replaces `config_secrets.value` under `(key, tenant)`; `value` must already
    /// be encrypted.
    async fn set_config_secret(
        &self,
        tenant: TenantId,
        key: &str,
        value: &str,
    ) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_name_their_table_and_debug_hides_values() {
        let provider = SecretRef::LlmProviderApiKey { id: Uuid::nil() };
        let config = SecretRef::ConfigSecret {
            tenant: crate::MASTER_TENANT_ID,
            key: "gateway.token".to_owned(),
        };
        assert_eq!(provider.table(), "llm_providers");
        assert_eq!(config.table(), "config_secrets");
        let value = EncryptedValue {
            secret: config,
            value: "aes-gcm:SECRET".to_owned(),
        };
        assert!(!format!("{value:?}").contains("SECRET"));
    }
}
