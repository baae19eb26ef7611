//! Vault enrichment over a real store (both engines): documents registered new, changed or
//! left without a summary by an earlier run are summarized by the model (a failed call is
//! retried), found by the words of their summary, and linked to the documents close to them in
//! meaning — never to unrelated ones.

use std::collections::VecDeque;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use goclaw_core::{Agent, AgentKey, MASTER_TENANT_ID, NewAgent, Store, VaultView};
use goclaw_fake_llm::FakeLlm;
use goclaw_memory::embed::{EmbeddingClient, EmbeddingSettings};
use goclaw_memory::episodic::{BackgroundModel, ModelError};
use goclaw_memory::vault::{EnrichSettings, SearchRequest, Vault, VaultEnricher};
use goclaw_store::database_test;
use goclaw_store::testing::TestDatabase;

/// A model that summarizes every numbered document as "About: <its first line>", after
/// failing the calls it was told to fail; it remembers every prompt.
#[derive(Default)]
struct Summarizer {
    failures: Mutex<VecDeque<String>>,
    prompts: Mutex<Vec<String>>,
}

#[async_trait]
impl BackgroundModel for Summarizer {
    async fn complete(
        &self,
        _agent: &Agent,
        system: &str,
        prompt: &str,
    ) -> Result<String, ModelError> {
        assert!(system.contains("JSON array"), "{system}");
        self.prompts
            .lock()
            .expect("prompts")
            .push(prompt.to_owned());
        if let Some(failure) = self.failures.lock().expect("failures").pop_front() {
            return Err(ModelError(failure));
        }
        let mut answers = Vec::new();
        for (index, part) in prompt.split("\n\n[").enumerate() {
            let first_line = part.lines().nth(1).unwrap_or_default();
            answers.push(
                serde_json::json!({"idx": index + 1, "summary": format!("About: {first_line}")}),
            );
        }
        Ok(serde_json::Value::Array(answers).to_string())
    }
}

impl Summarizer {
    /// A summarizer whose first `calls` calls fail.
    fn failing(calls: usize) -> Arc<Self> {
        let model = Self::default();
        model
            .failures
            .lock()
            .expect("failures")
            .extend((0..calls).map(|n| format!("overloaded ({n})")));
        Arc::new(model)
    }
}

/// Retries after 10 ms rather than seconds.
fn quick_retries() -> EnrichSettings {
    EnrichSettings {
        retry_backoff: Duration::from_millis(10),
        ..EnrichSettings::default()
    }
}

async fn keeper(store: &dyn Store) -> goclaw_core::AgentId {
    store
        .agents()
        .create(NewAgent::new(
            MASTER_TENANT_ID,
            AgentKey::parse("keeper").expect("key"),
            "Keeper",
        ))
        .await
        .expect("agent")
        .id
}

fn write(root: &Path, path: &str, text: &str) {
    let file = root.join(path);
    std::fs::create_dir_all(file.parent().expect("parent")).expect("directories");
    std::fs::write(file, text).expect("file written");
}

