//! Retrieval quality on the labelled corpus bundled with `goclaw-memory`: the corpus is written
//! through `MemoryIndex` with the real embedding client against the fake LLM, then every query
//! is searched with full text, vectors and both; the table is printed with the queries where
//! hybrid ranked the expected document lower than a source alone.

use std::sync::Arc;

use anyhow::{Context, Result};
use goclaw_core::{MASTER_TENANT_ID, MemoryScope, StoreBackend};
use goclaw_fake_llm::FakeLlm;
use goclaw_memory::embed::{Embedder, EmbeddingClient, EmbeddingSettings};
use goclaw_memory::index::MemoryIndex;
use goclaw_memory::quality::{Corpus, QualityReport};
use goclaw_store::testing::TestDatabase;

pub async fn run(db: &TestDatabase) -> Result<()> {
    let store = db.store();
    let fake = FakeLlm::start().await;
    fake.set_recording(false);
    let client = EmbeddingClient::new(EmbeddingSettings::new("fake", fake.base_url()))
        .context("embedding client")?;
    let client = Arc::new(client);
    let index = MemoryIndex::new(store.clone(), Some(client.clone()));
    let scope = MemoryScope::shared(MASTER_TENANT_ID, super::agent(&store).await?);
    let corpus = Corpus::load(&Corpus::bundled_dir()).context("loading the corpus")?;
    let chunks = corpus.write_into(&index, &scope).await?;
    println!(
        "{} documents, {chunks} chunks, {} queries\n",
        corpus.documents.len(),
        corpus.queries.len()
    );
    let report = QualityReport::measure(&index, &scope, &corpus).await?;
    println!("{}", report.table());
    let losses = report.hybrid_losses();
    println!(
        "queries where a source alone ranked the first expected document higher than hybrid: {}",
        losses.len()
    );
    for loss in losses {
        println!("- {loss}");
    }
    vector_recall(&store, &scope, client.as_ref(), &corpus, chunks).await
}

/// Neighbours compared: what a search of six results asks each source for.
const RECALL_K: u32 = 12;

/// How many of each query's exact nearest chunks the store's vector search returns among its
/// first [`RECALL_K`]. The exact ones come from the same search asked for so many results that
/// it considers every chunk: on SQLite its candidates then cover the whole corpus and all are
/// ranked by exact cosine distance; PostgreSQL's HNSW index stops at `hnsw.ef_search`, so
/// there the figure compares the index with itself and is not printed.
async fn vector_recall(
    store: &Arc<dyn goclaw_core::Store>,
    scope: &MemoryScope,
    embedder: &dyn Embedder,
    corpus: &Corpus,
    chunks: usize,
) -> Result<()> {
    if store.backend() != StoreBackend::Sqlite {
        return Ok(());
    }
    let texts: Vec<String> = corpus.queries.iter().map(|q| q.text.clone()).collect();
    let vectors = embedder.embed(&texts).await?;
    let everything = u32::try_from(chunks).unwrap_or(u32::MAX);
    let mut recall = 0.0;
    for vector in &vectors {
        let found = store
            .memory()
            .search_vector(scope, vector, RECALL_K)
            .await?;
        let exact = store
            .memory()
            .search_vector(scope, vector, everything)
            .await?;
        let exact: Vec<_> = exact
            .iter()
            .take(RECALL_K as usize)
            .map(|s| s.chunk.id)
            .collect();
        let hits = exact
            .iter()
            .filter(|id| found.iter().any(|s| s.chunk.id == **id))
            .count();
        recall += hits as f64 / exact.len().max(1) as f64;
    }
    println!(
        "\nvector search recall@{RECALL_K} against an exact cosine ranking: {:.3} ({} queries)",
        recall / vectors.len().max(1) as f64,
        vectors.len()
    );
    Ok(())
}
