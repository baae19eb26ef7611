//! `memory_search` ranks by the settings in force, on both engines: the index's
//! (`agents.defaults.memory`: weights, `max_results`, `min_score`), then the agent's own
//! `memory_config`, then the call's `maxResults`, `minScore`, `vectorWeight` and `textWeight`.
//!
//! Two documents make the weights visible: "tea tea tea hot" is the only one the words of
//! "tea" find, and "chai" is the nearer by meaning (the test's embedder reads chai as tea), so
//! weighting text puts the first ahead and weighting vectors the second.

use std::path::PathBuf;
use std::sync::Arc;

use async_trait::async_trait;
use goclaw_core::{
    AgentKey, MASTER_TENANT_ID, MemoryScope, NewAgent, SessionKey, Store, Tool, ToolContext,
};
use goclaw_memory::embed::{EMBEDDING_DIMENSIONS, EmbedError, Embedder};
use goclaw_memory::index::MemoryIndex;
use goclaw_memory::rank::{RankOptions, Weights};
use goclaw_store::store_test;
use goclaw_tools::memory::memory_tools;
use serde_json::{Value, json};

/// Vectors of two meanings: tea (the words `tea` and `chai`) and heat (`hot`).
struct TeaEmbedder;

#[async_trait]
impl Embedder for TeaEmbedder {
    fn provider(&self) -> &str {
        "test"
    }

    fn model(&self) -> &str {
        "tea-and-heat"
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, EmbedError> {
        Ok(texts
            .iter()
            .map(|text| {
                let count = |word: &str| {
                    text.split_whitespace()
                        .filter(|w| w.trim_matches('.') == word)
                        .count() as f32
                };
                let mut v = vec![0.0; EMBEDDING_DIMENSIONS];
                v[0] = count("tea") + count("chai");
                v[1] = count("hot");
                v[2] = 0.01;
                v
            })
            .collect())
    }
}

fn ctx() -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "barista".to_owned(),
        session_key: SessionKey::parse("agent:barista:ws:alice").expect("key"),
        user_id: "alice".to_owned(),
        trust: goclaw_core::Trust::User,
        run_id: "run-1".to_owned(),
        channel: "ws".to_owned(),
        workspace: PathBuf::from("/nonexistent"),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

/// The paths `memory_search` finds for "tea", best first.
async fn search(index: &MemoryIndex, store: &Arc<dyn Store>, args: Value) -> Vec<String> {
    let tools = memory_tools(store.clone(), index.clone());
    let tool: &Arc<dyn Tool> = tools
        .iter()
        .find(|t| t.definition().name == "memory_search")
        .expect("memory_search");
    let mut args = args;
    args["query"] = json!("tea");
    let out = tool.call(&ctx(), args).await;
    assert!(!out.is_error, "{}", out.content);
    let found: Value = serde_json::from_str(&out.content).expect("JSON");
    found["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["path"].as_str().map(str::to_owned))
        .collect()
}

store_test!(searches_rank_by_the_settings_in_force, |store: Arc<
    dyn Store,
>| async move {
    let agent = store
        .agents()
        .create(NewAgent::new(
            MASTER_TENANT_ID,
            AgentKey::parse("barista").expect("key"),
            "Barista",
        ))
        .await
        .expect("agent");
    let defaults = RankOptions {
        weights: Weights {
            vector: 0.7,
            text: 0.3,
        },
        min_score: 0.0,
        max_results: 6,
        personal_boost: 1.2,
        ..RankOptions::default()
    };
    let index = MemoryIndex::new(store.clone(), Some(Arc::new(TeaEmbedder))).with_ranking(defaults);
    let alice = MemoryScope::user(MASTER_TENANT_ID, agent.id, "alice");
    for (path, text) in [
        ("memory/strong.md", "tea tea tea hot"),
        ("memory/chai.md", "chai"),
    ] {
        index.write(alice.clone(), path, text).await.expect("write");
    }
    let (strong, chai) = ("memory/strong.md", "memory/chai.md");

    // GoClaw's weights: the word match leads.
    assert_eq!(search(&index, &store, json!({})).await, [strong, chai]);
    // The call's weights.
    assert_eq!(
        search(&index, &store, json!({"vectorWeight": 1, "textWeight": 0})).await,
        [chai, strong]
    );
    // The configured weights, and the configured bounds.
    let by_meaning = index.clone().with_ranking(RankOptions {
        weights: Weights {
            vector: 1.0,
            text: 0.01,
        },
        ..defaults
    });
    assert_eq!(search(&by_meaning, &store, json!({})).await, [chai, strong]);
    let one = index.clone().with_ranking(RankOptions {
        max_results: 1,
        ..defaults
    });
    assert_eq!(search(&one, &store, json!({})).await, [strong]);
    assert_eq!(
        search(&one, &store, json!({"maxResults": 2})).await.len(),
        2
    );
    // Under GoClaw's weights the chai note scores 0.7 × 1.2 = 0.84, the other about 1.16.
    let strict = index.clone().with_ranking(RankOptions {
        min_score: 1.0,
        ..defaults
    });
    assert_eq!(search(&strict, &store, json!({})).await, [strong]);
    assert_eq!(
        search(&strict, &store, json!({"minScore": 0.5}))
            .await
            .len(),
        2
    );

    // The agent's own memory_config beats the configuration; the call beats both.
    store
        .agents()
        .update(
            MASTER_TENANT_ID,
            &agent.agent_key,
            goclaw_core::AgentPatch {
                other_config: Some(json!({"memory_config": {
                        "vector_weight": 1.0, "text_weight": 0.01, "max_results": 1}})),
                ..Default::default()
            },
        )
        .await
        .expect("memory_config set");
    assert_eq!(search(&index, &store, json!({})).await, [chai]);
    assert_eq!(
        search(
            &index,
            &store,
            json!({"textWeight": 1, "vectorWeight": 0.01, "maxResults": 2})
        )
        .await,
        [strong, chai]
    );
});
