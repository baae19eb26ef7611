//! Schemas of the webhook routes for the OpenAPI document (documentation only; the handlers
//! read and write `serde_json` values of exactly these shapes).

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// `llm` runs the agent; `message` posts to a channel.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Llm,
    Message,
}

/// `POST /v1/webhooks`.
#[derive(Serialize, ToSchema)]
pub struct WebhookCreate {
    /// 1–100 characters, not blank.
    #[schema(
        max_length = 100,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: String,
    pub kind: Kind,
    /// The agent (UUID or key); for `llm`, the tenant's default agent when left out.
    pub agent_id: Option<String>,
    #[schema(max_items = 32)]
    pub scopes: Option<Vec<String>>,
    /// The channel instance a `message` webhook posts to (a UUID; empty for none).
    #[schema(
        pattern = r"^$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub channel_id: Option<String>,
    /// Calls a minute, 0 unlimited; 60 when left out.
    #[schema(minimum = 0, maximum = 100_000)]
    pub rate_limit_per_min: Option<i64>,
    /// Addresses and CIDR blocks calls may come from; empty allows any. An entry that is
    /// neither never matches.
    #[schema(max_items = 256)]
    pub ip_allowlist: Option<Vec<String>>,
    /// Refuse bearer calls: every call must be signed.
    pub require_hmac: Option<bool>,
    /// Refuse calls from anywhere but this host.
    pub localhost_only: Option<bool>,
}

/// `PATCH /v1/webhooks/{id}`; every field optional, `channel_id: null` clears it.
#[derive(Serialize, ToSchema)]
pub struct WebhookUpdate {
    /// 1–100 characters, not blank.
    #[schema(
        max_length = 100,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: Option<String>,
    #[schema(max_items = 32)]
    pub scopes: Option<Vec<String>>,
    /// A UUID; empty or `null` clears it.
    #[schema(
        pattern = r"^$|^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
    )]
    pub channel_id: Option<String>,
    #[schema(minimum = 0, maximum = 100_000)]
    pub rate_limit_per_min: Option<i64>,
    #[schema(max_items = 256)]
    pub ip_allowlist: Option<Vec<String>>,
    pub require_hmac: Option<bool>,
    pub localhost_only: Option<bool>,
}

/// A webhook (never its secret).
#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub id: uuid::Uuid,
    pub tenant_id: uuid::Uuid,
    /// Left out when the webhook has no agent.
    pub agent_id: Option<uuid::Uuid>,
    pub name: String,
    pub kind: Kind,
    /// `wh_` and the next 5 characters of the secret.
    pub secret_prefix: String,
    pub scopes: Vec<String>,
    pub channel_id: Option<uuid::Uuid>,
    pub rate_limit_per_min: i64,
    pub ip_allowlist: Vec<String>,
    pub require_hmac: bool,
    pub localhost_only: bool,
    pub revoked: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
}

/// A new webhook with its secret, shown once.
#[derive(Serialize, ToSchema)]
pub struct CreatedWebhook {
    #[serde(flatten)]
    pub webhook: WebhookView,
    /// `wh_…`: the bearer token, and the HMAC key.
    pub secret: String,
    /// The key of `X-GoClaw-Signature` (the secret itself).
    pub hmac_signing_key: String,
}

/// A webhook's new secret, shown once.
#[derive(Serialize, ToSchema)]
pub struct RotatedWebhook {
    pub id: uuid::Uuid,
    pub secret: String,
    pub hmac_signing_key: String,
    pub secret_prefix: String,
}

/// `{"status":"revoked"}`.
#[derive(Serialize, ToSchema)]
pub struct RevokedWebhook {
    #[schema(example = "revoked")]
    pub status: String,
}

/// A call of a webhook.
#[derive(Serialize, ToSchema)]
pub struct CallView {
    pub id: uuid::Uuid,
    /// `X-Webhook-Delivery-Id` of its callbacks.
    pub delivery_id: uuid::Uuid,
    /// `sync` or `async`.
    pub mode: String,
    /// `queued`, `running`, `done`, `failed` or `dead`.
    pub status: String,
    pub attempts: i64,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub started_at: Option<DateTime<Utc>>,
    pub completed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub last_error: Option<String>,
    /// The answer as sent, as a JSON string.
    pub response: Option<String>,
}

/// A call with what it was asked.
#[derive(Serialize, ToSchema)]
pub struct CallDetail {
    #[serde(flatten)]
    pub call: CallView,
    pub webhook_id: uuid::Uuid,
    pub agent_id: Option<uuid::Uuid>,
    pub idempotency_key: Option<String>,
    pub callback_url: Option<String>,
    /// `{"body_hash","meta"}` as a JSON string.
    pub request_payload: String,
}

/// The body of `POST /v1/webhooks/llm`.
#[derive(Serialize, ToSchema)]
pub struct LlmCall {
    /// A string, or an array of `{role, content}`: the `system` entries are added to the run's
    /// system prompt, the others joined in order as the message.
    #[schema(value_type = Object)]
    pub input: serde_json::Value,
    /// The session to continue; a new one per call when left out.
    pub session_key: Option<String>,
    /// The user the run acts for; the webhook itself when left out.
    pub user_id: Option<String>,
    /// The model to call instead of the agent's own, with the agent's provider (at most 200
    /// bytes, no spaces).
    #[schema(max_length = 200)]
    pub model: Option<String>,
    /// `sync` (default) or `async`.
    pub mode: Option<String>,
    /// Where an async answer is POSTed (makes the call async).
    pub callback_url: Option<String>,
    /// Echoed in the callback.
    #[schema(value_type = Object)]
    pub metadata: Option<serde_json::Value>,
}

/// Token counts of the run.
#[derive(Serialize, ToSchema)]
pub struct LlmUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
}

/// A sync call's answer.
#[derive(Serialize, ToSchema)]
pub struct LlmAnswer {
    pub call_id: uuid::Uuid,
    pub agent_id: uuid::Uuid,
    pub output: String,
    pub usage: LlmUsage,
    #[schema(example = "stop")]
    pub finish_reason: String,
}

/// An accepted async call (or a repeated key whose call has no answer yet).
#[derive(Serialize, ToSchema)]
pub struct CallQueued {
    pub call_id: uuid::Uuid,
    pub status: String,
}

/// The body of `POST /v1/webhooks/message`.
#[derive(Serialize, ToSchema)]
pub struct MessageCall {
    /// The channel instance; the webhook's own when it has one.
    pub channel_name: Option<String>,
    pub chat_id: String,
    /// At most 16 KiB; may be left out when `media_url` is given.
    pub content: Option<String>,
    /// A public `https` URL of a file (at most 25 MiB, not HTML, SVG or script), fetched by
    /// the gateway and posted after the text.
    pub media_url: Option<String>,
    /// The file's caption.
    pub media_caption: Option<String>,
    /// Accepted for compatibility: every channel here takes files.
    pub fallback_to_text: Option<bool>,
}

/// A posted message.
#[derive(Serialize, ToSchema)]
pub struct MessageSent {
    pub call_id: uuid::Uuid,
    /// `sent`, or `queued` while the channel is still sending it.
    pub status: String,
    pub channel_name: String,
    pub chat_id: String,
    /// Not set: every channel here takes files (GoClaw's `media_not_supported_fallback_text`).
    pub warning: Option<String>,
}

/// A refused webhook call: `{"error":"…"}`.
#[derive(Serialize, ToSchema)]
pub struct WebhookError {
    pub error: String,
}

/// A channel update taken: `{"ok":true}`.
#[derive(Serialize, ToSchema)]
pub struct Delivered {
    pub ok: bool,
}
