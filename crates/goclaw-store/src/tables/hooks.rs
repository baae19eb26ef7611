//! `hooks` and `hook_executions`. Every statement names the tenant, so a tenant's read or write
//! of another tenant's hook finds nothing; `global` hooks are rows of the master tenant, and
//! only [`HookStore::for_event`] reads them for other tenants. Lists filter on event, scope and
//! enabled in SQL and on agents in Rust (the id list is an array on PostgreSQL, JSON text on
//! SQLite). An execution is inserted once per `dedup_key` (`ON CONFLICT DO NOTHING`).
//! `secrets` holds the secret box's ciphertext of an `http` hook's header values as given; the
//! store never opens it.

use async_trait::async_trait;
use goclaw_core::{
    Decision, HandlerType, Hook, HookEvent, HookExecution, HookFilter, HookScope, HookStore,
    MASTER_TENANT_ID, StoreError, TenantId,
};
use uuid::Uuid;

use super::SqlStore;
use crate::error::store_error;
use crate::sql::{Record, Row, Statement};

const HOOK: &str = "hook";
const EXECUTION: &str = "hook execution";

const COLUMNS: &str = "id, tenant_id, agent_ids, event, handler_type, scope, name, config, \
                       secrets, matcher, if_expr, timeout_ms, on_timeout, priority, enabled, version, \
                       source, metadata, created_by, created_at, updated_at";
const EXECUTION_COLUMNS: &str = "id, tenant_id, hook_id, session_id, event, input_hash, \
                                 decision, duration_ms, retry, dedup_key, error, metadata, \
                                 created_at";
const ORDER: &str = " ORDER BY priority DESC, created_at, id";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO hooks (id, tenant_id, agent_ids, event, handler_type, scope, name, config, \
     secrets, matcher, if_expr, timeout_ms, on_timeout, priority, enabled, version, source, \
     metadata, created_by, created_at, updated_at) \
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1, ?, ?, ?, {now}, {now}) RETURNING ",
    COLUMNS,
]);
static GET: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM hooks WHERE id = ? AND tenant_id = ?",
]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM hooks WHERE tenant_id = ? AND (? IS NULL OR event = ?) \
     AND (? IS NULL OR scope = ?) AND (? IS NULL OR enabled = ?)",
    ORDER,
]);
static FOR_EVENT: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM hooks WHERE event = ? AND enabled = {true} \
     AND (tenant_id = ? OR (tenant_id = ? AND scope = 'global'))",
    ORDER,
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE hooks SET agent_ids = ?, event = ?, handler_type = ?, scope = ?, name = ?, \
     config = ?, secrets = ?, matcher = ?, if_expr = ?, timeout_ms = ?, on_timeout = ?, priority = ?, \
     enabled = ?, metadata = ?, version = version + 1, updated_at = {now} \
     WHERE id = ? AND tenant_id = ? RETURNING ",
    COLUMNS,
]);
static SET_ENABLED: Statement = Statement::joined(&[
    "UPDATE hooks SET enabled = ?, updated_at = {now} WHERE id = ? AND tenant_id = ? RETURNING ",
    COLUMNS,
]);
static DELETE: Statement = Statement::new("DELETE FROM hooks WHERE id = ? AND tenant_id = ?");
static RECORD: Statement = Statement::joined(&[
    "INSERT INTO hook_executions (",
    EXECUTION_COLUMNS,
    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (dedup_key) DO NOTHING",
]);
static EXECUTIONS: Statement = Statement::joined(&[
    "SELECT ",
    EXECUTION_COLUMNS,
    " FROM hook_executions WHERE tenant_id = ? AND (? IS NULL OR hook_id = ?) \
     AND (? IS NULL OR id < ?) ORDER BY id DESC LIMIT ?",
]);

fn parsed<T>(value: Option<T>, what: &str, raw: &str) -> Result<T, String> {
    value.ok_or_else(|| format!("unknown {what} {raw:?}"))
}

impl Record for Hook {
    const TABLE: &'static str = "hooks";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Hook {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_ids: row.id_list("agent_ids")?,
            event: row.parse("event", |s: &str| parsed(HookEvent::parse(s), "event", s))?,
            handler_type: row.parse("handler_type", |s: &str| {
                parsed(HandlerType::parse(s), "handler type", s)
            })?,
            scope: row.parse("scope", |s: &str| parsed(HookScope::parse(s), "scope", s))?,
            name: row.text("name")?,
            config: row.json("config")?,
            secrets: row.text("secrets")?,
            matcher: row.text("matcher")?,
            if_expr: row.text("if_expr")?,
            timeout_ms: row.int("timeout_ms")?,
            on_timeout: row.parse("on_timeout", |s: &str| {
                parsed(Decision::parse(s), "decision", s)
            })?,
            priority: row.int("priority")?,
            enabled: row.bool("enabled")?,
            version: row.int("version")?,
            source: row.text("source")?,
            metadata: row.json("metadata")?,
            created_by: row.text("created_by")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
        })
    }
}

impl Record for HookExecution {
    const TABLE: &'static str = "hook_executions";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(HookExecution {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            hook_id: row.opt_id("hook_id")?,
            session_id: row.text("session_id")?,
            event: row.parse("event", |s: &str| parsed(HookEvent::parse(s), "event", s))?,
            input_hash: row.text("input_hash")?,
            decision: row.parse("decision", |s: &str| {
                parsed(Decision::parse(s), "decision", s)
            })?,
            duration_ms: row.int("duration_ms")?,
            retry: row.int("retry")?,
            dedup_key: row.text("dedup_key")?,
            error: row.text("error")?,
            metadata: row.json("metadata")?,
            created_at: row.time("created_at")?,
        })
    }
}

