//! API-managed MCP servers on both engines: every field read back, names unique per tenant,
//! patches, agent grants with tool lists (replaced on re-grant), which servers an agent may
//! use for a user (agent grant needed, a disabled user grant or server shuts it out), users'
//! sealed credentials, deletion taking grants and credentials along, the ciphertexts listed
//! for key rotation, and tenant isolation.

use std::sync::Arc;

use goclaw_core::{
    Agent, AgentKey, MASTER_TENANT_ID, McpServerPatch, McpToolFilter, NewAgent, NewMcpServer,
    SecretRef, Store, StoreError, TenantId,
};
use goclaw_store::testing::TestDatabase;
use goclaw_store::{database_test, store_test};
use serde_json::json;
use uuid::Uuid;

const OTHER_TENANT: &str = "0193a5b0-7000-7000-8000-0000000000c1";

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

fn server(tenant: TenantId, name: &str) -> NewMcpServer {
    NewMcpServer {
        tenant_id: tenant,
        name: name.to_owned(),
        display_name: format!("{name} ✨"),
        transport: "stdio".to_owned(),
        command: "npx".to_owned(),
        args: vec!["-y".to_owned(), format!("@scope/{name}")],
        url: String::new(),
        tool_prefix: "gh".to_owned(),
        timeout_sec: 90,
        settings: json!({ "color": "blue" }),
        enabled: true,
        require_user_credentials: false,
        secrets: "aes-gcm:c2VhbGVk".to_owned(),
        created_by: "ada".to_owned(),
    }
}

fn names(access: &[goclaw_core::McpAccess]) -> Vec<&str> {
    access.iter().map(|a| a.server.name.as_str()).collect()
}

store_test!(
    servers_round_trip_and_patch,
    |store: Arc<dyn Store>| async move {
        let servers = store.mcp_servers();
        let t = MASTER_TENANT_ID;
        let created = servers.create(server(t, "github")).await.expect("create");
        assert_eq!(created.name, "github");
        assert_eq!(created.display_name, "github ✨");
        assert_eq!(created.args, ["-y", "@scope/github"]);
        assert_eq!(created.settings, json!({ "color": "blue" }));
        assert_eq!((created.timeout_sec, created.enabled), (90, true));
        assert_eq!(created.secrets, "aes-gcm:c2VhbGVk");
        assert_eq!(created.created_by, "ada");
        assert_eq!(servers.get(t, created.id).await.expect("get"), created);
        let taken = servers.create(server(t, "github")).await;
        assert!(matches!(taken, Err(StoreError::Conflict(_))), "{taken:?}");

        let patched = servers
            .update(
                t,
                created.id,
                McpServerPatch {
                    args: Some(vec![]),
                    url: Some("https://example.com/mcp".to_owned()),
                    transport: Some("streamable-http".to_owned()),
                    enabled: Some(false),
                    secrets: Some(String::new()),
                    ..McpServerPatch::default()
                },
            )
            .await
            .expect("update");
        assert!(patched.args.is_empty());
        assert_eq!(patched.transport, "streamable-http");
        assert!(!patched.enabled);
        assert!(patched.secrets.is_empty());
        assert_eq!(patched.display_name, "github ✨", "untouched fields stay");
        assert!(patched.updated_at >= created.updated_at);
        servers.create(server(t, "alpha")).await.expect("second");
        let listed: Vec<String> = servers
            .list(t)
            .await
            .expect("list")
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(listed, ["alpha", "github"]);
        let missing = servers
            .update(t, Uuid::now_v7(), McpServerPatch::default())
            .await;
        assert!(matches!(missing, Err(StoreError::NotFound(_))));
    }
);

