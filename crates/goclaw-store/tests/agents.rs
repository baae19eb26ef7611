//! Agent maintenance on both engines: every field round-trips, partial updates with
//! `other_config` merging, one default agent per tenant, soft deletion that frees the key, and
//! the context files of an agent.

use std::sync::Arc;

use goclaw_core::{
    AgentId, AgentKey, AgentPatch, MASTER_TENANT_ID, NewAgent, Store, StoreError, TenantId,
};
use goclaw_store::store_test;
use serde_json::json;

fn agent_key(raw: &str) -> AgentKey {
    AgentKey::parse(raw).expect("valid agent key")
}

fn new_agent(key: &str) -> NewAgent {
    NewAgent::new(MASTER_TENANT_ID, agent_key(key), format!("Agent {key}"))
}

/// The keys of the master tenant's default agents, as `list` shows them.
async fn default_keys(store: &dyn Store) -> Vec<String> {
    store
        .agents()
        .list(MASTER_TENANT_ID)
        .await
        .expect("list")
        .into_iter()
        .filter(|a| a.is_default)
        .map(|a| a.agent_key.as_str().to_owned())
        .collect()
}

store_test!(
    new_agents_take_the_defaults,
    |store: Arc<dyn Store>| async move {
        let agent = store
            .agents()
            .create(new_agent("plain"))
            .await
            .expect("create");
        assert_eq!(agent.agent_type, "open");
        assert_eq!(agent.status, "active");
        assert_eq!((agent.context_window, agent.max_tool_iterations), (0, 0));
        assert_eq!(agent.workspace, "");
        assert!(agent.restrict_to_workspace);
        assert_eq!(agent.other_config, json!({}));
        assert!(!agent.is_default);
    }
);

store_test!(
    every_agent_field_round_trips,
    |store: Arc<dyn Store>| async move {
        let mut new = new_agent("full");
        new.provider = "openrouter".to_owned();
        new.model = "anthropic/claude-sonnet-4".to_owned();
        new.agent_type = "predefined".to_owned();
        new.context_window = 1_000_000;
        new.max_tool_iterations = 40;
        new.workspace = "/srv/agents/full".to_owned();
        new.restrict_to_workspace = false;
        new.other_config =
            json!({"max_tokens": 8192, "temperature": 0.5, "model_fallback": ["gpt-4o"]});
        let created = store.agents().create(new.clone()).await.expect("create");
        assert_eq!(created.agent_type, "predefined");
        assert_eq!(created.context_window, 1_000_000);
        assert_eq!(created.max_tool_iterations, 40);
        assert_eq!(created.workspace, "/srv/agents/full");
        assert!(!created.restrict_to_workspace);
        assert_eq!(created.other_config, new.other_config);
        let fetched = store
            .agents()
            .get_by_key(MASTER_TENANT_ID, &agent_key("full"))
            .await
            .expect("get");
        assert_eq!(fetched, created);
    }
);

store_test!(update_changes_only_what_the_patch_names, |store: Arc<
    dyn Store,
>| async move {
    let agents = store.agents();
    let mut new = new_agent("patched");
    new.model = "claude-sonnet-4".to_owned();
    new.other_config = json!({"max_tokens": 4096, "temperature": 0.7});
    let before = agents.create(new).await.expect("create");
    let key = agent_key("patched");

    let patch = AgentPatch {
        display_name: Some("Renamed".to_owned()),
        status: Some("inactive".to_owned()),
        context_window: Some(64_000),
        other_config: Some(json!({"temperature": null, "inbound_debounce_ms": 500})),
        ..AgentPatch::default()
    };
    let after = agents
        .update(MASTER_TENANT_ID, &key, patch)
        .await
        .expect("update");
    assert_eq!(after.display_name, "Renamed");
    assert_eq!(after.status, "inactive");
    assert_eq!(after.context_window, 64_000);
    assert_eq!(
        after.other_config,
        json!({"max_tokens": 4096, "inbound_debounce_ms": 500})
    );
    assert_eq!(after.model, before.model);
    assert_eq!(after.max_tool_iterations, before.max_tool_iterations);
    assert_eq!(after.restrict_to_workspace, before.restrict_to_workspace);
    assert_eq!((after.id, after.created_at), (before.id, before.created_at));
    assert!(after.updated_at >= before.updated_at);
    let fetched = agents
        .get_by_key(MASTER_TENANT_ID, &key)
        .await
        .expect("get");
    assert_eq!(fetched, after);

    let unchanged = agents
        .update(MASTER_TENANT_ID, &key, AgentPatch::default())
        .await
        .expect("empty patch");
    assert_eq!(unchanged.other_config, after.other_config);
    assert_eq!(unchanged.display_name, "Renamed");

    let refused = agents
        .update(
            MASTER_TENANT_ID,
            &key,
            AgentPatch {
                other_config: Some(json!([1, 2])),
                display_name: Some("Not applied".to_owned()),
                ..AgentPatch::default()
            },
        )
        .await;
    assert!(refused.is_err(), "{refused:?}");
    let fetched = agents
        .get_by_key(MASTER_TENANT_ID, &key)
        .await
        .expect("get");
    assert_eq!(fetched.display_name, "Renamed");
});

