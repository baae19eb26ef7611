//! Editing the vault registry by hand on both engines: a document's title, type and metadata
//! changed in place (its path and owner kept), links made, re-made with a new context and
//! removed — surviving a document's wikilinks being replaced — and none of it reaching across
//! tenants.

use std::sync::Arc;

use goclaw_core::{
    AgentId, AgentKey, MASTER_TENANT_ID, NewAgent, NewVaultDocument, Store, TenantId,
    VaultDocument, VaultOwner, VaultScope,
};
use goclaw_store::store_test;
use serde_json::json;

const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";

fn acme() -> TenantId {
    ACME.parse().expect("tenant id")
}

async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> AgentId {
    let key = AgentKey::parse(key).expect("valid agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
        .id
}

async fn put(store: &dyn Store, tenant: TenantId, owner: VaultOwner, path: &str) -> VaultDocument {
    let title = path
        .rsplit('/')
        .next()
        .unwrap_or(path)
        .trim_end_matches(".md");
    store
        .vault()
        .upsert_document(NewVaultDocument {
            tenant,
            owner,
            path: path.to_owned(),
            title: title.to_owned(),
            doc_type: "note".to_owned(),
            content_hash: "h1".to_owned(),
            summary: String::new(),
            metadata: json!({}),
        })
        .await
        .expect("registered")
}

store_test!(
    records_are_retitled_and_linked_by_hand_within_their_tenant,
    |store: Arc<dyn Store>| async move {
        let keeper = agent(store.as_ref(), MASTER_TENANT_ID, "keeper").await;
        let plan = put(
            store.as_ref(),
            MASTER_TENANT_ID,
            VaultOwner::personal(keeper),
            "keeper/plan.md",
        )
        .await;
        let guide = put(
            store.as_ref(),
            MASTER_TENANT_ID,
            VaultOwner::shared(),
            "guide.md",
        )
        .await;
        let vault = store.vault();
        let changed = vault
            .update_document(
                MASTER_TENANT_ID,
                plan.id,
                "The plan",
                "context",
                &json!({"k": 1}),
            )
            .await
            .expect("update")
            .expect("a document");
        assert_eq!(
            (
                changed.title.as_str(),
                changed.doc_type.as_str(),
                &changed.metadata
            ),
            ("The plan", "context", &json!({"k": 1}))
        );
        assert_eq!(
            (changed.path, changed.scope),
            (plan.path.clone(), VaultScope::Personal)
        );
        let elsewhere = vault
            .update_document(acme(), plan.id, "x", "note", &json!({}))
            .await
            .expect("update");
        assert!(elsewhere.is_none(), "another tenant's id is no document");

        let link = vault
            .add_link(
                MASTER_TENANT_ID,
                plan.id,
                guide.id,
                "reference",
                "see the guide",
            )
            .await
            .expect("link")
            .expect("both documents");
        let again = vault
            .add_link(
                MASTER_TENANT_ID,
                plan.id,
                guide.id,
                "reference",
                "read the guide",
            )
            .await
            .expect("link")
            .expect("both documents");
        assert_eq!(
            (again.id, again.context.as_str()),
            (link.id, "read the guide")
        );
        assert!(
            vault
                .add_link(acme(), plan.id, guide.id, "reference", "")
                .await
                .expect("link")
                .is_none()
        );
        // A hand-made link outlives the document's wikilinks being replaced.
        vault
            .replace_wikilinks(MASTER_TENANT_ID, plan.id, &[])
            .await
            .expect("wikilinks");
        let out = vault
            .out_links(MASTER_TENANT_ID, plan.id)
            .await
            .expect("out");
        assert_eq!(out.iter().map(|l| l.id).collect::<Vec<_>>(), [link.id]);
        assert!(
            vault
                .get_link(acme(), link.id)
                .await
                .expect("get")
                .is_none()
        );
        assert_eq!(
            vault
                .get_link(MASTER_TENANT_ID, link.id)
                .await
                .expect("get")
                .map(|l| l.to_doc_id),
            Some(guide.id)
        );
        assert!(!vault.delete_link(acme(), link.id).await.expect("delete"));
        assert!(
            vault
                .delete_link(MASTER_TENANT_ID, link.id)
                .await
                .expect("delete")
        );
        assert!(
            !vault
                .delete_link(MASTER_TENANT_ID, link.id)
                .await
                .expect("gone")
        );
        assert!(
            vault
                .out_links(MASTER_TENANT_ID, plan.id)
                .await
                .expect("out")
                .is_empty()
        );
    }
);
