//! The wire shapes of the HTTP API as OpenAPI schemas. Handlers build most bodies with `json!`
//! (shared with the WebSocket methods), so these types describe those bodies for the generated
//! spec rather than being constructed; schemathesis, run against the live gateway by
//! `crates/goclaw/tests/openapi.rs`, checks that every response matches them.
#![allow(dead_code)]

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use utoipa::openapi::schema::{
    AllOfBuilder, AnyOfBuilder, ObjectBuilder, Schema, SchemaType, Type,
};
use utoipa::openapi::{Ref, RefOr};

/// Every error: OpenAI's shape, with GoClaw's protocol code in `code`.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"error": {"message": "unauthorized", "type": "authentication_error", "code": "UNAUTHORIZED"}}))]
pub struct ErrorResponse {
    pub error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub struct ErrorDetail {
    /// What went wrong; for 5xx a generic text (the cause is only logged).
    pub message: String,
    #[serde(rename = "type")]
    pub kind: ErrorKind,
    pub code: ErrorCode,
}

/// OpenAI's error type.
#[derive(Serialize, ToSchema)]
pub enum ErrorKind {
    #[serde(rename = "invalid_request_error")]
    InvalidRequest,
    #[serde(rename = "authentication_error")]
    Authentication,
    #[serde(rename = "permission_error")]
    Permission,
    #[serde(rename = "not_found_error")]
    NotFound,
    #[serde(rename = "rate_limit_error")]
    RateLimit,
    #[serde(rename = "server_error")]
    Server,
}

/// GoClaw's protocol error code.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ErrorCode {
    InvalidRequest,
    Unauthorized,
    NotFound,
    AlreadyExists,
    ResourceExhausted,
    Unavailable,
    Internal,
}

/// `GET /health`.
#[derive(Serialize, ToSchema)]
pub struct Health {
    #[schema(example = "ok")]
    pub status: String,
    /// WebSocket protocol version.
    #[schema(example = 3)]
    pub protocol: u32,
}

/// `GET /ready` when the database answers.
#[derive(Serialize, ToSchema)]
pub struct Ready {
    #[schema(example = "ready")]
    pub status: String,
    /// The storage backend: `sqlite` or `postgres`.
    #[schema(example = "sqlite")]
    pub database: String,
}

/// `GET /ready` when the database does not answer.
#[derive(Serialize, ToSchema)]
pub struct NotReady {
    #[schema(example = "unavailable")]
    pub status: String,
    #[schema(example = "database unreachable")]
    pub error: String,
}

/// `GET /`.
#[derive(Serialize, ToSchema)]
pub struct ServiceIndex {
    #[schema(example = "goclaw")]
    pub service: String,
    pub status: String,
    pub protocol: u32,
    pub version: String,
    pub endpoints: Vec<String>,
}

