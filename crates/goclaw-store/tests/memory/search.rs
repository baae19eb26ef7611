//! Full-text and vector search over memory chunks on both engines, and the scope rule: a user
//! sees their own chunks and the shared ones, never another tenant's, agent's or user's.

use std::collections::BTreeSet;

use goclaw_core::{MASTER_TENANT_ID, MemoryScope, ScoredChunk, Store};
use goclaw_store::{database_test, store_test};

use super::*;

fn texts(found: &[ScoredChunk]) -> Vec<&str> {
    found.iter().map(|f| f.chunk.text.as_str()).collect()
}

fn text_set(found: &[ScoredChunk]) -> BTreeSet<&str> {
    found.iter().map(|f| f.chunk.text.as_str()).collect()
}

fn assert_best_first(found: &[ScoredChunk]) {
    assert!(
        found.windows(2).all(|w| w[0].score >= w[1].score),
        "scores not descending: {:?}",
        found.iter().map(|f| f.score).collect::<Vec<_>>()
    );
}

store_test!(text_search_finds_chunks_holding_any_word, |store: Arc<
    dyn Store,
>| async move {
    let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let owner = MemoryScope::shared(MASTER_TENANT_ID, agent);
    let memory = store.memory();
    let lines = [
        "the deploy runs on Fridays",
        "Friday lunch is pizza",
        "deploy keys rotate monthly, deploy logs are kept",
        "nothing to see here",
        "production database is PostgreSQL 15 on db1",
        "INC-2146: wrong invoice totals; the cache is on 10.20.3.21",
    ];
    memory
        .put_document(document(&owner, "MEMORY.md", &lines))
        .await
        .expect("put");
    let found = memory
        .search_text(&owner, "deploy", 10)
        .await
        .expect("search");
    assert_eq!(
        text_set(&found),
        BTreeSet::from([lines[0], lines[2]]),
        "a word is found in every chunk holding it"
    );
    assert_best_first(&found);
    assert!(found.iter().all(|f| f.score > 0.0), "higher is better");
    let found = memory
        .search_text(&owner, "DEPLOY Fridays", 10)
        .await
        .expect("search");
    assert_eq!(
        text_set(&found),
        BTreeSet::from([lines[0], lines[2]]),
        "any word matches, in any case"
    );
    assert_eq!(
        found[0].chunk.text, lines[0],
        "the chunk holding both words ranks first"
    );
    assert_best_first(&found);
    let found = memory
        .search_text(&owner, "what database do we use for production?", 10)
        .await
        .expect("a question");
    assert_eq!(texts(&found), [lines[4]], "a question finds by its words");
    for identifier in ["INC-2146", "10.20.3.21"] {
        let found = memory
            .search_text(&owner, identifier, 10)
            .await
            .expect("an identifier");
        assert_eq!(
            texts(&found),
            [lines[5]],
            "{identifier} is read as the chunks were"
        );
    }
    let found = memory
        .search_text(&owner, "\"pizza\" (lunch*", 10)
        .await
        .expect("punctuation is not query syntax");
    assert_eq!(texts(&found), [lines[1]]);
    assert_eq!(
        memory
            .search_text(&owner, "?!", 10)
            .await
            .expect("no words"),
        []
    );
    assert_eq!(
        memory
            .search_text(&owner, "deploy", 1)
            .await
            .expect("one")
            .len(),
        1
    );
});

/// Query texts that are full-text syntax on one engine or the other, one per line.
const QUERY_ATTACKS: &str = include_str!("query_attacks.txt");

/// Words of the chunks below (no English function word, which a query with other words
/// leaves out); a query holding one of them must find its chunk.
const ATTACK_TARGETS: [&str; 4] = [
    "deploy near gateway",
    "alpha beta gamma",
    "column: title",
    "café 日本語 naïve",
];

store_test!(no_query_text_breaks_the_full_text_syntax, |store: Arc<
    dyn Store,
>| async move {
    let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let owner = MemoryScope::shared(MASTER_TENANT_ID, agent);
    let memory = store.memory();
    memory
        .put_document(document(&owner, "MEMORY.md", &ATTACK_TARGETS))
        .await
        .expect("put");
    let mut cases: Vec<String> = QUERY_ATTACKS.lines().map(str::to_owned).collect();
    cases.push(String::new());
    cases.push("x".repeat(10_000));
    cases.push((0..500).map(|n| format!("w{n} OR ")).collect());
    assert!(cases.len() > 40, "the attack corpus is read");
    for case in &cases {
        let found = memory
            .search_text(&owner, case, 10)
            .await
            .unwrap_or_else(|e| panic!("{case:?}: {e}"));
        assert_best_first(&found);
        let words: Vec<String> = case
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|w| !w.is_empty())
            .map(str::to_lowercase)
            .collect();
        for target in ATTACK_TARGETS {
            let shares_a_word = target
                .split(|c: char| !c.is_ascii_alphanumeric())
                .filter(|w| w.len() > 1)
                .any(|w| words.iter().any(|q| q == w));
            if shares_a_word {
                assert!(
                    texts(&found).contains(&target),
                    "{case:?} must find {target:?}: {:?}",
                    texts(&found)
                );
            }
        }
    }
});

