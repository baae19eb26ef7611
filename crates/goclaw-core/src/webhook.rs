//! Inbound webhooks: a tenant's admin registers a webhook (an `llm` one runs an agent, a
//! `message` one posts to a channel) and hands its secret to another system, which then calls
//! `/v1/webhooks/llm` or `/v1/webhooks/message` with it — as a bearer token or as the key of
//! an HMAC signature.
//!
//! The secret itself is never stored: its SHA-256 finds the webhook of a bearer call, and the
//! secret box's encryption of it (which the gateway can open) is the HMAC key. Every accepted
//! call is recorded: the record is the `Idempotency-Key` reservation, the queue of an async
//! call and the state of its callback's delivery.

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{AgentId, TenantId};
use crate::store::StoreError;

/// What a webhook does when called.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WebhookKind {
    /// Runs its agent on the posted input (`/v1/webhooks/llm`).
    Llm,
    /// Posts the message to a channel chat (`/v1/webhooks/message`).
    Message,
}

impl WebhookKind {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookKind::Llm => "llm",
            WebhookKind::Message => "message",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "llm" => Some(WebhookKind::Llm),
            "message" => Some(WebhookKind::Message),
            _ => None,
        }
    }
}

/// A webhook as stored (never its secret).
#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: Uuid,
    pub tenant_id: TenantId,
    /// The agent an `llm` webhook runs; `None` once that agent is deleted.
    pub agent_id: Option<AgentId>,
    pub name: String,
    pub kind: WebhookKind,
    /// The first 8 characters of the secret (`wh_` and 5 more), to recognize it by.
    pub secret_prefix: String,
    /// Hex SHA-256 of the secret.
    pub secret_hash: String,
    /// The secret, encrypted by the secret box: the HMAC key.
    pub encrypted_secret: String,
    pub scopes: Vec<String>,
    /// The channel instance a `message` webhook posts to; `None` lets the call name it.
    pub channel_id: Option<Uuid>,
    /// Calls per minute; 0 is unlimited.
    pub rate_limit_per_min: i64,
    /// Addresses and CIDR blocks a call may come from; empty allows any.
    pub ip_allowlist: Vec<String>,
    /// Bearer calls are refused: every call must be signed.
    pub require_hmac: bool,
    /// Calls from anywhere but this host are refused.
    pub localhost_only: bool,
    pub revoked: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// What is needed to register a webhook.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhook {
    pub tenant_id: TenantId,
    pub agent_id: Option<AgentId>,
    pub name: String,
    pub kind: WebhookKind,
    pub secret_prefix: String,
    pub secret_hash: String,
    pub encrypted_secret: String,
    pub scopes: Vec<String>,
    pub channel_id: Option<Uuid>,
    pub rate_limit_per_min: i64,
    pub ip_allowlist: Vec<String>,
    pub require_hmac: bool,
    pub localhost_only: bool,
    pub created_by: String,
}

/// A change to a webhook; `None` leaves a field as it is. `channel_id: Some(None)` clears it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WebhookPatch {
    pub name: Option<String>,
    pub scopes: Option<Vec<String>>,
    pub channel_id: Option<Option<Uuid>>,
    pub rate_limit_per_min: Option<i64>,
    pub ip_allowlist: Option<Vec<String>>,
    pub require_hmac: Option<bool>,
    pub localhost_only: Option<bool>,
}

impl WebhookPatch {
    pub fn is_empty(&self) -> bool {
        *self == WebhookPatch::default()
    }
}

/// A new secret for a webhook (`rotate`): the old one stops working at once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WebhookSecret {
    pub secret_prefix: String,
    pub secret_hash: String,
    pub encrypted_secret: String,
}

/// How a call is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallMode {
    /// In the response.
    Sync,
    /// By a signed POST to the call's callback URL.
    Async,
}

impl CallMode {
    pub fn as_str(self) -> &'static str {
        match self {
            CallMode::Sync => "sync",
            CallMode::Async => "async",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "sync" => Some(CallMode::Sync),
            "async" => Some(CallMode::Async),
            _ => None,
        }
    }
}

/// Where a call is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CallStatus {
    /// An async call waiting for a worker (again, after a failed delivery).
    Queued,
    /// Being worked on.
    Running,
    /// Answered: in the response (sync) or by a callback the receiver accepted (async).
    Done,
    /// Ended without an answer that will ever be delivered.
    Failed,
    /// An async call whose callback failed every attempt.
    Dead,
}

impl CallStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CallStatus::Queued => "queued",
            CallStatus::Running => "running",
            CallStatus::Done => "done",
            CallStatus::Failed => "failed",
            CallStatus::Dead => "dead",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "queued" => CallStatus::Queued,
            "running" => CallStatus::Running,
            "done" => CallStatus::Done,
            "failed" => CallStatus::Failed,
            "dead" => CallStatus::Dead,
            _ => return None,
        })
    }

    /// Whether nothing will happen to the call any more.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            CallStatus::Done | CallStatus::Failed | CallStatus::Dead
        )
    }
}

