//! LLM providers stored in the database, shared by the `providers.*` WebSocket methods and the
//! `/v1/providers` routes: the request fields, their validation, the encryption of the API key
//! before it is stored, and the wire shape, which shows the key only masked. Providers of the
//! configuration (file and environment) are shown in the same shape, marked read-only.
//!
//! Moving a provider's endpoint (`api_base` or `provider_type`) clears its stored key unless
//! the same request supplies one: the key was given for the old endpoint.
//!
//! A key is never stored in plaintext: without `GOCLAW_ENCRYPTION_KEY` (no [`SecretBox`] in
//! the state) a request carrying one is refused.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use goclaw_core::{
    LlmProvider, LlmProviderPatch, NewLlmProvider, Provider, ProviderName, TenantId,
};
use goclaw_crypto::SecretBox;
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

/// The runtime's view of the providers: told to re-read the stored ones after every change so
/// the next run already uses it, and asked for those of the configuration and for clients
/// (to list models and verify a model).
pub trait StoredProviders: Send + Sync {
    fn reload(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>>;

    /// The providers of the configuration (file and environment) runs can use.
    fn configured(&self) -> Vec<ConfiguredProvider> {
        Vec::new()
    }

    /// The client of the configured provider `name`.
    fn configured_client(&self, _name: &str) -> Option<Arc<dyn Provider>> {
        None
    }

    /// A client for the stored `provider` (its key opened with the gateway's secret box), or
    /// why none can be built.
    fn stored_client(&self, _provider: &LlmProvider) -> Result<Arc<dyn Provider>, String> {
        Err("no provider clients here".to_owned())
    }

    /// The provider and model memory embeds with now; `None` when memory searches by full
    /// text only. Reloading chooses again.
    fn embedding(&self) -> Option<EmbeddingInUse> {
        None
    }
}

/// A provider of the configuration, shown read-only next to the stored ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfiguredProvider {
    /// Its key in `providers` (`anthropic`, `openrouter`, …).
    pub name: String,
    /// GoClaw's `provider_type` for it (`anthropic_native`, `openai_compat`, …).
    pub provider_type: String,
    pub api_base: String,
    pub has_api_key: bool,
    /// When the configuration was loaded.
    pub loaded_at: DateTime<Utc>,
}

impl ConfiguredProvider {
    /// Its stable id: a name-based UUID, the same on every start and every replica.
    pub fn id(&self) -> Uuid {
        Uuid::new_v5(
            &Uuid::NAMESPACE_URL,
            format!("goclaw:provider:config:{}", self.name).as_bytes(),
        )
    }
}

/// The provider and model memory embeds with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbeddingInUse {
    pub provider: String,
    pub model: String,
}

/// Tells the runtime (when the state has a [`StoredProviders`]) that the stored providers
/// changed.
pub async fn changed(stored: Option<&Arc<dyn StoredProviders>>) {
    if let Some(stored) = stored {
        stored.reload().await;
    }
}

/// Fields a create or update request may carry. `api_key` is the plaintext key; an empty one
/// on update removes the stored key.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderFields {
    pub name: Option<String>,
    #[serde(alias = "providerType")]
    pub provider_type: Option<String>,
    #[serde(alias = "apiBase")]
    pub api_base: Option<String>,
    #[serde(alias = "apiKey")]
    pub api_key: Option<String>,
    pub enabled: Option<bool>,
    pub settings: Option<Value>,
    /// `display_name`, sent by GoClaw's clients: accepted so their requests work, not stored.
    #[serde(rename = "display_name", alias = "displayName")]
    pub _display_name: Option<String>,
}

/// Why a provider request was refused.
#[derive(Debug, thiserror::Error)]
pub enum ProviderInputError {
    #[error("{0}")]
    Invalid(String),
    #[error(
        "cannot store a provider API key: GOCLAW_ENCRYPTION_KEY is not set (keys are only \
         stored encrypted); set it (e.g. `openssl rand -hex 32`), back it up and restart the \
         gateway"
    )]
    NoEncryptionKey,
}

/// Parses a provider name from a path or a param.
pub fn provider_name(raw: &str) -> Result<ProviderName, ProviderInputError> {
    ProviderName::parse(raw).map_err(|e| ProviderInputError::Invalid(e.to_string()))
}

