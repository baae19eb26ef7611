//! Channel instances on both engines: every field stored and read back, names unique per
//! tenant, creation inside a tenant and its live agents, tenant isolation, case-insensitive
//! search with `LIKE` metacharacters taken literally, paging and totals, the enabled instances
//! of every tenant, patches of each field, deletion, and agents' deletion detaching them.

use std::sync::Arc;
use std::time::Duration;

use goclaw_core::{
    Agent, AgentId, AgentKey, ChannelInstance, ChannelInstancePatch, ChannelInstanceQuery,
    MASTER_TENANT_ID, NewAgent, NewChannelInstance, Store, StoreError, TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use serde_json::json;
use uuid::Uuid;

const OTHER_TENANT: &str = "0193a5b0-7000-7000-8000-0000000000b0";

fn other_tenant() -> TenantId {
    OTHER_TENANT.parse().expect("tenant id")
}

fn new_instance(tenant: TenantId, name: &str) -> NewChannelInstance {
    NewChannelInstance {
        tenant_id: tenant,
        name: name.to_owned(),
        display_name: String::new(),
        channel_type: "telegram".to_owned(),
        agent_id: None,
        encrypted_credentials: None,
        credential_keys: Vec::new(),
        config: json!({}),
        enabled: true,
        created_by: "admin".to_owned(),
    }
}

/// Creates agent `key` in `tenant`.
async fn agent(store: &dyn Store, tenant: TenantId, key: &str) -> Agent {
    let key = AgentKey::parse(key).expect("agent key");
    store
        .agents()
        .create(NewAgent::new(tenant, key, "Agent"))
        .await
        .expect("agent")
}

async fn create(store: &dyn Store, instance: NewChannelInstance) -> ChannelInstance {
    store
        .channel_instances()
        .create(instance)
        .await
        .expect("create")
}

fn query(search: Option<&str>, limit: u32, offset: u32) -> ChannelInstanceQuery {
    ChannelInstanceQuery {
        search: search.map(str::to_owned),
        limit,
        offset,
    }
}

/// The names of a listing's page, and its total.
async fn listed(
    store: &dyn Store,
    tenant: TenantId,
    q: ChannelInstanceQuery,
) -> (Vec<String>, u64) {
    let (page, total) = store
        .channel_instances()
        .list(tenant, &q)
        .await
        .expect("list");
    (page.into_iter().map(|i| i.name).collect(), total)
}

fn assert_not_found<T: std::fmt::Debug>(result: Result<T, StoreError>, entity: &str) {
    assert!(
        matches!(&result, Err(StoreError::NotFound(e)) if *e == entity),
        "expected {entity} not found: {result:?}"
    );
}

/// Lets the clock move on past the stored timestamps' millisecond precision.
async fn tick() {
    tokio::time::sleep(Duration::from_millis(5)).await;
}

store_test!(every_field_is_stored_and_read_back, |store: Arc<
    dyn Store,
>| async move {
    let instances = store.channel_instances();
    let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
    let new = NewChannelInstance {
        tenant_id: MASTER_TENANT_ID,
        name: "support-bot".to_owned(),
        display_name: "Support ✨".to_owned(),
        channel_type: "discord".to_owned(),
        agent_id: Some(alpha.id),
        encrypted_credentials: Some("aes-gcm:c2VjcmV0".to_owned()),
        credential_keys: vec!["token".to_owned(), "app_id".to_owned()],
        config: json!({"dm_policy": "pairing", "allow_from": ["42"], "n": 1}),
        enabled: false,
        created_by: "root ✨".to_owned(),
    };
    let created = instances.create(new.clone()).await.expect("create");
    assert_eq!(created.tenant_id, new.tenant_id);
    assert_eq!(created.name, new.name);
    assert_eq!(created.display_name, new.display_name);
    assert_eq!(created.channel_type, new.channel_type);
    assert_eq!(created.agent_id, new.agent_id);
    assert_eq!(created.encrypted_credentials, new.encrypted_credentials);
    assert_eq!(created.credential_keys, new.credential_keys);
    assert_eq!(created.config, new.config);
    assert_eq!(created.enabled, new.enabled);
    assert_eq!(created.created_by, new.created_by);
    assert_eq!(created.created_at, created.updated_at);
    let age = chrono::Utc::now() - created.created_at;
    assert!(
        age.num_seconds().abs() < 60,
        "created at {}",
        created.created_at
    );
    let got = instances
        .get(MASTER_TENANT_ID, created.id)
        .await
        .expect("get");
    assert_eq!(got, created);

    // The bare minimum: no agent, no credentials, no keys.
    let bare = create(store.as_ref(), new_instance(MASTER_TENANT_ID, "telegram")).await;
    assert_eq!(bare.agent_id, None);
    assert_eq!(bare.encrypted_credentials, None);
    assert!(bare.credential_keys.is_empty());
    assert_eq!(bare.config, json!({}));
    assert!(bare.enabled);
    let got = instances
        .get(MASTER_TENANT_ID, bare.id)
        .await
        .expect("bare");
    assert_eq!(got, bare);
    assert_not_found(
        instances.get(MASTER_TENANT_ID, Uuid::now_v7()).await,
        "channel instance",
    );
});

database_test!(
    names_are_unique_per_tenant_and_creation_needs_a_live_agent,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let instances = store.channel_instances();
        create(store.as_ref(), new_instance(MASTER_TENANT_ID, "bot")).await;
        let again = instances
            .create(new_instance(MASTER_TENANT_ID, "bot"))
            .await;
        assert!(matches!(again, Err(StoreError::Conflict(_))), "{again:?}");
        // Names are compared as they are.
        create(store.as_ref(), new_instance(MASTER_TENANT_ID, "Bot")).await;
        // Another tenant may use the name.
        let theirs = create(store.as_ref(), new_instance(other_tenant(), "bot")).await;
        assert_eq!(theirs.tenant_id, other_tenant());

        assert_not_found(
            instances
                .create(new_instance(TenantId::generate(), "x"))
                .await,
            "tenant",
        );
        let mut ghost = new_instance(MASTER_TENANT_ID, "ghost");
        ghost.agent_id = Some(AgentId::generate());
        assert_not_found(instances.create(ghost).await, "agent");
        let gone = agent(store.as_ref(), MASTER_TENANT_ID, "gone").await;
        store
            .agents()
            .delete(MASTER_TENANT_ID, &gone.agent_key)
            .await
            .expect("delete agent");
        let mut orphan = new_instance(MASTER_TENANT_ID, "orphan");
        orphan.agent_id = Some(gone.id);
        assert_not_found(instances.create(orphan).await, "agent");
        // Another tenant's agent is not found.
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let mut borrowed = new_instance(other_tenant(), "borrowed");
        borrowed.agent_id = Some(alpha.id);
        assert_not_found(instances.create(borrowed).await, "agent");
        let (names, total) = listed(store.as_ref(), MASTER_TENANT_ID, query(None, 0, 0)).await;
        assert_eq!(
            (names, total),
            (vec!["Bot".to_owned(), "bot".to_owned()], 2)
        );
    }
);

