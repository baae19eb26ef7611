//! `system_configs` on both engines: a tenant reads its own value of a key over the master
//! tenant's, lists the master's keys overlaid with its own, and setting, replacing and
//! deleting touch only the tenant's own row.

use std::collections::BTreeMap;

use goclaw_core::{MASTER_TENANT_ID, StoreError, TenantId};
use goclaw_store::database_test;
use goclaw_store::testing::TestDatabase;

const ACME: &str = "0193a5b0-7000-7000-8000-0000000000a1";
const MISSING: &str = "0193a5b0-7000-7000-8000-0000000000ff";

fn tenant(id: &str) -> TenantId {
    id.parse().expect("tenant id")
}

fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

database_test!(
    a_tenant_reads_its_own_value_over_the_masters,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(ACME, "acme").await;
        let store = db.store();
        let configs = store.system_configs();
        let acme = tenant(ACME);
        assert_eq!(
            configs.get(acme, "embedding.provider").await.expect("get"),
            None
        );
        assert!(configs.list(acme).await.expect("list").is_empty());

        configs
            .set(MASTER_TENANT_ID, "embedding.provider", "openai")
            .await
            .expect("set master");
        configs
            .set(
                MASTER_TENANT_ID,
                "embedding.model",
                "text-embedding-3-small",
            )
            .await
            .expect("set master model");
        // The master's values are every tenant's defaults.
        assert_eq!(
            configs.get(acme, "embedding.provider").await.expect("get"),
            Some("openai".to_owned())
        );

        configs
            .set(acme, "embedding.provider", "voyage")
            .await
            .expect("set acme");
        assert_eq!(
            configs.get(acme, "embedding.provider").await.expect("get"),
            Some("voyage".to_owned())
        );
        assert_eq!(
            configs
                .get(MASTER_TENANT_ID, "embedding.provider")
                .await
                .expect("get master"),
            Some("openai".to_owned()),
            "a tenant's value never changes the master's"
        );
        assert_eq!(
            configs.list(acme).await.expect("list"),
            map(&[
                ("embedding.model", "text-embedding-3-small"),
                ("embedding.provider", "voyage"),
            ])
        );
        assert_eq!(
            configs.list(MASTER_TENANT_ID).await.expect("list master"),
            map(&[
                ("embedding.model", "text-embedding-3-small"),
                ("embedding.provider", "openai"),
            ])
        );

        // Replacing keeps one row; deleting the tenant's value uncovers the master's again.
        configs
            .set(acme, "embedding.provider", "ollama")
            .await
            .expect("replace");
        assert_eq!(
            configs.get(acme, "embedding.provider").await.expect("get"),
            Some("ollama".to_owned())
        );
        assert!(
            configs
                .delete(acme, "embedding.provider")
                .await
                .expect("delete")
        );
        assert!(
            !configs
                .delete(acme, "embedding.provider")
                .await
                .expect("again"),
            "nothing left to delete"
        );
        assert_eq!(
            configs.get(acme, "embedding.provider").await.expect("get"),
            Some("openai".to_owned())
        );
        // Deleting a key the tenant does not own leaves the master's alone.
        assert!(
            !configs
                .delete(acme, "embedding.model")
                .await
                .expect("delete")
        );
        assert_eq!(
            configs
                .get(MASTER_TENANT_ID, "embedding.model")
                .await
                .expect("get"),
            Some("text-embedding-3-small".to_owned())
        );
    }
);

database_test!(
    values_of_an_unknown_tenant_are_refused,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(ACME, "acme").await;
        let store = db.store();
        let error = store
            .system_configs()
            .set(tenant(MISSING), "embedding.provider", "openai")
            .await
            .expect_err("no such tenant");
        assert!(matches!(error, StoreError::NotFound("tenant")), "{error:?}");
    }
);

database_test!(
    values_keep_any_text_exactly,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(ACME, "acme").await;
        let store = db.store();
        let configs = store.system_configs();
        for value in [
            "",
            "[\"/srv/a\", \"/srv/b\"]",
            "ünïcødé ✓",
            "line\nbreak",
            "'; DROP TABLE x; --",
        ] {
            configs
                .set(MASTER_TENANT_ID, "allowed_paths", value)
                .await
                .expect("set");
            assert_eq!(
                configs
                    .get(MASTER_TENANT_ID, "allowed_paths")
                    .await
                    .expect("get")
                    .as_deref(),
                Some(value)
            );
        }
    }
);