/// An agent as the API shows it: GoClaw's `AgentData` JSON.
#[derive(Serialize, ToSchema)]
pub struct Agent {
    /// The agent's UUID.
    pub id: uuid::Uuid,
    pub tenant_id: uuid::Uuid,
    /// The agent key (`agentId` in chat calls).
    #[schema(example = "default")]
    pub agent_key: String,
    pub display_name: String,
    /// Provider name; empty means `agents.defaults.provider`.
    pub provider: String,
    /// Model name; empty means `agents.defaults.model`.
    pub model: String,
    pub context_window: i64,
    pub max_tool_iterations: i64,
    pub workspace: String,
    pub restrict_to_workspace: bool,
    /// `open` (context files per user) or `predefined` (shared context files).
    pub agent_type: String,
    pub is_default: bool,
    /// `active` or `inactive`.
    pub status: String,
    /// Settings without a field of their own (`max_tokens`, `temperature`, …).
    #[schema(value_type = Object)]
    pub other_config: Value,
    /// The agent's own memory settings (`max_results`, `vector_weight`, `text_weight`,
    /// `min_score`), when it has any; kept in `other_config`.
    #[schema(value_type = Option<Object>)]
    pub memory_config: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/agents`.
#[derive(Serialize, ToSchema)]
pub struct AgentList {
    pub agents: Vec<Agent>,
}

/// `PUT /v1/agents/{id}`: the updated agent, with GoClaw's answer `ok: "true"`.
#[derive(Serialize, ToSchema)]
pub struct AgentUpdated {
    #[serde(flatten)]
    pub agent: Agent,
    #[schema(example = "true")]
    pub ok: String,
}

/// `DELETE /v1/agents/{id}`: GoClaw's answer.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"ok": "true"}))]
pub struct AgentDeleted {
    #[schema(example = "true")]
    pub ok: String,
}

/// Agent fields of `PUT /v1/agents/{id}`, all optional; `id` is ignored (agents are not
/// renamed). Unknown fields are ignored. GoClaw's names are accepted for `id` (`agent_key`)
/// and `name` (`display_name`), as are the camelCase spellings (`displayName`, `agentType`,
/// `isDefault`, …); each field may be given once, under one of its names.
#[derive(Serialize, ToSchema)]
pub struct AgentFields {
    /// The agent key (also `agent_key`).
    pub id: Option<String>,
    /// Display name (also `display_name`).
    #[schema(max_length = 255)]
    pub name: Option<String>,
    #[schema(max_length = 100)]
    pub provider: Option<String>,
    #[schema(max_length = 255)]
    pub model: Option<String>,
    pub agent_type: Option<AgentType>,
    pub status: Option<AgentStatus>,
    pub is_default: Option<bool>,
    #[schema(minimum = 0, maximum = 9_223_372_036_854_775_807_i64)]
    pub context_window: Option<i64>,
    #[schema(minimum = 0, maximum = 500)]
    pub max_tool_iterations: Option<i64>,
    pub workspace: Option<String>,
    pub restrict_to_workspace: Option<bool>,
    /// Kept in `other_config`. Documented as `int64`: every `u32` is valid, which `int32`
    /// would deny.
    #[schema(format = Int64, minimum = 0, maximum = 4_294_967_295_u64)]
    pub max_tokens: Option<u32>,
    /// Kept in `other_config`.
    #[schema(minimum = 0.0, maximum = 2.0)]
    pub temperature: Option<f64>,
    pub other_config: Option<Map<String, Value>>,
    /// GoClaw's per-agent memory settings: positive `max_results`, `vector_weight`,
    /// `text_weight` and `min_score` override `agents.defaults.memory` in the agent's memory
    /// searches. Kept in `other_config` under this name.
    pub memory_config: Option<Map<String, Value>>,
}

/// `POST /v1/agents`: [`AgentFields`], where the key comes from `id` (an agent key), or when
/// `id` is absent or empty from `name` (lowercased, other characters turned into `-`), which
/// must then contain an ASCII letter or digit.
pub struct AgentCreate;

impl utoipa::PartialSchema for AgentCreate {
    fn schema() -> RefOr<Schema> {
        let string = |constraint: ObjectBuilder| constraint.schema_type(Type::String);
        let by_id = ObjectBuilder::new()
            .property("id", string(ObjectBuilder::new().min_length(Some(1))))
            .required("id");
        let by_name = ObjectBuilder::new()
            .property(
                "name",
                string(ObjectBuilder::new().pattern(Some("[A-Za-z0-9]"))),
            )
            .required("name");
        let id_is_a_key = ObjectBuilder::new().property(
            "id",
            ObjectBuilder::new()
                .schema_type(SchemaType::from_iter([Type::String, Type::Null]))
                .pattern(Some(r"^([a-z0-9][a-z0-9_-]{0,63})?$")),
        );
        AllOfBuilder::new()
            .item(Ref::from_schema_name("AgentFields"))
            .item(id_is_a_key)
            .item(AnyOfBuilder::new().item(by_id).item(by_name))
            .description(Some(
                "Agent fields; the key is `id`, else derived from `name`, which must then \
                 contain an ASCII letter or digit.",
            ))
            .into()
    }
}

impl ToSchema for AgentCreate {
    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        schemas.push((
            AgentFields::name().into_owned(),
            <AgentFields as utoipa::PartialSchema>::schema(),
        ));
        AgentFields::schemas(schemas);
    }
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentType {
    Open,
    Predefined,
}

#[derive(Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AgentStatus {
    Active,
    Inactive,
}

/// An LLM provider stored in the tenant or set in the configuration (GoClaw's
/// `LLMProviderData` JSON); the API key only masked.
#[derive(Serialize, ToSchema)]
pub struct Provider {
    pub id: uuid::Uuid,
    pub tenant_id: uuid::Uuid,
    pub name: String,
    #[schema(example = "openai_compat")]
    pub provider_type: String,
    pub api_base: String,
    /// `***` when a key is stored (GoClaw's mask), empty without one.
    #[schema(example = "***")]
    pub api_key: String,
    pub has_api_key: bool,
    pub enabled: bool,
    #[schema(value_type = Object)]
    pub settings: Value,
    /// `database` (managed through this API) or `config` (the configuration file or
    /// environment; read-only here).
    #[schema(example = "database")]
    pub source: String,
    /// Whether the API may change it (`false` for `database`, `true` for `config`).
    pub read_only: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// `GET /v1/providers`.
#[derive(Serialize, ToSchema)]
pub struct ProviderList {
    pub providers: Vec<Provider>,
}

/// `PUT /v1/providers/{id}`: the updated provider, with GoClaw's answer `status: "updated"`.
#[derive(Serialize, ToSchema)]
pub struct ProviderUpdated {
    #[serde(flatten)]
    pub provider: Provider,
    #[schema(example = "updated")]
    pub status: String,
}

/// `DELETE /v1/providers/{id}`: GoClaw's answer.
#[derive(Serialize, ToSchema)]
#[schema(example = json!({"status": "deleted"}))]
pub struct ProviderDeleted {
    #[schema(example = "deleted")]
    pub status: String,
}

/// `POST /v1/providers`. The camelCase spellings (`providerType`, `apiBase`, `apiKey`) are
/// accepted too; any other field is refused.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderCreate {
    #[schema(
        pattern = r"^[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000/\x00-\x1f\x7f-\x9f]{1,100}$"
    )]
    pub name: String,
    /// Defaults to `openai_compat`.
    #[schema(pattern = r"^[a-z0-9_]{1,50}$")]
    pub provider_type: Option<String>,
    /// An `http://` or `https://` URL, or empty for the provider type's default.
    #[schema(
        pattern = r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(https?://[\s\S]*)?$"
    )]
    pub api_base: Option<String>,
    /// The plaintext key, stored encrypted (needs `GOCLAW_ENCRYPTION_KEY`).
    pub api_key: Option<String>,
    pub enabled: Option<bool>,
    pub settings: Option<Map<String, Value>>,
    /// Accepted from GoClaw's clients, not stored.
    pub display_name: Option<String>,
}