store_test!(grants_decide_who_reaches_a_server, |store: Arc<
    dyn Store,
>| async move {
    let servers = store.mcp_servers();
    let t = MASTER_TENANT_ID;
    let alpha = agent(store.as_ref(), t, "alpha").await;
    let beta = agent(store.as_ref(), t, "beta").await;
    let github = servers.create(server(t, "github")).await.expect("github");
    let jira = servers.create(server(t, "jira")).await.expect("jira");
    assert!(
        servers
            .accessible(t, alpha.id, "ann")
            .await
            .expect("none")
            .is_empty()
    );

    let only_search = McpToolFilter {
        allow: Some(vec!["search".to_owned()]),
        deny: vec!["delete".to_owned()],
    };
    servers
        .grant_agent(t, github.id, alpha.id, &only_search, "ada")
        .await
        .expect("grant");
    servers
        .grant_agent(t, jira.id, alpha.id, &McpToolFilter::default(), "ada")
        .await
        .expect("grant");
    let access = servers
        .accessible(t, alpha.id, "ann")
        .await
        .expect("access");
    assert_eq!(names(&access), ["github", "jira"]);
    assert_eq!(access[0].tools, only_search);
    assert!(access[0].tools.admits("search") && !access[0].tools.admits("delete"));
    assert!(access[1].tools.admits("anything"));
    assert!(
        servers
            .accessible(t, beta.id, "ann")
            .await
            .expect("beta")
            .is_empty()
    );

    // A user grant that is disabled shuts that user out; an enabled one changes nothing.
    servers
        .grant_user(t, jira.id, "ann", &McpToolFilter::default(), "ada")
        .await
        .expect("user grant");
    assert_eq!(
        names(&servers.accessible(t, alpha.id, "ann").await.expect("a")),
        ["github", "jira"]
    );
    let disable = McpServerPatch {
        enabled: Some(false),
        ..McpServerPatch::default()
    };
    servers
        .update(t, github.id, disable)
        .await
        .expect("disable");
    assert_eq!(
        names(&servers.accessible(t, alpha.id, "ann").await.expect("b")),
        ["jira"]
    );

    // Re-granting replaces the tool lists; counts and listings agree.
    servers
        .grant_agent(t, github.id, alpha.id, &McpToolFilter::default(), "root")
        .await
        .expect("regrant");
    let grants = servers.server_grants(t, github.id).await.expect("grants");
    assert_eq!(grants.len(), 1);
    assert_eq!(
        (grants[0].tools.allow.clone(), grants[0].granted_by.as_str()),
        (None, "root")
    );
    assert_eq!(
        servers
            .agent_grants(t, alpha.id)
            .await
            .expect("of alpha")
            .len(),
        2
    );
    let counts = servers.grant_counts(t).await.expect("counts");
    assert_eq!(
        (counts.get(&github.id), counts.get(&jira.id)),
        (Some(&1), Some(&1))
    );

    assert!(
        servers
            .revoke_agent(t, jira.id, alpha.id)
            .await
            .expect("revoke")
    );
    assert!(
        !servers
            .revoke_agent(t, jira.id, alpha.id)
            .await
            .expect("again")
    );
    assert!(
        servers
            .revoke_user(t, jira.id, "ann")
            .await
            .expect("revoke user")
    );
    let unknown = servers
        .grant_agent(
            t,
            Uuid::now_v7(),
            alpha.id,
            &McpToolFilter::default(),
            "ada",
        )
        .await;
    assert!(matches!(unknown, Err(StoreError::NotFound(_))));
});

