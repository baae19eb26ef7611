//! Writing and searching memory through [`MemoryIndex`] on both engines, with the fake's
//! deterministic embeddings in process: a fact written in one place is found by a later search,
//! only by those allowed to see it; vectors come from the cache on a rewrite; and a failing
//! embedding provider costs the vectors, never the document.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use goclaw_core::{AgentKey, MASTER_TENANT_ID, MemoryScope, NewAgent, Store, TenantId};
use goclaw_memory::embed::{EMBEDDING_DIMENSIONS, EmbedError, Embedder};
use goclaw_memory::index::{MemoryIndex, SearchOptions};
use goclaw_memory::rank::Source;
use goclaw_store::store_test;

/// The fake LLM's vectors, computed in process; counts the texts it embedded.
#[derive(Default)]
struct LocalEmbedder {
    texts: AtomicUsize,
    failing: bool,
}

#[async_trait]
impl Embedder for LocalEmbedder {
    fn provider(&self) -> &str {
        "fake"
    }

    fn model(&self) -> &str {
        "hashed-words"
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        if self.failing {
            return Err(EmbedError::Malformed("the provider is down".to_owned()));
        }
        self.texts.fetch_add(texts.len(), Ordering::SeqCst);
        Ok(texts
            .iter()
            .map(|t| goclaw_fake_llm::embedding_vector(t, EMBEDDING_DIMENSIONS))
            .collect())
    }
}

async fn create_agent(store: &Arc<dyn Store>, key: &str) -> goclaw_core::AgentId {
    store
        .agents()
        .create(NewAgent::new(
            MASTER_TENANT_ID,
            AgentKey::parse(key).expect("key"),
            key,
        ))
        .await
        .expect("agent")
        .id
}

const FACTS: &str = "# Alice\n\nAlice's favourite tea is jasmine green tea.\n\n\
                     She works on the billing service and deploys on Tuesdays.\n";

store_test!(
    a_written_fact_is_found_by_those_who_may_see_it,
    |store: Arc<dyn Store>| async move {
        let agent = create_agent(&store, "assistant").await;
        let embedder = Arc::new(LocalEmbedder::default());
        let index = MemoryIndex::new(store.clone(), Some(embedder.clone()));
        let alice = MemoryScope::user(MASTER_TENANT_ID, agent, "alice");
        let written = index
            .write(alice.clone(), "MEMORY.md", FACTS)
            .await
            .expect("write");
        assert_eq!((written.chunks, written.embedded), (1, 1));
        index
            .write(
                MemoryScope::shared(MASTER_TENANT_ID, agent),
                "memory/company.md",
                "The company holiday party is in December.",
            )
            .await
            .expect("write shared");

        let found = index
            .search(
                &alice,
                "which tea does alice like",
                &SearchOptions::default(),
            )
            .await
            .expect("search");
        assert_eq!(found[0].path, "MEMORY.md", "{found:#?}");
        assert!(found[0].text.contains("jasmine"));
        assert!(found[0].personal);
        assert!(found[0].sources.contains(&Source::Vector), "{found:#?}");
        // Exact words are found by both sources.
        let found = index
            .search(&alice, "jasmine", &SearchOptions::default())
            .await
            .expect("search");
        assert_eq!(found[0].sources, [Source::Text, Source::Vector]);

        // Bob sees the shared memory, never Alice's.
        let bob = MemoryScope::user(MASTER_TENANT_ID, agent, "bob");
        for query in [
            "jasmine tea",
            "which tea does alice like",
            "billing Tuesdays",
        ] {
            let found = index
                .search(&bob, query, &SearchOptions::default())
                .await
                .expect("search");
            assert!(
                found.iter().all(|r| r.path != "MEMORY.md"),
                "{query}: {found:#?}"
            );
        }
        let found = index
            .search(&bob, "holiday party", &SearchOptions::default())
            .await
            .expect("search");
        assert_eq!(found[0].path, "memory/company.md");
        // Another tenant and another agent see nothing of it.
        let other_agent = create_agent(&store, "other").await;
        for scope in [
            MemoryScope::user(TenantId::generate(), agent, "alice"),
            MemoryScope::user(MASTER_TENANT_ID, other_agent, "alice"),
        ] {
            let found = index
                .search(&scope, "jasmine tea", &SearchOptions::default())
                .await
                .expect("search");
            assert!(found.is_empty(), "{found:#?}");
        }
        // A path prefix narrows the search.
        let options = SearchOptions {
            path_prefix: Some("memory/".to_owned()),
            ..SearchOptions::default()
        };
        let found = index.search(&alice, "tea party", &options).await;
        assert!(
            found
                .expect("search")
                .iter()
                .all(|r| r.path.starts_with("memory/"))
        );
    }
);

