//! `knowledge_graph_search` on both engines: it walks the caller's own graph with this agent
//! from the entities the query names, honours `max_depth` and `as_of`, refuses bad arguments,
//! and never reads another user's graph whatever the arguments say.

use std::path::PathBuf;
use std::sync::Arc;

use goclaw_core::{
    AgentKey, GraphScope, MASTER_TENANT_ID, NewAgent, NewEntity, NewRelation, SessionKey, Store,
    ToolContext,
};
use goclaw_store::store_test;
use goclaw_tools::knowledge_graph::knowledge_graph_tools;
use serde_json::{Value, json};

fn ctx(user: &str) -> ToolContext {
    ToolContext {
        tenant_id: MASTER_TENANT_ID,
        agent_key: "assistant".to_owned(),
        session_key: SessionKey::parse(&format!("agent:assistant:ws:{user}")).expect("key"),
        user_id: user.to_owned(),
        trust: goclaw_core::Trust::User,
        run_id: "run-1".to_owned(),
        channel: "ws".to_owned(),
        workspace: PathBuf::from("/nonexistent"),
        restrict_to_workspace: true,
        allowed_paths: Vec::new(),
    }
}

async fn call(store: &Arc<dyn Store>, user: &str, args: Value) -> (bool, Value) {
    let tools = knowledge_graph_tools(store.clone());
    let out = tools[0].call(&ctx(user), args).await;
    let value = serde_json::from_str(&out.content).unwrap_or(Value::String(out.content));
    (out.is_error, value)
}

fn names(found: &Value) -> Vec<String> {
    found["entities"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|x| format!("{}@{}", x["name"].as_str().unwrap_or(""), x["depth"]))
                .collect()
        })
        .unwrap_or_default()
}

store_test!(the_caller_walks_only_their_own_graph, |store: Arc<
    dyn Store,
>| async move {
    let agent = store
        .agents()
        .create(NewAgent::new(
            MASTER_TENANT_ID,
            AgentKey::parse("assistant").expect("key"),
            "Assistant",
        ))
        .await
        .expect("agent");
    let scope = GraphScope::new(MASTER_TENANT_ID, agent.id, "alice");
    let graph = store.knowledge_graph();
    let mut ids = Vec::new();
    for name in ["Maria", "Porto", "Portugal"] {
        let entity = graph
            .upsert_entity(
                &scope,
                NewEntity {
                    external_id: name.to_lowercase(),
                    name: name.to_owned(),
                    entity_type: "place".to_owned(),
                    description: String::new(),
                    properties: json!({}),
                    source_id: "episode".to_owned(),
                    confidence: 1.0,
                    embedding: None,
                },
            )
            .await
            .expect("entity");
        ids.push(entity.id);
    }
    for (from, kind, to) in [(0, "lives_in", 1), (1, "located_in", 2)] {
        graph
            .upsert_relation(
                &scope,
                NewRelation {
                    source: ids[from],
                    relation_type: kind.to_owned(),
                    target: ids[to],
                    confidence: 1.0,
                    properties: json!({}),
                    valid_until: None,
                },
            )
            .await
            .expect("relation");
    }
    let (failed, found) = call(&store, "alice", json!({"query": "maria"})).await;
    assert!(!failed, "{found}");
    assert_eq!(names(&found), ["Maria@0", "Porto@1", "Portugal@2"]);
    assert_eq!(found["relations"][0]["relation_type"], "lives_in");
    assert_eq!(found["relations"][0]["target"], "Porto");
    let (_, near) = call(&store, "alice", json!({"query": "maria", "max_depth": 1})).await;
    assert_eq!(names(&near), ["Maria@0", "Porto@1"]);
    let (_, then) = call(
        &store,
        "alice",
        json!({"query": "maria", "as_of": "2000-01-01T00:00:00Z"}),
    )
    .await;
    assert_eq!(names(&then), ["Maria@0"], "no relation held in 2000");
    let (_, bobs) = call(&store, "bob", json!({"query": "maria", "user_id": "alice"})).await;
    assert!(names(&bobs).is_empty(), "{bobs}");
    for (args, error) in [
        (json!({}), "query is required"),
        (
            json!({"query": "x", "max_depth": 6}),
            "max_depth must be from 1 to 5",
        ),
        (
            json!({"query": "x", "as_of": "yesterday"}),
            "as_of yesterday is not an RFC 3339 time",
        ),
        (
            json!({"query": "x", "entity_id": "nope"}),
            "entity_id nope is not an id",
        ),
    ] {
        let (failed, said) = call(&store, "alice", args.clone()).await;
        assert!(failed, "{args}");
        assert_eq!(said, Value::String(error.to_owned()), "{args}");
    }
});
