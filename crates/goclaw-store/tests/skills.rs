//! Skills on both engines: versions of a slug replacing the row in place, every field read
//! back, metadata patches, archiving (a re-upload revives the skill as `private`), grants
//! promoting and demoting visibility, who may use which skill, and tenant isolation.

use std::sync::Arc;

use goclaw_core::{
    Agent, AgentKey, MASTER_TENANT_ID, NewAgent, NewSkillVersion, SkillPatch, Store, StoreError,
    TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use uuid::Uuid;

const OTHER_TENANT: &str = "0193a5b0-7000-7000-8000-0000000000c0";

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

fn version(tenant: TenantId, slug: &str, version: i64, visibility: &str) -> NewSkillVersion {
    NewSkillVersion {
        tenant_id: tenant,
        name: format!("{slug} skill"),
        slug: slug.to_owned(),
        description: format!("does {slug} v{version}"),
        owner_id: "alice".to_owned(),
        visibility: visibility.to_owned(),
        version,
        tags: vec!["a".to_owned(), "b ✨".to_owned()],
        author: "Alice".to_owned(),
        content: format!("---\nname: {slug}\n---\nStep {version}."),
        file_path: format!("/store/{slug}/{version}"),
        file_size: 100 + version,
        file_hash: format!("hash{version}"),
    }
}

async fn slugs(
    store: &dyn Store,
    tenant: TenantId,
    agent: Option<&Agent>,
    user: &str,
) -> Vec<String> {
    store
        .skills()
        .accessible(tenant, agent.map(|a| a.id), user)
        .await
        .expect("accessible")
        .into_iter()
        .map(|s| s.slug)
        .collect()
}

store_test!(versions_replace_the_row_in_place, |store: Arc<
    dyn Store,
>| async move {
    let skills = store.skills();
    let t = MASTER_TENANT_ID;
    assert_eq!(skills.next_version(t, "haiku").await.expect("next"), 1);
    let (first, new) = skills
        .put_version(version(t, "haiku", 1, "internal"))
        .await
        .expect("v1");
    assert!(new);
    assert_eq!(
        (
            first.version,
            first.enabled,
            first.status.as_str(),
            first.tags.clone()
        ),
        (1, true, "active", vec!["a".to_owned(), "b ✨".to_owned()])
    );
    assert_eq!(skills.next_version(t, "haiku").await.expect("next"), 2);
    let (second, new) = skills
        .put_version(version(t, "haiku", 2, "public"))
        .await
        .expect("v2");
    assert!(!new);
    assert_eq!(second.id, first.id, "one row per slug");
    assert_eq!(
        second.visibility, "internal",
        "an upload keeps the visibility"
    );
    assert_eq!(
        (
            second.version,
            second.description.as_str(),
            second.content.as_str()
        ),
        (2, "does haiku v2", "---\nname: haiku\n---\nStep 2.")
    );
    assert_eq!(
        (second.file_path.as_str(), second.file_size),
        ("/store/haiku/2", 102)
    );
    let read = skills.get_by_slug(t, "haiku").await.expect("by slug");
    assert_eq!(read, second);
    assert_eq!(skills.get(t, first.id).await.expect("by id"), second);
});

store_test!(
    patches_archive_and_revival,
    |store: Arc<dyn Store>| async move {
        let skills = store.skills();
        let t = MASTER_TENANT_ID;
        let (skill, _) = skills
            .put_version(version(t, "pdf", 1, "public"))
            .await
            .expect("v1");
        let patched = skills
            .update(
                t,
                skill.id,
                SkillPatch {
                    name: Some("PDF".to_owned()),
                    enabled: Some(false),
                    tags: Some(vec!["docs".to_owned()]),
                    ..SkillPatch::default()
                },
            )
            .await
            .expect("patch");
        assert_eq!(
            (patched.name.as_str(), patched.enabled, patched.tags.clone()),
            ("PDF", false, vec!["docs".to_owned()])
        );
        assert_eq!(
            patched.description, skill.description,
            "untouched fields stay"
        );
        skills.archive(t, skill.id).await.expect("archive");
        assert!(skills.list(t).await.expect("list").is_empty());
        assert!(matches!(
            skills.get_by_slug(t, "pdf").await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(skills.next_version(t, "pdf").await.expect("next"), 2);
        let (revived, new) = skills
            .put_version(version(t, "pdf", 2, "public"))
            .await
            .expect("v2");
        assert!(!new);
        assert_eq!(
            (revived.status.as_str(), revived.visibility.as_str()),
            ("active", "private")
        );
        let missing = skills
            .update(t, Uuid::now_v7(), SkillPatch::default())
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound(_))));
    }
);