store_test!(vector_search_orders_by_cosine_similarity, |store: Arc<
    dyn Store,
>| async move {
    let agent = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
    let owner = MemoryScope::shared(MASTER_TENANT_ID, agent);
    let memory = store.memory();
    let (_, chunks) = memory
        .put_document(document(
            &owner,
            "MEMORY.md",
            &["exact", "close", "far", "orthogonal", "unembedded"],
        ))
        .await
        .expect("put");
    let embeddings = [
        vector(0, 1, 0.0),
        vector(0, 1, 0.3),
        vector(0, 1, 3.0),
        vector(2, 3, 0.1),
    ];
    for (chunk, embedding) in chunks.iter().zip(&embeddings) {
        memory
            .set_chunk_embedding(MASTER_TENANT_ID, chunk.id, Some(embedding))
            .await
            .expect("embed");
    }
    let found = memory
        .search_vector(&owner, &vector(0, 5, 0.0), 10)
        .await
        .expect("search");
    assert_eq!(texts(&found), ["exact", "close", "far", "orthogonal"]);
    assert!(
        (found[0].score - 1.0).abs() < 1e-5,
        "identical: {}",
        found[0].score
    );
    assert!(
        found[3].score.abs() < 1e-5,
        "orthogonal: {}",
        found[3].score
    );
    assert_best_first(&found);
    let found = memory
        .search_vector(&owner, &vector(2, 3, 0.1), 2)
        .await
        .expect("search");
    assert_eq!(texts(&found)[0], "orthogonal");
    assert_eq!(found.len(), 2);

    memory
        .set_chunk_embedding(MASTER_TENANT_ID, chunks[0].id, None)
        .await
        .expect("clear");
    let found = memory
        .search_vector(&owner, &vector(0, 5, 0.0), 10)
        .await
        .expect("search");
    assert_eq!(texts(&found), ["close", "far", "orthogonal"]);
});

database_test!(
    searches_see_only_their_scope,
    |db: TestDatabase| async move {
        let db = with_acme(db).await;
        let store = db.store();
        let memory = store.memory();
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let other_agent = agent(store.as_ref(), MASTER_TENANT_ID, "other").await;
        let acme_agent = agent(store.as_ref(), acme(), "keeper").await;
        let owners = [
            ("shared", MemoryScope::shared(MASTER_TENANT_ID, keeper)),
            (
                "alice",
                MemoryScope::user(MASTER_TENANT_ID, keeper, "alice"),
            ),
            ("bob", MemoryScope::user(MASTER_TENANT_ID, keeper, "bob")),
            (
                "other agent",
                MemoryScope::shared(MASTER_TENANT_ID, other_agent),
            ),
            (
                "other agent alice",
                MemoryScope::user(MASTER_TENANT_ID, other_agent, "alice"),
            ),
            ("acme", MemoryScope::shared(acme(), acme_agent)),
            ("acme alice", MemoryScope::user(acme(), acme_agent, "alice")),
        ];
        for (name, owner) in &owners {
            let mut new = document(owner, "MEMORY.md", &[&format!("secret of {name}")]);
            new.chunks[0].embedding = Some(vector(0, 1, 0.1));
            memory.put_document(new).await.expect("put");
        }
        let expectations = [
            (&owners[1].1, vec!["secret of alice", "secret of shared"]),
            (&owners[2].1, vec!["secret of bob", "secret of shared"]),
            (&owners[0].1, vec!["secret of shared"]),
            (
                &owners[4].1,
                vec!["secret of other agent", "secret of other agent alice"],
            ),
            (&owners[6].1, vec!["secret of acme", "secret of acme alice"]),
        ];
        for (scope, expected) in expectations {
            let expected: BTreeSet<String> = expected.into_iter().map(str::to_owned).collect();
            let by_text = memory.search_text(scope, "secret", 50).await.expect("text");
            let by_vector = memory
                .search_vector(scope, &vector(0, 1, 0.1), 50)
                .await
                .expect("vector");
            for (how, found) in [("text", by_text), ("vector", by_vector)] {
                let found: BTreeSet<String> = found.iter().map(|f| f.chunk.text.clone()).collect();
                assert_eq!(found, expected, "{how} search of {scope:?}");
            }
        }
        let wrong_tenant = MemoryScope::user(acme(), keeper, "alice");
        assert_eq!(
            memory
                .search_text(&wrong_tenant, "secret", 50)
                .await
                .expect("text"),
            []
        );
        assert_eq!(
            memory
                .search_vector(&wrong_tenant, &vector(0, 1, 0.1), 50)
                .await
                .expect("vector"),
            []
        );
        let listed = memory
            .list_documents(&wrong_tenant, "")
            .await
            .expect("list");
        assert_eq!(listed, []);
    }
);
