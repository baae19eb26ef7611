//! Exec approvals on both engines: a pending request is listed until resolved once, and
//! programs allowed always are remembered per tenant and agent.

use std::sync::Arc;

use goclaw_core::{MASTER_TENANT_ID, NewExecApproval, Store};
use goclaw_store::store_test;

fn new_approval(id: &str, command: &str) -> NewExecApproval {
    NewExecApproval {
        id: id.to_owned(),
        tenant_id: MASTER_TENANT_ID,
        agent_key: "default".to_owned(),
        session_key: "agent:default:ws:alice".to_owned(),
        run_id: "run-1".to_owned(),
        command: command.to_owned(),
    }
}

store_test!(
    pending_requests_resolve_once,
    |store: Arc<dyn Store>| async move {
        let approvals = store.exec_approvals();
        let created = approvals
            .create(new_approval("exec-1", "echo hi"))
            .await
            .expect("create");
        assert_eq!(created.status, "pending");
        assert_eq!(created.decision, None);
        approvals
            .create(new_approval("exec-2", "ls"))
            .await
            .expect("create");
        let pending = approvals.list_pending().await.expect("list");
        let ids: Vec<&str> = pending.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["exec-1", "exec-2"]);
        assert_eq!(pending[0].command, "echo hi");
        assert_eq!(pending[0].session_key, "agent:default:ws:alice");

        let first = approvals
            .resolve(MASTER_TENANT_ID, "exec-1", "approved", "allow-once", "op")
            .await
            .expect("resolve");
        assert!(first);
        let again = approvals
            .resolve(MASTER_TENANT_ID, "exec-1", "denied", "deny", "op")
            .await
            .expect("resolve");
        assert!(!again, "a resolved request stays resolved");
        let pending = approvals.list_pending().await.expect("list");
        assert_eq!(pending.len(), 1);
        assert_eq!(pending[0].id, "exec-2");
    }
);

store_test!(
    allowed_binaries_are_remembered,
    |store: Arc<dyn Store>| async move {
        let approvals = store.exec_approvals();
        let allowed = |b: &'static str| {
            let store = store.clone();
            async move {
                store
                    .exec_approvals()
                    .is_binary_allowed(MASTER_TENANT_ID, "default", b)
                    .await
                    .expect("lookup")
            }
        };
        assert!(!allowed("echo").await);
        approvals
            .allow_binary(MASTER_TENANT_ID, "default", "echo")
            .await
            .expect("allow");
        approvals
            .allow_binary(MASTER_TENANT_ID, "default", "echo")
            .await
            .expect("allowing twice is fine");
        assert!(allowed("echo").await);
        assert!(!allowed("ls").await);
        let other = store
            .exec_approvals()
            .is_binary_allowed(MASTER_TENANT_ID, "other", "echo")
            .await
            .expect("lookup");
        assert!(!other, "per agent");
    }
);
