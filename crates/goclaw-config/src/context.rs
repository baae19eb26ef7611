//! How an agent manages its context: long-term memory and embeddings,
//! session compaction, and pruning of old tool results
//! (`agents.defaults.memory`, `.compaction`, `.contextPruning`).
#![forbid(unsafe_code)]

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Long-term memory: chunked documents searched by full text and vectors.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct MemoryConfig {
    /// Turn memory on.
    pub enabled: bool,
    /// Embedding provider (`openai`, `gemini`, `openrouter`); empty picks the
    /// first configured one.
    pub embedding_provider: Option<String>,
    /// Embedding model.
    pub embedding_model: String,
    /// Custom embedding endpoint URL.
    pub embedding_api_base: Option<String>,
    /// Maximum results of one memory search.
    pub max_results: u32,
    /// Maximum chunk length in characters.
    pub max_chunk_len: u32,
    /// Characters shared by consecutive chunks.
    pub chunk_overlap: u32,
    /// Weight of vector similarity in hybrid search.
    pub vector_weight: f64,
    /// Weight of full-text score in hybrid search.
    pub text_weight: f64,
    /// Minimum relevance score of a result (0–1.2: 0.3 × full-text score relative to the
    /// query's best + 0.7 × cosine similarity, ×1.2 for the user's own). 0 keeps every match:
    /// a chunk found by its words alone scores at most 0.3, so a higher floor drops exact
    /// matches the vectors missed.
    pub min_score: f64,
    /// Consolidation of episodic summaries into long-term memory.
    pub dreaming: DreamingConfig,
    /// Summaries of finished sessions (episodic memory) and their recall.
    pub episodic: EpisodicConfig,
    /// Summarize and link the vault's documents with the model as they are registered.
    pub vault_enrichment: bool,
}

impl Default for MemoryConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            embedding_provider: None,
            embedding_model: "text-embedding-3-small".to_owned(),
            embedding_api_base: None,
            max_results: 6,
            max_chunk_len: 1000,
            chunk_overlap: 200,
            vector_weight: 0.7,
            text_weight: 0.3,
            min_score: 0.0,
            dreaming: DreamingConfig::default(),
            episodic: EpisodicConfig::default(),
            vault_enrichment: true,
        }
    }
}

/// The background writer of session summaries (episodic memory).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct EpisodicConfig {
    /// Summarize sessions and recall the summaries in later sessions.
    pub enabled: bool,
    /// A session with no new message for this long is summarized, in milliseconds.
    pub idle_timeout_ms: u64,
    /// How often idle sessions are looked for, in milliseconds.
    pub sweep_interval_ms: u64,
    /// Sessions that may wait to be summarized; more are refused and counted.
    pub queue_capacity: u32,
    /// Attempts per summary before it counts as failed.
    pub max_attempts: u32,
    /// Days a summary is kept (an agent's `episodic_ttl_days` overrides it).
    pub ttl_days: u32,
}

impl Default for EpisodicConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            idle_timeout_ms: 600_000,
            sweep_interval_ms: 60_000,
            queue_capacity: 1000,
            max_attempts: 3,
            ttl_days: 90,
        }
    }
}

/// The background worker that consolidates memory.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct DreamingConfig {
    /// Run the worker.
    pub enabled: bool,
    /// Minimum interval between runs per agent and user, in milliseconds.
    pub debounce_ms: u64,
    /// Minimum unpromoted entries before a run.
    pub threshold: u32,
    /// Log skipped runs at info level.
    pub verbose_log: bool,
}

impl Default for DreamingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            debounce_ms: 600_000,
            threshold: 5,
            verbose_log: false,
        }
    }
}

/// Summarizing old history when a session approaches the context window.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct CompactionConfig {
    /// Tokens always kept free for the reply.
    pub reserve_tokens_floor: u32,
    /// Maximum share of the context window used by history.
    pub max_history_share: f64,
    /// Messages kept verbatim after compaction.
    pub keep_last_messages: u32,
    /// Memory flush turn run before compaction.
    pub memory_flush: MemoryFlushConfig,
}

impl Default for CompactionConfig {
    fn default() -> Self {
        Self {
            reserve_tokens_floor: 20_000,
            max_history_share: 0.85,
            keep_last_messages: 4,
            memory_flush: MemoryFlushConfig::default(),
        }
    }
}

/// A turn that lets the agent save durable notes before history is
/// compacted.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct MemoryFlushConfig {
    /// Run the flush turn.
    pub enabled: bool,
    /// Flush when within this many tokens of compaction.
    pub soft_threshold_tokens: u32,
    /// User prompt of the flush turn; empty uses the built-in one.
    pub prompt: Option<String>,
    /// System prompt of the flush turn; empty uses the built-in one.
    pub system_prompt: Option<String>,
}

impl Default for MemoryFlushConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            soft_threshold_tokens: 4000,
            prompt: None,
            system_prompt: None,
        }
    }
}

/// Trimming of old tool results kept in memory.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct ContextPruningConfig {
    /// Pruning mode.
    pub mode: PruningMode,
    /// Prompt-cache TTL gate, as a duration (`5m`, `30s`).
    pub ttl: String,
    /// Protect the last N assistant messages.
    pub keep_last_assistants: u32,
    /// Start soft trimming at this share of the window.
    pub soft_trim_ratio: f64,
    /// Start hard clearing at this share of the window.
    pub hard_clear_ratio: f64,
    /// Minimum characters in prunable tool results before acting.
    pub min_prunable_tool_chars: u32,
    /// How long tool results are trimmed.
    pub soft_trim: SoftTrimConfig,
    /// How old tool results are replaced.
    pub hard_clear: HardClearConfig,
}

impl Default for ContextPruningConfig {
    fn default() -> Self {
        Self {
            mode: PruningMode::default(),
            ttl: "5m".to_owned(),
            keep_last_assistants: 3,
            soft_trim_ratio: 0.3,
            hard_clear_ratio: 0.5,
            min_prunable_tool_chars: 50_000,
            soft_trim: SoftTrimConfig::default(),
            hard_clear: HardClearConfig::default(),
        }
    }
}

/// Context pruning mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum PruningMode {
    /// No pruning.
    #[default]
    Off,
    /// Prune when the provider prompt cache has expired.
    CacheTtl,
}

/// Soft trim of long tool results (keep head and tail).
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default, rename_all = "camelCase")]
pub struct SoftTrimConfig {
    /// Tool results longer than this are trimmed.
    pub max_chars: u32,
    /// Characters kept from the start.
    pub head_chars: u32,
    /// Characters kept from the end.
    pub tail_chars: u32,
}

impl Default for SoftTrimConfig {
    fn default() -> Self {
        Self {
            max_chars: 4000,
            head_chars: 1500,
            tail_chars: 1500,
        }
    }
}

/// Replacement of old tool results by a placeholder.
#[derive(Debug, Clone, Serialize, Deserialize, JsonSchema)]
#[serde(default)]
pub struct HardClearConfig {
    /// Replace old tool results.
    pub enabled: bool,
    /// Replacement text.
    pub placeholder: String,
}

impl Default for HardClearConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            placeholder: "[Old tool result content cleared]".to_owned(),
        }
    }
}
