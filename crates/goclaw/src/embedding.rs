//! Which provider memory embeds with, chosen as GoClaw chooses it, and the
//! [`EmbeddingSelection`] that keeps the memory tools' [`EmbedderSlot`] filled with it.
//!
//! The order, first match wins:
//! 1. the master tenant's system configs `embedding.provider` (and `embedding.model`): a stored
//!    provider of that name, else a configured one (file or environment) of that name;
//! 2. the first enabled stored provider whose `settings.embedding.enabled` is true;
//! 3. `agents.defaults.memory.embedding_provider` of the configuration, naming a stored or
//!    configured provider (GoClaw ignores this key; it is honoured here because an operator
//!    who writes it expects it to work).
//!
//! The model is the system config's, else the provider's `settings.embedding.model`, else the
//! configuration's `embedding_model` (default `text-embedding-3-small`); the API base is
//! `settings.embedding.api_base`, else the provider's base, else the default of its type.
//! Providers that have no embeddings API (Anthropic, Claude CLI, ChatGPT OAuth) are never
//! chosen. Without a choice, memory is searched by full text only.
//!
//! The selection also keeps memory's chunking ([`ChunkingSlot`]) as GoClaw reloads it: the
//! system configs `embedding.max_chunk_len` and `embedding.chunk_overlap` (positive numbers)
//! over the configuration's `max_chunk_len`/`chunk_overlap`, read again on every refresh.

use std::sync::{Arc, PoisonError, RwLock};

use goclaw_config::{MemoryConfig, ProvidersConfig};
use goclaw_core::{
    EMBEDDING_MODEL_KEY, EMBEDDING_PROVIDER_KEY, LlmProvider, MASTER_TENANT_ID, Store, StoreError,
};
use goclaw_crypto::SecretBox;
use goclaw_memory::embed::{
    DEFAULT_EMBEDDING_MODEL, EmbedderSlot, EmbeddingClient, EmbeddingSettings,
};
use goclaw_memory::settings::{ChunkingSlot, chunking};
use goclaw_providers::default_base_url;
use serde_json::Value;

/// Provider types without an embeddings endpoint.
const NO_EMBEDDINGS: &[&str] = &[
    "anthropic",
    "anthropic_native",
    "claude_cli",
    "chatgpt_oauth",
];

/// Why a provider was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChoiceSource {
    /// System config `embedding.provider`.
    SystemConfig,
    /// The provider's `settings.embedding.enabled`.
    ProviderSettings,
    /// `agents.defaults.memory.embedding_provider`.
    MemoryConfig,
}

impl ChoiceSource {
    /// How doctor and the status route describe it.
    pub fn describe(self) -> &'static str {
        match self {
            ChoiceSource::SystemConfig => "system config embedding.provider",
            ChoiceSource::ProviderSettings => "provider settings embedding.enabled",
            ChoiceSource::MemoryConfig => "agents.defaults.memory.embedding_provider",
        }
    }
}

/// Where the chosen provider's key comes from.
#[derive(Clone)]
enum KeySource {
    /// A stored provider's `api_key` column, decrypted when the client is built.
    Stored(LlmProvider),
    /// A configured provider's key, in plaintext already.
    Configured(Option<String>),
}

/// The provider, model and endpoint memory embeds with.
#[derive(Clone)]
pub struct EmbeddingChoice {
    pub provider: String,
    pub model: String,
    pub base_url: String,
    pub source: ChoiceSource,
    key: KeySource,
}

impl std::fmt::Debug for EmbeddingChoice {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmbeddingChoice")
            .field("provider", &self.provider)
            .field("model", &self.model)
            .field("base_url", &self.base_url)
            .field("source", &self.source)
            .finish_non_exhaustive()
    }
}

/// What a choice could not be made of, for logs and doctor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub provider: String,
    pub reason: String,
}

/// The outcome of choosing: a choice, or none, plus what was named but unusable.
#[derive(Debug, Clone, Default)]
pub struct Chosen {
    pub choice: Option<EmbeddingChoice>,
    pub skipped: Vec<Skipped>,
}

/// `settings.embedding` of a stored provider.
struct ProviderEmbedding<'a> {
    enabled: bool,
    model: Option<&'a str>,
    api_base: Option<&'a str>,
}

