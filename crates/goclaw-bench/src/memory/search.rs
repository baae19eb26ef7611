//! Hybrid memory search over many chunks (DESIGN.md §7: p99 ≤ 20 ms over 100,000 chunks).
//!
//! Ingest writes synthetic documents ([`super::synthetic`]) of ten chunks each straight through
//! the store's `put_document` with their vectors precomputed in process by the fake's
//! `embedding_vector` — no HTTP round trip to an embedding provider — and times only the store
//! call. Searches go through `MemoryIndex::search` with an in-process embedder (the same
//! function), so a search's time is the store's: the query-embedding cache lookup (and, for a
//! new query, its insert), full-text and vector retrieval, and ranking. Every query is distinct,
//! so the first (hybrid) pass pays the cache insert; the passes that follow (full text, vectors,
//! hybrid again) find the query vectors cached.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Result;
use async_trait::async_trait;
use goclaw_core::{
    EMBEDDING_DIMENSIONS, MASTER_TENANT_ID, MemoryScope, NewMemoryChunk, NewMemoryDocument, Store,
};
use goclaw_memory::embed::{EmbedError, Embedder, content_hash};
use goclaw_memory::index::{MemoryIndex, Retrieval, SearchOptions};
use goclaw_memory::quality::Corpus;

use super::exact::ExactNeighbours;
use super::synthetic::{Draw, Vocabulary};
use crate::report::percentile;

/// How much to store and search.
#[derive(Debug, Clone, clap::Args)]
pub struct SearchLoad {
    /// Chunks stored before searching.
    #[arg(long, default_value_t = 100_000)]
    pub chunks: usize,
    /// Chunks per document.
    #[arg(long, default_value_t = 10)]
    pub chunks_per_document: usize,
    /// Timed searches per retrieval.
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Untimed searches before the timed ones.
    #[arg(long, default_value_t = 50)]
    pub warmup: usize,
    /// Queries whose exact nearest neighbours are computed during ingest, to measure the
    /// recall of the store's vector search.
    #[arg(long, default_value_t = 100)]
    pub recall_queries: usize,
}

/// Neighbours compared for recall: what a hybrid search asks each source for.
const RECALL_K: usize = 12;

/// The fake's vectors computed in process.
struct LocalEmbedder;

#[async_trait]
impl Embedder for LocalEmbedder {
    fn provider(&self) -> &str {
        "fake"
    }

    fn model(&self) -> &str {
        "hashed-words"
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|t| goclaw_fake_llm::embedding_vector(t, EMBEDDING_DIMENSIONS))
            .collect())
    }
}

