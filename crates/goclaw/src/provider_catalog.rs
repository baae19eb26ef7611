//! [`ProviderCatalog`]: the providers agent runs can call — the enabled providers stored in the
//! master tenant's `llm_providers`, which win over those of the configuration (file and
//! environment), as in GoClaw.
//!
//! Stored providers are built into clients once and kept in memory; the gateway calls
//! [`ProviderCatalog::reload`] after every create, update or delete, so the next run already
//! sees the change. A stored provider that cannot be built (its key does not decrypt, no base
//! URL is known for its type) is skipped with a warning that names it, never its key.
//!
//! The catalog also owns the [`EmbeddingSelection`]: which provider memory embeds with
//! depends on the stored providers, so every reload chooses it again.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::{DateTime, Utc};
use goclaw_agent::ProviderLookup;
use goclaw_core::{LlmProvider, MASTER_TENANT_ID, Provider, Store, StoreError};
use goclaw_crypto::{CryptoError, SecretBox};
use goclaw_gateway::{ConfiguredProvider, EmbeddingInUse, StoredProviders};
use goclaw_providers::{
    AnthropicProvider, OpenAiCompatProvider, ProviderRegistry, default_base_url,
};

use crate::embedding::EmbeddingSelection;

/// Stored providers over the configured ones.
pub struct ProviderCatalog {
    store: Arc<dyn Store>,
    secrets: Option<Arc<SecretBox>>,
    configured: ProviderRegistry,
    stored: RwLock<BTreeMap<String, Arc<dyn Provider>>>,
    embedding: Option<Arc<EmbeddingSelection>>,
    /// When the configuration's providers were built.
    loaded_at: DateTime<Utc>,
}

impl ProviderCatalog {
    /// A catalog with no stored providers loaded yet; call [`ProviderCatalog::reload`].
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Option<Arc<SecretBox>>,
        configured: ProviderRegistry,
    ) -> Self {
        Self {
            store,
            secrets,
            configured,
            stored: RwLock::new(BTreeMap::new()),
            embedding: None,
            loaded_at: Utc::now(),
        }
    }

    /// The same catalog choosing memory's embedding provider on every reload too.
    pub fn with_embedding(mut self, embedding: Arc<EmbeddingSelection>) -> Self {
        self.embedding = Some(embedding);
        self
    }

    /// The embedding selection, when the catalog has one.
    pub fn embedding(&self) -> Option<&Arc<EmbeddingSelection>> {
        self.embedding.as_ref()
    }

    /// Re-reads the master tenant's stored providers and rebuilds their clients.
    pub async fn reload(&self) -> Result<(), StoreError> {
        let rows = self.store.llm_providers().list(MASTER_TENANT_ID).await?;
        let mut stored = BTreeMap::new();
        for row in rows.iter().filter(|p| p.enabled) {
            match build(row, self.secrets.as_deref()) {
                Ok(provider) => {
                    stored.insert(row.name.to_string(), provider);
                }
                Err(reason) => tracing::warn!(
                    provider = %row.name,
                    provider_type = %row.provider_type,
                    reason = %reason,
                    "stored provider skipped"
                ),
            }
        }
        *self.stored.write().unwrap_or_else(PoisonError::into_inner) = stored;
        if let Some(embedding) = &self.embedding {
            embedding.refresh().await?;
        }
        Ok(())
    }

    /// Every name a run can use, sorted.
    pub fn names(&self) -> Vec<String> {
        let mut names = self.configured.names();
        names.extend(self.stored_names());
        names.sort();
        names.dedup();
        names
    }

    /// Names of the stored providers in use.
    pub fn stored_names(&self) -> Vec<String> {
        let stored = self.stored.read().unwrap_or_else(PoisonError::into_inner);
        stored.keys().cloned().collect()
    }
}

impl ProviderLookup for ProviderCatalog {
    fn get(&self, name: &str) -> Option<Arc<dyn Provider>> {
        let stored = self.stored.read().unwrap_or_else(PoisonError::into_inner);
        stored
            .get(name)
            .cloned()
            .or_else(|| self.configured.get(name))
    }
}

impl StoredProviders for ProviderCatalog {
    fn reload(&self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(async move {
            if let Err(error) = ProviderCatalog::reload(self).await {
                tracing::error!(error = %error, "cannot reload the stored providers");
            }
        })
    }