#[async_trait]
impl HookStore for SqlStore {
    async fn create(&self, hook: &Hook) -> Result<Hook, StoreError> {
        let params = [
            Uuid::now_v7().into(),
            hook.tenant_id.into(),
            hook.agent_ids.as_slice().into(),
            hook.event.as_str().into(),
            hook.handler_type.as_str().into(),
            hook.scope.as_str().into(),
            (&hook.name).into(),
            (&hook.config).into(),
            (&hook.secrets).into(),
            (&hook.matcher).into(),
            (&hook.if_expr).into(),
            hook.timeout_ms.into(),
            hook.on_timeout.as_str().into(),
            hook.priority.into(),
            hook.enabled.into(),
            (&hook.source).into(),
            (&hook.metadata).into(),
            (&hook.created_by).into(),
        ];
        self.pool
            .fetch_one(&CREATE, &params)
            .await
            .map_err(|e| store_error(e, HOOK))?
            .decode()
    }

    async fn get(&self, tenant: TenantId, id: Uuid) -> Result<Hook, StoreError> {
        self.pool
            .fetch_one(&GET, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, HOOK))?
            .decode()
    }

    async fn list(&self, tenant: TenantId, filter: &HookFilter) -> Result<Vec<Hook>, StoreError> {
        let event = filter.event.map(HookEvent::as_str);
        let scope = filter.scope.map(HookScope::as_str);
        let params = [
            tenant.into(),
            event.into(),
            event.into(),
            scope.into(),
            scope.into(),
            filter.enabled.into(),
            filter.enabled.into(),
        ];
        let hooks: Vec<Hook> = self
            .pool
            .fetch_all(&LIST, &params)
            .await
            .map_err(|e| store_error(e, HOOK))?
            .decode()?;
        Ok(match filter.agent_id {
            Some(agent) => hooks
                .into_iter()
                .filter(|h| h.scope == HookScope::Agent && h.agent_ids.contains(&agent))
                .collect(),
            None => hooks,
        })
    }

    async fn update(&self, tenant: TenantId, hook: &Hook) -> Result<Hook, StoreError> {
        let params = [
            hook.agent_ids.as_slice().into(),
            hook.event.as_str().into(),
            hook.handler_type.as_str().into(),
            hook.scope.as_str().into(),
            (&hook.name).into(),
            (&hook.config).into(),
            (&hook.secrets).into(),
            (&hook.matcher).into(),
            (&hook.if_expr).into(),
            hook.timeout_ms.into(),
            hook.on_timeout.as_str().into(),
            hook.priority.into(),
            hook.enabled.into(),
            (&hook.metadata).into(),
            hook.id.into(),
            tenant.into(),
        ];
        self.pool
            .fetch_one(&UPDATE, &params)
            .await
            .map_err(|e| store_error(e, HOOK))?
            .decode()
    }

    async fn set_enabled(
        &self,
        tenant: TenantId,
        id: Uuid,
        enabled: bool,
    ) -> Result<Hook, StoreError> {
        self.pool
            .fetch_one(&SET_ENABLED, &[enabled.into(), id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, HOOK))?
            .decode()
    }

    async fn delete(&self, tenant: TenantId, id: Uuid) -> Result<(), StoreError> {
        let deleted = self
            .pool
            .execute(&DELETE, &[id.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, HOOK))?;
        if deleted == 0 {
            return Err(StoreError::NotFound(HOOK));
        }
        Ok(())
    }

    async fn for_event(&self, tenant: TenantId, event: HookEvent) -> Result<Vec<Hook>, StoreError> {
        let params = [
            event.as_str().into(),
            tenant.into(),
            MASTER_TENANT_ID.into(),
        ];
        self.pool
            .fetch_all(&FOR_EVENT, &params)
            .await
            .map_err(|e| store_error(e, HOOK))?
            .decode()
    }

    async fn record_execution(&self, execution: &HookExecution) -> Result<(), StoreError> {
        let params = [
            execution.id.into(),
            execution.tenant_id.into(),
            execution.hook_id.into(),
            (&execution.session_id).into(),
            execution.event.as_str().into(),
            (&execution.input_hash).into(),
            execution.decision.as_str().into(),
            execution.duration_ms.into(),
            execution.retry.into(),
            (&execution.dedup_key).into(),
            (&execution.error).into(),
            (&execution.metadata).into(),
            execution.created_at.into(),
        ];
        self.pool
            .execute(&RECORD, &params)
            .await
            .map_err(|e| store_error(e, EXECUTION))?;
        Ok(())
    }

    async fn executions(
        &self,
        tenant: TenantId,
        hook: Option<Uuid>,
        before: Option<Uuid>,
        limit: i64,
    ) -> Result<Vec<HookExecution>, StoreError> {
        let params = [
            tenant.into(),
            hook.into(),
            hook.into(),
            before.into(),
            before.into(),
            limit.into(),
        ];
        self.pool
            .fetch_all(&EXECUTIONS, &params)
            .await
            .map_err(|e| store_error(e, EXECUTION))?
            .decode()
    }
}
