//! The PostgreSQL store: one pool, and one module per table family implementing the sub-store
//! traits on [`PostgresStore`]. Ids are native `UUID`s, times `TIMESTAMPTZ`, JSON `JSONB`.

mod api_keys;
mod context_files;
mod exec_approvals;
mod pool;
mod providers;
mod secrets;
mod traces;

use async_trait::async_trait;
use goclaw_core::{
    AgentStore, ContextFileStore, MessageStore, SessionStore, Store, StoreBackend, StoreError,
    TenantStore,
};
use sqlx::PgPool;

use crate::error::store_error;
use crate::tables::SqlStore;

pub(crate) use pool::{connect, server_versions};

/// The store on a PostgreSQL pool.
pub(crate) struct PostgresStore {
    pool: PgPool,
    sql: SqlStore,
}

impl PostgresStore {
    pub(crate) fn new(pool: PgPool, sql: SqlStore) -> Self {
        Self { pool, sql }
    }
}

#[async_trait]
impl Store for PostgresStore {
    fn backend(&self) -> StoreBackend {
        StoreBackend::Postgres
    }

    async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1")
            .execute(&self.pool)
            .await
            .map_err(|e| store_error(e, "database"))?;
        Ok(())
    }

    fn tenants(&self) -> &dyn TenantStore {
        &self.sql
    }

    fn agents(&self) -> &dyn AgentStore {
        &self.sql
    }

    fn sessions(&self) -> &dyn SessionStore {
        &self.sql
    }

    fn messages(&self) -> &dyn MessageStore {
        &self.sql
    }

    fn context_files(&self) -> &dyn ContextFileStore {
        self
    }

    fn llm_providers(&self) -> &dyn goclaw_core::LlmProviderStore {
        self
    }

    fn secrets(&self) -> &dyn goclaw_core::SecretStore {
        self
    }

    fn api_keys(&self) -> &dyn goclaw_core::ApiKeyStore {
        self
    }

    fn exec_approvals(&self) -> &dyn goclaw_core::ExecApprovalStore {
        self
    }

    fn traces(&self) -> &dyn goclaw_core::TraceStore {
        self
    }

    fn turns(&self) -> &dyn goclaw_core::TurnStore {
        &self.sql
    }
}