    fn configured(&self) -> Vec<ConfiguredProvider> {
        self.configured
            .names()
            .into_iter()
            .map(|name| ConfiguredProvider {
                provider_type: goclaw_type(&name).to_owned(),
                api_base: self
                    .configured
                    .base_url(&name)
                    .unwrap_or_default()
                    .to_owned(),
                // Only Ollama is configured without a key.
                has_api_key: name != "ollama",
                loaded_at: self.loaded_at,
                name,
            })
            .collect()
    }

    fn configured_client(&self, name: &str) -> Option<Arc<dyn Provider>> {
        self.configured.get(name)
    }

    fn stored_client(&self, provider: &LlmProvider) -> Result<Arc<dyn Provider>, String> {
        build(provider, self.secrets.as_deref())
    }

    fn embedding(&self) -> Option<EmbeddingInUse> {
        let status = self.embedding.as_ref()?.status();
        Some(EmbeddingInUse {
            provider: status.provider?,
            model: status.model?,
        })
    }
}

/// GoClaw's `provider_type` of the configured provider `name`.
fn goclaw_type(name: &str) -> &str {
    match name {
        "anthropic" => "anthropic_native",
        "openai" => "openai_compat",
        "gemini" => "gemini_native",
        "minimax" => "minimax_native",
        other => other,
    }
}

/// The client for a stored provider: `anthropic_native` (or `anthropic`) speaks the Anthropic
/// Messages API, every other type the OpenAI-compatible one.
fn build(row: &LlmProvider, secrets: Option<&SecretBox>) -> Result<Arc<dyn Provider>, String> {
    let key = api_key(row, secrets)?;
    let name = row.name.as_str();
    let kind = row.provider_type.as_str();
    let explicit_base = Some(row.api_base.trim()).filter(|b| !b.is_empty());
    if matches!(kind, "anthropic_native" | "anthropic") {
        let key = key.ok_or("an Anthropic provider needs an API key")?;
        let base = explicit_base.unwrap_or(AnthropicProvider::DEFAULT_BASE_URL);
        return Ok(Arc::new(
            AnthropicProvider::new(key)
                .with_name(name)
                .with_base_url(base),
        ));
    }
    let base = explicit_base
        .or_else(|| default_base_url(kind))
        .or_else(|| default_base_url(name))
        .ok_or_else(|| format!("no api_base set and no default base URL for type {kind:?}"))?;
    let provider = OpenAiCompatProvider::new(name, base, key)
        .with_reasoning_effort(matches!(kind, "openai" | "gemini" | "gemini_native"));
    let provider = match kind {
        // OpenRouter ranks apps by these headers.
        "openrouter" => provider
            .with_header("HTTP-Referer", "https://goclaw.sh")
            .with_header("X-Title", "GoClaw"),
        _ => provider,
    };
    Ok(Arc::new(provider))
}

/// The provider's API key in plaintext, if it has one. A value without the `aes-gcm:` prefix
/// is legacy plaintext written by a gateway that had no key; it is used, with a warning.
pub(crate) fn api_key(
    row: &LlmProvider,
    secrets: Option<&SecretBox>,
) -> Result<Option<String>, String> {
    let stored = row.api_key_ciphertext.as_str();
    if stored.is_empty() {
        return Ok(None);
    }
    let Some(secrets) = secrets else {
        if goclaw_crypto::is_encrypted(stored) {
            return Err("its API key is encrypted and GOCLAW_ENCRYPTION_KEY is not set".into());
        }
        return Ok(Some(legacy_plaintext(row, stored)));
    };
    match secrets.decrypt(stored) {
        Ok(key) => {
            // Known only now: make sure the logger hides it too.
            goclaw_telemetry::global_mask().extend([key.as_str()]);
            goclaw_tools::known_secrets::known_secrets().extend([key.as_str()]);
            Ok(Some(key))
        }
        Err(CryptoError::NotEncrypted) => Ok(Some(legacy_plaintext(row, stored))),
        Err(error) => Err(error.to_string()),
    }
}

fn legacy_plaintext(row: &LlmProvider, stored: &str) -> String {
    goclaw_telemetry::global_mask().extend([stored]);
    goclaw_tools::known_secrets::known_secrets().extend([stored]);
    tracing::warn!(
        provider = %row.name,
        "stored provider API key is not encrypted; save it again to encrypt it"
    );
    stored.to_owned()
}