store_test!(rewrites_take_vectors_from_the_cache, |store: Arc<
    dyn Store,
>| async move {
    let agent = create_agent(&store, "assistant").await;
    let embedder = Arc::new(LocalEmbedder::default());
    let index = MemoryIndex::new(store.clone(), Some(embedder.clone())).with_chunking(
        goclaw_memory::chunk::ChunkOptions {
            max_chars: 60,
            overlap_chars: 0,
        },
    );
    let owner = MemoryScope::user(MASTER_TENANT_ID, agent, "alice");
    let first = index
        .write(owner.clone(), "MEMORY.md", FACTS)
        .await
        .expect("write");
    assert!(first.chunks > 1);
    assert_eq!(first.embedded, first.chunks);
    let embedded = embedder.texts.load(Ordering::SeqCst);
    assert_eq!(embedded, first.chunks);
    // The same text again: every vector comes from the cache.
    let again = index
        .write(owner.clone(), "MEMORY.md", FACTS)
        .await
        .expect("rewrite");
    assert_eq!(again.embedded, again.chunks);
    assert_eq!(embedder.texts.load(Ordering::SeqCst), embedded);
    // One new paragraph: only it is embedded.
    let longer = format!("{FACTS}\nAlice's cat is called Miso.\n");
    index
        .write(owner.clone(), "MEMORY.md", &longer)
        .await
        .expect("write more");
    assert_eq!(embedder.texts.load(Ordering::SeqCst), embedded + 1);
    let found = index
        .search(&owner, "what is the cat called", &SearchOptions::default())
        .await
        .expect("search");
    assert!(found[0].text.contains("Miso"), "{found:#?}");
});

store_test!(
    a_failing_provider_costs_vectors_not_documents,
    |store: Arc<dyn Store>| async move {
        let agent = create_agent(&store, "assistant").await;
        let failing = Arc::new(LocalEmbedder {
            failing: true,
            ..LocalEmbedder::default()
        });
        let owner = MemoryScope::user(MASTER_TENANT_ID, agent, "alice");
        for index in [
            MemoryIndex::new(store.clone(), Some(failing)),
            MemoryIndex::new(store.clone(), None),
        ] {
            let written = index
                .write(owner.clone(), "MEMORY.md", FACTS)
                .await
                .expect("the document is stored");
            assert_eq!(written.embedded, 0);
            let found = index
                .search(&owner, "jasmine", &SearchOptions::default())
                .await
                .expect("words still find it");
            assert_eq!(found[0].path, "MEMORY.md");
            assert_eq!(found[0].sources, [Source::Text]);
        }
    }
);

store_test!(
    a_switched_slot_embeds_later_writes_and_searches,
    |store: Arc<dyn Store>| async move {
        let agent = create_agent(&store, "assistant").await;
        let slot = goclaw_memory::embed::EmbedderSlot::default();
        let index = MemoryIndex::switchable(store.clone(), slot.clone());
        let alice = MemoryScope::user(MASTER_TENANT_ID, agent, "alice");
        assert!(!index.has_embedder());
        let written = index
            .write(alice.clone(), "MEMORY.md", FACTS)
            .await
            .expect("write");
        assert_eq!(written.embedded, 0, "no embedder in the slot yet");

        let embedder = Arc::new(LocalEmbedder::default());
        slot.replace(Some(embedder.clone()));
        // A clone of the index made before the switch sees it too.
        let clone = index.clone();
        assert!(clone.has_embedder());
        let written = clone
            .write(alice.clone(), "MEMORY.md", FACTS)
            .await
            .expect("rewrite");
        assert_eq!(written.embedded, written.chunks);
        let found = index
            .search(
                &alice,
                "which tea does alice like",
                &SearchOptions::default(),
            )
            .await
            .expect("search");
        assert!(found[0].sources.contains(&Source::Vector), "{found:#?}");
        assert!(
            embedder.texts.load(Ordering::SeqCst) >= 2,
            "chunk and query embedded"
        );

        slot.replace(None);
        let found = index
            .search(&alice, "jasmine", &SearchOptions::default())
            .await
            .expect("search");
        assert_eq!(found[0].sources, [Source::Text], "full text only again");
    }
);