/// The record to create from `fields`: a name is required, the type defaults to
/// `openai_compat`, the key is encrypted.
pub fn new_provider(
    tenant: TenantId,
    fields: ProviderFields,
    secrets: Option<&SecretBox>,
) -> Result<NewLlmProvider, ProviderInputError> {
    let raw_name = fields
        .name
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .ok_or_else(|| ProviderInputError::Invalid("name is required".to_owned()))?;
    let mut provider = NewLlmProvider::new(tenant, provider_name(raw_name)?);
    let patch = patch_from(
        ProviderFields {
            name: None,
            ..fields
        },
        secrets,
    )?;
    if let Some(provider_type) = patch.provider_type {
        provider.provider_type = provider_type;
    }
    if let Some(api_base) = patch.api_base {
        provider.api_base = api_base;
    }
    if let Some(key) = patch.api_key_ciphertext {
        provider.api_key_ciphertext = key;
    }
    if let Some(enabled) = patch.enabled {
        provider.enabled = enabled;
    }
    if let Some(settings) = patch.settings {
        provider.settings = settings;
    }
    Ok(provider)
}

/// The partial update `fields` describe; `name`, when present, must be `current` (renaming is
/// not supported).
pub fn update_patch(
    current: &ProviderName,
    fields: ProviderFields,
    secrets: Option<&SecretBox>,
) -> Result<LlmProviderPatch, ProviderInputError> {
    if fields
        .name
        .as_deref()
        .is_some_and(|name| name != current.as_str())
    {
        return Err(ProviderInputError::Invalid(
            "a provider cannot be renamed; create a new one and delete this one".to_owned(),
        ));
    }
    patch_from(fields, secrets)
}

fn patch_from(
    fields: ProviderFields,
    secrets: Option<&SecretBox>,
) -> Result<LlmProviderPatch, ProviderInputError> {
    let invalid = |message: &str| ProviderInputError::Invalid(message.to_owned());
    if let Some(provider_type) = fields.provider_type.as_deref() {
        let valid = !provider_type.is_empty()
            && provider_type.len() <= 50
            && provider_type
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !valid {
            return Err(invalid(
                "provider_type must be 1-50 lowercase letters, digits or '_' \
                 (e.g. openai_compat, anthropic_native, openrouter)",
            ));
        }
    }
    let api_base = fields.api_base.map(|b| b.trim().to_owned());
    let is_url = |b: &str| b.starts_with("http://") || b.starts_with("https://");
    if api_base
        .as_deref()
        .is_some_and(|b| !b.is_empty() && !is_url(b))
    {
        return Err(invalid("api_base must be an http:// or https:// URL"));
    }
    if fields
        .settings
        .as_ref()
        .is_some_and(|s| !(s.is_object() || s.is_null()))
    {
        return Err(invalid("settings must be a JSON object"));
    }
    let api_key_ciphertext = match fields.api_key.as_deref().map(str::trim) {
        None => None,
        Some("") => Some(String::new()),
        Some(key) => Some(
            secrets
                .ok_or(ProviderInputError::NoEncryptionKey)?
                .encrypt(key),
        ),
    };
    Ok(LlmProviderPatch {
        provider_type: fields.provider_type,
        api_base,
        api_key_ciphertext,
        enabled: fields.enabled,
        settings: fields.settings,
    })
}

/// Whether `patch` sends `current`'s requests somewhere else: another `api_base`, or another
/// `provider_type` (whose default base URL applies when `api_base` is empty).
pub fn moves_endpoint(current: &LlmProvider, patch: &LlmProviderPatch) -> bool {
    let base = |b: &str| b.trim().trim_end_matches('/').to_owned();
    let base_moves = patch
        .api_base
        .as_deref()
        .is_some_and(|b| base(b) != base(&current.api_base));
    let type_moves = patch
        .provider_type
        .as_deref()
        .is_some_and(|t| t != current.provider_type);
    base_moves || type_moves
}

/// Clears the stored API key when `patch` moves the provider's endpoint without supplying a
/// key, so whoever may edit a provider cannot have its key sent to a server of their choosing.
/// Returns whether the key is being cleared.
pub fn drop_key_if_endpoint_moves(current: &LlmProvider, patch: &mut LlmProviderPatch) -> bool {
    if patch.api_key_ciphertext.is_some()
        || current.api_key_ciphertext.is_empty()
        || !moves_endpoint(current, patch)
    {
        return false;
    }
    patch.api_key_ciphertext = Some(String::new());
    true
}

/// Logs that `user_id` moved `provider`'s endpoint and its stored key was cleared.
pub fn log_key_cleared(provider: &ProviderName, user_id: &str) {
    tracing::warn!(
        provider = %provider.as_str(),
        user_id = %user_id,
        "security.provider_key_cleared"
    );
}