database_test!(
    tenants_see_only_their_own_instances,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let instances = store.channel_instances();
        let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
        let theirs_agent = agent(store.as_ref(), other_tenant(), "beta").await;
        let mut mine = new_instance(MASTER_TENANT_ID, "mine");
        mine.agent_id = Some(alpha.id);
        let mine = create(store.as_ref(), mine).await;
        let theirs = create(store.as_ref(), new_instance(other_tenant(), "theirs")).await;

        let other = other_tenant();
        assert_not_found(instances.get(other, mine.id).await, "channel instance");
        let patch = ChannelInstancePatch {
            display_name: Some("stolen".to_owned()),
            ..ChannelInstancePatch::default()
        };
        assert_not_found(
            instances.update(other, mine.id, patch.clone()).await,
            "channel instance",
        );
        assert_not_found(instances.delete(other, mine.id).await, "channel instance");
        assert_eq!(
            instances
                .get(MASTER_TENANT_ID, mine.id)
                .await
                .expect("mine"),
            mine
        );
        let (names, total) = listed(store.as_ref(), other, query(None, 10, 0)).await;
        assert_eq!((names, total), (vec!["theirs".to_owned()], 1));
        let (names, total) = listed(store.as_ref(), MASTER_TENANT_ID, query(None, 10, 0)).await;
        assert_eq!((names, total), (vec!["mine".to_owned()], 1));

        // An instance cannot be pointed at another tenant's agent.
        let patch = ChannelInstancePatch {
            agent_id: Some(theirs_agent.id),
            ..ChannelInstancePatch::default()
        };
        assert_not_found(
            instances.update(MASTER_TENANT_ID, mine.id, patch).await,
            "agent",
        );
        let patch = ChannelInstancePatch {
            agent_id: Some(alpha.id),
            ..ChannelInstancePatch::default()
        };
        assert_not_found(instances.update(other, theirs.id, patch).await, "agent");
        assert_eq!(
            instances.get(other, theirs.id).await.expect("theirs"),
            theirs
        );
        instances
            .delete(other, theirs.id)
            .await
            .expect("own delete");
    }
);

