//! `memory_search` and `memory_get` on both engines, as two users of one agent and as another
//! agent: each finds its own and the shared memory, never someone else's, whatever the
//! arguments say.

use std::path::PathBuf;
use std::sync::Arc;

use goclaw_core::{
    AgentKey, MASTER_TENANT_ID, MemoryScope, NewAgent, SessionKey, Store, Tool, ToolContext,
};
use goclaw_memory::index::MemoryIndex;
use goclaw_store::store_test;
use goclaw_tools::memory::memory_tools;
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
    let tools = memory_tools(store.clone(), MemoryIndex::new(store.clone(), None));
    let tool: &Arc<dyn Tool> = tools
        .iter()
        .find(|t| t.definition().name == name)
        .expect("tool");
    let out = tool.call(ctx, args).await;
    let value = serde_json::from_str(&out.content).unwrap_or(Value::String(out.content));
    (out.is_error, value)
}

fn paths(found: &Value) -> Vec<&str> {
    found["results"]
        .as_array()
        .map(|r| r.iter().filter_map(|x| x["path"].as_str()).collect())
        .unwrap_or_default()
}

store_test!(
    each_user_finds_their_own_and_the_shared_memory,
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
        let index = MemoryIndex::new(store.clone(), None);
        let write = |scope: MemoryScope, path: &'static str, text: &'static str| {
            let index = index.clone();
            async move { index.write(scope, path, text).await.expect("write") }
        };
        write(
            MemoryScope::user(MASTER_TENANT_ID, agents[0], "alice"),
            "MEMORY.md",
            "Alice drinks jasmine tea.\nHer locker code is 4711.",
        )
        .await;
        write(
            MemoryScope::user(MASTER_TENANT_ID, agents[0], "bob"),
            "MEMORY.md",
            "Bob drinks black coffee.",
        )
        .await;
        write(
            MemoryScope::shared(MASTER_TENANT_ID, agents[0]),
            "memory/company.md",
            "The office serves jasmine tea and coffee on Fridays.",
        )
        .await;

        let alice = ctx("assistant", "alice");
        let (failed, found) = call(
            &store,
            &alice,
            "memory_search",
            json!({ "query": "jasmine" }),
        )
        .await;
        assert!(!failed, "{found}");
        assert_eq!(paths(&found), ["MEMORY.md", "memory/company.md"], "{found}");
        assert!(
            found["results"][0]["snippet"]
                .as_str()
                .is_some_and(|s| s.contains("Alice"))
        );

        // Bob: his own and the shared memory; nothing of Alice's, whatever he asks.
        let bob = ctx("assistant", "bob");
        for query in ["jasmine", "locker code 4711", "Alice"] {
            let (_, found) = call(&store, &bob, "memory_search", json!({ "query": query })).await;
            assert!(
                !found.to_string().contains("4711") && !found.to_string().contains("Alice drinks"),
                "{query}: {found}"
            );
        }
        let (_, found) = call(&store, &bob, "memory_search", json!({ "query": "coffee" })).await;
        assert_eq!(paths(&found).len(), 2, "{found}");
        // memory_get reads the caller's own copy, then the shared one; never another user's.
        let (failed, got) = call(&store, &bob, "memory_get", json!({ "path": "MEMORY.md" })).await;
        assert!(!failed);
        assert_eq!(got["text"], "Bob drinks black coffee.");
        let (failed, got) = call(
            &store,
            &alice,
            "memory_get",
            json!({ "path": "MEMORY.md", "from": 2, "lines": 1 }),
        )
        .await;
        assert!(!failed);
        assert_eq!(got["text"], "Her locker code is 4711.");
        let (failed, got) = call(
            &store,
            &bob,
            "memory_get",
            json!({ "path": "memory/company.md" }),
        )
        .await;
        assert!(!failed, "{got}");
        let carol = ctx("assistant", "carol");
        let (failed, got) =
            call(&store, &carol, "memory_get", json!({ "path": "MEMORY.md" })).await;
        assert!(
            failed,
            "carol has no MEMORY.md and must not read another's: {got}"
        );

        // Another agent of the same user sees none of this agent's memory.
        let elsewhere = ctx("other", "alice");
        let (_, found) = call(
            &store,
            &elsewhere,
            "memory_search",
            json!({ "query": "jasmine" }),
        )
        .await;
        assert!(paths(&found).is_empty(), "{found}");

        // Arguments are checked; the scope is never an argument.
        let (failed, _) = call(&store, &alice, "memory_search", json!({ "query": " " })).await;
        assert!(failed);
        let (_, found) = call(
        &store,
        &bob,
        "memory_search",
        json!({ "query": "jasmine", "user_id": "alice", "pathPrefix": "memory/", "maxResults": 1 }),
    )
    .await;
        assert_eq!(paths(&found), ["memory/company.md"], "{found}");
    }
);
