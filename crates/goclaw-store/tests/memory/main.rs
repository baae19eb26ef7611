//! Memory documents, chunks and the embedding cache on both engines: documents are replaced
//! with all their chunks, listed by owner and path prefix, deleted with their chunks; the
//! embedding cache round-trips. Searches and isolation are in `search.rs`.

mod large;
mod search;
mod vector_index;

use std::sync::Arc;

use goclaw_core::{
    AgentId, AgentKey, EMBEDDING_DIMENSIONS, EmbeddingKey, MASTER_TENANT_ID, MemoryDocument,
    MemoryScope, NewAgent, NewMemoryChunk, NewMemoryDocument, Store, StoreError, TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};

pub const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";

/// A migrated database with a second tenant, `acme`, beside the master tenant.
pub async fn with_acme(db: TestDatabase) -> TestDatabase {
    db.migrated_with_tenant(ACME, "acme").await
}

pub fn acme() -> TenantId {
    ACME.parse().expect("tenant id")
}

pub async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> AgentId {
    let key = AgentKey::parse(key).expect("valid agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
        .id
}

/// A chunk of one line of `text`, without an embedding.
pub fn chunk(line: i64, text: &str) -> NewMemoryChunk {
    NewMemoryChunk {
        start_line: line,
        end_line: line,
        text: text.to_owned(),
        content_hash: format!("hash-{line}"),
        embedding: None,
    }
}

/// A document at `path` of `owner` whose chunks are `lines`, one line each.
pub fn document(owner: &MemoryScope, path: &str, lines: &[&str]) -> NewMemoryDocument {
    NewMemoryDocument {
        owner: owner.clone(),
        path: path.to_owned(),
        content: lines.join("\n"),
        content_hash: format!("doc-{}", lines.len()),
        chunks: lines
            .iter()
            .zip(1..)
            .map(|(text, line)| chunk(line, text))
            .collect(),
    }
}

/// A unit vector along `axis`, tilted towards `towards` by `tilt`.
pub fn vector(axis: usize, towards: usize, tilt: f32) -> Vec<f32> {
    let mut v = vec![0.0; EMBEDDING_DIMENSIONS];
    v[axis] = 1.0;
    v[towards] += tilt;
    v
}

fn paths(documents: &[MemoryDocument]) -> Vec<(String, Option<String>)> {
    documents
        .iter()
        .map(|d| (d.path.clone(), d.user_id.clone()))
        .collect()
}

store_test!(a_document_is_replaced_with_all_its_chunks, |store: Arc<
    dyn Store,
>| async move {
    let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let owner = MemoryScope::user(MASTER_TENANT_ID, agent, "alice");
    let memory = store.memory();
    let (first, chunks) = memory
        .put_document(document(&owner, "MEMORY.md", &["one", "two", "three"]))
        .await
        .expect("put");
    assert_eq!(
        (first.user_id.as_deref(), first.path.as_str(), chunks.len()),
        (Some("alice"), "MEMORY.md", 3)
    );
    assert_eq!(
        memory
            .document_chunks(MASTER_TENANT_ID, first.id)
            .await
            .expect("chunks"),
        chunks
    );
    let (second, chunks) = memory
        .put_document(document(&owner, "MEMORY.md", &["four"]))
        .await
        .expect("replace");
    assert_eq!(second.id, first.id, "the document is replaced in place");
    assert_eq!(second.content, "four");
    assert_eq!(second.created_at, first.created_at);
    let stored = memory
        .document_chunks(MASTER_TENANT_ID, first.id)
        .await
        .expect("chunks");
    assert_eq!(stored, chunks);
    assert_eq!(
        stored.iter().map(|c| c.text.as_str()).collect::<Vec<_>>(),
        ["four"]
    );
    assert_eq!(
        memory.get_document(&owner, "MEMORY.md").await.expect("get"),
        Some(second)
    );
});

store_test!(
    documents_are_kept_per_owner_and_listed_by_prefix,
    |store: Arc<dyn Store>| async move {
        let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let shared = MemoryScope::shared(MASTER_TENANT_ID, agent);
        let alice = MemoryScope::user(MASTER_TENANT_ID, agent, "alice");
        let bob = MemoryScope::user(MASTER_TENANT_ID, agent, "bob");
        let memory = store.memory();
        for (owner, path) in [
            (&shared, "memory/company.md"),
            (&alice, "memory/company.md"),
            (&alice, "memory/notes.md"),
            (&alice, "MEMORY.md"),
            (&bob, "memory/bob.md"),
        ] {
            memory
                .put_document(document(owner, path, &[path]))
                .await
                .expect("put");
        }
        let listed = memory
            .list_documents(&alice, "memory/")
            .await
            .expect("list");
        let alice_name = Some("alice".to_owned());
        assert_eq!(
            paths(&listed),
            vec![
                ("memory/company.md".to_owned(), None),
                ("memory/company.md".to_owned(), alice_name.clone()),
                ("memory/notes.md".to_owned(), alice_name.clone()),
            ]
        );
        let listed = memory.list_documents(&shared, "").await.expect("list");
        assert_eq!(paths(&listed), vec![("memory/company.md".to_owned(), None)]);
        assert_eq!(
            memory.list_documents(&bob, "MEMORY").await.expect("list"),
            []
        );
        assert_eq!(
            memory
                .get_document(&bob, "memory/company.md")
                .await
                .expect("get"),
            None,
            "a user's get does not fall back to the shared document"
        );

        assert!(
            memory
                .delete_document(&alice, "memory/company.md")
                .await
                .expect("delete")
        );
        assert!(
            !memory
                .delete_document(&alice, "memory/company.md")
                .await
                .expect("again")
        );
        let shared_doc = memory
            .get_document(&shared, "memory/company.md")
            .await
            .expect("get")
            .expect("the shared document stays");
        assert_eq!(
            memory
                .document_chunks(MASTER_TENANT_ID, shared_doc.id)
                .await
                .expect("chunks")
                .len(),
            1
        );
    }
);

store_test!(deleting_a_document_deletes_its_chunks, |store: Arc<
    dyn Store,
>| async move {
    let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let owner = MemoryScope::shared(MASTER_TENANT_ID, agent);
    let memory = store.memory();
    let mut new = document(&owner, "MEMORY.md", &["forgotten words"]);
    new.chunks[0].embedding = Some(vector(3, 4, 0.0));
    let (stored, chunks) = memory.put_document(new).await.expect("put");
    assert!(
        memory
            .delete_document(&owner, "MEMORY.md")
            .await
            .expect("delete")
    );
    assert_eq!(
        memory
            .document_chunks(MASTER_TENANT_ID, stored.id)
            .await
            .expect("chunks"),
        []
    );
    assert_eq!(
        memory
            .search_text(&owner, "forgotten", 5)
            .await
            .expect("text"),
        []
    );
    let near = memory
        .search_vector(&owner, &vector(3, 4, 0.0), 5)
        .await
        .expect("vector");
    assert_eq!(near, []);
    assert!(matches!(
        memory
            .set_chunk_embedding(MASTER_TENANT_ID, chunks[0].id, None)
            .await,
        Err(StoreError::NotFound("memory chunk"))
    ));
});

store_test!(documents_need_a_live_agent_of_the_tenant, |store: Arc<
    dyn Store,
>| async move {
    let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let stranger = MemoryScope::shared(TenantId::generate(), agent);
    let refused = store
        .memory()
        .put_document(document(&stranger, "MEMORY.md", &["x"]))
        .await;
    assert!(
        matches!(refused, Err(StoreError::NotFound("agent"))),
        "{refused:?}"
    );
});

store_test!(
    the_embedding_cache_round_trips,
    |store: Arc<dyn Store>| async move {
        let memory = store.memory();
        let key = EmbeddingKey {
            hash: "abc123",
            provider: "openai",
            model: "text-embedding-3-small",
        };
        assert_eq!(memory.cached_embedding(key).await.expect("miss"), None);
        let first = vector(7, 8, 0.25);
        memory.cache_embedding(key, &first).await.expect("put");
        assert_eq!(
            memory.cached_embedding(key).await.expect("hit"),
            Some(first)
        );
        let other_model = EmbeddingKey {
            model: "text-embedding-3-large",
            ..key
        };
        assert_eq!(
            memory.cached_embedding(other_model).await.expect("miss"),
            None
        );
        let small = vec![0.5, -1.25, 3.0];
        memory.cache_embedding(key, &small).await.expect("replace");
        assert_eq!(
            memory.cached_embedding(key).await.expect("hit"),
            Some(small)
        );
    }
);

database_test!(
    every_owners_documents_are_listed_per_agent_and_tenant,
    |db: TestDatabase| async move {
        let db = with_acme(db).await;
        let store = db.store();
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let other = agent(store.as_ref(), MASTER_TENANT_ID, "other").await;
        let foreign = agent(store.as_ref(), acme(), "keeper").await;
        let memory = store.memory();
        let mut embedded = document(
            &MemoryScope::user(MASTER_TENANT_ID, keeper, "bob"),
            "MEMORY.md",
            &["bob"],
        );
        embedded.chunks[0].embedding = Some(vector(1, 2, 0.0));
        for new in [
            document(
                &MemoryScope::user(MASTER_TENANT_ID, keeper, "alice"),
                "MEMORY.md",
                &["a"],
            ),
            embedded,
            document(
                &MemoryScope::shared(MASTER_TENANT_ID, keeper),
                "MEMORY.md",
                &["s"],
            ),
            document(
                &MemoryScope::user(MASTER_TENANT_ID, other, "alice"),
                "notes.md",
                &["o"],
            ),
            document(
                &MemoryScope::user(acme(), foreign, "alice"),
                "MEMORY.md",
                &["f"],
            ),
        ] {
            memory.put_document(new).await.expect("put");
        }
        let all = memory
            .all_documents(MASTER_TENANT_ID, Some(keeper))
            .await
            .expect("all of keeper");
        assert_eq!(
            paths(&all),
            vec![
                ("MEMORY.md".to_owned(), None),
                ("MEMORY.md".to_owned(), Some("alice".to_owned())),
                ("MEMORY.md".to_owned(), Some("bob".to_owned())),
            ]
        );
        let tenant = memory
            .all_documents(MASTER_TENANT_ID, None)
            .await
            .expect("all of the tenant");
        assert_eq!(tenant.len(), 4, "{:?}", paths(&tenant));
        assert!(tenant.iter().all(|d| d.tenant_id == MASTER_TENANT_ID));
        assert_eq!(
            memory
                .all_documents(acme(), Some(keeper))
                .await
                .expect("none"),
            [],
            "another tenant's agent id finds nothing"
        );
        // Chunks say whether they have a vector.
        let bobs = all
            .iter()
            .find(|d| d.user_id.as_deref() == Some("bob"))
            .expect("bob's");
        let chunks = memory
            .document_chunks(MASTER_TENANT_ID, bobs.id)
            .await
            .expect("chunks");
        assert!(chunks[0].has_embedding);
        let alices = &all[1];
        let chunks = memory
            .document_chunks(MASTER_TENANT_ID, alices.id)
            .await
            .expect("chunks");
        assert!(!chunks[0].has_embedding);
    }
);