/// How a stored API key is shown: GoClaw's mask, never any part of the key.
pub const MASKED_KEY: &str = "***";

/// A provider as clients see it (GoClaw's `/v1/providers` record): its key only as
/// [`MASKED_KEY`] (empty without one), plus `has_api_key`.
pub fn wire(provider: &LlmProvider) -> Value {
    let has_key = !provider.api_key_ciphertext.is_empty();
    json!({
        "id": provider.id.to_string(),
        "tenant_id": provider.tenant_id.to_string(),
        "name": provider.name.as_str(),
        "provider_type": provider.provider_type,
        "api_base": provider.api_base,
        "api_key": if has_key { MASKED_KEY } else { "" },
        "has_api_key": has_key,
        "enabled": provider.enabled,
        "settings": provider.settings,
        "source": "database",
        "read_only": false,
        "created_at": provider.created_at.to_rfc3339(),
        "updated_at": provider.updated_at.to_rfc3339(),
    })
}

/// A configured provider as clients see it: the stored shape, with `source: "config"` and
/// `read_only: true` (it changes in the configuration, not through the API).
pub fn configured_wire(provider: &ConfiguredProvider) -> Value {
    let loaded = provider.loaded_at.to_rfc3339();
    json!({
        "id": provider.id().to_string(),
        "tenant_id": goclaw_core::MASTER_TENANT_ID.to_string(),
        "name": provider.name,
        "provider_type": provider.provider_type,
        "api_base": provider.api_base,
        "api_key": if provider.has_api_key { MASKED_KEY } else { "" },
        "has_api_key": provider.has_api_key,
        "enabled": true,
        "settings": {},
        "source": "config",
        "read_only": true,
        "created_at": loaded,
        "updated_at": loaded,
    })
}