fn provider_embedding(settings: &Value) -> ProviderEmbedding<'_> {
    let embedding = settings.get("embedding");
    let text = |key: &str| {
        embedding
            .and_then(|e| e.get(key))
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|s| !s.is_empty())
    };
    ProviderEmbedding {
        enabled: embedding
            .and_then(|e| e.get("enabled"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
        model: text("model"),
        api_base: text("api_base"),
    }
}

/// Chooses the embedding provider from the master tenant's system configs and stored
/// providers and the configuration. Nothing is decrypted or contacted.
pub async fn choose(
    store: &dyn Store,
    providers: &ProvidersConfig,
    memory: &MemoryConfig,
) -> Result<Chosen, StoreError> {
    let configs = store.system_configs();
    let named = configs
        .get(MASTER_TENANT_ID, EMBEDDING_PROVIDER_KEY)
        .await?
        .filter(|name| !name.trim().is_empty());
    let model_override = configs
        .get(MASTER_TENANT_ID, EMBEDDING_MODEL_KEY)
        .await?
        .filter(|model| !model.trim().is_empty());
    let stored = store.llm_providers().list(MASTER_TENANT_ID).await?;
    let mut chosen = Chosen::default();
    if let Some(name) = named {
        let name = name.trim();
        match by_name(&stored, providers, name, model_override.as_deref(), memory) {
            Ok(mut choice) => {
                choice.source = ChoiceSource::SystemConfig;
                chosen.choice = Some(choice);
                return Ok(chosen);
            }
            Err(reason) => chosen.skipped.push(Skipped {
                provider: name.to_owned(),
                reason,
            }),
        }
    }
    for row in stored.iter().filter(|row| row.enabled) {
        let settings = provider_embedding(&row.settings);
        if !settings.enabled || NO_EMBEDDINGS.contains(&row.provider_type.as_str()) {
            continue;
        }
        match stored_choice(row, model_override.as_deref(), memory) {
            Ok(choice) => {
                chosen.choice = Some(choice);
                return Ok(chosen);
            }
            Err(reason) => chosen.skipped.push(Skipped {
                provider: row.name.to_string(),
                reason,
            }),
        }
    }
    if let Some(name) = memory
        .embedding_provider
        .as_deref()
        .map(str::trim)
        .filter(|name| !name.is_empty())
    {
        match by_name(&stored, providers, name, model_override.as_deref(), memory) {
            Ok(mut choice) => {
                choice.source = ChoiceSource::MemoryConfig;
                if let Some(base) = memory
                    .embedding_api_base
                    .as_deref()
                    .map(str::trim)
                    .filter(|base| !base.is_empty())
                {
                    choice.base_url = base.to_owned();
                }
                chosen.choice = Some(choice);
            }
            Err(reason) => chosen.skipped.push(Skipped {
                provider: name.to_owned(),
                reason,
            }),
        }
    }
    Ok(chosen)
}

/// The provider named `name`: stored first, then configured.
fn by_name(
    stored: &[LlmProvider],
    providers: &ProvidersConfig,
    name: &str,
    model_override: Option<&str>,
    memory: &MemoryConfig,
) -> Result<EmbeddingChoice, String> {
    if let Some(row) = stored.iter().find(|row| row.name.as_str() == name) {
        if !row.enabled {
            return Err("the stored provider is disabled".into());
        }
        return stored_choice(row, model_override, memory);
    }
    let configured = providers
        .api_providers()
        .into_iter()
        .find(|(configured, _)| *configured == name)
        .map(|(_, config)| config)
        .filter(|config| config.is_configured())
        .ok_or_else(|| "no stored or configured provider has this name".to_owned())?;
    if NO_EMBEDDINGS.contains(&name) {
        return Err(format!("{name} has no embeddings API"));
    }
    let base_url = configured
        .api_base
        .as_deref()
        .map(str::trim)
        .filter(|base| !base.is_empty())
        .or_else(|| default_base_url(name))
        .ok_or_else(|| "no API base is known for this provider".to_owned())?;
    Ok(EmbeddingChoice {
        provider: name.to_owned(),
        model: model(model_override, None, memory),
        base_url: base_url.to_owned(),
        source: ChoiceSource::SystemConfig,
        key: KeySource::Configured(
            configured
                .api_key
                .as_ref()
                .map(|key| key.expose().to_owned()),
        ),
    })
}

fn stored_choice(
    row: &LlmProvider,
    model_override: Option<&str>,
    memory: &MemoryConfig,
) -> Result<EmbeddingChoice, String> {
    let kind = row.provider_type.as_str();
    if NO_EMBEDDINGS.contains(&kind) {
        return Err(format!("providers of type {kind} have no embeddings API"));
    }
    let settings = provider_embedding(&row.settings);
    let base_url = settings
        .api_base
        .or(Some(row.api_base.trim()).filter(|base| !base.is_empty()))
        .or_else(|| default_base_url(kind))
        .or_else(|| default_base_url(row.name.as_str()))
        .ok_or_else(|| format!("no api_base set and no default base URL for type {kind:?}"))?;
    Ok(EmbeddingChoice {
        provider: row.name.to_string(),
        model: model(model_override, settings.model, memory),
        base_url: base_url.to_owned(),
        source: ChoiceSource::ProviderSettings,
        key: KeySource::Stored(row.clone()),
    })
}

fn model(system: Option<&str>, provider: Option<&str>, memory: &MemoryConfig) -> String {
    system
        .or(provider)
        .or(Some(memory.embedding_model.trim()).filter(|m| !m.is_empty()))
        .unwrap_or(DEFAULT_EMBEDDING_MODEL)
        .to_owned()
}

impl EmbeddingChoice {
    /// The HTTP client for this choice; a stored key is decrypted with `secrets`.
    pub fn client(&self, secrets: Option<&SecretBox>) -> Result<EmbeddingClient, String> {
        let key = match &self.key {
            KeySource::Configured(key) => key.clone(),
            KeySource::Stored(row) => crate::provider_catalog::api_key(row, secrets)?,
        };
        let mut settings =
            EmbeddingSettings::new(&self.provider, &self.base_url).with_model(&self.model);
        if let Some(key) = key.filter(|key| !key.is_empty()) {
            settings = settings.with_api_key(key);
        }
        EmbeddingClient::new(settings).map_err(|error| error.to_string())
    }
}

/// What memory embeds with now, for `GET /v1/embedding/status` and the logs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EmbeddingStatus {
    pub provider: Option<String>,
    pub model: Option<String>,
    pub source: Option<&'static str>,
    /// Why a named provider could not be used.
    pub problems: Vec<String>,
}

