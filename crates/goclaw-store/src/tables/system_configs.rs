//! `system_configs`: a tenant's own values, with the master tenant's as defaults. Reads take
//! both tenants' rows in one statement and let the tenant's own value win.

use std::collections::BTreeMap;

use async_trait::async_trait;
use goclaw_core::{MASTER_TENANT_ID, StoreError, SystemConfigStore, TenantId};

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::Statement;

/// The tenant's row sorts before the master's, so the first row of a key is the one that wins.
static GET: Statement = Statement::new(
    "SELECT value FROM system_configs WHERE key = ? AND tenant_id IN (?, ?) \
     ORDER BY CASE WHEN tenant_id = ? THEN 0 ELSE 1 END LIMIT 1",
);
static LIST: Statement = Statement::new(
    "SELECT key, value FROM system_configs WHERE tenant_id IN (?, ?) \
     ORDER BY key {bytewise}, CASE WHEN tenant_id = ? THEN 0 ELSE 1 END",
);
static SET: Statement = Statement::new(
    "INSERT INTO system_configs (tenant_id, key, value, updated_at) VALUES (?, ?, ?, {now}) \
     ON CONFLICT (tenant_id, key) DO UPDATE SET value = excluded.value, \
     updated_at = excluded.updated_at",
);
static DELETE: Statement =
    Statement::new("DELETE FROM system_configs WHERE tenant_id = ? AND key = ?");

#[async_trait]
impl SystemConfigStore for SqlStore {
    async fn get(&self, tenant: TenantId, key: &str) -> Result<Option<String>, StoreError> {
        let params = [
            key.into(),
            tenant.into(),
            MASTER_TENANT_ID.into(),
            tenant.into(),
        ];
        let row = self
            .pool
            .fetch_optional(&GET, &params)
            .await
            .map_err(|e| store_error(e, "system config"))?;
        row.map(|row| row.read("system_configs").text("value"))
            .transpose()
    }

    async fn list(&self, tenant: TenantId) -> Result<BTreeMap<String, String>, StoreError> {
        let params = [tenant.into(), MASTER_TENANT_ID.into(), tenant.into()];
        let rows = self
            .pool
            .fetch_all(&LIST, &params)
            .await
            .map_err(|e| store_error(e, "system config"))?
            .map("system_configs", |row| {
                Ok((row.text("key")?, row.text("value")?))
            })?;
        let mut configs = BTreeMap::new();
        for (key, value) in rows {
            // The first row of a key is the tenant's own when it has one.
            configs.entry(key).or_insert(value);
        }
        Ok(configs)
    }

    async fn set(&self, tenant: TenantId, key: &str, value: &str) -> Result<(), StoreError> {
        self.pool
            .execute(&SET, &[tenant.into(), key.into(), value.into()])
            .await
            .map_err(|e| store_error_with_parent(e, "system config", "tenant"))?;
        Ok(())
    }

    async fn delete(&self, tenant: TenantId, key: &str) -> Result<bool, StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE, &[tenant.into(), key.into()])
            .await
            .map_err(|e| store_error(e, "system config"))?;
        Ok(deleted > 0)
    }
}
