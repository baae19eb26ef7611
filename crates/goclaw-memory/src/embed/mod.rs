//! Turning texts into vectors for memory search: the [`Embedder`] trait the store and search
//! code call, the HTTP [`EmbeddingClient`] for any OpenAI-compatible `POST {base}/embeddings`
//! endpoint (OpenAI, OpenRouter, Voyage, Ollama's `/v1`, ...), and [`content_hash`], the key of
//! the embedding cache.
//!
//! **Invariant:** every vector that leaves this module has exactly [`EMBEDDING_DIMENSIONS`]
//! components, because every vector column of both stores has that size. Requests always ask
//! for that many, and an answer of another length is an error, never truncated or padded.

mod client;
mod error;
mod retry;
mod slot;
mod wire;

use async_trait::async_trait;
use sha2::{Digest, Sha256};

pub use client::{EmbeddingClient, EmbeddingSettings};
pub use error::EmbedError;
pub use retry::EmbedRetryPolicy;
pub use slot::EmbedderSlot;

/// The length of every stored embedding, and the `dimensions` every request sends (the
/// store's column size).
pub use goclaw_core::EMBEDDING_DIMENSIONS;

/// The model used when none is configured.
pub const DEFAULT_EMBEDDING_MODEL: &str = "text-embedding-3-small";

/// Something that embeds texts: the HTTP client in production, an in-process function in tests.
#[async_trait]
pub trait Embedder: Send + Sync {
    /// The provider's name, part of the embedding cache key (e.g. `openai`).
    fn provider(&self) -> &str;

    /// The model's name, part of the embedding cache key.
    fn model(&self) -> &str;

    /// One vector of [`EMBEDDING_DIMENSIONS`] components per text, in the order of `texts`.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError>;
}

/// The embedding cache's key for a text: the first 16 bytes of its SHA-256, as 32 lower-case
/// hex characters. Cache entries are keyed by this hash together with provider and model.
pub fn content_hash(text: &str) -> String {
    let digest = Sha256::digest(text.as_bytes());
    hex::encode(&digest[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, expected: &str) {
        assert_eq!(content_hash(text), expected, "{text:?}");
    }

    #[test]
    fn content_hash_is_the_sha256_prefix() {
        check("", "e3b0c44298fc1c149afbf4c8996fb924");
        check("abc", "ba7816bf8f01cfea414140de5dae2223");
        check("hello world", "b94d27b9934d3e08a52e52d7da7dabfa");
    }

    #[test]
    fn content_hash_has_32_hex_characters_and_separates_texts() {
        for text in ["a", "a ", "A", "日本語", "line\nbreak"] {
            let hash = content_hash(text);
            assert_eq!(hash.len(), 32, "{text:?}");
            assert!(
                hash.chars()
                    .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()),
                "{hash}"
            );
        }
        assert_ne!(content_hash("a"), content_hash("a "));
        assert_ne!(content_hash("a"), content_hash("A"));
    }
}
