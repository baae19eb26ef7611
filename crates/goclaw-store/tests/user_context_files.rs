//! Per-user context files (`user_context_files`) on both engines: each user's copy is kept apart
//! from the agent's shared file and from every other user's, replaced in place, and written only
//! for a live agent of the tenant.

use std::sync::Arc;

use goclaw_core::{AgentId, AgentKey, MASTER_TENANT_ID, NewAgent, Store, StoreError, TenantId};
use goclaw_store::store_test;

async fn agent(store: &dyn Store, key: &str) -> goclaw_core::Agent {
    let key = AgentKey::parse(key).expect("valid agent key");
    store
        .agents()
        .create(NewAgent::new(MASTER_TENANT_ID, key, "Agent"))
        .await
        .expect("agent")
}

fn names(list: Vec<goclaw_core::ContextFile>) -> Vec<String> {
    list.into_iter().map(|f| f.file_name).collect()
}

store_test!(
    user_files_are_kept_per_user,
    |store: Arc<dyn Store>| async move {
        let agent = agent(store.as_ref(), "open-bot").await;
        let files = store.context_files();
        assert!(
            files
                .list_for_user(agent.id, "alice")
                .await
                .expect("empty")
                .is_empty()
        );
        files
            .set(MASTER_TENANT_ID, agent.id, "SOUL.md", "shared soul")
            .await
            .expect("shared");
        let alice = files
            .set_for_user(MASTER_TENANT_ID, agent.id, "alice", "SOUL.md", "alice soul")
            .await
            .expect("alice");
        assert_eq!(
            (
                alice.agent_id,
                alice.file_name.as_str(),
                alice.content.as_str()
            ),
            (agent.id, "SOUL.md", "alice soul")
        );
        for name in ["USER.md", "AGENTS.md", "memory.md"] {
            files
                .set_for_user(MASTER_TENANT_ID, agent.id, "alice", name, name)
                .await
                .expect("set");
        }
        assert_eq!(
            names(files.list_for_user(agent.id, "alice").await.expect("list")),
            vec!["AGENTS.md", "SOUL.md", "USER.md", "memory.md"]
        );

        // Another user, and the agent-level file, are untouched.
        assert!(
            files
                .list_for_user(agent.id, "bob")
                .await
                .expect("bob")
                .is_empty()
        );
        assert_eq!(
            files
                .get_for_user(agent.id, "bob", "SOUL.md")
                .await
                .expect("bob"),
            None
        );
        let shared = files.get(agent.id, "SOUL.md").await.expect("shared");
        assert_eq!(shared.map(|f| f.content), Some("shared soul".to_owned()));
        assert_eq!(files.list(agent.id).await.expect("list").len(), 1);

        let replaced = files
            .set_for_user(MASTER_TENANT_ID, agent.id, "alice", "SOUL.md", "alice v2")
            .await
            .expect("replace");
        assert!(replaced.updated_at >= alice.updated_at);
        assert_eq!(
            files
                .get_for_user(agent.id, "alice", "SOUL.md")
                .await
                .expect("get"),
            Some(replaced)
        );
        assert_eq!(
            files
                .list_for_user(agent.id, "alice")
                .await
                .expect("list")
                .len(),
            4
        );
    }
);

store_test!(user_files_need_a_live_agent_of_the_tenant, |store: Arc<
    dyn Store,
>| async move {
    let agent = agent(store.as_ref(), "owner").await;
    let files = store.context_files();
    let cases = [
        (MASTER_TENANT_ID, AgentId::generate()),
        (TenantId::generate(), agent.id),
    ];
    for (tenant, agent_id) in cases {
        let missing = files
            .set_for_user(tenant, agent_id, "alice", "USER.md", "x")
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound("agent"))),
            "{missing:?}"
        );
    }
    store
        .agents()
        .delete(MASTER_TENANT_ID, &agent.agent_key)
        .await
        .expect("delete");
    let deleted = files
        .set_for_user(MASTER_TENANT_ID, agent.id, "alice", "USER.md", "x")
        .await;
    assert!(
        matches!(deleted, Err(StoreError::NotFound("agent"))),
        "{deleted:?}"
    );
    assert!(
        files
            .list_for_user(agent.id, "alice")
            .await
            .expect("list")
            .is_empty()
    );
});
