//! LLM providers kept in the database (`llm_providers`), unique by `(tenant, name)`. Their API
//! keys are stored encrypted; this layer only ever sees the ciphertext.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{ParseError, TenantId};
use crate::store::StoreError;

/// The name a provider is registered under and agents refer to (`anthropic`, `my-openrouter`).
/// 1–100 characters, no whitespace, control characters or `/`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ProviderName(String);

impl ProviderName {
    pub const MAX_LEN: usize = 100;

    pub fn parse(raw: &str) -> Result<Self, ParseError> {
        let error = |reason: &str| ParseError {
            kind: "provider name",
            reason: reason.to_owned(),
        };
        if raw.is_empty() {
            return Err(error("must not be empty"));
        }
        if raw.chars().count() > Self::MAX_LEN {
            return Err(error("must be at most 100 characters"));
        }
        if raw
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '/')
        {
            return Err(error(
                "must not contain whitespace, control characters or '/'",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for ProviderName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ProviderName {
    type Error = ParseError;

    fn try_from(value: String) -> Result<Self, ParseError> {
        Self::parse(&value)
    }
}

impl From<ProviderName> for String {
    fn from(name: ProviderName) -> Self {
        name.0
    }
}

/// A stored provider. `api_key_ciphertext` is `aes-gcm:…` (or empty for keyless endpoints);
/// never show it, and never log it.
#[derive(Clone, PartialEq)]
pub struct LlmProvider {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub name: ProviderName,
    /// `anthropic_native`, `openai_compat`, `openrouter`, ...
    pub provider_type: String,
    /// Base URL; empty means the default of the provider type.
    pub api_base: String,
    pub api_key_ciphertext: String,
    pub enabled: bool,
    /// Free-form JSON object (embedding, reasoning, ... settings).
    pub settings: serde_json::Value,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl std::fmt::Debug for LlmProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LlmProvider")
            .field("id", &self.id)
            .field("tenant_id", &self.tenant_id)
            .field("name", &self.name)
            .field("provider_type", &self.provider_type)
            .field("api_base", &self.api_base)
            .field("has_api_key", &!self.api_key_ciphertext.is_empty())
            .field("enabled", &self.enabled)
            .finish_non_exhaustive()
    }
}

/// What `create` needs.
#[derive(Clone)]
pub struct NewLlmProvider {
    pub tenant_id: TenantId,
    pub name: ProviderName,
    pub provider_type: String,
    pub api_base: String,
    pub api_key_ciphertext: String,
    pub enabled: bool,
    /// A JSON object; `null` is stored as `{}`.
    pub settings: serde_json::Value,
}

impl NewLlmProvider {
    /// An enabled `openai_compat` provider with no base, key or settings.
    pub fn new(tenant_id: TenantId, name: ProviderName) -> Self {
        Self {
            tenant_id,
            name,
            provider_type: "openai_compat".to_owned(),
            api_base: String::new(),
            api_key_ciphertext: String::new(),
            enabled: true,
            settings: serde_json::Value::Object(Default::default()),
        }
    }
}

/// A partial update; `None` leaves a field as it is. `settings` replaces the whole object.
#[derive(Clone, Default)]
pub struct LlmProviderPatch {
    pub provider_type: Option<String>,
    pub api_base: Option<String>,
    pub api_key_ciphertext: Option<String>,
    pub enabled: Option<bool>,
    pub settings: Option<serde_json::Value>,
}

/// Providers of each tenant.
#[async_trait]
pub trait LlmProviderStore: Send + Sync {
    /// The tenant's providers ordered by name.
    async fn list(&self, tenant: TenantId) -> Result<Vec<LlmProvider>, StoreError>;
    async fn get(&self, tenant: TenantId, name: &ProviderName) -> Result<LlmProvider, StoreError>;
    /// `Conflict` when the name is taken in that tenant.
    async fn create(&self, provider: NewLlmProvider) -> Result<LlmProvider, StoreError>;
    async fn update(
        &self,
        tenant: TenantId,
        name: &ProviderName,
        patch: LlmProviderPatch,
    ) -> Result<LlmProvider, StoreError>;
    async fn delete(&self, tenant: TenantId, name: &ProviderName) -> Result<(), StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(raw: &str, ok: bool) {
        assert_eq!(ProviderName::parse(raw).is_ok(), ok, "name {raw:?}");
    }

    #[test]
    fn provider_names() {
        check("anthropic", true);
        check("my-openrouter_2.eu", true);
        check(&"p".repeat(100), true);
        check(&"p".repeat(101), false);
        check("", false);
        check("has space", false);
        check("a/b", false);
        check("tab\there", false);
    }

    #[test]
    fn debug_hides_the_key() {
        let provider = LlmProvider {
            id: Uuid::nil(),
            tenant_id: crate::MASTER_TENANT_ID,
            name: ProviderName::parse("p").expect("valid"),
            provider_type: "openai_compat".to_owned(),
            api_base: String::new(),
            api_key_ciphertext: "aes-gcm:SECRETSECRET".to_owned(),
            enabled: true,
            settings: serde_json::json!({}),
            created_at: Utc::now(),
            updated_at: Utc::now(),
        };
        let shown = format!("{provider:?}");
        assert!(!shown.contains("SECRET"), "{shown}");
        assert!(shown.contains("has_api_key: true"), "{shown}");
    }
}