/// A call of a webhook as recorded.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookCall {
    pub id: Uuid,
    pub tenant_id: TenantId,
    pub webhook_id: Uuid,
    pub agent_id: Option<AgentId>,
    pub idempotency_key: Option<String>,
    pub mode: CallMode,
    pub callback_url: Option<String>,
    pub status: CallStatus,
    /// Callback deliveries tried (async).
    pub attempts: i64,
    /// Sent as `X-Webhook-Delivery-Id` with every delivery of this call's callback.
    pub delivery_id: Uuid,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    /// `{"body_hash": hex SHA-256 of the request body, "meta": …}`.
    pub request_payload: Value,
    /// The answer as sent (sync response, callback body); replayed for the idempotency key.
    pub response: Option<Value>,
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// A call to record.
#[derive(Debug, Clone, PartialEq)]
pub struct NewWebhookCall {
    pub tenant_id: TenantId,
    pub webhook_id: Uuid,
    pub agent_id: Option<AgentId>,
    pub idempotency_key: Option<String>,
    pub mode: CallMode,
    pub callback_url: Option<String>,
    /// `Running` for a call answered now, `Queued` for an async one.
    pub status: CallStatus,
    pub request_payload: Value,
}

/// How a recorded call ends or waits again.
#[derive(Debug, Clone, PartialEq)]
pub struct CallUpdate {
    pub status: CallStatus,
    pub response: Option<Value>,
    pub last_error: Option<String>,
    /// When a queued call is tried again.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// Counts one more callback delivery.
    pub attempted: bool,
}

/// The webhooks of every tenant and their calls.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    async fn create(&self, webhook: NewWebhook) -> Result<Webhook, StoreError>;

    /// A webhook of `tenant` (of any tenant for `None`), revoked or not.
    async fn get(&self, tenant: Option<TenantId>, id: Uuid) -> Result<Webhook, StoreError>;

    /// The webhooks of `tenant` (every tenant for `None`), of one agent if given, newest first.
    async fn list(
        &self,
        tenant: Option<TenantId>,
        agent: Option<AgentId>,
    ) -> Result<Vec<Webhook>, StoreError>;

    /// The live (not revoked) webhook whose secret hashes to `secret_hash`.
    async fn by_secret_hash(&self, secret_hash: &str) -> Result<Option<Webhook>, StoreError>;

    async fn update(
        &self,
        tenant: Option<TenantId>,
        id: Uuid,
        patch: WebhookPatch,
    ) -> Result<Webhook, StoreError>;

    /// Replaces the secret of a webhook.
    async fn rotate(
        &self,
        tenant: Option<TenantId>,
        id: Uuid,
        secret: WebhookSecret,
    ) -> Result<Webhook, StoreError>;

    /// Revokes a webhook; its secret stops working. Revoking twice is not an error.
    async fn revoke(&self, tenant: Option<TenantId>, id: Uuid) -> Result<(), StoreError>;

    /// Notes that a webhook was just called.
    async fn touch(&self, id: Uuid, at: DateTime<Utc>) -> Result<(), StoreError>;

    /// Records a call. A call repeating another's idempotency key for the same webhook is a
    /// [`StoreError::Conflict`]; look it up with [`WebhookStore::call_by_key`].
    async fn record_call(&self, call: NewWebhookCall) -> Result<WebhookCall, StoreError>;

    async fn call_by_key(
        &self,
        webhook_id: Uuid,
        idempotency_key: &str,
    ) -> Result<Option<WebhookCall>, StoreError>;

    async fn get_call(&self, tenant: Option<TenantId>, id: Uuid)
    -> Result<WebhookCall, StoreError>;

    /// The calls of a webhook, newest first.
    async fn list_calls(
        &self,
        webhook_id: Uuid,
        limit: u32,
        offset: u32,
    ) -> Result<Vec<WebhookCall>, StoreError>;

    /// Claims up to `limit` queued async calls due at `now`: each is `running` from then on and
    /// no other claim returns it until [`WebhookStore::update_call`] queues it again.
    async fn claim_due(
        &self,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<WebhookCall>, StoreError>;

    /// Moves a call on (see [`CallUpdate`]).
    async fn update_call(&self, id: Uuid, update: CallUpdate) -> Result<(), StoreError>;

    /// Queues again the async calls left `running` since before `before` (a worker that
    /// stopped mid-call); returns how many.
    async fn requeue_stale(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;

    /// Deletes finished calls created before `before`; returns how many.
    async fn prune_calls(&self, before: DateTime<Utc>) -> Result<u64, StoreError>;
}
