//! Hooks on both engines: an `http` hook's sealed header values are stored in `secrets` as
//! given, read back, kept by a toggle and replaced by an update; the ciphertexts are listed
//! for key rotation, rotated in place, and leave the list with their hook.

use std::sync::Arc;

use chrono::Utc;
use goclaw_core::{
    Decision, HandlerType, Hook, HookEvent, HookScope, MASTER_TENANT_ID, SecretRef, Store,
};
use goclaw_store::store_test;
use serde_json::json;
use uuid::Uuid;

fn http_hook(secrets: &str) -> Hook {
    let now = Utc::now();
    Hook {
        id: Uuid::nil(),
        tenant_id: MASTER_TENANT_ID,
        agent_ids: Vec::new(),
        event: HookEvent::PreToolUse,
        handler_type: HandlerType::Http,
        scope: HookScope::Tenant,
        name: "audit".to_owned(),
        config: json!({ "url": "https://hooks.example.com/a", "headers": { "Authorization": "***" } }),
        secrets: secrets.to_owned(),
        matcher: String::new(),
        if_expr: String::new(),
        timeout_ms: 2000,
        on_timeout: Decision::Allow,
        priority: 0,
        enabled: true,
        version: 1,
        source: "ui".to_owned(),
        metadata: json!({}),
        created_by: "ada".to_owned(),
        created_at: now,
        updated_at: now,
    }
}

async fn sealed(store: &dyn Store) -> Vec<(SecretRef, String)> {
    store
        .secrets()
        .list_encrypted()
        .await
        .expect("list the ciphertexts")
        .into_iter()
        .filter(|v| v.secret.table() == "hooks")
        .map(|v| (v.secret, v.value))
        .collect()
}

store_test!(hook_secrets_are_stored_listed_and_rotated, |store: Arc<
    dyn Store,
>| async move {
    let hooks = store.hooks();
    let t = MASTER_TENANT_ID;
    let plain = hooks
        .create(&http_hook(""))
        .await
        .expect("a hook without headers");
    let hook = hooks
        .create(&http_hook("aes-gcm:c2VhbGVk"))
        .await
        .expect("a hook with headers");
    assert_eq!(plain.secrets, "");
    assert_eq!(hook.secrets, "aes-gcm:c2VhbGVk");
    assert_eq!(
        hooks.get(t, hook.id).await.expect("get").secrets,
        hook.secrets
    );

    let before = store.secrets().count_encrypted().await.expect("count");
    assert_eq!(
        sealed(store.as_ref()).await,
        vec![(
            SecretRef::HookSecrets { id: hook.id },
            "aes-gcm:c2VhbGVk".to_owned()
        )],
        "only the sealed hook is listed"
    );

    let toggled = hooks.set_enabled(t, hook.id, false).await.expect("toggle");
    assert_eq!(toggled.secrets, "aes-gcm:c2VhbGVk", "a toggle keeps them");
    let mut changed = toggled.clone();
    changed.secrets = "aes-gcm:bmV3".to_owned();
    let updated = hooks.update(t, &changed).await.expect("update");
    assert_eq!(updated.secrets, "aes-gcm:bmV3");

    store
        .secrets()
        .replace_all(vec![(
            SecretRef::HookSecrets { id: hook.id },
            "aes-gcm:cm90YXRlZA".to_owned(),
        )])
        .await
        .expect("rotate");
    assert_eq!(
        hooks.get(t, hook.id).await.expect("get").secrets,
        "aes-gcm:cm90YXRlZA"
    );
    let missing = store
        .secrets()
        .replace_all(vec![(
            SecretRef::HookSecrets { id: Uuid::now_v7() },
            "aes-gcm:eA".to_owned(),
        )])
        .await;
    assert!(missing.is_err(), "a missing hook fails the rotation");

    hooks.delete(t, hook.id).await.expect("delete");
    assert_eq!(sealed(store.as_ref()).await, Vec::new());
    assert_eq!(
        store.secrets().count_encrypted().await.expect("count"),
        before - 1
    );
});
