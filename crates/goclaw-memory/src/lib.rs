//! Agent memory outside the database: the client that turns text into embeddings through any
//! OpenAI-compatible `/embeddings` endpoint ([`embed`]), how memory documents are cut into
//! chunks ([`chunk`]), how the hits of full-text and vector retrieval are ranked together
//! ([`rank`]), the settings both follow ([`settings`]: configuration, system configs and an
//! agent's own), the [`index::MemoryIndex`] that writes and searches memory with all three, and
//! how well it retrieves, measured on a labelled corpus ([`quality`]); episodic memory
//! ([`episodic`]): the background writer of session summaries and their recall, and the
//! knowledge graph extracted from them ([`graph`]); and the knowledge [`vault`]: the registry of
//! workspace files, their wikilinks, and the file watcher that keeps it in step with the disk.
//! Storage and retrieval live in `goclaw-store`; this crate holds the rules both
//! engines share, so there is one implementation of the ranking and two of the retrieval.

#![forbid(unsafe_code)]

pub mod chunk;
pub mod embed;
pub mod episodic;
pub mod graph;
pub mod index;
pub mod quality;
pub mod rank;
pub mod settings;
pub mod vault;
