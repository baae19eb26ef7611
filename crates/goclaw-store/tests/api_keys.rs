//! API keys on both engines: creation, lookup by hash whatever the key's state, listing by
//! tenant, revocation and last use.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use goclaw_core::{
    ApiKeyId, ApiKeyScope, MASTER_TENANT_ID, NewApiKey, Store, StoreError, TenantId,
};
use goclaw_store::store_test;

fn new_key(name: &str, hash: &str, tenant: Option<TenantId>) -> NewApiKey {
    NewApiKey {
        tenant_id: tenant,
        name: name.to_owned(),
        prefix: hash[..8].to_owned(),
        key_hash: hash.to_owned(),
        scopes: vec![ApiKeyScope::Read, ApiKeyScope::Write],
        owner_id: None,
        expires_at: None,
        created_by: "system".to_owned(),
    }
}

fn at(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().expect("valid time")
}

const HASH_A: &str = "aaaaaaaa00000000000000000000000000000000000000000000000000000000";
const HASH_B: &str = "bbbbbbbb00000000000000000000000000000000000000000000000000000000";
const HASH_C: &str = "cccccccc00000000000000000000000000000000000000000000000000000000";

store_test!(keys_are_created_and_found_by_hash, |store: Arc<
    dyn Store,
>| async move {
    let keys = store.api_keys();
    let mut new = new_key("monitoring", HASH_A, Some(MASTER_TENANT_ID));
    new.owner_id = Some("alice".to_owned());
    new.expires_at = Some(at(4_102_444_800));
    let created = keys.create(new).await.expect("create");
    assert_eq!(created.name, "monitoring");
    assert_eq!(created.prefix, "aaaaaaaa");
    assert_eq!(created.tenant_id, Some(MASTER_TENANT_ID));
    assert_eq!(created.scopes, vec![ApiKeyScope::Read, ApiKeyScope::Write]);
    assert_eq!(created.owner_id.as_deref(), Some("alice"));
    assert_eq!(created.expires_at, Some(at(4_102_444_800)));
    assert_eq!(created.created_by, "system");
    assert!(!created.revoked && created.last_used_at.is_none());

    let found = keys.find_by_hash(HASH_A).await.expect("find");
    assert_eq!(found.as_ref(), Some(&created));
    assert_eq!(keys.get(created.id).await.expect("get"), created);
    assert_eq!(keys.find_by_hash(HASH_B).await.expect("find"), None);
    let missing = keys.get(ApiKeyId::generate()).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("api key"))),
        "{missing:?}"
    );
});

store_test!(
    duplicate_hash_conflicts,
    |store: Arc<dyn Store>| async move {
        let keys = store.api_keys();
        keys.create(new_key("one", HASH_A, None))
            .await
            .expect("first");
        let second = keys.create(new_key("two", HASH_A, None)).await;
        assert!(matches!(second, Err(StoreError::Conflict(_))), "{second:?}");
    }
);

store_test!(keys_of_an_unknown_tenant_are_refused, |store: Arc<
    dyn Store,
>| async move {
    let result = store
        .api_keys()
        .create(new_key("x", HASH_A, Some(TenantId::generate())))
        .await;
    assert!(
        matches!(result, Err(StoreError::NotFound("tenant"))),
        "{result:?}"
    );
});

store_test!(
    listing_filters_by_tenant,
    |store: Arc<dyn Store>| async move {
        let keys = store.api_keys();
        let system = keys
            .create(new_key("system", HASH_A, None))
            .await
            .expect("a");
        let first = keys
            .create(new_key("first", HASH_B, Some(MASTER_TENANT_ID)))
            .await
            .expect("b");
        let second = keys
            .create(new_key("second", HASH_C, Some(MASTER_TENANT_ID)))
            .await
            .expect("c");
        let names =
            |list: Vec<goclaw_core::ApiKey>| list.into_iter().map(|k| k.name).collect::<Vec<_>>();
        assert_eq!(
            names(keys.list(Some(MASTER_TENANT_ID)).await.expect("tenant")),
            vec![second.name.clone(), first.name.clone()]
        );
        assert_eq!(
            names(keys.list(None).await.expect("all")),
            vec![second.name, first.name, system.name]
        );
        assert!(
            keys.list(Some(TenantId::generate()))
                .await
                .expect("other")
                .is_empty()
        );
    }
);

store_test!(revocation_and_last_use_are_recorded, |store: Arc<
    dyn Store,
>| async move {
    let keys = store.api_keys();
    let key = keys
        .create(new_key("k", HASH_A, None))
        .await
        .expect("create");
    keys.touch(key.id, at(1_700_000_000)).await.expect("touch");
    let touched = keys.get(key.id).await.expect("get");
    assert_eq!(touched.last_used_at, Some(at(1_700_000_000)));
    assert!(touched.is_valid_at(Utc::now()));

    keys.revoke(key.id).await.expect("revoke");
    keys.revoke(key.id).await.expect("revoking again is fine");
    let revoked = keys
        .find_by_hash(HASH_A)
        .await
        .expect("find")
        .expect("still found");
    assert!(revoked.revoked);
    assert!(!revoked.is_valid_at(Utc::now()));
    let missing = keys.revoke(ApiKeyId::generate()).await;
    assert!(
        matches!(missing, Err(StoreError::NotFound("api key"))),
        "{missing:?}"
    );
});