store_test!(listing_searches_pages_and_counts, |store: Arc<
    dyn Store,
>| async move {
    for (name, display) in [
        ("telegram", "Main bot"),
        ("support_bot", "Support"),
        ("supportXbot", "Other"),
        ("sales", "50% off"),
        ("Zeta", "zeta"),
        ("back\\slash", ""),
        ("ops", "BOTS of ops"),
    ] {
        let mut instance = new_instance(MASTER_TENANT_ID, name);
        instance.display_name = display.to_owned();
        create(store.as_ref(), instance).await;
    }
    let s = store.as_ref();
    let t = MASTER_TENANT_ID;
    let names = |list: &[&str]| list.iter().map(|n| n.to_string()).collect::<Vec<_>>();

    // Everything, by name byte by byte (upper case first, `X` before `_`).
    let every = names(&[
        "Zeta",
        "back\\slash",
        "ops",
        "sales",
        "supportXbot",
        "support_bot",
        "telegram",
    ]);
    assert_eq!(listed(s, t, query(None, 100, 0)).await, (every.clone(), 7));
    assert_eq!(listed(s, t, query(Some(""), 100, 0)).await, (every, 7));
    // Case-insensitive, on names and display names.
    assert_eq!(
        listed(s, t, query(Some("BOT"), 100, 0)).await,
        (names(&["ops", "supportXbot", "support_bot", "telegram"]), 4)
    );
    assert_eq!(
        listed(s, t, query(Some("zEtA"), 100, 0)).await,
        (names(&["Zeta"]), 1)
    );
    // `_`, `%` and `\` are literal.
    assert_eq!(
        listed(s, t, query(Some("t_b"), 100, 0)).await,
        (names(&["support_bot"]), 1)
    );
    assert_eq!(
        listed(s, t, query(Some("0%"), 100, 0)).await,
        (names(&["sales"]), 1)
    );
    assert_eq!(
        listed(s, t, query(Some("%"), 100, 0)).await,
        (names(&["sales"]), 1)
    );
    assert_eq!(
        listed(s, t, query(Some("_"), 100, 0)).await,
        (names(&["support_bot"]), 1)
    );
    assert_eq!(
        listed(s, t, query(Some("k\\s"), 100, 0)).await,
        (names(&["back\\slash"]), 1)
    );
    assert_eq!(
        listed(s, t, query(Some("nothing"), 100, 0)).await,
        (vec![], 0)
    );

    // Pages, with the total of every match.
    assert_eq!(
        listed(s, t, query(None, 2, 0)).await,
        (names(&["Zeta", "back\\slash"]), 7)
    );
    assert_eq!(
        listed(s, t, query(None, 2, 2)).await,
        (names(&["ops", "sales"]), 7)
    );
    assert_eq!(
        listed(s, t, query(None, 2, 6)).await,
        (names(&["telegram"]), 7)
    );
    assert_eq!(listed(s, t, query(None, 2, 7)).await, (vec![], 7));
    assert_eq!(
        listed(s, t, query(Some("bot"), 2, 1)).await,
        (names(&["supportXbot", "support_bot"]), 4)
    );
    // No limit asked for: a default page.
    let (page, total) = listed(s, t, query(None, 0, 0)).await;
    assert_eq!((page.len(), total), (7, 7));
});

