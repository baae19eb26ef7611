//! `mcp_servers`, `mcp_agent_grants`, `mcp_user_grants` and `mcp_user_credentials`: the MCP
//! servers a tenant manages through the API, who they are granted to, and users' own
//! credentials. Every statement names its tenant; grants select their server and agent in that
//! tenant, so nothing is granted across tenants.

use std::collections::BTreeMap;

use async_trait::async_trait;
use goclaw_core::{
    AgentId, McpAccess, McpAgentGrant, McpServer, McpServerPatch, McpServerStore, McpToolFilter,
    NewMcpServer, StoreError, TenantId,
};
use serde_json::Value;
use uuid::Uuid;

use super::SqlStore;
use crate::error::{store_error, store_error_with_parent};
use crate::sql::{Param, Record, Row, Statement};

const SERVER: &str = "mcp server";
const GRANT: &str = "mcp grant";
const CREDENTIALS: &str = "mcp user credentials";

const COLUMNS: &str = "id, tenant_id, name, display_name, transport, command, args, url, \
                       tool_prefix, timeout_sec, settings, enabled, require_user_credentials, \
                       secrets, created_by, created_at, updated_at";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO mcp_servers (id, tenant_id, name, display_name, transport, command, args, url, \
     tool_prefix, timeout_sec, settings, enabled, require_user_credentials, secrets, created_by, \
     created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, {now}) \
     RETURNING ",
    COLUMNS,
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM mcp_servers WHERE id = ? AND tenant_id = ?",
]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM mcp_servers WHERE tenant_id = ? ORDER BY name {bytewise}",
]);
static SET_ARGS: Statement =
    Statement::new("UPDATE mcp_servers SET args = ? WHERE id = ? AND tenant_id = ?");
static UPDATE: Statement = Statement::joined(&[
    "UPDATE mcp_servers SET name = COALESCE(?, name), display_name = COALESCE(?, display_name), \
     transport = COALESCE(?, transport), command = COALESCE(?, command), url = COALESCE(?, url), \
     tool_prefix = COALESCE(?, tool_prefix), timeout_sec = COALESCE(?, timeout_sec), \
     settings = COALESCE(?, settings), enabled = COALESCE(?, enabled), \
     require_user_credentials = COALESCE(?, require_user_credentials), \
     secrets = COALESCE(?, secrets), updated_at = {now} WHERE id = ? AND tenant_id = ? RETURNING ",
    COLUMNS,
]);
static DELETE: Statement = Statement::new("DELETE FROM mcp_servers WHERE id = ? AND tenant_id = ?");
static GRANT_AGENT: Statement = Statement::new(
    "INSERT INTO mcp_agent_grants (id, tenant_id, server_id, agent_id, enabled, tool_allow, \
     tool_deny, granted_by, created_at) \
     SELECT ?, s.tenant_id, s.id, a.id, {true}, ?, ?, ?, {now} FROM mcp_servers s \
     JOIN agents a ON a.tenant_id = s.tenant_id \
     WHERE s.id = ? AND s.tenant_id = ? AND a.id = ? AND a.deleted_at IS NULL \
     ON CONFLICT (server_id, agent_id) DO UPDATE SET enabled = excluded.enabled, \
     tool_allow = excluded.tool_allow, tool_deny = excluded.tool_deny, \
     granted_by = excluded.granted_by",
);
static REVOKE_AGENT: Statement = Statement::new(
    "DELETE FROM mcp_agent_grants WHERE server_id = ? AND tenant_id = ? AND agent_id = ?",
);
const GRANT_COLUMNS: &str =
    "id, server_id, agent_id, enabled, tool_allow, tool_deny, granted_by, created_at";
