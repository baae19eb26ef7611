//! `channel_instances`: a tenant's bots on the chat platforms. An instance is written by
//! selecting its tenant and (when it names one) a live agent of that tenant, locked on
//! PostgreSQL against a concurrent delete, so none points across tenants or at a deleted agent;
//! the name is unique in its tenant (`Conflict` otherwise). A tenant-scoped read or write of
//! another tenant's instance finds nothing. Deleting an agent (a soft delete) clears it from
//! its instances in the same transaction (`detach_agent`, called by `tables/agents.rs`).
//!
//! Listing searches names and display names case-insensitively with `LIKE … ESCAPE '\'` on the
//! lower-cased text, the search's own `%`, `_` and `\` taken literally (SQLite's `lower` folds
//! ASCII letters only), and orders by name byte by byte on both engines.

use async_trait::async_trait;
use goclaw_core::{
    AgentId, ChannelInstance, ChannelInstancePatch, ChannelInstanceQuery, ChannelInstanceStore,
    NewChannelInstance, StoreError, TenantId,
};
use uuid::Uuid;

use super::{SqlStore, agent_owned};
use crate::error::store_error;
use crate::sql::{Record, Row, Statement, Tx};

const INSTANCE: &str = "channel instance";

/// The page size of a listing that asks for none (`limit` 0).
const DEFAULT_LIMIT: u32 = 50;

const COLUMNS: &str = "id, tenant_id, name, display_name, channel_type, agent_id, \
                       encrypted_credentials, credential_keys, config, enabled, created_by, \
                       created_at, updated_at";
/// Names or display names matching a pattern; parameters: the pattern twice.
const SEARCH: &str = "(lower(name) LIKE ? ESCAPE '\\' OR lower(display_name) LIKE ? ESCAPE '\\')";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO channel_instances (id, tenant_id, name, display_name, channel_type, agent_id, \
     encrypted_credentials, credential_keys, config, enabled, created_by, created_at, \
     updated_at) \
     SELECT ?, t.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, {now} FROM tenants t \
     WHERE t.id = ? AND (? IS NULL OR EXISTS (SELECT 1 FROM agents a \
     WHERE a.id = ? AND a.tenant_id = t.id AND a.deleted_at IS NULL)) \
     RETURNING ",
    COLUMNS,
]);
/// Holds a live agent until the instance naming it is committed: its deletion (an update of
/// the row) waits, so it cannot miss the instance when it clears the agent from them.
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM channel_instances WHERE id = ? AND tenant_id = ?",
]);
static COUNT: Statement = Statement::joined(&[
    "SELECT COUNT(*) AS total FROM channel_instances WHERE tenant_id = ? AND ",
    SEARCH,
]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM channel_instances WHERE tenant_id = ? AND ",
    SEARCH,
    " ORDER BY name {bytewise}, id LIMIT ? OFFSET ?",
]);
static LIST_ENABLED: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM channel_instances WHERE enabled ORDER BY tenant_id, name {bytewise}, id",
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE channel_instances SET display_name = COALESCE(?, display_name), \
     agent_id = COALESCE(?, agent_id), \
     encrypted_credentials = CASE WHEN ? THEN ? ELSE encrypted_credentials END, \
     credential_keys = CASE WHEN ? THEN ? ELSE credential_keys END, \
     config = COALESCE(?, config), enabled = COALESCE(?, enabled), updated_at = {now} \
     WHERE id = ? AND tenant_id = ? AND (? IS NULL OR EXISTS (SELECT 1 FROM agents a \
     WHERE a.id = ? AND a.tenant_id = channel_instances.tenant_id AND a.deleted_at IS NULL)) \
     RETURNING ",
    COLUMNS,
]);
static DELETE: Statement =
    Statement::new("DELETE FROM channel_instances WHERE id = ? AND tenant_id = ?");
static DETACH_AGENT: Statement = Statement::new(
    "UPDATE channel_instances SET agent_id = NULL, updated_at = {now} \
     WHERE tenant_id = ? AND agent_id = ?",
);

