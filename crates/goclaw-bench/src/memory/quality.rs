//! Retrieval quality on the labelled corpus bundled with `goclaw-memory`: the corpus is written
//! through `MemoryIndex` with the real embedding client against the fake LLM, then every query
//! is searched with full text, vectors and both; the table is printed with the queries where
//! hybrid ranked the expected document lower than a source alone.

use std::sync::Arc;

use anyhow::{Context, Result};
use goclaw_core::{MASTER_TENANT_ID, MemoryScope};
use goclaw_fake_llm::FakeLlm;
use goclaw_memory::embed::{EmbeddingClient, EmbeddingSettings};
use goclaw_memory::index::MemoryIndex;
use goclaw_memory::quality::{Corpus, QualityReport};
use goclaw_store::testing::TestDatabase;

pub async fn run(db: &TestDatabase) -> Result<()> {
    let store = db.store();
    let fake = FakeLlm::start().await;
    fake.set_recording(false);
    let client = EmbeddingClient::new(EmbeddingSettings::new("fake", fake.base_url()))
        .context("embedding client")?;
    let index = MemoryIndex::new(store.clone(), Some(Arc::new(client)));
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
    Ok(())
}