pub async fn run(store: Arc<dyn Store>, options: &SearchLoad) -> Result<()> {
    let scope = MemoryScope::shared(MASTER_TENANT_ID, super::agent(&store).await?);
    // A kept database already holds what an earlier run wrote.
    let held: HashMap<String, String> = store
        .memory()
        .list_documents(&scope, "memory/notes/")
        .await?
        .into_iter()
        .map(|d| (d.path, d.content_hash))
        .collect();
    let mut written = 0;
    let corpus = Corpus::load(&Corpus::bundled_dir())?;
    let vocabulary = Vocabulary::of(&corpus);
    let per_document = options.chunks_per_document.max(1);
    let documents = options.chunks.div_ceil(per_document);
    let stored = documents * per_document;
    let mut query_draw = Draw::new(0x9e27);
    let warmup: Vec<String> = (0..options.warmup)
        .map(|_| vocabulary.query(&mut query_draw, stored))
        .collect();
    let queries: Vec<String> = (0..options.queries)
        .map(|_| vocabulary.query(&mut query_draw, stored))
        .collect();
    let mut exact = ExactNeighbours::new(
        queries
            .iter()
            .take(options.recall_queries)
            .map(|q| goclaw_fake_llm::embedding_vector(q, EMBEDDING_DIMENSIONS))
            .collect(),
        RECALL_K,
    );
    let mut draw = Draw::new(0x5eed);
    let mut in_store = Duration::ZERO;
    let started = Instant::now();
    for d in 0..documents {
        let chunks: Vec<NewMemoryChunk> = (0..per_document)
            .map(|c| {
                let n = d * per_document + c;
                let text = vocabulary.chunk(&mut draw, n);
                let line = i64::try_from(c * 12 + 1).unwrap_or(i64::MAX);
                NewMemoryChunk {
                    start_line: line,
                    end_line: line + 11,
                    content_hash: content_hash(&text),
                    embedding: Some(goclaw_fake_llm::embedding_vector(
                        &text,
                        EMBEDDING_DIMENSIONS,
                    )),
                    text,
                }
            })
            .collect();
        for (c, chunk) in chunks.iter().enumerate() {
            if let Some(vector) = &chunk.embedding {
                exact.observe(d * per_document + c, vector);
            }
        }
        let content = chunks
            .iter()
            .map(|c| c.text.as_str())
            .collect::<Vec<_>>()
            .join("\n");
        let document = NewMemoryDocument {
            owner: scope.clone(),
            path: format!("memory/notes/{d:06}.md"),
            content_hash: content_hash(&content),
            content,
            chunks,
        };
        if held.get(&document.path) != Some(&document.content_hash) {
            let put = Instant::now();
            store.memory().put_document(document).await?;
            in_store += put.elapsed();
            written += per_document;
        }
        if (d + 1) % (documents / 10).max(1) == 0 {
            eprintln!(
                "  ingested {} chunks ({:.0} s)",
                (d + 1) * per_document,
                started.elapsed().as_secs_f64()
            );
        }
    }
    if written == 0 {
        println!("ingest: all {stored} chunks were already stored (not measured)\n");
    } else {
        println!(
            "ingest: {written} of {stored} chunks in {documents} documents written, {:.1} s in \
             put_document ({:.0} chunks/s; {:.1} s wall with generating and embedding)\n",
            in_store.as_secs_f64(),
            written as f64 / in_store.as_secs_f64().max(1e-9),
            started.elapsed().as_secs_f64()
        );
    }

    let index = MemoryIndex::new(store.clone(), Some(Arc::new(LocalEmbedder)));
    let search = SearchOptions::default();
    for query in &warmup {
        index
            .search_by(&scope, query, &search, Retrieval::Hybrid)
            .await?;
    }
    println!("| retrieval | searches | p50 ms | p99 ms | max ms | mean results |");
    println!("|---|---:|---:|---:|---:|---:|");
    for (name, retrieval) in [
        ("hybrid", Retrieval::Hybrid),
        ("full text only", Retrieval::Text),
        ("vector only", Retrieval::Vector),
        ("hybrid, query vector cached", Retrieval::Hybrid),
    ] {
        let mut times = Vec::with_capacity(queries.len());
        let mut results = 0;
        for query in &queries {
            let at = Instant::now();
            let found = index.search_by(&scope, query, &search, retrieval).await?;
            times.push(at.elapsed());
            results += found.len();
        }
        times.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "| {name} | {} | {:.2} | {:.2} | {:.2} | {:.1} |",
            times.len(),
            ms(percentile(&times, 0.5)),
            ms(percentile(&times, 0.99)),
            ms(times.last().copied().unwrap_or_default()),
            results as f64 / times.len().max(1) as f64
        );
    }
    let mut recall = 0.0;
    for (q, vector) in exact.queries().iter().enumerate() {
        let found: Vec<usize> = store
            .memory()
            .search_vector(&scope, vector, RECALL_K as u32)
            .await?
            .iter()
            .filter_map(|s| chunk_number(&s.chunk.path, s.chunk.start_line, per_document))
            .collect();
        recall += exact.recall(q, &found);
    }
    println!(
        "\nvector search recall@{RECALL_K} against an exact cosine scan: {:.3} ({} queries)",
        recall / exact.queries().len().max(1) as f64,
        exact.queries().len()
    );
    Ok(())
}

/// The number of the chunk stored at `path` (`memory/notes/NNNNNN.md`) from `start_line`.
fn chunk_number(path: &str, start_line: i64, per_document: usize) -> Option<usize> {
    let document: usize = path
        .strip_prefix("memory/notes/")?
        .strip_suffix(".md")?
        .parse()
        .ok()?;
    let index = usize::try_from(start_line.checked_sub(1)? / 12).ok()?;
    Some(document * per_document + index)
}
