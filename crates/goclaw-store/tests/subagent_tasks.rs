//! Subagent tasks by the session they ran in, on both engines: the latest task of a subagent
//! session (a steered subagent runs again in the same session, one level deeper than nothing
//! else), none for another session or tenant, and ended tasks still found.

use std::sync::Arc;

use goclaw_core::{
    MASTER_TENANT_ID, NewSubagentTask, Store, SubagentOutcome, SubagentStatus, TenantId,
};
use goclaw_store::store_test;
use serde_json::json;

fn task(session: &str, label: &str, depth: i32) -> NewSubagentTask {
    NewSubagentTask {
        tenant_id: MASTER_TENANT_ID,
        parent_agent_key: "lead".to_owned(),
        parent_session_key: "agent:lead:ws:direct:1".to_owned(),
        session_key: session.to_owned(),
        subject: label.to_owned(),
        description: format!("do {label}"),
        depth,
        model: String::new(),
        provider: String::new(),
        metadata: json!({"user_id": "u1"}),
    }
}

store_test!(the_latest_task_of_a_session_is_found, |store: Arc<
    dyn Store,
>| async move {
    let tasks = store.subagent_tasks();
    let session = "agent:lead:subagent:research-1a2b";
    assert_eq!(
        tasks
            .latest_for_session(MASTER_TENANT_ID, session)
            .await
            .expect("lookup"),
        None
    );
    let first = tasks
        .create(task(session, "first", 2))
        .await
        .expect("first");
    tasks
        .create(task("agent:lead:subagent:other-9f9f", "other", 1))
        .await
        .expect("other");
    let found = tasks
        .latest_for_session(MASTER_TENANT_ID, session)
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!((found.id, found.depth), (first.id, 2));

    // Ended, then steered: the new task in the same session is the latest.
    let ended = SubagentOutcome {
        status: SubagentStatus::Cancelled,
        result: None,
        iterations: 0,
        input_tokens: 0,
        output_tokens: 0,
    };
    tasks
        .finish(MASTER_TENANT_ID, first.id, ended)
        .await
        .expect("finish")
        .expect("was running");
    let second = tasks
        .create(task(session, "second", 2))
        .await
        .expect("second");
    let found = tasks
        .latest_for_session(MASTER_TENANT_ID, session)
        .await
        .expect("lookup")
        .expect("found");
    assert_eq!(found.id, second.id);
    assert_eq!(found.subject, "second");

    let elsewhere: TenantId = "0193a5b0-7000-7000-8000-0000000000c1"
        .parse()
        .expect("tenant id");
    assert_eq!(
        tasks
            .latest_for_session(elsewhere, session)
            .await
            .expect("lookup"),
        None
    );
});