static SERVER_GRANTS: Statement = Statement::joined(&[
    "SELECT ",
    GRANT_COLUMNS,
    " FROM mcp_agent_grants WHERE server_id = ? AND tenant_id = ? ORDER BY created_at, agent_id",
]);
static AGENT_GRANTS: Statement = Statement::joined(&[
    "SELECT ",
    GRANT_COLUMNS,
    " FROM mcp_agent_grants WHERE agent_id = ? AND tenant_id = ? ORDER BY created_at, server_id",
]);
static GRANT_COUNTS: Statement = Statement::new(
    "SELECT server_id, COUNT(*) AS grants FROM mcp_agent_grants WHERE tenant_id = ? \
     GROUP BY server_id",
);
static GRANT_USER: Statement = Statement::new(
    "INSERT INTO mcp_user_grants (id, tenant_id, server_id, user_id, enabled, tool_allow, \
     tool_deny, granted_by, created_at) \
     SELECT ?, s.tenant_id, s.id, ?, {true}, ?, ?, ?, {now} FROM mcp_servers s \
     WHERE s.id = ? AND s.tenant_id = ? \
     ON CONFLICT (server_id, user_id) DO UPDATE SET enabled = excluded.enabled, \
     tool_allow = excluded.tool_allow, tool_deny = excluded.tool_deny, \
     granted_by = excluded.granted_by",
);
static REVOKE_USER: Statement = Statement::new(
    "DELETE FROM mcp_user_grants WHERE server_id = ? AND tenant_id = ? AND user_id = ?",
);
static ACCESSIBLE: Statement = Statement::new(
    "SELECT s.id, s.tenant_id, s.name, s.display_name, s.transport, s.command, s.args, s.url, \
     s.tool_prefix, s.timeout_sec, s.settings, s.enabled, s.require_user_credentials, \
     s.secrets, s.created_by, s.created_at, s.updated_at, g.tool_allow, g.tool_deny \
     FROM mcp_servers s \
     JOIN mcp_agent_grants g ON g.server_id = s.id AND g.agent_id = ? AND g.enabled = {true} \
     LEFT JOIN mcp_user_grants u ON u.server_id = s.id AND u.user_id = ? \
     WHERE s.tenant_id = ? AND s.enabled = {true} AND (u.id IS NULL OR u.enabled = {true}) \
     ORDER BY s.name {bytewise}",
);
static SET_CREDENTIALS: Statement = Statement::new(
    "INSERT INTO mcp_user_credentials (tenant_id, server_id, user_id, secrets, created_at, \
     updated_at) SELECT s.tenant_id, s.id, ?, ?, {now}, {now} FROM mcp_servers s \
     WHERE s.id = ? AND s.tenant_id = ? \
     ON CONFLICT (server_id, user_id) DO UPDATE SET secrets = excluded.secrets, \
     updated_at = excluded.updated_at",
);
static GET_CREDENTIALS: Statement = Statement::new(
    "SELECT secrets FROM mcp_user_credentials WHERE server_id = ? AND tenant_id = ? \
     AND user_id = ?",
);
static DELETE_CREDENTIALS: Statement = Statement::new(
    "DELETE FROM mcp_user_credentials WHERE server_id = ? AND tenant_id = ? AND user_id = ?",
);

impl Record for McpServer {
    const TABLE: &'static str = "mcp_servers";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(McpServer {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            name: row.text("name")?,
            display_name: row.text("display_name")?,
            transport: row.text("transport")?,
            command: row.text("command")?,
            args: row.text_list("args")?,
            url: row.text("url")?,
            tool_prefix: row.text("tool_prefix")?,
            timeout_sec: row.int("timeout_sec")?,
            settings: row.json("settings")?,
            enabled: row.bool("enabled")?,
            require_user_credentials: row.bool("require_user_credentials")?,
            secrets: row.text("secrets")?,
            created_by: row.text("created_by")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

/// A grant's `tool_allow`/`tool_deny` columns (JSON arrays or NULL).
fn tool_filter(row: &Row<'_>) -> Result<McpToolFilter, StoreError> {
    let list = |column: &str| -> Result<Option<Vec<String>>, StoreError> {
        match row.json(column)? {
            Value::Null => Ok(None),
            value => serde_json::from_value(value)
                .map(Some)
                .map_err(|e| row.corrupt(e)),
        }
    };
    Ok(McpToolFilter {
        allow: list("tool_allow")?,
        deny: list("tool_deny")?.unwrap_or_default(),
    })
}

impl Record for McpAgentGrant {
    const TABLE: &'static str = "mcp_agent_grants";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(McpAgentGrant {
            id: row.id("id")?,
            server_id: row.id("server_id")?,
            agent_id: row.id("agent_id")?,
            enabled: row.bool("enabled")?,
            tools: tool_filter(row)?,
            granted_by: row.text("granted_by")?,
            created_at: row.time("created_at")?,
        })
    }
}

