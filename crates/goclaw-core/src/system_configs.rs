//! `system_configs`: per-tenant settings that are not secrets, one text value per key (for
//! example `embedding.provider`, `embedding.model`). A tenant that has no value of its own for
//! a key reads the master tenant's, as in GoClaw; a tenant's own value wins.

use std::collections::BTreeMap;

use async_trait::async_trait;

use crate::domain::TenantId;
use crate::store::StoreError;

/// The longest key accepted, as GoClaw.
pub const SYSTEM_CONFIG_KEY_MAX_LEN: usize = 100;

/// The system config key naming the provider memory embeds with.
pub const EMBEDDING_PROVIDER_KEY: &str = "embedding.provider";
/// The system config key naming the embedding model.
pub const EMBEDDING_MODEL_KEY: &str = "embedding.model";

/// Whether `key` may be stored: 1–100 characters of ASCII letters, digits, `.`, `_` and `-`.
pub fn is_valid_system_config_key(key: &str) -> bool {
    (1..=SYSTEM_CONFIG_KEY_MAX_LEN).contains(&key.len())
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Per-tenant settings with the master tenant's values as defaults.
#[async_trait]
pub trait SystemConfigStore: Send + Sync {
    /// `tenant`'s value of `key`, else the master tenant's, else `None`.
    async fn get(&self, tenant: TenantId, key: &str) -> Result<Option<String>, StoreError>;
    /// Every key `tenant` sees: the master tenant's values overlaid with its own.
    async fn list(&self, tenant: TenantId) -> Result<BTreeMap<String, String>, StoreError>;
    /// Creates or replaces `tenant`'s own value of `key`.
    async fn set(&self, tenant: TenantId, key: &str, value: &str) -> Result<(), StoreError>;
    /// Removes `tenant`'s own value of `key`; whether there was one.
    async fn delete(&self, tenant: TenantId, key: &str) -> Result<bool, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_goclaws_alphabet_up_to_100_characters() {
        for key in [
            "embedding.provider",
            "a",
            "gateway.rate_limit_rpm",
            "x-y_z.0",
        ] {
            assert!(is_valid_system_config_key(key), "{key}");
        }
        let longest = "k".repeat(100);
        assert!(is_valid_system_config_key(&longest));
        for key in ["", "a b", "a/b", "ключ", "a:b", "a\nb", &"k".repeat(101)] {
            assert!(!is_valid_system_config_key(key), "{key:?}");
        }
    }
}
