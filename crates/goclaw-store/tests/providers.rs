//! LLM providers on both engines: create with defaults, every field round-trips, one name per
//! tenant, partial updates, deletion, and the encrypted-column view of `SecretStore` with its
//! all-or-nothing `replace_all`.

use std::sync::Arc;

use goclaw_core::{
    LlmProviderPatch, MASTER_TENANT_ID, NewLlmProvider, ProviderName, SecretRef, Store, StoreError,
    TenantId,
};
use goclaw_store::store_test;
use serde_json::json;
use uuid::Uuid;

fn name(raw: &str) -> ProviderName {
    ProviderName::parse(raw).expect("valid provider name")
}

fn new_provider(raw: &str, key: &str) -> NewLlmProvider {
    let mut provider = NewLlmProvider::new(MASTER_TENANT_ID, name(raw));
    provider.api_key_ciphertext = key.to_owned();
    provider
}

/// The stored `(where, value)` pairs, in `list_encrypted` order.
async fn encrypted(store: &dyn Store) -> Vec<(SecretRef, String)> {
    store
        .secrets()
        .list_encrypted()
        .await
        .expect("list encrypted")
        .into_iter()
        .map(|v| (v.secret, v.value))
        .collect()
}

store_test!(
    providers_take_the_defaults,
    |store: Arc<dyn Store>| async move {
        let created = store
            .llm_providers()
            .create(NewLlmProvider::new(MASTER_TENANT_ID, name("plain")))
            .await
            .expect("create");
        assert_eq!(created.provider_type, "openai_compat");
        assert_eq!(
            (
                created.api_base.as_str(),
                created.api_key_ciphertext.as_str()
            ),
            ("", "")
        );
        assert!(created.enabled);
        assert_eq!(created.settings, json!({}));
        assert_eq!(created.tenant_id, MASTER_TENANT_ID);
    }
);

store_test!(
    provider_crud_round_trips,
    |store: Arc<dyn Store>| async move {
        let providers = store.llm_providers();
        let mut new = new_provider("openrouter-eu", "aes-gcm:one");
        new.provider_type = "openrouter".to_owned();
        new.api_base = "https://openrouter.ai/api/v1".to_owned();
        new.enabled = false;
        new.settings = json!({"reasoning": {"effort": "high"}});
        let created = providers.create(new).await.expect("create");
        assert_eq!(created.provider_type, "openrouter");
        assert_eq!(created.api_base, "https://openrouter.ai/api/v1");
        assert_eq!(created.api_key_ciphertext, "aes-gcm:one");
        assert!(!created.enabled);
        assert_eq!(created.settings, json!({"reasoning": {"effort": "high"}}));
        let fetched = providers
            .get(MASTER_TENANT_ID, &name("openrouter-eu"))
            .await
            .expect("get");
        assert_eq!(fetched, created);

        providers
            .create(new_provider("anthropic", "aes-gcm:two"))
            .await
            .expect("second");
        let listed: Vec<String> = providers
            .list(MASTER_TENANT_ID)
            .await
            .expect("list")
            .into_iter()
            .map(|p| p.name.to_string())
            .collect();
        assert_eq!(listed, ["anthropic", "openrouter-eu"]);

        let patch = LlmProviderPatch {
            api_key_ciphertext: Some("aes-gcm:three".to_owned()),
            enabled: Some(true),
            ..Default::default()
        };
        let updated = providers
            .update(MASTER_TENANT_ID, &name("openrouter-eu"), patch)
            .await
            .expect("update");
        assert_eq!(updated.api_key_ciphertext, "aes-gcm:three");
        assert!(updated.enabled);
        assert_eq!(updated.provider_type, "openrouter", "untouched fields stay");
        assert_eq!(updated.settings, json!({"reasoning": {"effort": "high"}}));
        assert!(updated.updated_at >= created.updated_at);

        let bad = LlmProviderPatch {
            settings: Some(json!([1])),
            ..Default::default()
        };
        assert!(
            providers
                .update(MASTER_TENANT_ID, &name("anthropic"), bad)
                .await
                .is_err()
        );

        providers
            .delete(MASTER_TENANT_ID, &name("openrouter-eu"))
            .await
            .expect("delete");
        assert!(matches!(
            providers
                .get(MASTER_TENANT_ID, &name("openrouter-eu"))
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            providers
                .delete(MASTER_TENANT_ID, &name("openrouter-eu"))
                .await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            providers
                .update(MASTER_TENANT_ID, &name("nope"), LlmProviderPatch::default())
                .await,
            Err(StoreError::NotFound(_))
        ));
    }
);

store_test!(provider_names_are_unique_per_tenant, |store: Arc<
    dyn Store,
>| async move {
    let providers = store.llm_providers();
    providers
        .create(new_provider("dup", ""))
        .await
        .expect("first");
    match providers.create(new_provider("dup", "")).await {
        Err(StoreError::Conflict(what)) => assert!(what.contains("dup"), "{what}"),
        other => panic!("expected a conflict, got {other:?}"),
    }
    let mut elsewhere = new_provider("dup", "");
    elsewhere.tenant_id = TenantId::generate();
    assert!(matches!(
        providers.create(elsewhere).await,
        Err(StoreError::NotFound("tenant"))
    ));
});

