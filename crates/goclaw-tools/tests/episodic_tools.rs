//! `memory_search`'s episodic results and `memory_expand` on both engines, as two users of one
//! agent and as another agent: each finds and opens only its own user's episodes with this
//! agent, whatever the arguments say.

use std::path::PathBuf;
use std::sync::Arc;

use goclaw_core::{
    AgentKey, EpisodicScope, MASTER_TENANT_ID, NewAgent, NewEpisode, SessionKey, Store, Tool,
    ToolContext,
};
use goclaw_memory::episodic::EpisodicRecall;
use goclaw_memory::index::MemoryIndex;
use goclaw_store::store_test;
use goclaw_tools::memory::{memory_tools, memory_tools_with_episodes};
use serde_json::{Value, json};

fn ctx(agent: &str, user: &str) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: agent.to_owned(),
        session_key: SessionKey::parse(&format!("agent:{agent}:ws:{user}")).expect("key"),
        user_id: user.to_owned(),
        trust: goclaw_core::Trust::User,
        run_id: "run-1".to_owned(),
        channel: "ws".to_owned(),
        workspace: PathBuf::from("/nonexistent"),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

/// Runs tool `name`; whether it failed, and its output (JSON when it is JSON).
async fn call(store: &Arc<dyn Store>, ctx: &ToolContext, name: &str, args: Value) -> (bool, Value) {
    let tools = memory_tools_with_episodes(
        store.clone(),
        MemoryIndex::new(store.clone(), None),
        Some(EpisodicRecall::new(store.clone(), None)),
    );
    let tool: &Arc<dyn Tool> = tools
        .iter()
        .find(|t| t.definition().name == name)
        .expect("tool");
    let out = tool.call(ctx, args).await;
    let value = serde_json::from_str(&out.content).unwrap_or(Value::String(out.content));
    (out.is_error, value)
}

fn abstracts(found: &Value) -> Vec<&str> {
    found["episodic"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["l0_abstract"].as_str()).collect())
        .unwrap_or_default()
}

store_test!(
    each_user_finds_and_expands_only_their_own_episodes,
    |store: Arc<dyn Store>| async move {
        let mut agents = Vec::new();
        for key in ["assistant", "other"] {
            let agent = store
                .agents()
                .create(NewAgent::new(
                    MASTER_TENANT_ID,
                    AgentKey::parse(key).expect("key"),
                    key,
                ))
                .await
                .expect("agent");
            agents.push(agent.id);
        }
        let mut ids = Vec::new();
        for (agent, user, about) in [
            (agents[0], "alice", "Alice's bicycle is green."),
            (agents[0], "bob", "Bob's bicycle is red."),
            (
                agents[1],
                "alice",
                "Alice told the other agent about her bicycle.",
            ),
        ] {
            let episode = store
                .episodic()
                .insert_episode(NewEpisode {
                    scope: EpisodicScope::new(MASTER_TENANT_ID, agent, user),
                    session_key: format!("agent:x:ws:direct:{user}"),
                    summary: format!("{about} The full story, in detail."),
                    l0_abstract: about.to_owned(),
                    key_topics: vec!["bicycle".to_owned()],
                    embedding: None,
                    source_type: "session".to_owned(),
                    source_id: format!("{user}#2"),
                    turn_count: 1,
                    token_count: 10,
                    expires_at: None,
                })
                .await
                .expect("insert")
                .expect("new");
            ids.push(episode.id.to_string());
        }
        let alice = ctx("assistant", "alice");
        let (failed, found) = call(
            &store,
            &alice,
            "memory_search",
            json!({ "query": "What colour is my bicycle?", "user_id": "bob" }),
        )
        .await;
        assert!(!failed, "{found}");
        assert_eq!(abstracts(&found), ["Alice's bicycle is green."]);
        assert_eq!(found["episodic"][0]["episodic_id"], ids[0].as_str());
        assert_eq!(found["results"], json!([]), "no memory documents");

        let (failed, expanded) =
            call(&store, &alice, "memory_expand", json!({ "id": ids[0] })).await;
        assert!(!failed, "{expanded}");
        assert_eq!(
            expanded["summary"],
            "Alice's bicycle is green. The full story, in detail."
        );
        assert_eq!(expanded["key_topics"], json!(["bicycle"]));
        // Bob's episode, the other agent's, an unknown id and a malformed one alike.
        for id in [
            ids[1].as_str(),
            ids[2].as_str(),
            "0193a5b0-7000-7000-8000-0000000000ff",
            "x",
        ] {
            let (failed, said) = call(&store, &alice, "memory_expand", json!({ "id": id })).await;
            assert!(failed, "{id}: {said}");
            assert_eq!(said, Value::String(format!("no episode {id}")));
        }
        let (failed, said) = call(&store, &alice, "memory_expand", json!({})).await;
        assert!(failed && said == "id is required", "{said}");

        let bob = ctx("assistant", "bob");
        let (_, found) = call(&store, &bob, "memory_search", json!({ "query": "bicycle" })).await;
        assert_eq!(abstracts(&found), ["Bob's bicycle is red."]);
        let other = ctx("other", "alice");
        let (_, found) = call(
            &store,
            &other,
            "memory_search",
            json!({ "query": "bicycle" }),
        )
        .await;
        assert_eq!(
            abstracts(&found),
            ["Alice told the other agent about her bicycle."]
        );
    }
);

store_test!(without_episodic_memory_there_is_no_expand, |store: Arc<
    dyn Store,
>| async move {
    let tools = memory_tools(store.clone(), MemoryIndex::new(store.clone(), None));
    let names: Vec<String> = tools.iter().map(|t| t.definition().name).collect();
    assert_eq!(names, ["memory_search", "memory_get"]);
});