store_test!(updating_a_missing_agent_is_not_found, |store: Arc<
    dyn Store,
>| async move {
    let patch = AgentPatch {
        is_default: Some(true),
        ..AgentPatch::default()
    };
    for tenant in [MASTER_TENANT_ID, TenantId::generate()] {
        let missing = store
            .agents()
            .update(tenant, &agent_key("ghost"), patch.clone())
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound("agent"))),
            "{missing:?}"
        );
    }
});

store_test!(
    one_default_agent_per_tenant,
    |store: Arc<dyn Store>| async move {
        let agents = store.agents();
        assert_eq!(
            agents.get_default(MASTER_TENANT_ID).await.expect("none"),
            None
        );
        let mut first = new_agent("first");
        first.is_default = true;
        agents.create(first).await.expect("first");
        agents.create(new_agent("second")).await.expect("second");
        let default = agents.get_default(MASTER_TENANT_ID).await.expect("default");
        assert_eq!(default.map(|a| a.agent_key), Some(agent_key("first")));

        let make_default = AgentPatch {
            is_default: Some(true),
            ..AgentPatch::default()
        };
        let second = agents
            .update(MASTER_TENANT_ID, &agent_key("second"), make_default.clone())
            .await
            .expect("make second default");
        assert!(second.is_default);
        assert_eq!(default_keys(store.as_ref()).await, vec!["second"]);
        let default = agents.get_default(MASTER_TENANT_ID).await.expect("default");
        assert_eq!(default, Some(second));

        // Setting it again on the default itself keeps it.
        agents
            .update(MASTER_TENANT_ID, &agent_key("second"), make_default)
            .await
            .expect("again");
        assert_eq!(default_keys(store.as_ref()).await, vec!["second"]);

        // A new default agent takes over as well.
        let mut third = new_agent("third");
        third.is_default = true;
        agents.create(third).await.expect("third");
        assert_eq!(default_keys(store.as_ref()).await, vec!["third"]);

        let unset = AgentPatch {
            is_default: Some(false),
            ..AgentPatch::default()
        };
        agents
            .update(MASTER_TENANT_ID, &agent_key("third"), unset)
            .await
            .expect("unset");
        assert!(default_keys(store.as_ref()).await.is_empty());
        assert_eq!(
            agents.get_default(MASTER_TENANT_ID).await.expect("none"),
            None
        );
        assert!(
            agents
                .get_default(TenantId::generate())
                .await
                .expect("other tenant")
                .is_none()
        );
    }
);

store_test!(
    concurrent_default_switches_leave_one_default,
    |store: Arc<dyn Store>| async move {
        let keys: Vec<String> = (0..6).map(|i| format!("racer-{i}")).collect();
        for key in &keys {
            store.agents().create(new_agent(key)).await.expect("create");
        }
        let tasks: Vec<_> = keys
            .iter()
            .map(|key| {
                let store = Arc::clone(&store);
                let key = agent_key(key);
                tokio::spawn(async move {
                    let patch = AgentPatch {
                        is_default: Some(true),
                        ..AgentPatch::default()
                    };
                    store
                        .agents()
                        .update(MASTER_TENANT_ID, &key, patch)
                        .await
                        .expect("make default");
                })
            })
            .collect();
        for task in tasks {
            task.await.expect("task");
        }
        assert_eq!(default_keys(store.as_ref()).await.len(), 1);
    }
);

