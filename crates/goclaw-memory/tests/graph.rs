//! The knowledge graph on both engines, with the fake LLM answering the extraction prompt and
//! embedding entity names: an episode's entities and relations are stored, the same person
//! extracted under two ids is merged, an ended fact is no longer current, and searches walk
//! the graph no further than their depth (default 2, at most 5) and only through facts valid
//! at the moment asked.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use goclaw_core::{
    Agent, AgentKey, ChatMessage, ChatRequest, EpisodicScope, GraphCounts, GraphScope,
    MASTER_TENANT_ID, NewAgent, NewEpisode, Provider, Store, SystemPart,
};
use goclaw_fake_llm::{FakeLlm, Reply};
use goclaw_memory::embed::{Embedder, EmbeddingClient, EmbeddingSettings};
use goclaw_memory::episodic::{BackgroundModel, EpisodeListener, ModelError};
use goclaw_memory::graph::{
    ExtractedEntity, ExtractedRelation, Extraction, GraphExtractor, GraphSearch,
};
use goclaw_providers::OpenAiCompatProvider;
use goclaw_store::store_test;
use serde_json::json;

/// The agent's model: the real OpenAI-compatible client talking to the fake.
struct FakeBackedModel {
    provider: OpenAiCompatProvider,
}

#[async_trait]
impl BackgroundModel for FakeBackedModel {
    async fn complete(
        &self,
        _agent: &Agent,
        system: &str,
        prompt: &str,
    ) -> Result<String, ModelError> {
        let request = ChatRequest {
            model: "gpt-test".to_owned(),
            system: vec![SystemPart {
                text: system.to_owned(),
                cacheable: false,
            }],
            messages: vec![ChatMessage::user(prompt)],
            tools: Vec::new(),
            max_tokens: 512,
            temperature: None,
            thinking_budget: None,
        };
        let mut ignore = |_| {};
        self.provider
            .chat(&request, &mut ignore)
            .await
            .map(|r| r.text())
            .map_err(|e| ModelError(e.to_string()))
    }
}

fn extractor(store: &Arc<dyn Store>, fake: &FakeLlm) -> GraphExtractor {
    let model = Arc::new(FakeBackedModel {
        provider: OpenAiCompatProvider::new("fake", fake.base_url(), Some("key".to_owned())),
    });
    let embedder: Arc<dyn Embedder> = Arc::new(
        EmbeddingClient::new(EmbeddingSettings::new("fake", fake.base_url())).expect("client"),
    );
    GraphExtractor::new(
        store.clone(),
        model,
        Some(embedder),
        Duration::from_secs(30),
    )
}

async fn agent(store: &dyn Store) -> Agent {
    store
        .agents()
        .create(NewAgent::new(
            MASTER_TENANT_ID,
            AgentKey::parse("keeper").expect("key"),
            "Keeper",
        ))
        .await
        .expect("agent")
}

fn names(hits: &[goclaw_memory::graph::GraphHit]) -> Vec<(String, u32)> {
    hits.iter()
        .map(|h| (h.entity.name.clone(), h.depth))
        .collect()
}

