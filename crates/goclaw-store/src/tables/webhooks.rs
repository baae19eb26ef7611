//! `webhooks` and `webhook_calls`. A webhook is written by selecting its tenant and (for an
//! `llm` one) a live agent of that tenant, locked on PostgreSQL against a concurrent delete, so
//! none points across tenants or at a deleted agent; a tenant-scoped read or write of another
//! tenant's webhook finds nothing. Updates and rotations leave revoked webhooks alone, and the
//! partial unique index on `secret_hash` covers live webhooks only. Deleting an agent (a soft
//! delete) clears it from its webhooks in the same transaction (`detach_agent`, called by
//! `tables/agents.rs`).
//!
//! A call is recorded by selecting its webhook within the tenant, unique per webhook and
//! idempotency key. Async calls are claimed by one `UPDATE` of the rows a `SELECT … LIMIT ?`
//! picked, which skips rows another claim holds on PostgreSQL (`{skip_locked}`) and runs under
//! SQLite's write lock, so no call is claimed twice.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use goclaw_core::{
    AgentId, CallMode, CallStatus, CallUpdate, NewWebhook, NewWebhookCall, StoreError, TenantId,
    Webhook, WebhookCall, WebhookKind, WebhookPatch, WebhookSecret, WebhookStore,
};
use uuid::Uuid;

use super::{SqlStore, agent_owned};
use crate::error::store_error;
use crate::sql::{Record, Row, Statement, Tx};

const WEBHOOK: &str = "webhook";
const CALL: &str = "webhook call";

const COLUMNS: &str = "id, tenant_id, agent_id, name, kind, secret_prefix, secret_hash, \
                       encrypted_secret, scopes, channel_id, rate_limit_per_min, ip_allowlist, \
                       require_hmac, localhost_only, revoked, created_by, created_at, \
                       updated_at, last_used_at";
const CALL_COLUMNS: &str = "id, tenant_id, webhook_id, agent_id, idempotency_key, mode, \
                            callback_url, status, attempts, delivery_id, next_attempt_at, \
                            started_at, completed_at, request_payload, response, last_error, \
                            created_at";
/// Picks a webhook by id within a tenant or any (`NULL`); parameters: id, tenant twice.
const SCOPED: &str = " WHERE id = ? AND (? IS NULL OR tenant_id = ?)";

static CREATE: Statement = Statement::joined(&[
    "INSERT INTO webhooks (id, tenant_id, agent_id, name, kind, secret_prefix, secret_hash, \
     encrypted_secret, scopes, channel_id, rate_limit_per_min, ip_allowlist, require_hmac, \
     localhost_only, created_by, created_at, updated_at) \
     SELECT ?, t.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, {now}, {now} FROM tenants t \
     WHERE t.id = ? AND (? IS NULL OR EXISTS (SELECT 1 FROM agents a \
     WHERE a.id = ? AND a.tenant_id = t.id AND a.deleted_at IS NULL)) \
     RETURNING ",
    COLUMNS,
]);
/// Holds a live agent until the webhook naming it is committed: its deletion (an update of
/// the row) waits, so it cannot miss the new webhook when it clears the agent from them.
static GET: Statement = Statement::joined(&["SELECT ", COLUMNS, " FROM webhooks", SCOPED]);
static LIST: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM webhooks WHERE (? IS NULL OR tenant_id = ?) AND (? IS NULL OR agent_id = ?) \
     ORDER BY created_at DESC, id DESC",
]);
static BY_SECRET_HASH: Statement = Statement::joined(&[
    "SELECT ",
    COLUMNS,
    " FROM webhooks WHERE secret_hash = ? AND NOT revoked",
]);
static UPDATE: Statement = Statement::joined(&[
    "UPDATE webhooks SET name = COALESCE(?, name), \
     scopes = CASE WHEN ? THEN ? ELSE scopes END, \
     channel_id = CASE WHEN ? THEN ? ELSE channel_id END, \
     rate_limit_per_min = COALESCE(?, rate_limit_per_min), \
     ip_allowlist = CASE WHEN ? THEN ? ELSE ip_allowlist END, \
     require_hmac = COALESCE(?, require_hmac), localhost_only = COALESCE(?, localhost_only), \
     updated_at = {now}",
    SCOPED,
    " AND NOT revoked RETURNING ",
    COLUMNS,
]);
static ROTATE: Statement = Statement::joined(&[
    "UPDATE webhooks SET secret_prefix = ?, secret_hash = ?, encrypted_secret = ?, \
     updated_at = {now}",
    SCOPED,
    " AND NOT revoked RETURNING ",
    COLUMNS,
]);
static REVOKE: Statement = Statement::joined(&[
    "UPDATE webhooks SET revoked = {true}, \
     updated_at = CASE WHEN revoked THEN updated_at ELSE {now} END",
    SCOPED,
]);
static TOUCH: Statement = Statement::new("UPDATE webhooks SET last_used_at = ? WHERE id = ?");
static DETACH_AGENT: Statement = Statement::new(
    "UPDATE webhooks SET agent_id = NULL, updated_at = {now} WHERE tenant_id = ? AND agent_id = ?",
);

