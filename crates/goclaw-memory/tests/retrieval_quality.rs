//! Retrieval quality on the bundled labelled corpus, on both engines: the corpus is written
//! through [`MemoryIndex`] with the real embedding client against the fake LLM's
//! `/v1/embeddings`, and every query is searched with full text only, vectors only and both.
//!
//! Hybrid ranking must do at least as well as vector retrieval alone, in recall@5 and in MRR,
//! on both engines. Against full text alone it is measured and printed, not asserted, because
//! it does not hold with the fake's embeddings, and docs/benchmarks.md says so with the
//! numbers: the fake's vector is a bag of words, so it knows nothing full text does not, except
//! word forms, and nothing of how rare a word is; weighted 0.7 against BM25 (SQLite) or
//! `ts_rank` (PostgreSQL) at 0.3, it costs full text a few first places (`--stanza=prod`:
//! BM25 ranks the runbook first, the vectors 14th, hybrid 7th). A real embedding model adds
//! what words miss (synonyms, paraphrase), which is what the 0.7 weight is for.

use std::sync::Arc;

use goclaw_core::{AgentKey, MASTER_TENANT_ID, MemoryScope, NewAgent, Store};
use goclaw_fake_llm::FakeLlm;
use goclaw_memory::embed::{EmbeddingClient, EmbeddingSettings};
use goclaw_memory::index::MemoryIndex;
use goclaw_memory::quality::{Corpus, QualityReport};
use goclaw_memory::rank::RankOptions;
use goclaw_store::store_test;

store_test!(
    hybrid_retrieval_does_at_least_as_well_as_vectors_alone,
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

        let report = QualityReport::measure(&index, &scope, &corpus, &RankOptions::default())
            .await
            .expect("measure");
        let table = report.table();
        println!("{table}");
        for loss in report.hybrid_losses() {
            println!("hybrid ranks lower: {loss}");
        }
        let [text, vector, hybrid] = report.scores()[0].1;
        assert_eq!(hybrid.queries, corpus.queries.len());
        println!(
            "{:?}: hybrid recall@5 {:.3} vs FTS {:.3}, MRR {:.4} vs {:.4} (not asserted)",
            store.backend(),
            hybrid.recall,
            text.recall,
            hybrid.mrr,
            text.mrr
        );
        let compared = [("vector", vector)];
        for (source, alone) in compared {
            assert!(
                hybrid.recall >= alone.recall && hybrid.mrr >= alone.mrr,
                "hybrid must do at least as well as {source} alone:\n{table}"
            );
        }
    }
);