/// `PUT /v1/providers/{id}`: the fields to change. `name` may be repeated only unchanged
/// (providers are not renamed); an empty `api_key` removes the stored key, `***` (the mask)
/// keeps it.
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProviderUpdate {
    #[schema(pattern = r"^[a-z0-9_]{1,50}$")]
    pub provider_type: Option<String>,
    #[schema(
        pattern = r"^[\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]*(https?://[\s\S]*)?$"
    )]
    pub api_base: Option<String>,
    pub api_key: Option<String>,
    pub enabled: Option<bool>,
    pub settings: Option<Map<String, Value>>,
    /// Accepted from GoClaw's clients, not stored.
    pub display_name: Option<String>,
}

/// An API key scope.
#[derive(Serialize, ToSchema)]
pub enum Scope {
    #[serde(rename = "operator.admin")]
    Admin,
    #[serde(rename = "operator.read")]
    Read,
    #[serde(rename = "operator.write")]
    Write,
    #[serde(rename = "operator.approvals")]
    Approvals,
    #[serde(rename = "operator.pairing")]
    Pairing,
    #[serde(rename = "operator.provision")]
    Provision,
}

/// `POST /v1/api-keys`.
#[derive(Serialize, ToSchema)]
pub struct ApiKeyCreate {
    /// 1–100 characters, not blank.
    #[schema(
        max_length = 100,
        pattern = r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]"
    )]
    pub name: String,
    #[schema(min_items = 1)]
    pub scopes: Vec<Scope>,
    /// Lifetime in seconds; absent or 0: the key does not expire.
    #[schema(minimum = 0, maximum = 3_162_240_000_i64)]
    pub expires_in: Option<i64>,
    /// The user every request made with the key acts as.
    #[schema(max_length = 255)]
    pub owner_id: Option<String>,
}