static RECORD_CALL: Statement = Statement::joined(&[
    "INSERT INTO webhook_calls (id, tenant_id, webhook_id, agent_id, idempotency_key, mode, \
     callback_url, status, delivery_id, next_attempt_at, started_at, request_payload, \
     created_at) \
     SELECT ?, w.tenant_id, w.id, ?, ?, ?, ?, ?, ?, ?, ?, ?, ? FROM webhooks w \
     WHERE w.id = ? AND w.tenant_id = ? RETURNING ",
    CALL_COLUMNS,
]);
static CALL_BY_KEY: Statement = Statement::joined(&[
    "SELECT ",
    CALL_COLUMNS,
    " FROM webhook_calls WHERE webhook_id = ? AND idempotency_key = ?",
]);
static GET_CALL: Statement =
    Statement::joined(&["SELECT ", CALL_COLUMNS, " FROM webhook_calls", SCOPED]);
static LIST_CALLS: Statement = Statement::joined(&[
    "SELECT ",
    CALL_COLUMNS,
    " FROM webhook_calls WHERE webhook_id = ? ORDER BY created_at DESC, id DESC \
     LIMIT ? OFFSET ?",
]);
/// The due calls are picked once, in a materialized CTE: PostgreSQL may run an `IN (SELECT …)`
/// again while it updates, and that run passes over the calls already claimed and takes the
/// next ones, claiming more than `limit`.
static CLAIM_DUE: Statement = Statement::joined(&[
    "WITH due AS MATERIALIZED (SELECT id AS due_id FROM webhook_calls \
     WHERE mode = 'async' AND status = 'queued' \
     AND (next_attempt_at IS NULL OR next_attempt_at <= ?) \
     ORDER BY created_at, id LIMIT ? {skip_locked}) \
     UPDATE webhook_calls SET status = 'running', started_at = ? FROM due \
     WHERE webhook_calls.id = due.due_id AND webhook_calls.status = 'queued' RETURNING ",
    CALL_COLUMNS,
]);
static UPDATE_CALL: Statement = Statement::new(
    "UPDATE webhook_calls SET status = ?, response = COALESCE(?, response), last_error = ?, \
     next_attempt_at = ?, attempts = attempts + ?, completed_at = COALESCE(?, completed_at) \
     WHERE id = ?",
);
static REQUEUE_STALE: Statement = Statement::new(
    "UPDATE webhook_calls SET status = 'queued', next_attempt_at = ? \
     WHERE mode = 'async' AND status = 'running' AND started_at < ?",
);
static PRUNE_CALLS: Statement = Statement::new(
    "DELETE FROM webhook_calls WHERE status IN ('done', 'failed', 'dead') AND created_at < ?",
);

impl Record for Webhook {
    const TABLE: &'static str = "webhooks";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(Webhook {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            agent_id: row.opt_id("agent_id")?,
            name: row.text("name")?,
            kind: row.parse("kind", |s: &str| {
                WebhookKind::parse(s).ok_or_else(|| format!("unknown webhook kind {s:?}"))
            })?,
            secret_prefix: row.text("secret_prefix")?,
            secret_hash: row.text("secret_hash")?,
            encrypted_secret: row.text("encrypted_secret")?,
            scopes: row.text_list("scopes")?,
            channel_id: row.opt_id("channel_id")?,
            rate_limit_per_min: row.int("rate_limit_per_min")?,
            ip_allowlist: row.text_list("ip_allowlist")?,
            require_hmac: row.bool("require_hmac")?,
            localhost_only: row.bool("localhost_only")?,
            revoked: row.bool("revoked")?,
            created_by: row.text("created_by")?,
            created_at: row.time("created_at")?,
            updated_at: row.time("updated_at")?,
            last_used_at: row.opt_time("last_used_at")?,
        })
    }
}

impl Record for WebhookCall {
    const TABLE: &'static str = "webhook_calls";

