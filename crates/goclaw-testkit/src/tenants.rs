//! Another tenant beside the master one, for isolation tests: its row, one agent, and an API
//! key bound to one of its users, written straight to the store (the gateway has no route that
//! creates tenants).

use goclaw_core::{AgentId, AgentKey, ApiKeyScope, NewAgent, NewApiKey, TenantId};
use sha2::{Digest, Sha256};

use crate::TestApp;

/// A tenant made by [`TestApp::other_tenant`].
#[derive(Debug, Clone)]
pub struct OtherTenant {
    pub id: TenantId,
    /// Its agent's id; the agent's key is the one asked for.
    pub agent: AgentId,
    /// The plaintext API key of its user.
    pub key: String,
}

impl TestApp {
    /// Creates tenant `slug` with agent `agent` and an API key with `scopes` bound to `user`
    /// of that tenant; panics when any of it cannot be stored.
    pub async fn other_tenant(
        &self,
        slug: &str,
        agent: &str,
        user: &str,
        scopes: &[ApiKeyScope],
    ) -> OtherTenant {
        let id = TenantId::generate();
        self.db.add_tenant(&id.to_string(), slug).await;
        let store = self.db.store();
        let agent = store
            .agents()
            .create(NewAgent::new(
                id,
                AgentKey::parse(agent).expect("a valid agent key"),
                agent,
            ))
            .await
            .expect("the other tenant's agent")
            .id;
        let random = hex::encode(Sha256::digest(format!("{id}/{user}").as_bytes()));
        let key = format!("goclaw_{}", &random[..32]);
        store
            .api_keys()
            .create(NewApiKey {
                tenant_id: Some(id),
                name: format!("{slug}-{user}"),
                prefix: random[..8].to_owned(),
                key_hash: hex::encode(Sha256::digest(key.as_bytes())),
                scopes: scopes.to_vec(),
                owner_id: Some(user.to_owned()),
                expires_at: None,
                created_by: "test".into(),
            })
            .await
            .expect("the other tenant's key");
        OtherTenant { id, agent, key }
    }
}