database_test!(
    enabled_instances_of_every_tenant_are_listed,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let mut expected = Vec::new();
        for (tenant, name, enabled) in [
            (MASTER_TENANT_ID, "telegram", true),
            (MASTER_TENANT_ID, "off", false),
            (MASTER_TENANT_ID, "alerts", true),
            (other_tenant(), "b-bot", true),
            (other_tenant(), "a-off", false),
            (other_tenant(), "a-bot", true),
        ] {
            let mut instance = new_instance(tenant, name);
            instance.enabled = enabled;
            let created = create(store.as_ref(), instance).await;
            if enabled {
                expected.push(created);
            }
        }
        expected.sort_by(|a, b| (a.tenant_id, &a.name).cmp(&(b.tenant_id, &b.name)));
        let enabled = store
            .channel_instances()
            .list_enabled()
            .await
            .expect("enabled");
        assert_eq!(enabled, expected);
    }
);

store_test!(updates_change_each_field_they_name, |store: Arc<
    dyn Store,
>| async move {
    let instances = store.channel_instances();
    let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
    let beta = agent(store.as_ref(), MASTER_TENANT_ID, "beta").await;
    let mut new = new_instance(MASTER_TENANT_ID, "bot");
    new.agent_id = Some(alpha.id);
    new.encrypted_credentials = Some("aes-gcm:old".to_owned());
    new.credential_keys = vec!["token".to_owned()];
    let created = create(store.as_ref(), new).await;
    let t = MASTER_TENANT_ID;

    // One field at a time; the rest stays, and `updated_at` moves.
    let mut expected = created.clone();
    let patches = [
        ChannelInstancePatch {
            display_name: Some("Renamed ✨".to_owned()),
            ..ChannelInstancePatch::default()
        },
        ChannelInstancePatch {
            agent_id: Some(beta.id),
            ..ChannelInstancePatch::default()
        },
        ChannelInstancePatch {
            credentials: Some((
                Some("aes-gcm:new".to_owned()),
                vec!["token".to_owned(), "secret".to_owned()],
            )),
            ..ChannelInstancePatch::default()
        },
        ChannelInstancePatch {
            config: Some(json!({"dm_policy": "open", "groups": {"g": 1}})),
            ..ChannelInstancePatch::default()
        },
        ChannelInstancePatch {
            enabled: Some(false),
            ..ChannelInstancePatch::default()
        },
        // Credentials cleared altogether.
        ChannelInstancePatch {
            credentials: Some((None, Vec::new())),
            ..ChannelInstancePatch::default()
        },
    ];
    for patch in patches {
        tick().await;
        if let Some(name) = &patch.display_name {
            expected.display_name = name.clone();
        }
        if let Some(agent) = patch.agent_id {
            expected.agent_id = Some(agent);
        }
        if let Some((encrypted, keys)) = &patch.credentials {
            expected.encrypted_credentials = encrypted.clone();
            expected.credential_keys = keys.clone();
        }
        if let Some(config) = &patch.config {
            expected.config = config.clone();
        }
        if let Some(enabled) = patch.enabled {
            expected.enabled = enabled;
        }
        let before = expected.updated_at;
        let updated = instances
            .update(t, created.id, patch.clone())
            .await
            .expect("update");
        assert!(updated.updated_at > before, "{patch:?}");
        expected.updated_at = updated.updated_at;
        assert_eq!(updated, expected, "{patch:?}");
        assert_eq!(instances.get(t, created.id).await.expect("get"), expected);
    }
    assert_eq!(
        (expected.name.as_str(), expected.channel_type.as_str()),
        ("bot", "telegram")
    );
    assert_eq!(expected.created_at, created.created_at);

    // An empty patch changes nothing but the time.
    tick().await;
    let same = instances
        .update(t, created.id, ChannelInstancePatch::default())
        .await
        .expect("empty patch");
    assert_eq!(
        ChannelInstance {
            updated_at: expected.updated_at,
            ..same
        },
        expected
    );

    // A deleted or unknown agent is refused, and so is an unknown instance.
    store
        .agents()
        .delete(t, &alpha.agent_key)
        .await
        .expect("delete agent");
    let patch = ChannelInstancePatch {
        agent_id: Some(alpha.id),
        ..ChannelInstancePatch::default()
    };
    assert_not_found(instances.update(t, created.id, patch).await, "agent");
    let patch = ChannelInstancePatch {
        agent_id: Some(AgentId::generate()),
        ..ChannelInstancePatch::default()
    };
    assert_not_found(instances.update(t, created.id, patch).await, "agent");
    assert_not_found(
        instances
            .update(t, Uuid::now_v7(), ChannelInstancePatch::default())
            .await,
        "channel instance",
    );
});