    fn from_row(row: &Row<'_>) -> Result<Self, StoreError> {
        Ok(WebhookCall {
            id: row.id("id")?,
            tenant_id: row.id("tenant_id")?,
            webhook_id: row.id("webhook_id")?,
            agent_id: row.opt_id("agent_id")?,
            idempotency_key: row.opt_text("idempotency_key")?,
            mode: row.parse("mode", |s: &str| {
                CallMode::parse(s).ok_or_else(|| format!("unknown call mode {s:?}"))
            })?,
            callback_url: row.opt_text("callback_url")?,
            status: row.parse("status", |s: &str| {
                CallStatus::parse(s).ok_or_else(|| format!("unknown call status {s:?}"))
            })?,
            attempts: row.int("attempts")?,
            delivery_id: row.id("delivery_id")?,
            next_attempt_at: row.opt_time("next_attempt_at")?,
            started_at: row.opt_time("started_at")?,
            completed_at: row.opt_time("completed_at")?,
            request_payload: row.json("request_payload")?,
            // SQL NULL and a stored JSON `null` both read as no response.
            response: Some(row.json("response")?).filter(|v| !v.is_null()),
            last_error: row.opt_text("last_error")?,
            created_at: row.time("created_at")?,
        })
    }
}

#[async_trait]
impl WebhookStore for SqlStore {
    async fn create(&self, webhook: NewWebhook) -> Result<Webhook, StoreError> {
        let scopes: Vec<&str> = webhook.scopes.iter().map(String::as_str).collect();
        let allowlist: Vec<&str> = webhook.ip_allowlist.iter().map(String::as_str).collect();
        let params = [
            Uuid::now_v7().into(),
            webhook.agent_id.into(),
            (&webhook.name).into(),
            webhook.kind.as_str().into(),
            (&webhook.secret_prefix).into(),
            (&webhook.secret_hash).into(),
            (&webhook.encrypted_secret).into(),
            scopes.as_slice().into(),
            webhook.channel_id.into(),
            webhook.rate_limit_per_min.into(),
            allowlist.as_slice().into(),
            webhook.require_hmac.into(),
            webhook.localhost_only.into(),
            (&webhook.created_by).into(),
            webhook.tenant_id.into(),
            webhook.agent_id.into(),
            webhook.agent_id.into(),
        ];
        let owner = (webhook.tenant_id, webhook.agent_id);
        agent_owned::insert(&self.pool, &CREATE, &params, owner, WEBHOOK).await
    }

    async fn get(&self, tenant: Option<TenantId>, id: Uuid) -> Result<Webhook, StoreError> {
        self.pool
            .fetch_one(&GET, &[id.into(), tenant.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, WEBHOOK))?
            .decode()
    }

    async fn list(
        &self,
        tenant: Option<TenantId>,
        agent: Option<AgentId>,
    ) -> Result<Vec<Webhook>, StoreError> {
        let params = [tenant.into(), tenant.into(), agent.into(), agent.into()];
        self.pool
            .fetch_all(&LIST, &params)
            .await
            .map_err(|e| store_error(e, WEBHOOK))?
            .decode()
    }