store_test!(
    grants_decide_who_uses_a_skill,
    |store: Arc<dyn Store>| async move {
        let skills = store.skills();
        let t = MASTER_TENANT_ID;
        let alpha = agent(store.as_ref(), t, "alpha").await;
        let beta = agent(store.as_ref(), t, "beta").await;
        skills
            .put_version(version(t, "open", 1, "public"))
            .await
            .expect("public");
        let (mine, _) = skills
            .put_version(version(t, "mine", 1, "private"))
            .await
            .expect("private");
        let (granted, _) = skills
            .put_version(version(t, "granted", 1, "internal"))
            .await
            .expect("internal");
        assert_eq!(
            slugs(store.as_ref(), t, Some(&alpha), "bob").await,
            ["open"]
        );
        assert_eq!(
            slugs(store.as_ref(), t, None, "alice").await,
            ["mine", "open"]
        );

        skills
            .grant_agent(t, granted.id, alpha.id, 1, "admin")
            .await
            .expect("grant");
        skills
            .grant_agent(t, granted.id, alpha.id, 1, "admin")
            .await
            .expect("granting twice");
        assert_eq!(
            slugs(store.as_ref(), t, Some(&alpha), "bob").await,
            ["granted", "open"]
        );
        assert_eq!(slugs(store.as_ref(), t, Some(&beta), "bob").await, ["open"]);
        skills
            .grant_user(t, granted.id, "carol", "admin")
            .await
            .expect("user grant");
        skills
            .grant_user(t, granted.id, "carol", "admin")
            .await
            .expect("twice");
        assert_eq!(
            slugs(store.as_ref(), t, Some(&beta), "carol").await,
            ["granted", "open"]
        );
        let users = skills
            .user_grants(t, granted.id)
            .await
            .expect("user grants");
        assert_eq!(users.len(), 1);
        assert_eq!(users[0].user_id, "carol");

        // Granting a private skill opens it as internal; revoking the last agent grant closes it.
        skills
            .grant_agent(t, mine.id, beta.id, 1, "admin")
            .await
            .expect("grant private");
        assert_eq!(
            skills.get(t, mine.id).await.expect("mine").visibility,
            "internal"
        );
        let grants = skills.agent_grants(t, mine.id).await.expect("grants");
        assert_eq!((grants.len(), grants[0].agent_id), (1, beta.id));
        assert!(
            skills
                .revoke_agent(t, mine.id, beta.id)
                .await
                .expect("revoke")
        );
        assert!(
            !skills
                .revoke_agent(t, mine.id, beta.id)
                .await
                .expect("revoke again")
        );
        assert_eq!(
            skills.get(t, mine.id).await.expect("mine").visibility,
            "private"
        );
        assert!(
            skills
                .revoke_user(t, granted.id, "carol")
                .await
                .expect("revoke user")
        );

        // A disabled skill is nobody's to use.
        let open = skills.get_by_slug(t, "open").await.expect("open");
        let patch = SkillPatch {
            enabled: Some(false),
            ..SkillPatch::default()
        };
        skills.update(t, open.id, patch).await.expect("disable");
        assert_eq!(
            slugs(store.as_ref(), t, Some(&alpha), "bob").await,
            ["granted"]
        );

        // Archiving drops the grants.
        skills.archive(t, granted.id).await.expect("archive");
        assert!(
            skills
                .agent_grants(t, granted.id)
                .await
                .expect("grants")
                .is_empty()
        );
        let missing = skills
            .grant_agent(t, Uuid::now_v7(), alpha.id, 1, "admin")
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound(_))));
    }
);

database_test!(
    tenants_never_see_each_others_skills,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let skills = store.skills();
        let (t, other) = (MASTER_TENANT_ID, other_tenant());
        let other_agent = agent(store.as_ref(), other, "alpha").await;
        let (skill, _) = skills
            .put_version(version(t, "shared", 1, "public"))
            .await
            .expect("skill");
        let (theirs, new) = skills
            .put_version(version(other, "shared", 1, "public"))
            .await
            .expect("same slug");
        assert!(new, "slugs are unique per tenant");
        assert_ne!(theirs.id, skill.id);
        assert!(matches!(
            skills.get(other, skill.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(skills.list(other).await.expect("list").len(), 1);
        assert_eq!(
            slugs(store.as_ref(), other, Some(&other_agent), "alice").await,
            ["shared"]
        );
        let foreign = skills
            .grant_agent(t, skill.id, other_agent.id, 1, "admin")
            .await;
        assert!(
            matches!(foreign, Err(StoreError::NotFound(_))),
            "another tenant's agent"
        );
        let foreign = skills.grant_user(other, skill.id, "bob", "admin").await;
        assert!(matches!(foreign, Err(StoreError::NotFound(_))));
        assert!(matches!(
            skills.archive(other, skill.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            skills.update(other, skill.id, SkillPatch::default()).await,
            Err(StoreError::NotFound(_))
        ));
    }
);
