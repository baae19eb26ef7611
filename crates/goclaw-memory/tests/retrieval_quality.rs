//! Retrieval quality on the bundled labelled corpus, on both engines: the corpus is written
//! through [`MemoryIndex`] with the real embedding client against the fake LLM's
//! `/v1/embeddings`, and every query is searched with full text only, vectors only and both.
//!
//! Hybrid ranking must beat each source alone on both engines: at least as good in recall@5
//! and in MRR, and better in one of them. With the fake's embeddings — a bag of words, which
//! knows what full text knows plus word forms, and nothing of synonyms or of how rare a word
//! is — the lead over full text is small (equal recall@5, MRR ahead by about 0.001–0.002);
//! with a real model (all-MiniLM-L6-v2) it is large. docs/benchmarks.md has both, and the
//! fusions that did not beat full text with either.

use std::sync::Arc;

use goclaw_core::{AgentKey, MASTER_TENANT_ID, MemoryScope, NewAgent, Store};
use goclaw_fake_llm::FakeLlm;
use goclaw_memory::embed::{EmbeddingClient, EmbeddingSettings};
use goclaw_memory::index::MemoryIndex;
use goclaw_memory::quality::{Corpus, MEASURED_RESULTS, QualityReport};
use goclaw_memory::rank::RankOptions;
use goclaw_store::store_test;

store_test!(
    hybrid_retrieval_beats_full_text_and_vectors_alone,
    |store: Arc<dyn Store>| async move {
        let fake = FakeLlm::start().await;
        let client = EmbeddingClient::new(EmbeddingSettings::new("fake", fake.base_url()))
            .expect("embedding client");
        let agent = store
            .agents()
            .create(NewAgent::new(
                MASTER_TENANT_ID,
                AgentKey::parse("assistant").expect("key"),
                "Assistant",
            ))
            .await
            .expect("agent")
            .id;
        let index = MemoryIndex::new(store.clone(), Some(Arc::new(client)));
        let scope = MemoryScope::shared(MASTER_TENANT_ID, agent);
        let corpus = Corpus::load(&Corpus::bundled_dir()).expect("corpus");
        let chunks = corpus.write_into(&index, &scope).await.expect("write");
        assert!(chunks >= corpus.documents.len());
        assert!(fake.embedding_input_count() >= chunks as u64);

        let measured = RankOptions {
            max_results: MEASURED_RESULTS,
            ..RankOptions::default()
        };
        let report = QualityReport::measure(&index, &scope, &corpus, &measured)
            .await
            .expect("measure");
        let table = report.table();
        println!("{table}");
        for loss in report.hybrid_losses() {
            println!("hybrid ranks lower: {loss}");
        }
        let [text, vector, hybrid] = report.scores()[0].1;
        assert_eq!(hybrid.queries, corpus.queries.len());
        for (source, alone) in [("full text", text), ("vectors", vector)] {
            println!(
                "{:?}: hybrid recall@5 {:.3} vs {source} {:.3}, MRR {:.3} vs {:.3}",
                store.backend(),
                hybrid.recall,
                alone.recall,
                hybrid.mrr,
                alone.mrr
            );
            // Means of the same per-query numbers can differ in the last bit.
            let at_least = |h: f64, a: f64| h + 1e-9 >= a;
            let above = |h: f64, a: f64| h > a + 1e-9;
            assert!(
                at_least(hybrid.recall, alone.recall)
                    && at_least(hybrid.mrr, alone.mrr)
                    && (above(hybrid.recall, alone.recall) || above(hybrid.mrr, alone.mrr)),
                "hybrid must beat {source} alone: as good in recall@5 and MRR, better in one:\n{table}"
            );
        }
    }
);