/// Polls `check` every 50 ms until it holds, for at most 5 s.
async fn eventually<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !check().await {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not within 5 s: {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn summary(store: &dyn Store, vault: &Vault, path: &str) -> String {
    let view = VaultView::tenant(MASTER_TENANT_ID);
    store
        .vault()
        .lookup(&view, path, false)
        .await
        .expect("lookup")
        .first()
        .map(|d| d.summary.clone())
        .unwrap_or_else(|| panic!("{path} registered in {}", vault.base().display()))
}

database_test!(
    documents_are_summarized_found_by_their_summary_and_linked_to_similar_ones,
    |db: TestDatabase| async move {
        let db = db
            .migrated_with_tenant("0193a5b0-7000-7000-8000-0000000000a1", "acme")
            .await;
        let store = db.store();
        let fake = FakeLlm::start().await;
        let dir = tempfile::tempdir().expect("workspace base");
        let client = EmbeddingClient::new(EmbeddingSettings::new("fake", fake.base_url()))
            .expect("embedding client");
        let vault = Vault::new(
            store.clone(),
            Some(Arc::new(client)),
            dir.path().to_path_buf(),
        );
        let root = vault.base().to_path_buf();
        let keeper = keeper(store.as_ref()).await;

        // Registered before enrichment runs: left without a summary until a rescan.
        write(
            &root,
            "keeper/kettle.md",
            "Descale the kettle monthly with vinegar.\n",
        );
        vault
            .register(MASTER_TENANT_ID, "keeper/kettle.md")
            .await
            .expect("register");

        let model = Summarizer::failing(1);
        let settings = quick_retries();
        let enricher = VaultEnricher::start(&vault, model.clone(), settings).expect("enricher");
        assert!(
            VaultEnricher::start(&vault, model.clone(), settings).is_none(),
            "one enricher per vault"
        );

        let osprey = "Ospreys dive for herring in the tidal estuary at dawn.\n";
        write(&root, "keeper/osprey.md", osprey);
        write(&root, "keeper/osprey-again.md", osprey);
        for path in ["keeper/osprey.md", "keeper/osprey-again.md"] {
            vault
                .register(MASTER_TENANT_ID, path)
                .await
                .expect("register");
        }
        for path in ["keeper/osprey.md", "keeper/osprey-again.md"] {
            eventually(path, || async {
                !summary(store.as_ref(), &vault, path).await.is_empty()
            })
            .await;
        }
        assert_eq!(
            summary(store.as_ref(), &vault, "keeper/osprey.md").await,
            "About: Ospreys dive for herring in the tidal estuary at dawn."
        );
        assert!(
            summary(store.as_ref(), &vault, "keeper/kettle.md")
                .await
                .is_empty()
        );

        // The rescan queues what is still without a summary.
        let rescan = vault.rescan(MASTER_TENANT_ID).await.expect("rescan");
        assert_eq!(rescan.reenqueued, 1, "{rescan:?}");
        eventually("kettle summarized", || async {
            !summary(store.as_ref(), &vault, "keeper/kettle.md")
                .await
                .is_empty()
        })
        .await;

        // Found by a word only the summary holds (title and path do not).
        let view = VaultView::agent(MASTER_TENANT_ID, keeper);
        let hits = vault
            .search(&view, &SearchRequest::new("herring"))
            .await
            .expect("search");
        assert!(
            hits.iter().any(|h| h.document.path == "keeper/osprey.md"),
            "{hits:?}"
        );

        // Linked to the near copy, not to the kettle (links follow the summary).
        eventually("every document linked", || async {
            enricher.stats().linked == 3
        })
        .await;
        let documents = store
            .vault()
            .lookup(&view, "keeper/osprey.md", false)
            .await
            .expect("lookup");
        let links = store
            .vault()
            .out_links(MASTER_TENANT_ID, documents[0].id)
            .await
            .expect("links");
        let similar: Vec<_> = links.iter().filter(|l| l.link_type == "similar").collect();
        let again = store
            .vault()
            .lookup(&view, "keeper/osprey-again.md", false)
            .await
            .expect("lookup");
        assert_eq!(similar.len(), 1, "{links:?}");
        assert_eq!(similar[0].to_doc_id, again[0].id);
        assert!(similar[0].context.starts_with("similarity "), "{links:?}");
        // The relation is symmetric, whichever of the two was summarized first.
        let back = store
            .vault()
            .out_links(MASTER_TENANT_ID, again[0].id)
            .await
            .expect("links");
        let back: Vec<_> = back.iter().filter(|l| l.link_type == "similar").collect();
        assert_eq!(back.len(), 1, "{back:?}");
        assert_eq!(back[0].to_doc_id, documents[0].id);

        let stats = enricher.stats();
        assert_eq!(stats.summarized, 3, "{stats:?}");
        assert_eq!(stats.failed, 0, "{stats:?}");
        assert!(stats.retried >= 1, "{stats:?}");
        let prompts = model.prompts.lock().expect("prompts").clone();
        assert!(
            prompts.iter().all(|p| p.starts_with("[1] File: keeper/")),
            "{prompts:?}"
        );
        enricher.shutdown().await;
    }
);

database_test!(
    a_model_that_keeps_failing_leaves_documents_unsummarized_and_counted,
    |db: TestDatabase| async move {
        let db = db
            .migrated_with_tenant("0193a5b0-7000-7000-8000-0000000000a1", "acme")
            .await;
        let store = db.store();
        let dir = tempfile::tempdir().expect("workspace base");
        let vault = Vault::new(store.clone(), None, dir.path().to_path_buf());
        let root = vault.base().to_path_buf();
        keeper(store.as_ref()).await;
        let model = Summarizer::failing(3);
        let settings = quick_retries();
        let enricher = VaultEnricher::start(&vault, model.clone(), settings).expect("enricher");
        write(&root, "keeper/plan.md", "Plan the spring survey.\n");
        vault
            .register(MASTER_TENANT_ID, "keeper/plan.md")
            .await
            .expect("register");
        eventually("the batch failed", || async {
            enricher.stats().failed == 1
        })
        .await;
        let stats = enricher.stats();
        assert_eq!((stats.summarized, stats.retried), (0, 2), "{stats:?}");
        assert!(
            summary(store.as_ref(), &vault, "keeper/plan.md")
                .await
                .is_empty()
        );
        enricher.shutdown().await;
    }
);
