//! Delegation links and subagent tasks on both engines: links between live agents of one
//! tenant, one per ordered pair and never to the agent itself, the direction read both ways by
//! `can_delegate`, patches, deletion and tenant isolation; subagent tasks recorded running,
//! ended once, listed by parent session, and the running ones a dead process left found again.

use std::sync::Arc;

use goclaw_core::{
    Agent, AgentKey, AgentLinkPatch, LinkDirection, MASTER_TENANT_ID, NewAgent, NewAgentLink,
    NewSubagentTask, Store, StoreError, SubagentOutcome, SubagentStatus, TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use serde_json::json;
use uuid::Uuid;

const OTHER_TENANT: &str = "0193a5b0-7000-7000-8000-0000000000b1";

fn other_tenant() -> TenantId {
    OTHER_TENANT.parse().expect("tenant id")
}

async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> Agent {
    let key = AgentKey::parse(key).expect("agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
}

fn subagent(parent_session: &str, label: &str) -> NewSubagentTask {
    NewSubagentTask {
        tenant_id: MASTER_TENANT_ID,
        parent_agent_key: "lead".to_owned(),
        parent_session_key: parent_session.to_owned(),
        session_key: format!("agent:lead:subagent:{label}"),
        subject: label.to_owned(),
        description: format!("do {label}"),
        depth: 1,
        model: "gpt-test".to_owned(),
        provider: "openai".to_owned(),
        metadata: json!({"origin": "test"}),
    }
}

fn outcome(status: SubagentStatus, result: &str) -> SubagentOutcome {
    SubagentOutcome {
        status,
        result: Some(result.to_owned()),
        iterations: 3,
        input_tokens: 120,
        output_tokens: 45,
    }
}

store_test!(
    links_are_unique_per_pair_and_never_to_oneself,
    |store: Arc<dyn Store>| async move {
        let links = store.agent_links();
        let a = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let b = agent(store.as_ref(), MASTER_TENANT_ID, "beta").await;
        let mut new = NewAgentLink::new(MASTER_TENANT_ID, a.id, b.id);
        new.settings = json!({"note": "ops"});
        let link = links.create(new.clone()).await.expect("create");
        assert_eq!((link.source_agent_id, link.target_agent_id), (a.id, b.id));
        assert_eq!(link.direction, LinkDirection::Outbound);
        assert_eq!(link.max_concurrent, 3);
        assert_eq!(link.settings, json!({"note": "ops"}));
        assert_eq!(link.status, "active");
        assert_eq!(
            links.get(MASTER_TENANT_ID, link.id).await.expect("get"),
            link
        );

        let again = links.create(new).await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        let reverse = links
            .create(NewAgentLink::new(MASTER_TENANT_ID, b.id, a.id))
            .await
            .expect("the reverse pair is another link");
        let own = links
            .create(NewAgentLink::new(MASTER_TENANT_ID, a.id, a.id))
            .await;
        assert!(matches!(own, Err(StoreError::Conflict(_))), "{own:?}");

        let from_a = links.list_from(MASTER_TENANT_ID, a.id).await.expect("list");
        assert_eq!(from_a.iter().map(|l| l.id).collect::<Vec<_>>(), [link.id]);
        links
            .delete(MASTER_TENANT_ID, reverse.id)
            .await
            .expect("delete");
        let gone = links.delete(MASTER_TENANT_ID, reverse.id).await;
        assert!(matches!(gone, Err(StoreError::NotFound("agent link"))));
    }
);

store_test!(can_delegate_reads_the_direction_both_ways, |store: Arc<
    dyn Store,
>| async move {
    let links = store.agent_links();
    let a = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
    let b = agent(store.as_ref(), MASTER_TENANT_ID, "beta").await;
    let c = agent(store.as_ref(), MASTER_TENANT_ID, "gamma").await;
    let can = |s: &Agent, t: &Agent| {
        let (s, t) = (s.id, t.id);
        let links = store.agent_links();
        async move {
            links
                .can_delegate(MASTER_TENANT_ID, s, t)
                .await
                .expect("can_delegate")
        }
    };
    assert!(!can(&a, &b).await);
    let link = links
        .create(NewAgentLink::new(MASTER_TENANT_ID, a.id, b.id))
        .await
        .expect("link");
    assert!(can(&a, &b).await);
    assert!(!can(&b, &a).await);
    assert!(!can(&a, &c).await);

    let check = |direction, forward: bool, backward: bool| {
        let store = store.clone();
        async move {
            let patch = AgentLinkPatch {
                direction: Some(direction),
                ..AgentLinkPatch::default()
            };
            store
                .agent_links()
                .update(MASTER_TENANT_ID, link.id, patch)
                .await
                .expect("update");
            let links = store.agent_links();
            let ab = links.can_delegate(MASTER_TENANT_ID, a.id, b.id).await;
            let ba = links.can_delegate(MASTER_TENANT_ID, b.id, a.id).await;
            assert_eq!(
                (ab.expect("ab"), ba.expect("ba")),
                (forward, backward),
                "{direction:?}"
            );
        }
    };
    check(LinkDirection::Inbound, false, true).await;
    check(LinkDirection::Bidirectional, true, true).await;
    check(LinkDirection::Outbound, true, false).await;

    let disabled = links
        .update(
            MASTER_TENANT_ID,
            link.id,
            AgentLinkPatch {
                status: Some("disabled".to_owned()),
                max_concurrent: Some(5),
                ..AgentLinkPatch::default()
            },
        )
        .await
        .expect("disable");
    assert_eq!(
        (disabled.status.as_str(), disabled.max_concurrent),
        ("disabled", 5)
    );
    assert!(!can(&a, &b).await);

    // A deleted agent can no longer be delegated to.
    links
        .create(NewAgentLink::new(MASTER_TENANT_ID, a.id, c.id))
        .await
        .expect("link to gamma");
    assert!(can(&a, &c).await);
    store
        .agents()
        .delete(MASTER_TENANT_ID, &c.agent_key)
        .await
        .expect("delete gamma");
    assert!(!can(&a, &c).await);
});

database_test!(links_stay_in_their_tenant, |db: TestDatabase| async move {
    let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
    let store = db.store();
    let links = store.agent_links();
    let a = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
    let b = agent(store.as_ref(), MASTER_TENANT_ID, "beta").await;
    let x = agent(store.as_ref(), other_tenant(), "xeno").await;
    let across = links
        .create(NewAgentLink::new(MASTER_TENANT_ID, a.id, x.id))
        .await;
    assert!(
        matches!(across, Err(StoreError::NotFound("agent"))),
        "{across:?}"
    );
    let link = links
        .create(NewAgentLink::new(MASTER_TENANT_ID, a.id, b.id))
        .await
        .expect("link");
    let seen = links.get(other_tenant(), link.id).await;
    assert!(matches!(seen, Err(StoreError::NotFound(_))), "{seen:?}");
    assert!(
        !links
            .can_delegate(other_tenant(), a.id, b.id)
            .await
            .expect("can")
    );
    let deleted = links.delete(other_tenant(), link.id).await;
    assert!(matches!(deleted, Err(StoreError::NotFound(_))));
    let missing = links
        .create(NewAgentLink::new(
            MASTER_TENANT_ID,
            a.id,
            goclaw_core::AgentId::from_uuid(Uuid::now_v7()),
        ))
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("agent"))),
        "{missing:?}"
    );
});