impl Record for ChannelInstance {
    const TABLE: &'static str = "channel_instances";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(ChannelInstance {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            name: row.text("name")?,
            display_name: row.text("display_name")?,
            channel_type: row.text("channel_type")?,
            agent_id: row.opt_id("agent_id")?,
            encrypted_credentials: row.opt_text("encrypted_credentials")?,
            credential_keys: row.text_list("credential_keys")?,
            config: row.json("config")?,
            enabled: row.bool("enabled")?,
            created_by: row.text("created_by")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

/// A `LIKE … ESCAPE '\'` pattern matching text that contains `search`, lower-cased, its own
/// `%`, `_` and `\` taken literally; no search matches everything.
fn contains_pattern(search: Option<&str>) -> String {
    let mut pattern = String::from("%");
    for c in search.unwrap_or_default().to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    if pattern.len() > 1 {
        pattern.push('%');
    }
    pattern
}

#[async_trait]
impl ChannelInstanceStore for SqlStore {
    async fn create(&self, instance: NewChannelInstance) -> Result<ChannelInstance, StoreError> {
        let keys: Vec<&str> = instance
            .credential_keys
            .iter()
            .map(String::as_str)
            .collect();
        let params = [
            Uuid::now_v7().into(),
            (&instance.name).into(),
            (&instance.display_name).into(),
            (&instance.channel_type).into(),
            instance.agent_id.into(),
            (&instance.encrypted_credentials).into(),
            keys.as_slice().into(),
            (&instance.config).into(),
            instance.enabled.into(),
            (&instance.created_by).into(),
            instance.tenant_id.into(),
            instance.agent_id.into(),
            instance.agent_id.into(),
        ];
        let owner = (instance.tenant_id, instance.agent_id);
        agent_owned::insert(&self.pool, &CREATE, &params, owner, INSTANCE).await
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<ChannelInstance, StoreError> {
        self.pool
            .fetch_one(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, INSTANCE))?
            .decode()
    }

    async fn list(
        &self,
        tenant: TenantId,
        query: &ChannelInstanceQuery,
    ) -> Result<(Vec<ChannelInstance>, u64), StoreError> {
        let db_error = |e| store_error(e, INSTANCE);
        let pattern = contains_pattern(query.search.as_deref());
        let total = self
            .pool
            .fetch_one(
                &COUNT,
                &[
                    tenant.into(),
                    pattern.as_str().into(),
                    pattern.as_str().into(),
                ],
            )
            .await
            .map_err(db_error)?
            .read(ChannelInstance::TABLE)
            .int("total")?;
        let limit = match query.limit {
            0 => DEFAULT_LIMIT,
            limit => limit,
        };
        let params = [
            tenant.into(),
            pattern.as_str().into(),
            pattern.as_str().into(),
            i64::from(limit).into(),
            i64::from(query.offset).into(),
        ];
        let instances = self
            .pool
            .fetch_all(&LIST, &params)
            .await
            .map_err(db_error)?
            .decode()?;
        Ok((instances, u64::try_from(total).unwrap_or_default()))
    }

    async fn list_enabled(&self) -> Result<Vec<ChannelInstance>, StoreError> {
        self.pool
            .fetch_all(&LIST_ENABLED, &[])
            .await
            .map_err(|e| store_error(e, INSTANCE))?
            .decode()
    }

    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: ChannelInstancePatch,
    ) -> Result<ChannelInstance, StoreError> {
        let (replace_credentials, encrypted, keys) = match &patch.credentials {
            Some((encrypted, keys)) => (true, encrypted.as_deref(), keys.as_slice()),
            None => (false, None, &[][..]),
        };
        let keys: Vec<&str> = keys.iter().map(String::as_str).collect();
        let params = [
            patch.display_name.as_deref().into(),
            patch.agent_id.into(),
            replace_credentials.into(),
            encrypted.into(),
            replace_credentials.into(),
            keys.as_slice().into(),
            patch.config.as_ref().into(),
            patch.enabled.into(),
            id.into(),
            tenant.into(),
            patch.agent_id.into(),
            patch.agent_id.into(),
        ];
        let db_error = |e| store_error(e, INSTANCE);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        agent_owned::lock_agent(&mut tx, tenant, patch.agent_id).await?;
        if let Some(row) = tx
            .fetch_optional(&UPDATE, &params)
            .await
            .map_err(db_error)?
        {
            tx.commit().await.map_err(db_error)?;
            return row.decode();
        }
        // Nothing was updated: the instance or the live agent is missing.
        let instance = tx
            .fetch_optional(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(db_error)?;
        Err(StoreError::NotFound(match instance {
            None => INSTANCE,
            Some(_) => "agent",
        }))
    }

    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, INSTANCE))?;
        if deleted == 0 {
            return Err(StoreError::NotFound(INSTANCE));
        }
        Ok(())
    }
}

/// Clears a deleted agent from the tenant's channel instances, in the transaction that
/// deletes it.
pub(super) async fn detach_agent(
    tx: &mut Tx,
    tenant: TenantId,
    agent: AgentId,
) -> Result<(), StoreError> {
    tx.execute(&DETACH_AGENT, &[tenant.into(), agent.into()])
        .await
        .map_err(|e| store_error(e, INSTANCE))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::contains_pattern;

    #[test]
    fn patterns_take_like_metacharacters_literally() {
        assert_eq!(contains_pattern(None), "%");
        assert_eq!(contains_pattern(Some("")), "%");
        assert_eq!(contains_pattern(Some("Bot")), "%bot%");
        assert_eq!(contains_pattern(Some("50%_a\\b")), "%50\\%\\_a\\\\b%");
    }
}