store_test!(encrypted_values_are_counted_and_listed, |store: Arc<
    dyn Store,
>| async move {
    assert_eq!(store.secrets().count_encrypted().await.expect("count"), 0);
    let a = store
        .llm_providers()
        .create(new_provider("a", "aes-gcm:AAAA"))
        .await
        .expect("a");
    // Empty and legacy plaintext keys are not encrypted values.
    store
        .llm_providers()
        .create(new_provider("b", ""))
        .await
        .expect("b");
    store
        .llm_providers()
        .create(new_provider("c", "sk-legacy"))
        .await
        .expect("c");
    store
        .llm_providers()
        .create(new_provider("d", "AES-GCM:upper"))
        .await
        .expect("d");
    let secrets = store.secrets();
    secrets
        .set_config_secret(MASTER_TENANT_ID, "gateway.token", "aes-gcm:first")
        .await
        .expect("set");
    secrets
        .set_config_secret(MASTER_TENANT_ID, "gateway.token", "aes-gcm:TOKEN")
        .await
        .expect("replace");
    secrets
        .set_config_secret(MASTER_TENANT_ID, "tts.openai.api_key", "plain")
        .await
        .expect("plain");
    assert_eq!(secrets.count_encrypted().await.expect("count"), 2);
    let token = SecretRef::ConfigSecret {
        tenant: MASTER_TENANT_ID,
        key: "gateway.token".to_owned(),
    };
    assert_eq!(
        encrypted(store.as_ref()).await,
        vec![
            (
                SecretRef::LlmProviderApiKey { id: a.id },
                "aes-gcm:AAAA".to_owned()
            ),
            (token, "aes-gcm:TOKEN".to_owned()),
        ]
    );
});

store_test!(
    replace_all_writes_everything,
    |store: Arc<dyn Store>| async move {
        let a = store
            .llm_providers()
            .create(new_provider("a", "aes-gcm:old-a"))
            .await
            .expect("a");
        let secrets = store.secrets();
        secrets
            .set_config_secret(MASTER_TENANT_ID, "k", "aes-gcm:old-k")
            .await
            .expect("set");
        let token = SecretRef::ConfigSecret {
            tenant: MASTER_TENANT_ID,
            key: "k".to_owned(),
        };
        let provider = SecretRef::LlmProviderApiKey { id: a.id };
        secrets
            .replace_all(vec![
                (provider.clone(), "aes-gcm:new-a".to_owned()),
                (token.clone(), "aes-gcm:new-k".to_owned()),
            ])
            .await
            .expect("replace all");
        assert_eq!(
            encrypted(store.as_ref()).await,
            vec![
                (provider, "aes-gcm:new-a".to_owned()),
                (token, "aes-gcm:new-k".to_owned()),
            ]
        );
        secrets
            .replace_all(Vec::new())
            .await
            .expect("nothing to do");
    }
);

store_test!(
    replace_all_is_all_or_nothing,
    |store: Arc<dyn Store>| async move {
        let a = store
            .llm_providers()
            .create(new_provider("a", "aes-gcm:old-a"))
            .await
            .expect("a");
        let secrets = store.secrets();
        secrets
            .set_config_secret(MASTER_TENANT_ID, "k", "aes-gcm:old-k")
            .await
            .expect("set");
        let before = encrypted(store.as_ref()).await;
        let token = SecretRef::ConfigSecret {
            tenant: MASTER_TENANT_ID,
            key: "k".to_owned(),
        };
        let missing_provider = SecretRef::LlmProviderApiKey { id: Uuid::now_v7() };
        let result = secrets
            .replace_all(vec![
                (
                    SecretRef::LlmProviderApiKey { id: a.id },
                    "aes-gcm:new-a".to_owned(),
                ),
                (token.clone(), "aes-gcm:new-k".to_owned()),
                (missing_provider, "aes-gcm:x".to_owned()),
            ])
            .await;
        assert!(
            matches!(result, Err(StoreError::NotFound("llm provider"))),
            "{result:?}"
        );
        assert_eq!(encrypted(store.as_ref()).await, before, "nothing changed");

        let missing_config = SecretRef::ConfigSecret {
            tenant: MASTER_TENANT_ID,
            key: "missing".to_owned(),
        };
        let result = secrets
            .replace_all(vec![
                (token, "aes-gcm:new-k".to_owned()),
                (missing_config, "aes-gcm:x".to_owned()),
            ])
            .await;
        assert!(
            matches!(result, Err(StoreError::NotFound("config secret"))),
            "{result:?}"
        );
        assert_eq!(encrypted(store.as_ref()).await, before, "nothing changed");
    }
);