/// What `GET /v1/providers` and `providers.list` list: the tenant's stored providers, then
/// the configuration's ones no stored provider of the same name replaces.
pub async fn listed(
    state: &crate::routes::AppState,
    tenant: TenantId,
) -> Result<Vec<Value>, goclaw_core::StoreError> {
    let stored = state.store.llm_providers().list(tenant).await?;
    let configured = state
        .stored_providers
        .as_ref()
        .map(|providers| providers.configured())
        .unwrap_or_default();
    let mut listed: Vec<Value> = stored.iter().map(wire).collect();
    listed.extend(
        configured
            .iter()
            .filter(|c| !stored.iter().any(|s| s.name.as_str() == c.name))
            .map(configured_wire),
    );
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use goclaw_core::MASTER_TENANT_ID;
    use goclaw_crypto::EncryptionKey;

    use super::*;

    fn secret_box() -> SecretBox {
        SecretBox::new(&EncryptionKey::generate())
    }

    fn fields(value: Value) -> ProviderFields {
        serde_json::from_value(value).expect("fields")
    }

    fn check_refused(value: Value, secrets: Option<&SecretBox>, expected: &str) {
        let error = new_provider(MASTER_TENANT_ID, fields(value.clone()), secrets)
            .err()
            .unwrap_or_else(|| panic!("{value} should be refused"));
        assert!(error.to_string().contains(expected), "{value}: {error}");
    }

    #[test]
    fn keys_are_encrypted_before_storing() {
        let b = secret_box();
        let new = new_provider(
            MASTER_TENANT_ID,
            fields(json!({"name": "p", "api_key": "sk-plain-secret", "providerType": "groq"})),
            Some(&b),
        )
        .expect("valid");
        assert!(new.api_key_ciphertext.starts_with("aes-gcm:"));
        assert_eq!(
            b.decrypt(&new.api_key_ciphertext).as_deref(),
            Ok("sk-plain-secret")
        );
        assert_eq!(new.provider_type, "groq");
    }

    #[test]
    fn invalid_requests_are_refused() {
        let b = secret_box();
        check_refused(json!({}), Some(&b), "name is required");
        check_refused(json!({"name": "a b"}), Some(&b), "provider name");
        check_refused(
            json!({"name": "p", "provider_type": "Open AI"}),
            Some(&b),
            "provider_type",
        );
        check_refused(
            json!({"name": "p", "api_base": "ftp://x"}),
            Some(&b),
            "api_base",
        );
        check_refused(json!({"name": "p", "settings": [1]}), Some(&b), "settings");
        check_refused(
            json!({"name": "p", "api_key": "sk"}),
            None,
            "GOCLAW_ENCRYPTION_KEY",
        );
        assert!(new_provider(MASTER_TENANT_ID, fields(json!({"name": "p"})), None).is_ok());
    }

    #[test]
    fn updates_cannot_rename_and_may_clear_the_key() {
        let name = provider_name("p").expect("valid");
        assert!(update_patch(&name, fields(json!({"name": "q"})), None).is_err());
        let patch = update_patch(&name, fields(json!({"name": "p", "api_key": ""})), None)
            .expect("clearing needs no key");
        assert_eq!(patch.api_key_ciphertext.as_deref(), Some(""));
    }

    fn stored(api_base: &str, provider_type: &str, key: &str) -> LlmProvider {
        LlmProvider {
            id: uuid::Uuid::nil(),
            tenant_id: MASTER_TENANT_ID,
            name: provider_name("p").expect("valid"),
            provider_type: provider_type.to_owned(),
            api_base: api_base.to_owned(),
            api_key_ciphertext: key.to_owned(),
            enabled: true,
            settings: json!({}),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        }
    }

    /// Whether updating a provider at `https://api.example.com/v1` (type `openai_compat`,
    /// with a stored key) with `change` clears its key.
    fn check_clears(change: Value, expected: bool) {
        let current = stored("https://api.example.com/v1", "openai_compat", "aes-gcm:x");
        let name = provider_name("p").expect("valid");
        let b = secret_box();
        let mut patch = update_patch(&name, fields(change.clone()), Some(&b)).expect("valid");
        let supplied = patch.api_key_ciphertext.clone();
        let cleared = drop_key_if_endpoint_moves(&current, &mut patch);
        assert_eq!(cleared, expected, "{change}");
        if cleared {
            assert_eq!(patch.api_key_ciphertext.as_deref(), Some(""), "{change}");
        } else {
            assert_eq!(patch.api_key_ciphertext, supplied, "{change}");
        }
    }

    #[test]
    fn moving_the_endpoint_clears_the_key() {
        check_clears(json!({"api_base": "https://evil.example/v1"}), true);
        check_clears(json!({"api_base": "http://127.0.0.1:9/v1"}), true);
        check_clears(json!({"api_base": ""}), true);
        check_clears(json!({"provider_type": "ollama"}), true);
        check_clears(json!({"api_base": "https://api.example.com/v1"}), false);
        check_clears(json!({"api_base": " https://api.example.com/v1/ "}), false);
        check_clears(json!({"provider_type": "openai_compat"}), false);
        check_clears(json!({"enabled": false}), false);
        check_clears(json!({"settings": {"x": 1}}), false);
        check_clears(
            json!({"api_base": "https://other.example/v1", "api_key": "sk-new"}),
            false,
        );
        check_clears(
            json!({"api_base": "https://other.example/v1", "api_key": ""}),
            false,
        );
        let keyless = stored("https://api.example.com/v1", "openai_compat", "");
        let mut patch = update_patch(
            &provider_name("p").expect("valid"),
            fields(json!({"api_base": "https://x.example"})),
            None,
        )
        .expect("valid");
        assert!(!drop_key_if_endpoint_moves(&keyless, &mut patch));
    }

    #[test]
    fn wire_shows_the_key_masked_only() {
        let b = secret_box();
        let new = new_provider(
            MASTER_TENANT_ID,
            fields(json!({"name": "p", "api_key": "sk-ant-0123456789-wxyz"})),
            Some(&b),
        )
        .expect("valid");
        let provider = LlmProvider {
            id: uuid::Uuid::nil(),
            tenant_id: MASTER_TENANT_ID,
            name: new.name,
            provider_type: new.provider_type,
            api_base: new.api_base,
            api_key_ciphertext: new.api_key_ciphertext,
            enabled: true,
            settings: json!({}),
            created_at: chrono::Utc::now(),
            updated_at: chrono::Utc::now(),
        };
        let shown = wire(&provider);
        assert_eq!(shown["api_key"], MASKED_KEY);
        assert_eq!(shown["has_api_key"], true);
        let text = shown.to_string();
        assert!(
            !text.contains("0123456789") && !text.contains("aes-gcm") && !text.contains("wxyz"),
            "{text}"
        );
        let keyless = LlmProvider {
            api_key_ciphertext: String::new(),
            ..provider
        };
        assert_eq!(wire(&keyless)["api_key"], "");
        assert_eq!(wire(&keyless)["has_api_key"], false);
    }
}
