//! Agent memory outside the database: the client that turns text into embeddings through any
//! OpenAI-compatible `/embeddings` endpoint ([`embed`]), how memory documents are cut into
//! chunks ([`chunk`]), how the hits of full-text and vector retrieval are ranked together
//! ([`rank`]), the [`index::MemoryIndex`] that writes and searches memory with all three, and
//! how well it retrieves, measured on a labelled corpus ([`quality`]). Storage and retrieval live in `goclaw-store`; this crate holds the rules both
//! engines share, so there is one implementation of the ranking and two of the retrieval.

#![forbid(unsafe_code)]

pub mod chunk;
pub mod embed;
pub mod index;
pub mod quality;
pub mod rank;
