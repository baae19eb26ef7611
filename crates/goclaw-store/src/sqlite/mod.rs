//! The SQLite store: one pool, and one module per table family implementing the sub-store
//! traits on [`SqliteStore`].
//!
//! SQLite has no UUID, timestamp or boolean types, so ids are hyphenated UUID text, times are
//! ISO-8601 UTC text written by SQLite itself (`strftime('%Y-%m-%dT%H:%M:%fZ','now')`, which
//! sorts chronologically as text), booleans are 0/1 and JSON is text.

mod api_keys;
mod context_files;
mod exec_approvals;
mod pool;
mod providers;
mod secrets;
mod traces;

use std::str::FromStr;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    AgentStore, ContextFileStore, MessageStore, SessionStore, Store, StoreBackend, StoreError,
    TenantStore,
};
use sqlx::SqlitePool;

use crate::error::{corrupt, store_error};
use crate::tables::SqlStore;

pub(crate) use pool::{connect, server_versions};

/// SQL expression for "now" in the stored text format.
const NOW: &str = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";

/// The store on a SQLite pool.
pub(crate) struct SqliteStore {
    pool: SqlitePool,
    sql: SqlStore,
}

impl SqliteStore {
    pub(crate) fn new(pool: SqlitePool, sql: SqlStore) -> Self {
        Self { pool, sql }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> StoreBackend {
        StoreBackend::Sqlite
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

/// Parses a stored timestamp.
fn parse_time(table: &'static str, text: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| corrupt(table, format!("timestamp {text:?}: {e}")))
}

/// Parses a stored id into one of the core id newtypes.
fn parse_id<T>(table: &'static str, text: &str) -> Result<T, StoreError>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    T::from_str(text).map_err(|e| corrupt(table, e))
}

/// Parses an optional stored JSON document; SQL `NULL` is JSON `null`.
fn parse_json(table: &'static str, text: Option<&str>) -> Result<serde_json::Value, StoreError> {
    match text {
        None => Ok(serde_json::Value::Null),
        Some(text) => serde_json::from_str(text).map_err(|e| corrupt(table, e)),
    }
}

/// Serializes a JSON value for storage; JSON `null` is stored as SQL `NULL`.
fn json_text(value: &serde_json::Value) -> Option<String> {
    (!value.is_null()).then(|| value.to_string())
}
