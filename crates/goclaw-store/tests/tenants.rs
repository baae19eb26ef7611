//! Tenants and their members on both engines: creating tenants (slugs unique), changing name,
//! status and settings, adding members (again: the role changes), removing them, listing a
//! tenant's members and a user's memberships.

use std::sync::Arc;

use goclaw_core::{
    MASTER_TENANT_ID, NewTenant, NewTenantUser, Store, StoreError, Tenant, TenantId, TenantPatch,
    TenantRole, TenantStatus,
};
use goclaw_store::store_test;
use serde_json::json;

async fn tenant(store: &dyn Store, slug: &str) -> Tenant {
    store
        .tenants()
        .create(NewTenant {
            id: TenantId::generate(),
            slug: slug.to_owned(),
            name: format!("{slug} Inc."),
            settings: json!({"plan": "pro"}),
        })
        .await
        .expect("tenant")
}

fn member(tenant: TenantId, user: &str, role: TenantRole) -> NewTenantUser {
    NewTenantUser {
        tenant_id: tenant,
        user_id: user.to_owned(),
        role,
        display_name: None,
    }
}

store_test!(
    tenants_are_created_and_changed,
    |store: Arc<dyn Store>| async move {
        let tenants = store.tenants();
        let acme = tenant(store.as_ref(), "acme").await;
        assert_eq!(acme.status, "active");
        assert_eq!(acme.name, "acme Inc.");
        assert_eq!(acme.settings, json!({"plan": "pro"}));
        assert_eq!(tenants.get(acme.id).await.expect("get"), acme);
        assert_eq!(tenants.get_by_slug("acme").await.expect("by slug"), acme);
        let listed: Vec<String> = tenants
            .list()
            .await
            .expect("list")
            .into_iter()
            .map(|t| t.slug)
            .collect();
        assert_eq!(listed, ["master", "acme"]);

        let again = tenants
            .create(NewTenant {
                id: TenantId::generate(),
                slug: "acme".into(),
                name: "Other".into(),
                settings: json!({}),
            })
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");

        let renamed = tenants
            .update(
                acme.id,
                TenantPatch {
                    name: Some("Acme Corp".into()),
                    ..Default::default()
                },
            )
            .await
            .expect("rename");
        assert_eq!(renamed.name, "Acme Corp");
        assert_eq!(renamed.status, "active");
        assert_eq!(renamed.settings, json!({"plan": "pro"}));
        assert!(renamed.updated_at >= acme.updated_at);

        let suspended = tenants
            .update(
                acme.id,
                TenantPatch {
                    status: Some(TenantStatus::Suspended),
                    settings: Some(json!({"plan": "free"})),
                    ..Default::default()
                },
            )
            .await
            .expect("suspend");
        assert_eq!(suspended.name, "Acme Corp");
        assert_eq!(suspended.status, "suspended");
        assert_eq!(suspended.settings, json!({"plan": "free"}));

        let missing = tenants
            .update(TenantId::generate(), TenantPatch::default())
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound(_))),
            "{missing:?}"
        );
    }
);

store_test!(members_are_added_changed_and_removed, |store: Arc<
    dyn Store,
>| async move {
    let tenants = store.tenants();
    let acme = tenant(store.as_ref(), "acme").await;
    let globex = tenant(store.as_ref(), "globex").await;

    let alice = tenants
        .add_user(NewTenantUser {
            display_name: Some("Alice".into()),
            ..member(acme.id, "alice", TenantRole::Member)
        })
        .await
        .expect("alice");
    assert_eq!(alice.role, TenantRole::Member);
    assert_eq!(alice.display_name.as_deref(), Some("Alice"));
    assert_eq!(alice.metadata, json!({}));
    tenants
        .add_user(member(acme.id, "bob", TenantRole::Admin))
        .await
        .expect("bob");
    tenants
        .add_user(member(globex.id, "alice", TenantRole::Viewer))
        .await
        .expect("alice in globex");

    // Adding again changes the role and keeps the name.
    let promoted = tenants
        .add_user(member(acme.id, "alice", TenantRole::Admin))
        .await
        .expect("again");
    assert_eq!(promoted.role, TenantRole::Admin);
    assert_eq!(promoted.display_name.as_deref(), Some("Alice"));
    assert_eq!(promoted.created_at, alice.created_at);

    let users: Vec<(String, TenantRole)> = tenants
        .users(acme.id)
        .await
        .expect("users")
        .into_iter()
        .map(|u| (u.user_id, u.role))
        .collect();
    assert_eq!(
        users,
        [
            ("alice".to_owned(), TenantRole::Admin),
            ("bob".to_owned(), TenantRole::Admin)
        ]
    );
    assert_eq!(
        tenants.user_role(acme.id, "alice").await.expect("role"),
        Some(TenantRole::Admin)
    );
    assert_eq!(
        tenants.user_role(globex.id, "bob").await.expect("role"),
        None
    );
    assert_eq!(
        tenants
            .user_role(MASTER_TENANT_ID, "alice")
            .await
            .expect("role"),
        None
    );
    let mine: Vec<TenantId> = tenants
        .memberships("alice")
        .await
        .expect("memberships")
        .into_iter()
        .map(|m| m.tenant_id)
        .collect();
    assert_eq!(mine.len(), 2);
    assert!(mine.contains(&acme.id) && mine.contains(&globex.id));
    assert!(
        tenants
            .memberships("nobody")
            .await
            .expect("none")
            .is_empty()
    );

    assert!(tenants.remove_user(acme.id, "alice").await.expect("remove"));
    assert!(!tenants.remove_user(acme.id, "alice").await.expect("twice"));
    assert_eq!(
        tenants.user_role(acme.id, "alice").await.expect("gone"),
        None
    );
    assert_eq!(
        tenants.user_role(globex.id, "alice").await.expect("kept"),
        Some(TenantRole::Viewer)
    );

    let orphan = tenants
        .add_user(member(TenantId::generate(), "carol", TenantRole::Member))
        .await;
    assert!(
        matches!(orphan, Err(StoreError::NotFound("tenant"))),
        "{orphan:?}"
    );
});