impl Record for McpAccess {
    const TABLE: &'static str = "mcp_servers";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(McpAccess {
            server: McpServer::from_row(row)?,
            tools: tool_filter(row)?,
        })
    }
}

/// The JSON values of a filter's columns.
fn filter_values(tools: &McpToolFilter) -> (Option<Value>, Option<Value>) {
    let allow = tools.allow.as_ref().map(|a| Value::from(a.clone()));
    let deny = (!tools.deny.is_empty()).then(|| Value::from(tools.deny.clone()));
    (allow, deny)
}

#[async_trait]
impl McpServerStore for SqlStore {
    async fn create(&self, server: NewMcpServer) -> Result<McpServer, StoreError> {
        let args: Vec<&str> = server.args.iter().map(String::as_str).collect();
        let params = [
            Uuid::now_v7().into(),
            server.tenant_id.into(),
            (&server.name).into(),
            (&server.display_name).into(),
            (&server.transport).into(),
            (&server.command).into(),
            Param::TextList(&args),
            (&server.url).into(),
            (&server.tool_prefix).into(),
            server.timeout_sec.into(),
            Param::Json(Some(&server.settings)),
            server.enabled.into(),
            server.require_user_credentials.into(),
            (&server.secrets).into(),
            (&server.created_by).into(),
        ];
        self.pool
            .fetch_one(&CREATE, &params)
            .await
            .map_err(|e| store_error_with_parent(e, SERVER, "tenant"))?
            .decode()
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<McpServer, StoreError> {
        self.pool
            .fetch_optional(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, SERVER))?
            .ok_or(StoreError::NotFound(SERVER))?
            .decode()
    }

    async fn list(&self, tenant: TenantId) -> Result<Vec<McpServer>, StoreError> {
        self.pool
            .fetch_all(&LIST, &[tenant.into()])
            .await
            .map_err(|e| store_error(e, SERVER))?
            .decode()
    }