store_test!(deleted_agents_vanish_and_free_their_key, |store: Arc<
    dyn Store,
>| async move {
    let agents = store.agents();
    let key = agent_key("phoenix");
    let mut new = new_agent("phoenix");
    new.is_default = true;
    let original = agents.create(new).await.expect("create");
    agents.create(new_agent("other")).await.expect("other");

    agents.delete(MASTER_TENANT_ID, &key).await.expect("delete");
    let missing = agents.get_by_key(MASTER_TENANT_ID, &key).await;
    assert!(matches!(missing, Err(StoreError::NotFound("agent"))));
    let listed = agents.list(MASTER_TENANT_ID).await.expect("list");
    assert_eq!(
        listed
            .iter()
            .map(|a| a.agent_key.as_str())
            .collect::<Vec<_>>(),
        vec!["other"]
    );
    assert_eq!(
        agents.get_default(MASTER_TENANT_ID).await.expect("none"),
        None
    );
    let again = agents.delete(MASTER_TENANT_ID, &key).await;
    assert!(
        matches!(again, Err(StoreError::NotFound("agent"))),
        "{again:?}"
    );
    let update = agents
        .update(MASTER_TENANT_ID, &key, AgentPatch::default())
        .await;
    assert!(matches!(update, Err(StoreError::NotFound("agent"))));

    let mut reborn = new_agent("phoenix");
    reborn.is_default = true;
    let reborn = agents.create(reborn).await.expect("re-create");
    assert_ne!(reborn.id, original.id);
    assert_eq!(
        agents
            .get_by_key(MASTER_TENANT_ID, &key)
            .await
            .expect("get"),
        reborn
    );
    assert_eq!(
        agents.get_default(MASTER_TENANT_ID).await.expect("default"),
        Some(reborn)
    );
});

store_test!(context_files_are_set_listed_and_replaced, |store: Arc<
    dyn Store,
>| async move {
    let agent = store
        .agents()
        .create(new_agent("writer"))
        .await
        .expect("agent");
    let files = store.context_files();
    assert!(files.list(agent.id).await.expect("empty").is_empty());
    assert_eq!(files.get(agent.id, "SOUL.md").await.expect("none"), None);

    let soul = files
        .set(MASTER_TENANT_ID, agent.id, "SOUL.md", "Be kind.")
        .await
        .expect("set soul");
    assert_eq!(
        (
            soul.agent_id,
            soul.file_name.as_str(),
            soul.content.as_str()
        ),
        (agent.id, "SOUL.md", "Be kind.")
    );
    for name in ["AGENTS.md", "memory.md", "USER.md"] {
        files
            .set(MASTER_TENANT_ID, agent.id, name, &format!("# {name}"))
            .await
            .expect("set");
    }
    let names = |list: Vec<goclaw_core::ContextFile>| {
        list.into_iter().map(|f| f.file_name).collect::<Vec<_>>()
    };
    // Bytewise order on both engines: upper case sorts before lower case.
    assert_eq!(
        names(files.list(agent.id).await.expect("list")),
        vec!["AGENTS.md", "SOUL.md", "USER.md", "memory.md"]
    );

    let replaced = files
        .set(MASTER_TENANT_ID, agent.id, "SOUL.md", "Be brief.")
        .await
        .expect("replace");
    assert_eq!(replaced.content, "Be brief.");
    assert!(replaced.updated_at >= soul.updated_at);
    assert_eq!(
        files.get(agent.id, "SOUL.md").await.expect("get"),
        Some(replaced)
    );
    assert_eq!(files.list(agent.id).await.expect("list").len(), 4);
    assert_eq!(files.get(agent.id, "soul.md").await.expect("none"), None);
});

store_test!(
    context_files_need_a_live_agent_of_the_tenant,
    |store: Arc<dyn Store>| async move {
        let agent = store
            .agents()
            .create(new_agent("owner"))
            .await
            .expect("agent");
        let files = store.context_files();
        let cases = [
            (MASTER_TENANT_ID, AgentId::generate()),
            (TenantId::generate(), agent.id),
        ];
        for (tenant, agent_id) in cases {
            let missing = files.set(tenant, agent_id, "AGENTS.md", "x").await;
            assert!(
                matches!(missing, Err(StoreError::NotFound("agent"))),
                "{missing:?}"
            );
        }
        store
            .agents()
            .delete(MASTER_TENANT_ID, &agent_key("owner"))
            .await
            .expect("delete");
        let deleted = files
            .set(MASTER_TENANT_ID, agent.id, "AGENTS.md", "x")
            .await;
        assert!(
            matches!(deleted, Err(StoreError::NotFound("agent"))),
            "{deleted:?}"
        );
        assert!(files.list(agent.id).await.expect("list").is_empty());
    }
);