/// Keeps `slot` filled with the chosen provider's client; [`EmbeddingSelection::refresh`]
/// chooses again (after a provider or system config change).
pub struct EmbeddingSelection {
    store: Arc<dyn Store>,
    secrets: Option<Arc<SecretBox>>,
    providers: ProvidersConfig,
    memory: MemoryConfig,
    slot: EmbedderSlot,
    chunking: ChunkingSlot,
    status: RwLock<EmbeddingStatus>,
}

/// System configs of memory's chunking.
pub const MAX_CHUNK_LEN_KEY: &str = "embedding.max_chunk_len";
pub const CHUNK_OVERLAP_KEY: &str = "embedding.chunk_overlap";

impl EmbeddingSelection {
    /// A selection with an empty slot; call [`EmbeddingSelection::refresh`].
    pub fn new(
        store: Arc<dyn Store>,
        secrets: Option<Arc<SecretBox>>,
        providers: ProvidersConfig,
        memory: MemoryConfig,
    ) -> Self {
        let chunking = ChunkingSlot::new(chunking(memory.max_chunk_len, memory.chunk_overlap));
        Self {
            store,
            secrets,
            providers,
            memory,
            slot: EmbedderSlot::default(),
            chunking,
            status: RwLock::new(EmbeddingStatus::default()),
        }
    }

    /// The slot memory indexes share.
    pub fn slot(&self) -> EmbedderSlot {
        self.slot.clone()
    }

    /// The chunking memory indexes share.
    pub fn chunking(&self) -> ChunkingSlot {
        self.chunking.clone()
    }

    /// Reads the chunking again: the system configs over the configuration.
    async fn refresh_chunking(&self) -> Result<(), StoreError> {
        let configs = self.store.system_configs();
        let number = |raw: Option<String>| {
            raw.and_then(|v| v.trim().parse::<u32>().ok())
                .filter(|n| *n > 0)
        };
        let max = number(configs.get(MASTER_TENANT_ID, MAX_CHUNK_LEN_KEY).await?);
        let overlap = number(configs.get(MASTER_TENANT_ID, CHUNK_OVERLAP_KEY).await?);
        self.chunking.replace(chunking(
            max.unwrap_or(self.memory.max_chunk_len),
            overlap.unwrap_or(self.memory.chunk_overlap),
        ));
        Ok(())
    }

    /// What is used now.
    pub fn status(&self) -> EmbeddingStatus {
        self.status
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Chooses again and puts the result in the slot; a store failure keeps the current one.
    pub async fn refresh(&self) -> Result<(), StoreError> {
        self.refresh_chunking().await?;
        let chosen = choose(self.store.as_ref(), &self.providers, &self.memory).await?;
        let mut status = EmbeddingStatus {
            problems: chosen
                .skipped
                .iter()
                .map(|s| format!("{}: {}", s.provider, s.reason))
                .collect(),
            ..EmbeddingStatus::default()
        };
        for skipped in &chosen.skipped {
            tracing::warn!(provider = %skipped.provider, reason = %skipped.reason,
                "embedding provider not usable");
        }
        let client = chosen
            .choice
            .as_ref()
            .map(|choice| (choice, choice.client(self.secrets.as_deref())));
        match client {
            Some((choice, Ok(client))) => {
                tracing::info!(provider = %choice.provider, model = %choice.model,
                    source = choice.source.describe(), "memory embeds with this provider");
                status.provider = Some(choice.provider.clone());
                status.model = Some(choice.model.clone());
                status.source = Some(choice.source.describe());
                self.slot.replace(Some(Arc::new(client)));
            }
            Some((choice, Err(reason))) => {
                tracing::warn!(provider = %choice.provider, reason = %reason,
                    "embedding provider not usable; memory searches by full text only");
                status
                    .problems
                    .push(format!("{}: {reason}", choice.provider));
                self.slot.replace(None);
            }
            None => {
                tracing::info!("no embedding provider chosen; memory searches by full text only");
                self.slot.replace(None);
            }
        }
        *self.status.write().unwrap_or_else(PoisonError::into_inner) = status;
        Ok(())
    }
}