    async fn update(
        &self,
        tenant: TenantId,
        id: Uuid,
        patch: McpServerPatch,
    ) -> Result<McpServer, StoreError> {
        let db_error = |e| store_error(e, SERVER);
        let mut tx = self.pool.begin_write().await.map_err(db_error)?;
        if let Some(args) = &patch.args {
            let args: Vec<&str> = args.iter().map(String::as_str).collect();
            tx.execute(
                &SET_ARGS,
                &[Param::TextList(&args), id.into(), tenant.into()],
            )
            .await
            .map_err(db_error)?;
        }
        let params = [
            patch.name.as_deref().into(),
            patch.display_name.as_deref().into(),
            patch.transport.as_deref().into(),
            patch.command.as_deref().into(),
            patch.url.as_deref().into(),
            patch.tool_prefix.as_deref().into(),
            patch.timeout_sec.into(),
            Param::Json(patch.settings.as_ref()),
            patch.enabled.into(),
            patch.require_user_credentials.into(),
            patch.secrets.as_deref().into(),
            id.into(),
            tenant.into(),
        ];
        let updated: McpServer = tx
            .fetch_optional(&UPDATE, &params)
            .await
            .map_err(db_error)?
            .ok_or(StoreError::NotFound(SERVER))?
            .decode()?;
        tx.commit().await.map_err(db_error)?;
        Ok(updated)
    }

    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, SERVER))?;
        if deleted == 0 {
            return Err(StoreError::NotFound(SERVER));
        }
        Ok(())
    }

    async fn grant_agent(
        &self,
        tenant: TenantId,
        server: Uuid,
        agent: AgentId,
        tools: &McpToolFilter,
        granted_by: &str,
    ) -> Result<(), StoreError> {
        let (allow, deny) = filter_values(tools);
        let params = [
            Uuid::now_v7().into(),
            Param::Json(allow.as_ref()),
            Param::Json(deny.as_ref()),
            granted_by.into(),
            server.into(),
            tenant.into(),
            agent.into(),
        ];
        let granted = self
            .pool
            .execute(&GRANT_AGENT, &params)
            .await
            .map_err(|e| store_error(e, GRANT))?;
        if granted == 0 {
            return Err(StoreError::NotFound("mcp server or agent"));
        }
        Ok(())
    }

    async fn revoke_agent(
        &self,
        tenant: TenantId,
        server: Uuid,
        agent: AgentId,
    ) -> Result<bool, StoreError> {
        let revoked = self
            .pool
            .execute(&REVOKE_AGENT, &[server.into(), tenant.into(), agent.into()])
            .await
            .map_err(|e| store_error(e, GRANT))?;
        Ok(revoked > 0)
    }

    async fn server_grants(
        &self,
        tenant: TenantId,
        server: Uuid,
    ) -> Result<Vec<McpAgentGrant>, StoreError> {
        self.pool
            .fetch_all(&SERVER_GRANTS, &[server.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, GRANT))?
            .decode()
    }

    async fn agent_grants(
        &self,
        tenant: TenantId,
        agent: AgentId,
    ) -> Result<Vec<McpAgentGrant>, StoreError> {
        self.pool
            .fetch_all(&AGENT_GRANTS, &[agent.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, GRANT))?
            .decode()
    }

    async fn grant_counts(&self, tenant: TenantId) -> Result<BTreeMap<Uuid, i64>, StoreError> {
        let rows = self
            .pool
            .fetch_all(&GRANT_COUNTS, &[tenant.into()])
            .await
            .map_err(|e| store_error(e, GRANT))?;
        rows.map("mcp_agent_grants", |row| {
            Ok((row.id("server_id")?, row.int("grants")?))
        })
        .map(|pairs| pairs.into_iter().collect())
    }

    async fn grant_user(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
        tools: &McpToolFilter,
        granted_by: &str,
    ) -> Result<(), StoreError> {
        let (allow, deny) = filter_values(tools);
        let params = [
            Uuid::now_v7().into(),
            user.into(),
            Param::Json(allow.as_ref()),
            Param::Json(deny.as_ref()),
            granted_by.into(),
            server.into(),
            tenant.into(),
        ];
        let granted = self
            .pool
            .execute(&GRANT_USER, &params)
            .await
            .map_err(|e| store_error(e, GRANT))?;
        if granted == 0 {
            return Err(StoreError::NotFound(SERVER));
        }
        Ok(())
    }

    async fn revoke_user(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
    ) -> Result<bool, StoreError> {
        let revoked = self
            .pool
            .execute(&REVOKE_USER, &[server.into(), tenant.into(), user.into()])
            .await
            .map_err(|e| store_error(e, GRANT))?;
        Ok(revoked > 0)
    }

    async fn accessible(
        &self,
        tenant: TenantId,
        agent: AgentId,
        user: &str,
    ) -> Result<Vec<McpAccess>, StoreError> {
        self.pool
            .fetch_all(&ACCESSIBLE, &[agent.into(), user.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, SERVER))?
            .decode()
    }

    async fn set_user_credentials(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
        secrets: &str,
    ) -> Result<(), StoreError> {
        let params = [user.into(), secrets.into(), server.into(), tenant.into()];
        let stored = self
            .pool
            .execute(&SET_CREDENTIALS, &params)
            .await
            .map_err(|e| store_error(e, CREDENTIALS))?;
        if stored == 0 {
            return Err(StoreError::NotFound(SERVER));
        }
        Ok(())
    }

    async fn user_credentials(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
    ) -> Result<Option<String>, StoreError> {
        let row = self
            .pool
            .fetch_optional(
                &GET_CREDENTIALS,
                &[server.into(), tenant.into(), user.into()],
            )
            .await
            .map_err(|e| store_error(e, CREDENTIALS))?;
        row.map(|row| row.read("mcp_user_credentials").text("secrets"))
            .transpose()
    }

    async fn delete_user_credentials(
        &self,
        tenant: TenantId,
        server: Uuid,
        user: &str,
    ) -> Result<bool, StoreError> {
        let deleted = self
            .pool
            .execute(
                &DELETE_CREDENTIALS,
                &[server.into(), tenant.into(), user.into()],
            )
            .await
            .map_err(|e| store_error(e, CREDENTIALS))?;
        Ok(deleted > 0)
    }
}
