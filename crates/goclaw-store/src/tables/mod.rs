//! The store: one module per table family, each implementing its `goclaw-core` trait once on
//! [`SqlStore`], for either engine, through the neutral layer of [`crate::sql`].
//!
//! A module holds its statements as `static` [`Statement`]s, maps its rows with a
//! [`crate::sql::Record`] impl, and names no engine; where the engines need a different
//! number of statements for one operation (appending a message), it matches on
//! [`crate::sql::Dialect`] once and both arms share the statements' pieces and the mapping.

mod agents;
mod api_keys;
mod context_files;
mod exec_approvals;
mod messages;
mod providers;
mod secrets;
mod sessions;
mod tenants;
mod traces;
mod turns;

use async_trait::async_trait;
use goclaw_core::{
    AgentStore, ApiKeyStore, ContextFileStore, ExecApprovalStore, LlmProviderStore, MessageStore,
    SecretStore, SessionStore, Store, StoreBackend, StoreError, TenantStore, TraceStore, TurnStore,
};

use crate::error::store_error;
use crate::sql::{Pool, Statement};

static PING: Statement = Statement::new("SELECT 1");

/// The store on either engine's pool; every sub-store is this same value.
pub(crate) struct SqlStore {
    pool: Pool,
}

impl SqlStore {
    pub(crate) fn new(pool: Pool) -> Self {
        Self { pool }
    }
}

#[async_trait]
impl Store for SqlStore {
    fn backend(&self) -> StoreBackend {
        self.pool.backend()
    }

    async fn ping(&self) -> Result<(), StoreError> {
        self.pool
            .execute(&PING, &[])
            .await
            .map_err(|e| store_error(e, "database"))?;
        Ok(())
    }

    fn tenants(&self) -> &dyn TenantStore {
        self
    }

    fn agents(&self) -> &dyn AgentStore {
        self
    }

    fn sessions(&self) -> &dyn SessionStore {
        self
    }

    fn messages(&self) -> &dyn MessageStore {
        self
    }

    fn context_files(&self) -> &dyn ContextFileStore {
        self
    }

    fn llm_providers(&self) -> &dyn LlmProviderStore {
        self
    }

    fn secrets(&self) -> &dyn SecretStore {
        self
    }

    fn api_keys(&self) -> &dyn ApiKeyStore {
        self
    }

    fn exec_approvals(&self) -> &dyn ExecApprovalStore {
        self
    }

    fn traces(&self) -> &dyn TraceStore {
        self
    }

    fn turns(&self) -> &dyn TurnStore {
        self
    }
}