store_test!(
    instances_are_deleted_once,
    |store: Arc<dyn Store>| async move {
        let instances = store.channel_instances();
        let bot = create(store.as_ref(), new_instance(MASTER_TENANT_ID, "bot")).await;
        let kept = create(store.as_ref(), new_instance(MASTER_TENANT_ID, "kept")).await;
        instances
            .delete(MASTER_TENANT_ID, bot.id)
            .await
            .expect("delete");
        assert_not_found(
            instances.get(MASTER_TENANT_ID, bot.id).await,
            "channel instance",
        );
        assert_not_found(
            instances.delete(MASTER_TENANT_ID, bot.id).await,
            "channel instance",
        );
        assert_eq!(
            instances
                .get(MASTER_TENANT_ID, kept.id)
                .await
                .expect("kept"),
            kept
        );
        // The name is free again.
        create(store.as_ref(), new_instance(MASTER_TENANT_ID, "bot")).await;
    }
);

store_test!(deleting_an_agent_detaches_its_instances, |store: Arc<
    dyn Store,
>| async move {
    let instances = store.channel_instances();
    let alpha = agent(store.as_ref(), MASTER_TENANT_ID, "alpha").await;
    let beta = agent(store.as_ref(), MASTER_TENANT_ID, "beta").await;
    let mut first = new_instance(MASTER_TENANT_ID, "first");
    first.agent_id = Some(alpha.id);
    let first = create(store.as_ref(), first).await;
    let mut second = new_instance(MASTER_TENANT_ID, "second");
    second.agent_id = Some(alpha.id);
    let second = create(store.as_ref(), second).await;
    let mut other = new_instance(MASTER_TENANT_ID, "other");
    other.agent_id = Some(beta.id);
    let other = create(store.as_ref(), other).await;

    tick().await;
    store
        .agents()
        .delete(MASTER_TENANT_ID, &alpha.agent_key)
        .await
        .expect("delete agent");
    for before in [first, second] {
        let after = instances
            .get(MASTER_TENANT_ID, before.id)
            .await
            .expect("detached");
        assert_eq!(after.agent_id, None);
        assert!(after.updated_at > before.updated_at);
        assert_eq!(
            ChannelInstance {
                agent_id: None,
                updated_at: after.updated_at,
                ..before
            },
            after
        );
    }
    assert_eq!(
        instances
            .get(MASTER_TENANT_ID, other.id)
            .await
            .expect("other"),
        other
    );
});