store_test!(an_episode_becomes_a_deduplicated_graph, |store: Arc<
    dyn Store,
>| async move {
    let fake = FakeLlm::start().await;
    let keeper = agent(store.as_ref()).await;
    let episode = store
        .episodic()
        .insert_episode(NewEpisode {
            scope: EpisodicScope::new(MASTER_TENANT_ID, keeper.id, "alice"),
            session_key: "agent:keeper:ws:direct:one".to_owned(),
            summary: "Alice said Ada Lovelace worked on the Analytical Engine; Ada no longer \
                      lives in London."
                .to_owned(),
            l0_abstract: "Ada and the engine.".to_owned(),
            key_topics: Vec::new(),
            embedding: None,
            source_type: "session".to_owned(),
            source_id: "one#2".to_owned(),
            turn_count: 1,
            token_count: 20,
            expires_at: None,
        })
        .await
        .expect("insert")
        .expect("new");
    fake.push(Reply::text(
        json!({
            "entities": [
                {"id": "ada", "name": "Ada Lovelace", "type": "person"},
                {"id": "ada_lovelace", "name": "Ada Lovelace", "type": "person",
                 "description": "mathematician"},
                {"id": "engine", "name": "Analytical Engine", "type": "thing"},
                {"id": "london", "name": "London", "type": "place"}
            ],
            "relations": [
                {"source": "ada", "type": "worked_on", "target": "engine", "confidence": 0.9},
                {"source": "ada_lovelace", "type": "lives_in", "target": "london", "ended": true}
            ]
        })
        .to_string(),
    ));
    extractor(&store, &fake)
        .episode_created(&keeper, &episode)
        .await
        .expect("extracted");
    let asked = fake.requests()[0].body.to_string();
    assert!(
        asked.contains("Analytical Engine; Ada no longer"),
        "the summary was sent: {asked}"
    );

    let scope = GraphScope::new(MASTER_TENANT_ID, keeper.id, "alice");
    let graph = store.knowledge_graph();
    assert_eq!(
        graph.graph_counts(&scope).await.expect("counts"),
        GraphCounts {
            entities: 3,
            relations: 1
        },
        "the two Adas are one; the ended fact is not current"
    );
    let search = GraphSearch::new(store.clone());
    let found = search
        .search(&scope, "lovelace", None, None, None, Utc::now())
        .await
        .expect("search");
    assert_eq!(
        names(&found.hits),
        [
            ("Ada Lovelace".to_owned(), 0),
            ("Analytical Engine".to_owned(), 1)
        ]
    );
    assert_eq!(found.hits[1].via, "worked_on");
    assert_eq!(found.hits[1].path, ["Ada Lovelace", "Analytical Engine"]);
    assert_eq!(found.relations.len(), 1, "{:?}", found.relations);
    // Another user's graph is empty.
    let bob = GraphScope::new(MASTER_TENANT_ID, keeper.id, "bob");
    let nothing = search
        .search(&bob, "lovelace", None, None, None, Utc::now())
        .await
        .expect("search");
    assert!(nothing.hits.is_empty());
});

store_test!(searches_walk_no_further_than_their_depth, |store: Arc<
    dyn Store,
>| async move {
    let fake = FakeLlm::start().await;
    let keeper = agent(store.as_ref()).await;
    let scope = GraphScope::new(MASTER_TENANT_ID, keeper.id, "alice");
    let chain = ["a", "b", "c", "d", "e", "f", "g", "h"];
    let extraction = Extraction {
        entities: chain
            .iter()
            .map(|id| ExtractedEntity {
                id: (*id).to_owned(),
                name: format!("node {id}"),
                entity_type: "thing".to_owned(),
                description: String::new(),
                properties: json!({}),
            })
            .collect(),
        relations: chain
            .windows(2)
            .map(|pair| ExtractedRelation {
                source: pair[0].to_owned(),
                relation_type: "next".to_owned(),
                target: pair[1].to_owned(),
                confidence: 1.0,
                ended: None,
            })
            .collect(),
    };
    let before = Utc::now() - chrono::Duration::hours(1);
    extractor(&store, &fake)
        .ingest(&scope, "episode", extraction)
        .await
        .expect("ingest");
    let search = GraphSearch::new(store.clone());
    let depths = |max_depth: Option<u32>, as_of| {
        let search = search.clone();
        let scope = scope.clone();
        async move {
            let found = search
                .search(&scope, "node a", None, Some("thing"), max_depth, as_of)
                .await
                .expect("search");
            names(&found.hits)
                .into_iter()
                .map(|(name, depth)| format!("{name}@{depth}"))
                .collect::<Vec<_>>()
        }
    };
    let later = Utc::now() + chrono::Duration::seconds(5);
    assert_eq!(
        depths(None, later).await,
        ["node a@0", "node b@1", "node c@2"]
    );
    assert_eq!(
        depths(Some(9), later).await,
        [
            "node a@0", "node b@1", "node c@2", "node d@3", "node e@4", "node f@5"
        ],
        "at most 5"
    );
    assert_eq!(
        depths(Some(1), before).await,
        ["node a@0"],
        "nothing held an hour ago"
    );
    let wrong_type = search
        .search(&scope, "node a", None, Some("person"), None, later)
        .await
        .expect("search");
    assert!(wrong_type.hits.is_empty());
});