/// A key as listings show it: never the key itself.
#[derive(Serialize, ToSchema)]
pub struct ApiKey {
    pub id: uuid::Uuid,
    pub name: String,
    /// The first characters of the key, to recognise it.
    pub prefix: String,
    pub scopes: Vec<Scope>,
    /// `null` for a system-wide key.
    pub tenant_id: Option<uuid::Uuid>,
    pub owner_id: Option<String>,
    pub expires_at: Option<DateTime<Utc>>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked: bool,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// A created key, the only time `key` is ever shown.
#[derive(Serialize, ToSchema)]
pub struct CreatedApiKey {
    pub id: uuid::Uuid,
    pub name: String,
    pub prefix: String,
    /// The key itself (`goclaw_…`): shown once, never again.
    pub key: String,
    pub scopes: Vec<Scope>,
    pub expires_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

/// A revoked key: GoClaw's `status: "revoked"`, with the key's id.
#[derive(Serialize, ToSchema)]
pub struct RevokedApiKey {
    #[schema(example = "revoked")]
    pub status: String,
    pub ok: bool,
    pub id: uuid::Uuid,
    pub revoked: bool,
}

/// `POST /v1/chat/completions`. Only the last `user` message is sent to the agent (the
/// gateway keeps the history itself); it must have text.
#[derive(Serialize, ToSchema)]
pub struct ChatCompletionRequest {
    /// `goclaw:<agent>` or `agent:<agent>` picks the agent; anything else (or nothing) means
    /// the `X-GoClaw-Agent-Id` header, else `default`.
    #[schema(
        pattern = r"^(?!goclaw:|agent:)[\s\S]*|^(?:goclaw|agent):(?:[a-z0-9][a-z0-9_-]{0,63})?(?![\s\S])"
    )]
    #[serde(default)]
    pub model: String,
    /// The conversation; see `chat_messages` in `schemas.rs` for the rules.
    pub messages: Vec<Value>,
    /// Stream the answer as server-sent events (`chat.completion.chunk`s, then `[DONE]`).
    #[serde(default)]
    pub stream: bool,
    /// One session per user and agent; without it every call starts a fresh session.
    #[schema(max_length = 100, pattern = r"^[^\x00-\x1f\x7f-\x9f]*$")]
    pub user: Option<String>,
    pub stream_options: Option<StreamOptions>,
}

/// Text that is not blank (as Rust's `str::trim` sees white space).
const NOT_BLANK: &str =
    r"[^\t\n\x0b\x0c\r \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]";

/// The schema of `messages`: at least one `user` message, and every `user` message has text
/// — a non-blank string `content`, or an array of parts one of which has a non-blank `text`.
/// Other roles' messages may carry anything; the gateway keeps the history itself and reads
/// only the last `user` message. Written as JSON because utoipa's schema model has no
/// `contains`, `not` or `const`; `openapi.rs` puts it in place.
pub fn chat_messages() -> Value {
    let text = json!({ "type": "string", "pattern": NOT_BLANK });
    json!({
        "type": "array",
        "minItems": 1,
        "contains": { "type": "object", "properties": { "role": { "const": "user" } }, "required": ["role"] },
        "items": {
            "anyOf": [
                {
                    "type": "object",
                    "description": "A `user` message: its text is what the agent receives.",
                    "properties": {
                        "role": { "const": "user" },
                        "content": {
                            "oneOf": [
                                text,
                                {
                                    "type": "array",
                                    "contains": { "type": "object", "properties": { "text": text }, "required": ["text"] },
                                },
                            ],
                        },
                    },
                    "required": ["role", "content"],
                },
                {
                    "type": "object",
                    "description": "Any other message (`system`, `assistant`, `tool`, …); only `user` messages are read.",
                    "properties": {
                        "role": { "type": "string", "not": { "const": "user" } },
                        "content": {},
                    },
                    "required": ["role"],
                },
            ],
        },
    })
}

#[derive(Serialize, ToSchema)]
pub struct StreamOptions {
    /// Send a last chunk with `usage`.
    #[serde(default)]
    pub include_usage: bool,
}

/// One server-sent event of a streamed completion: `data` is a `chat.completion.chunk` object
/// as JSON (the last one with `usage` when `stream_options.include_usage`), an `error` object
/// when the run fails, or `[DONE]` at the end.
#[derive(Serialize, ToSchema)]
pub struct ChatCompletionEvent {
    #[schema(example = "[DONE]")]
    pub data: String,
}

/// A whole (non-streamed) completion.
#[derive(Serialize, ToSchema)]
pub struct ChatCompletion {
    pub id: String,
    #[schema(example = "chat.completion")]
    pub object: String,
    /// Unix seconds.
    pub created: u64,
    pub model: String,
    pub choices: Vec<ChatChoice>,
    pub usage: ChatUsage,
}

#[derive(Serialize, ToSchema)]
pub struct ChatChoice {
    pub index: u32,
    pub message: AssistantMessage,
    #[schema(example = "stop")]
    pub finish_reason: String,
}

#[derive(Serialize, ToSchema)]
pub struct AssistantMessage {
    #[schema(example = "assistant")]
    pub role: String,
    pub content: String,
}

#[derive(Serialize, ToSchema)]
pub struct ChatUsage {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    pub total_tokens: u64,
    pub prompt_tokens_details: PromptTokensDetails,
}

#[derive(Serialize, ToSchema)]
pub struct PromptTokensDetails {
    pub cached_tokens: u64,
}