store_test!(
    subagent_tasks_end_once_and_running_ones_are_found,
    |store: Arc<dyn Store>| async move {
        let tasks = store.subagent_tasks();
        let first = tasks
            .create(subagent("agent:lead:main", "one"))
            .await
            .expect("one");
        assert_eq!(first.status, SubagentStatus::Running);
        assert_eq!(first.completed_at, None);
        assert_eq!(first.metadata, json!({"origin": "test"}));
        let second = tasks
            .create(subagent("agent:lead:main", "two"))
            .await
            .expect("two");
        let third = tasks
            .create(subagent("agent:lead:other", "three"))
            .await
            .expect("three");

        let done = tasks
            .finish(
                MASTER_TENANT_ID,
                first.id,
                outcome(SubagentStatus::Completed, "ok"),
            )
            .await
            .expect("finish")
            .expect("was running");
        assert_eq!(done.status, SubagentStatus::Completed);
        assert_eq!(done.result.as_deref(), Some("ok"));
        assert_eq!(
            (done.iterations, done.input_tokens, done.output_tokens),
            (3, 120, 45)
        );
        assert!(done.completed_at.is_some());
        let late = tasks
            .cancel(MASTER_TENANT_ID, first.id, Some("too late"))
            .await
            .expect("cancel");
        assert_eq!(late, None, "an ended task keeps its first ending");
        let running = tasks
            .finish(
                MASTER_TENANT_ID,
                second.id,
                outcome(SubagentStatus::Running, "?"),
            )
            .await;
        assert!(
            matches!(running, Err(StoreError::Conflict(_))),
            "{running:?}"
        );

        let unfinished: Vec<Uuid> = tasks
            .unfinished()
            .await
            .expect("unfinished")
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(unfinished, [second.id, third.id]);
        let cancelled = tasks
            .cancel(MASTER_TENANT_ID, second.id, None)
            .await
            .expect("cancel")
            .expect("was running");
        assert_eq!(cancelled.status, SubagentStatus::Cancelled);
        let unfinished: Vec<Uuid> = tasks
            .unfinished()
            .await
            .expect("unfinished")
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(unfinished, [third.id]);

        let listed: Vec<Uuid> = tasks
            .list_by_parent(MASTER_TENANT_ID, "agent:lead:main")
            .await
            .expect("list")
            .iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(listed, [first.id, second.id]);
        let missing = tasks
            .finish(
                MASTER_TENANT_ID,
                Uuid::now_v7(),
                outcome(SubagentStatus::Failed, "x"),
            )
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound("subagent task"))),
            "{missing:?}"
        );
    }
);
