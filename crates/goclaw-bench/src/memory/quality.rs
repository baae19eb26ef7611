//! Retrieval quality on the labelled corpus bundled with `goclaw-memory`: the corpus is written
//! through `MemoryIndex` with the real embedding client — against the fake LLM, or against the
//! embeddings API `--embeddings-url` names (such as the all-MiniLM-L6-v2 server of
//! `crates/goclaw-memory/corpus/minilm_embeddings.py`) — then every query is searched with full
//! text, vectors and both; the table is printed with the queries where hybrid ranked the
//! expected document lower than a source alone.

use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use goclaw_core::{MASTER_TENANT_ID, MemoryScope};
use goclaw_fake_llm::FakeLlm;
use goclaw_memory::embed::{EmbeddingClient, EmbeddingSettings};
use goclaw_memory::index::{MemoryIndex, Retrieval};
use goclaw_memory::quality::{Corpus, MEASURED_RESULTS, QualityReport, Scores, evaluate};
use goclaw_memory::rank::{Fusion, Normalization, RankOptions};
use goclaw_store::testing::TestDatabase;

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

pub async fn run(db: &TestDatabase, options: &QualityOptions) -> Result<()> {
    let store = db.store();
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
    let client = EmbeddingClient::new(settings).context("embedding client")?;
    let index = MemoryIndex::new(store.clone(), Some(Arc::new(client)));
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
    Ok(())
}
