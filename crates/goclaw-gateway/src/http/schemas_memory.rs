//! The wire shapes of the memory and system-config routes as OpenAPI schemas (GoClaw's
//! `DocumentInfo`, `DocumentDetail`, `ChunkInfo`, `MemorySearchResult` and the bodies its
//! handlers read). The request bodies are also what the handlers deserialize.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// One memory document in a list.
#[derive(Serialize, ToSchema)]
pub struct MemoryDocumentInfo {
    #[schema(example = "MEMORY.md")]
    pub path: String,
    /// The content's hash.
    pub hash: String,
    /// The agent's UUID.
    pub agent_id: String,
    /// The owner; absent for the agent's shared documents.
    pub user_id: Option<String>,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// One memory document with its content and chunk counts.
#[derive(Serialize, ToSchema)]
pub struct MemoryDocumentDetail {
    pub path: String,
    pub content: String,
    pub hash: String,
    /// The owner; absent for the agent's shared documents.
    pub user_id: Option<String>,
    pub chunk_count: u64,
    /// Chunks that have a vector.
    pub embedded_count: u64,
    /// Unix milliseconds.
    pub created_at: i64,
    /// Unix milliseconds.
    pub updated_at: i64,
}

/// One chunk of a document.
#[derive(Serialize, ToSchema)]
pub struct MemoryChunkInfo {
    pub id: String,
    pub start_line: i64,
    pub end_line: i64,
    /// The first 200 characters.
    pub text_preview: String,
    pub has_embedding: bool,
}

/// `PUT /v1/agents/{id}/memory/documents/{path}`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryPutBody {
    /// At most 1 MiB.
    pub content: String,
    /// Whose document (another user's: admins only); default the caller.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `POST /v1/agents/{id}/memory/index`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryIndexBody {
    #[schema(
        pattern = r"^[^\x00-\x20\x7f-\xa0/\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\x00-\x1f\x7f-\x9f]{0,1023}$"
    )]
    pub path: String,
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `POST /v1/agents/{id}/memory/index-all`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemoryIndexAllBody {
    /// Whose documents; an admin naming nobody re-indexes every document of the agent.
    #[serde(default)]
    pub user_id: Option<String>,
}

/// `POST /v1/agents/{id}/memory/search`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MemorySearchBody {
    /// Must hold a character that is not whitespace.
    #[schema(
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub query: String,
    #[serde(default)]
    pub user_id: Option<String>,
    /// Default 6; more than 50 means 50; 0 means the default.
    #[serde(default)]
    #[schema(format = Int64, minimum = 0, maximum = 4294967295.0)]
    pub max_results: Option<u32>,
    /// Drop results scoring below this.
    #[serde(default)]
    pub min_score: Option<f64>,
}

/// GoClaw's `{status, path?}` answer of the memory writes.
#[derive(Serialize, ToSchema)]
pub struct MemoryStatus {
    /// `ok`, `deleted`, `indexed` or `indexed_all`.
    pub status: String,
    pub path: Option<String>,
}

/// One search result.
#[derive(Serialize, ToSchema)]
pub struct MemorySearchResult {
    pub path: String,
    pub start_line: u64,
    pub end_line: u64,
    pub score: f64,
    pub snippet: String,
    /// `memory`.
    pub source: String,
    /// `personal` (the user's own document) or `global` (the agent's shared one).
    pub scope: String,
}

/// `POST /v1/agents/{id}/memory/search`.
#[derive(Serialize, ToSchema)]
pub struct MemorySearchResponse {
    pub results: Vec<MemorySearchResult>,
    pub count: u64,
}

/// `GET /v1/system-configs`: key → value.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"embedding.provider": "openai", "embedding.model": "text-embedding-3-small"}))]
pub struct SystemConfigList(pub std::collections::BTreeMap<String, String>);

/// One setting.
#[derive(Serialize, ToSchema)]
pub struct SystemConfig {
    #[schema(example = "embedding.provider")]
    pub key: String,
    #[schema(example = "openai")]
    pub value: String,
}

/// `PUT /v1/system-configs/{key}`.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SystemConfigSet {
    /// At most 64 KiB.
    pub value: String,
}

/// `GET /v1/embedding/status`.
#[derive(Serialize, ToSchema)]
pub struct EmbeddingStatus {
    pub configured: bool,
    pub provider: Option<String>,
    /// The same as `provider`, as GoClaw answers.
    pub provider_name: Option<String>,
    pub model: Option<String>,
}