    async fn by_secret_hash(&self, secret_hash: &str) -> Result<Option<Webhook>, StoreError> {
        self.pool
            .fetch_optional(&BY_SECRET_HASH, &[secret_hash.into()])
            .await
            .map_err(|e| store_error(e, WEBHOOK))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn update(
        &self,
        tenant: Option<TenantId>,
        id: Uuid,
        patch: WebhookPatch,
    ) -> Result<Webhook, StoreError> {
        let scopes: Vec<&str> = patch.scopes.iter().flatten().map(String::as_str).collect();
        let allowlist: Vec<&str> = patch
            .ip_allowlist
            .iter()
            .flatten()
            .map(String::as_str)
            .collect();
        let params = [
            patch.name.as_deref().into(),
            patch.scopes.is_some().into(),
            scopes.as_slice().into(),
            patch.channel_id.is_some().into(),
            patch.channel_id.flatten().into(),
            patch.rate_limit_per_min.into(),
            patch.ip_allowlist.is_some().into(),
            allowlist.as_slice().into(),
            patch.require_hmac.into(),
            patch.localhost_only.into(),
            id.into(),
            tenant.into(),
            tenant.into(),
        ];
        self.pool
            .fetch_one(&UPDATE, &params)
            .await
            .map_err(|e| store_error(e, WEBHOOK))?
            .decode()
    }

    async fn rotate(
        &self,
        tenant: Option<TenantId>,
        id: Uuid,
        secret: WebhookSecret,
    ) -> Result<Webhook, StoreError> {
        let params = [
            (&secret.secret_prefix).into(),
            (&secret.secret_hash).into(),
            (&secret.encrypted_secret).into(),
            id.into(),
            tenant.into(),
            tenant.into(),
        ];
        self.pool
            .fetch_one(&ROTATE, &params)
            .await
            .map_err(|e| store_error(e, WEBHOOK))?
            .decode()
    }

    async fn revoke(&self, tenant: Option<TenantId>, id: Uuid) -> Result<(), StoreError> {
        let revoked = self
            .pool
            .execute(&REVOKE, &[id.into(), tenant.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, WEBHOOK))?;
        if revoked == 0 {
            return Err(StoreError::NotFound(WEBHOOK));
        }
        Ok(())
    }

    async fn touch(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError> {
        self.pool
            .execute(&TOUCH, &[at.into(), id.into()])
            .await
            .map_err(|e| store_error(e, WEBHOOK))?;
        Ok(())
    }

    async fn record_call(&self, call: NewWebhookCall) -> Result<WebhookCall, StoreError> {
        let now = Utc::now();
        let started_at = (call.status == CallStatus::Running).then_some(now);
        let next_attempt_at = (call.status == CallStatus::Queued).then_some(now);
        let params = [
            Uuid::now_v7().into(),
            call.agent_id.into(),
            (&call.idempotency_key).into(),
            call.mode.as_str().into(),
            (&call.callback_url).into(),
            call.status.as_str().into(),
            Uuid::new_v4().into(),
            next_attempt_at.into(),
            started_at.into(),
            (&call.request_payload).into(),
            now.into(),
            call.webhook_id.into(),
            call.tenant_id.into(),
        ];
        self.pool
            .fetch_optional(&RECORD_CALL, &params)
            .await
            .map_err(|e| store_error(e, CALL))?
            .ok_or(StoreError::NotFound(WEBHOOK))?
            .decode()
    }

    async fn call_by_key(
        &self,
        webhook_id: Uuid,
        idempotency_key: &str,
    ) -> Result<Option<WebhookCall>, StoreError> {
        self.pool
            .fetch_optional(&CALL_BY_KEY, &[webhook_id.into(), idempotency_key.into()])
            .await
            .map_err(|e| store_error(e, CALL))?
            .map(|row| row.decode())
            .transpose()
    }

    async fn get_call(
        &self,
        tenant: Option<TenantId>,
        id: Uuid,
    ) -> Result<WebhookCall, StoreError> {
        self.pool
            .fetch_one(&GET_CALL, &[id.into(), tenant.into(), tenant.into()])
            .await
            .map_err(|e| store_error(e, CALL))?
            .decode()
    }

    async fn list_calls(
        &self,
        webhook_id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<WebhookCall>, StoreError> {
        let params = [
            webhook_id.into(),
            i64::from(limit).into(),
            i64::from(offset).into(),
        ];
        self.pool
            .fetch_all(&LIST_CALLS, &params)
            .await
            .map_err(|e| store_error(e, CALL))?
            .decode()
    }

    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WebhookCall>, StoreError> {
        let params = [now.into(), i64::from(limit).into(), now.into()];
        let mut claimed: Vec<WebhookCall> = self
            .pool
            .fetch_all(&CLAIM_DUE, &params)
            .await
            .map_err(|e| store_error(e, CALL))?
            .decode()?;
        // `RETURNING` keeps no order.
        claimed.sort_by_key(|call| (call.created_at, call.id));
        Ok(claimed)
    }

    async fn update_call(&self, id: Uuid, update: CallUpdate) -> Result<(), StoreError> {
        let completed_at = update.status.is_terminal().then(Utc::now);
        let params = [
            update.status.as_str().into(),
            update.response.as_ref().into(),
            (&update.last_error).into(),
            update.next_attempt_at.into(),
            i64::from(update.attempted).into(),
            completed_at.into(),
            id.into(),
        ];
        let updated = self
            .pool
            .execute(&UPDATE_CALL, &params)
            .await
            .map_err(|e| store_error(e, CALL))?;
        if updated == 0 {
            return Err(StoreError::NotFound(CALL));
        }
        Ok(())
    }

    async fn requeue_stale(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.pool
            .execute(&REQUEUE_STALE, &[Utc::now().into(), before.into()])
            .await
            .map_err(|e| store_error(e, CALL))
    }

    async fn prune_calls(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        self.pool
            .execute(&PRUNE_CALLS, &[before.into()])
            .await
            .map_err(|e| store_error(e, CALL))
    }
}

/// Clears a deleted agent from the tenant's webhooks, in the transaction that deletes it.
pub(super) async fn detach_agent(
    tx: &mut Tx,
    tenant: TenantId,
    agent: AgentId,
) -> Result<(), StoreError> {
    tx.execute(&DETACH_AGENT, &[tenant.into(), agent.into()])
        .await
        .map_err(|e| store_error(e, WEBHOOK))?;
    Ok(())
}