store_test!(
    credentials_are_kept_per_user_and_go_with_the_server,
    |store: Arc<dyn Store>| async move {
        let servers = store.mcp_servers();
        let t = MASTER_TENANT_ID;
        let alpha = agent(store.as_ref(), t, "alpha").await;
        let github = servers.create(server(t, "github")).await.expect("github");
        servers
            .grant_agent(t, github.id, alpha.id, &McpToolFilter::default(), "ada")
            .await
            .expect("grant");
        assert_eq!(
            servers
                .user_credentials(t, github.id, "ann")
                .await
                .expect("none"),
            None
        );
        servers
            .set_user_credentials(t, github.id, "ann", "aes-gcm:YW5u")
            .await
            .expect("set");
        servers
            .set_user_credentials(t, github.id, "ann", "aes-gcm:YW5uMg")
            .await
            .expect("replace");
        assert_eq!(
            servers
                .user_credentials(t, github.id, "ann")
                .await
                .expect("read")
                .as_deref(),
            Some("aes-gcm:YW5uMg")
        );
        assert_eq!(
            servers
                .user_credentials(t, github.id, "bob")
                .await
                .expect("bob"),
            None
        );

        let sealed: Vec<SecretRef> = store
            .secrets()
            .list_encrypted()
            .await
            .expect("sealed")
            .into_iter()
            .map(|v| v.secret)
            .collect();
        assert!(
            sealed.contains(&SecretRef::McpServerSecrets { id: github.id }),
            "{sealed:?}"
        );
        assert!(sealed.contains(&SecretRef::McpUserCredentials {
            server: github.id,
            user: "ann".to_owned(),
        }));
        let rotated = vec![
            (
                SecretRef::McpServerSecrets { id: github.id },
                "aes-gcm:bmV3".to_owned(),
            ),
            (
                SecretRef::McpUserCredentials {
                    server: github.id,
                    user: "ann".to_owned(),
                },
                "aes-gcm:bmV3Mg".to_owned(),
            ),
        ];
        store.secrets().replace_all(rotated).await.expect("rotate");
        assert_eq!(
            servers.get(t, github.id).await.expect("get").secrets,
            "aes-gcm:bmV3"
        );
        assert_eq!(
            servers
                .user_credentials(t, github.id, "ann")
                .await
                .expect("ann")
                .as_deref(),
            Some("aes-gcm:bmV3Mg")
        );

        servers.delete(t, github.id).await.expect("delete");
        assert!(matches!(
            servers.get(t, github.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(
            servers
                .agent_grants(t, alpha.id)
                .await
                .expect("grants")
                .is_empty()
        );
        assert_eq!(
            servers
                .user_credentials(t, github.id, "ann")
                .await
                .expect("gone"),
            None
        );
        assert!(matches!(
            servers.delete(t, github.id).await,
            Err(StoreError::NotFound(_))
        ));
    }
);

database_test!(
    tenants_never_reach_each_others_servers,
    |db: TestDatabase| async move {
        let db = db.migrated_with_tenant(OTHER_TENANT, "other").await;
        let store = db.store();
        let servers = store.mcp_servers();
        let (t, other) = (MASTER_TENANT_ID, other_tenant());
        let ours = servers.create(server(t, "github")).await.expect("ours");
        let theirs = servers
            .create(server(other, "github"))
            .await
            .expect("same name there");
        let their_agent = agent(store.as_ref(), other, "alpha").await;
        let our_agent = agent(store.as_ref(), t, "alpha").await;

        assert!(matches!(
            servers.get(other, ours.id).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(servers.list(other).await.expect("list").len(), 1);
        let patch = McpServerPatch {
            name: Some("stolen".to_owned()),
            ..McpServerPatch::default()
        };
        assert!(matches!(
            servers.update(other, ours.id, patch).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            servers.delete(other, ours.id).await,
            Err(StoreError::NotFound(_))
        ));
        // Our server to their agent, or theirs to ours: nothing is granted across tenants.
        for (tenant, server, agent) in [
            (other, ours.id, their_agent.id),
            (t, theirs.id, our_agent.id),
            (t, ours.id, their_agent.id),
        ] {
            let granted = servers
                .grant_agent(tenant, server, agent, &McpToolFilter::default(), "x")
                .await;
            assert!(
                matches!(granted, Err(StoreError::NotFound(_))),
                "{granted:?}"
            );
        }
        let credentials = servers
            .set_user_credentials(other, ours.id, "ann", "aes-gcm:eA")
            .await;
        assert!(matches!(credentials, Err(StoreError::NotFound(_))));
        let user = servers
            .grant_user(other, ours.id, "ann", &McpToolFilter::default(), "x")
            .await;
        assert!(matches!(user, Err(StoreError::NotFound(_))));
        assert!(
            servers
                .accessible(other, their_agent.id, "ann")
                .await
                .expect("none")
                .is_empty()
        );
        assert_eq!(
            servers.get(t, ours.id).await.expect("intact").name,
            "github"
        );
    }
);
