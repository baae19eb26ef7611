//! Retrieval quality on the labelled corpus bundled with `goclaw-memory`: the corpus is written
//! through `MemoryIndex` with the real embedding client — against the fake LLM, or against the
//! embeddings API `--embeddings-url` names (such as the all-MiniLM-L6-v2 server of
//! `crates/goclaw-memory/corpus/minilm_embeddings.py`) — then every query is searched with full
//! text, vectors and both; the table is printed with the queries where hybrid ranked the
//! expected document lower than a source alone.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use goclaw_core::{MASTER_TENANT_ID, MemoryScope, Store, StoreBackend};
use goclaw_fake_llm::FakeLlm;
use goclaw_memory::embed::{Embedder, EmbeddingClient, EmbeddingSettings};
use goclaw_memory::index::{MemoryIndex, Retrieval};
use goclaw_memory::quality::{Corpus, MEASURED_RESULTS, QualityReport, Scores, evaluate};
use goclaw_memory::rank::{Fusion, Normalization, RankOptions};

/// Where the corpus's vectors come from, and how deep each search goes.
#[derive(Debug, Clone, clap::Args)]
pub struct QualityOptions {
    /// Embed with this OpenAI-compatible API (the base URL `/embeddings` is appended to)
    /// instead of the fake LLM, e.g. `http://127.0.0.1:18931/v1` for
    /// crates/goclaw-memory/corpus/minilm_embeddings.py.
    #[arg(long)]
    pub embeddings_url: Option<String>,
    /// The model named in requests to `--embeddings-url`.
    #[arg(long, default_value = "all-MiniLM-L6-v2")]
    pub embeddings_model: String,
    /// Chunks each search returns (each source is asked for twice as many); `memory_search`
    /// returns 6 unless asked for more.
    #[arg(long, default_value_t = MEASURED_RESULTS)]
    pub results: usize,
}

/// The fusions measured side by side: every source by one rule, then cosine similarity as it
/// is beside each rule for full text, then CombMNZ on the default.
fn fusions() -> Vec<(&'static str, Fusion)> {
    use Normalization::{AsIs, BestScore, Distribution, MinMax};
    let both = |rule| Fusion {
        text: rule,
        vector: rule,
        reward_agreement: false,
    };
    let cosine_as_is = |text| Fusion {
        text,
        vector: AsIs,
        reward_agreement: false,
    };
    vec![
        ("best score, both", both(BestScore)),
        ("min-max, both", both(MinMax)),
        ("distribution (DBSF), both", both(Distribution)),
        (
            "reciprocal rank k=60, both",
            both(Normalization::RECIPROCAL_RANK),
        ),
        (
            "text best score, cosine as is (default)",
            cosine_as_is(BestScore),
        ),
        ("text min-max, cosine as is", cosine_as_is(MinMax)),
        (
            "text distribution, cosine as is",
            cosine_as_is(Distribution),
        ),
        (
            "text reciprocal rank, cosine as is",
            cosine_as_is(Normalization::RECIPROCAL_RANK),
        ),
        ("text as is, cosine as is (raw sums)", cosine_as_is(AsIs)),
        (
            "default + CombMNZ",
            Fusion {
                reward_agreement: true,
                ..Fusion::default()
            },
        ),
    ]
}

pub async fn run(store: Arc<dyn Store>, options: &QualityOptions) -> Result<()> {
    let fake = FakeLlm::start().await;
    fake.set_recording(false);
    let settings = match &options.embeddings_url {
        // A model on the CPU takes its time over a batch of long chunks.
        Some(url) => EmbeddingSettings {
            batch_size: 16,
            request_timeout: Duration::from_secs(300),
            ..EmbeddingSettings::new("bench", url.as_str()).with_model(&options.embeddings_model)
        },
        None => EmbeddingSettings::new("fake", fake.base_url()),
    };
    println!("vectors: {} at {}", settings.model, settings.base_url);
    let client = Arc::new(EmbeddingClient::new(settings).context("embedding client")?);
    let index = MemoryIndex::new(store.clone(), Some(client.clone()));
    let scope = MemoryScope::shared(MASTER_TENANT_ID, super::agent(&store).await?);
    let corpus = Corpus::load(&Corpus::bundled_dir()).context("loading the corpus")?;
    let chunks = corpus.write_into(&index, &scope).await?;
    println!(
        "{} documents, {chunks} chunks, {} queries\n",
        corpus.documents.len(),
        corpus.queries.len()
    );
    let measured = RankOptions {
        max_results: options.results.max(1),
        ..RankOptions::default()
    };
    println!("{} results per search\n", measured.max_results);
    let report = QualityReport::measure(&index, &scope, &corpus, &measured).await?;
    println!("{}", report.table());
    let losses = report.hybrid_losses();
    println!(
        "queries where a source alone ranked the first expected document higher than hybrid: {}",
        losses.len()
    );
    for loss in losses {
        println!("- {loss}");
    }
    println!("\nhybrid ranked by each fusion (weights vector 0.7 / text 0.3):\n");
    println!("| fusion | hybrid recall@5 | hybrid MRR |\n|---|---:|---:|");
    for (name, fusion) in fusions() {
        let rank = RankOptions { fusion, ..measured };
        let outcomes = evaluate(&index, &scope, &corpus, Retrieval::Hybrid, &rank).await?;
        let scores = Scores::of(&outcomes);
        println!("| {name} | {:.3} | {:.3} |", scores.recall, scores.mrr);
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
