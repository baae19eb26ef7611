//! `POST /v1/webhooks/llm`: runs the webhook's agent on the posted input. A sync call (the
//! default) is answered in the response within 30 s (504 after); an async one
//! (`mode: "async"` or a `callback_url`) is recorded, answered 202 at once, and its answer is
//! POSTed, signed, to the callback URL by the worker.
//!
//! The input is a string, or GoClaw's array of `{role, content}` whose contents are joined in
//! order into one message. Runs happen in the webhook lane (4 at once, shared with async
//! calls), as the user the call names (`user_id`) or else the webhook itself
//! (`webhook:{id}`), with a user's trust: a webhook never acts as an admin. Without a
//! `session_key` every call gets a new session, `webhook:{agent}:{webhook}:{8 characters}`.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Body;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use goclaw_agent::{ChatInput, Detail, TurnOverrides};
use goclaw_core::{
    Agent, CallMode, CallStatus, CallUpdate, NewWebhookCall, SessionKey, Trust, Webhook,
    WebhookCall, WebhookKind,
};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::guard::{self, Refused};
use super::idempotency::Recorded;
use super::{idempotency, net, secret};
use crate::routes::AppState;
use crate::turns::{Refusal, answer};

/// The body of an `llm` call.
#[derive(Debug, Clone, Deserialize)]
pub struct LlmRequest {
    #[serde(default)]
    pub input: Value,
    /// The model to call instead of the agent's own (with the agent's provider).
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub session_key: Option<String>,
    #[serde(default)]
    pub user_id: Option<String>,
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub callback_url: Option<String>,
    /// Echoed in the callback.
    #[serde(default)]
    pub metadata: Option<Value>,
}

/// One message of the array form of `input`.
#[derive(Debug, Deserialize)]
struct InputMessage {
    role: String,
    content: String,
}

/// What a call's `input` asks: the message, and instructions from its `system` entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallInput {
    /// The non-system entries' contents, one per line (or the string input).
    pub text: String,
    /// The `system` entries' contents, one per line; added to the run's system prompt.
    pub system: Option<String>,
}

/// The message and system instructions an input stands for.
pub fn parse_input(input: &Value) -> Result<CallInput, String> {
    match input {
        Value::String(text) => Ok(CallInput {
            text: text.clone(),
            system: None,
        }),
        Value::Array(_) => {
            let messages: Vec<InputMessage> =
                serde_json::from_value(input.clone()).map_err(|e| {
                    format!("input must be a string or array of {{role,content}} objects: {e}")
                })?;
            let joined = |system: bool| {
                messages
                    .iter()
                    .filter(|m| m.role.eq_ignore_ascii_case("system") == system)
                    .map(|m| m.content.as_str())
                    .filter(|c| !c.is_empty())
                    .collect::<Vec<_>>()
                    .join("\n")
            };
            let system = joined(true);
            Ok(CallInput {
                text: joined(false),
                system: (!system.is_empty()).then_some(system),
            })
        }
        _ => Err("input must be a string or array of {role,content} objects".to_owned()),
    }
}

/// Refuses a `model` no provider names a model by (too long, spaces or control characters).
fn check_model(request: &LlmRequest) -> Result<(), Refused> {
    match request.model.as_deref() {
        Some(model)
            if model.len() > MAX_MODEL_BYTES
                || model.chars().any(|c| c.is_control() || c.is_whitespace()) =>
        {
            Err(bad_request(
                "invalid request: model must be at most 200 bytes without spaces or control characters",
            ))
        }
        _ => Ok(()),
    }
}

/// Longest model name a call may ask for.
const MAX_MODEL_BYTES: usize = 200;

/// Answers an `llm` call.
#[utoipa::path(
    post,
    path = "/v1/webhooks/llm",
    tag = "webhooks",
    operation_id = "webhook_llm",
    request_body(content = super::schemas::LlmCall, content_type = "application/json"),
    params(
        ("X-Webhook-Id" = Option<String>, Header, description = "The webhook, with a signature"),
        ("X-GoClaw-Signature" = Option<String>, Header, description = "`t=<unix seconds>,v1=<hex HMAC-SHA256 of \"{t}.{body}\">`"),
        ("Idempotency-Key" = Option<String>, Header, description = "A repeat gets the first call's answer"),
    ),
    security(("webhook" = [])),
    responses(
        (status = 200, description = "The agent's answer (or a replayed one)", body = super::schemas::LlmAnswer),
        (status = 202, description = "Queued; the answer goes to the callback URL", body = super::schemas::CallQueued),
        (status = 400, description = "Invalid input", body = super::schemas::WebhookError),
        (status = 401, description = "No valid secret or signature", body = super::schemas::WebhookError),
        (status = 403, description = "Not allowed from this address, or the wrong kind", body = super::schemas::WebhookError),
        (status = 404, description = "The webhook's agent is gone", body = super::schemas::WebhookError),
        (status = 409, description = "The idempotency key was used with another body", body = super::schemas::WebhookError),
        (status = 413, description = "The body is over 1 MiB", body = super::schemas::WebhookError),
        (status = 429, description = "Over a rate limit", body = super::schemas::WebhookError),
        (status = 500, description = "Internal error", body = super::schemas::WebhookError),
        (status = 503, description = "The webhook lane is busy", body = super::schemas::WebhookError),
        (status = 504, description = "The agent did not answer in 30 s", body = super::schemas::WebhookError),
    )
)]
pub async fn call(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    match handle(&state, peer, &headers, body).await {
        Ok(response) => response,
        Err(refused) => refused.into_response(),
    }
}

fn bad_request(message: impl Into<String>) -> Refused {
    Refused::new(StatusCode::BAD_REQUEST, message)
}

async fn handle(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, Refused> {
    let admitted = guard::admit(state, WebhookKind::Llm, peer, headers, body).await?;
    let webhook = admitted.webhook;
    if webhook.agent_id.is_none() {
        return Err(bad_request("webhook agent not found"));
    }
    let request: LlmRequest = serde_json::from_slice(&admitted.body)
        .map_err(|e| bad_request(format!("invalid request: {e}")))?;
    if request.input.is_null() {
        return Err(bad_request("input is required"));
    }
    let callback = request.callback_url.as_deref().filter(|u| !u.is_empty());
    let mode = match request.mode.as_deref().unwrap_or_default() {
        "async" => CallMode::Async,
        "" | "sync" if callback.is_some() => CallMode::Async,
        "" | "sync" => CallMode::Sync,
        _ => {
            return Err(bad_request(
                "invalid request: mode must be 'sync' or 'async'",
            ));
        }
    };
    if mode == CallMode::Async && callback.is_none() {
        return Err(bad_request("callback_url is required"));
    }
    let input =
        parse_input(&request.input).map_err(|e| bad_request(format!("invalid request: {e}")))?;
    if input.text.trim().is_empty() {
        return Err(bad_request("input is required"));
    }
    check_user(&request)?;
    check_model(&request)?;
    let key = idempotency::key(headers)?;
    let body_hash = secret::body_hash(&admitted.body);
    if let Some(key) = &key
        && let Some(answer) = idempotency::earlier_answer(state, &webhook, key, &body_hash).await?
    {
        return Ok(answer);
    }
    agent_of(state, &webhook).await?;
    if let Some(url) = callback {
        net::check_callback(url, state.webhooks.private_callbacks())
            .await
            .map_err(|reason| {
                tracing::warn!(webhook = %webhook.id, reason = %reason, "security.webhook.callback_url_blocked");
                bad_request("callback URL is invalid or blocked")
            })?;
    }
    let meta = serde_json::to_value(RecordedRequest::from(&request)).unwrap_or_default();
    let new_call = NewWebhookCall {
        tenant_id: webhook.tenant_id,
        webhook_id: webhook.id,
        agent_id: webhook.agent_id,
        idempotency_key: key.clone(),
        mode,
        callback_url: callback.map(str::to_owned),
        status: match mode {
            CallMode::Sync => CallStatus::Running,
            CallMode::Async => CallStatus::Queued,
        },
        request_payload: json!({ "body_hash": body_hash, "meta": meta }),
    };
    let call = match idempotency::record(state, &webhook, new_call, &body_hash).await? {
        Recorded::New(call) => call,
        Recorded::Earlier(answer) => return Ok(answer),
    };
    tracing::info!(webhook = %webhook.id, call = %call.id, mode = mode.as_str(), "webhook.llm.invoked");
    if mode == CallMode::Async {
        state.webhooks.wake_worker();
        return Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "call_id": call.id, "status": "queued" })),
        )
            .into_response());
    }
    answer_now(state, &webhook, &call, &request, &input).await
}

async fn answer_now(
    state: &AppState,
    webhook: &Webhook,
    call: &WebhookCall,
    request: &LlmRequest,
    input: &CallInput,
) -> Result<Response, Refused> {
    let outcome =
        tokio::time::timeout(super::SYNC_TIMEOUT, run(state, webhook, request, input)).await;
    let (status, response, error) = match outcome {
        Ok(Ok(ran)) => {
            let body = json!({
                "call_id": call.id,
                "agent_id": webhook.agent_id,
                "output": ran.output,
                "usage": ran.usage,
                "finish_reason": "stop",
            });
            (CallStatus::Done, Some(body), None)
        }
        Ok(Err(failure)) => (CallStatus::Failed, None, Some(failure)),
        Err(_) => (
            CallStatus::Failed,
            None,
            Some(RunFailure::new(
                StatusCode::GATEWAY_TIMEOUT,
                "LLM processing timed out",
            )),
        ),
    };
    let update = CallUpdate {
        status,
        response: response.clone(),
        last_error: error.as_ref().map(|e| e.message.clone()),
        next_attempt_at: None,
        attempted: false,
    };
    if let Err(e) = state.store.webhooks().update_call(call.id, update).await {
        tracing::error!(call = %call.id, error = %e, "recording a webhook call's end failed");
    }
    match (response, error) {
        (Some(body), _) => Ok((StatusCode::OK, Json(body)).into_response()),
        (None, Some(failure)) => Err(Refused::new(failure.status, failure.message)),
        (None, None) => Err(Refused::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal error",
        )),
    }
}

/// What a call's record keeps of its request.
#[derive(serde::Serialize)]
struct RecordedRequest<'a> {
    input: &'a Value,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    session_key: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    user_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    callback_url: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    metadata: Option<&'a Value>,
}

impl<'a> From<&'a LlmRequest> for RecordedRequest<'a> {
    fn from(request: &'a LlmRequest) -> Self {
        Self {
            input: &request.input,
            model: request.model.as_deref(),
            session_key: request.session_key.as_deref(),
            user_id: request.user_id.as_deref(),
            callback_url: request.callback_url.as_deref(),
            metadata: request.metadata.as_ref(),
        }
    }
}

fn check_user(request: &LlmRequest) -> Result<(), Refused> {
    if let Some(user) = request.user_id.as_deref()
        && (user.len() > 255 || user.chars().any(char::is_control))
    {
        return Err(bad_request(
            "invalid request: user_id must be at most 255 bytes without control characters",
        ));
    }
    if let Some(key) = request.session_key.as_deref().filter(|k| !k.is_empty()) {
        SessionKey::parse(key).map_err(|e| bad_request(format!("invalid request: {e}")))?;
    }
    Ok(())
}

/// The webhook's agent, if it still exists in the webhook's tenant.
async fn agent_of(state: &AppState, webhook: &Webhook) -> Result<Agent, Refused> {
    let agents = state
        .store
        .agents()
        .list(webhook.tenant_id)
        .await
        .map_err(idempotency::internal)?;
    agents
        .into_iter()
        .find(|agent| Some(agent.id) == webhook.agent_id)
        .ok_or_else(|| Refused::new(StatusCode::NOT_FOUND, "webhook agent not found"))
}

/// A finished run.
#[derive(Debug, Clone)]
pub struct Ran {
    pub output: String,
    /// `{prompt_tokens, completion_tokens, total_tokens}`.
    pub usage: Value,
}

/// Why a run gave no answer, as the caller is told.
#[derive(Debug, Clone)]
pub struct RunFailure {
    pub status: StatusCode,
    pub message: String,
}

impl RunFailure {
    fn new(status: StatusCode, message: impl Into<String>) -> Self {
        Self {
            status,
            message: message.into(),
        }
    }
}

impl From<Refusal> for RunFailure {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Invalid(m) => {
                Self::new(StatusCode::BAD_REQUEST, format!("invalid request: {m}"))
            }
            Refusal::NotFound(m) => Self::new(StatusCode::NOT_FOUND, m),
            Refusal::Forbidden(m) => Self::new(StatusCode::FORBIDDEN, m),
            Refusal::RateLimited(_) => {
                Self::new(StatusCode::TOO_MANY_REQUESTS, "webhook rate limit exceeded")
            }
            Refusal::QuotaExceeded(m) => Self::new(StatusCode::TOO_MANY_REQUESTS, m),
            Refusal::Exhausted(m) | Refusal::Unavailable(m) => {
                Self::new(StatusCode::SERVICE_UNAVAILABLE, m)
            }
            Refusal::Cancelled => Self::new(StatusCode::SERVICE_UNAVAILABLE, "the run was aborted"),
            Refusal::Failed(m) => Self::new(
                StatusCode::BAD_GATEWAY,
                format!("the agent run failed: {m}"),
            ),
            Refusal::Internal => Self::new(StatusCode::INTERNAL_SERVER_ERROR, "internal error"),
        }
    }
}

/// Runs the webhook's agent on `input` in the webhook lane.
pub async fn run(
    state: &AppState,
    webhook: &Webhook,
    request: &LlmRequest,
    input: &CallInput,
) -> Result<Ran, RunFailure> {
    let agent = agent_of(state, webhook)
        .await
        .map_err(|r| RunFailure::new(r.status, r.message))?;
    let lane = state.webhooks.lane();
    let _slot = tokio::time::timeout(super::SYNC_TIMEOUT, lane.acquire_owned())
        .await
        .map_err(|_| {
            tracing::warn!(webhook = %webhook.id, "webhook.lane_saturated");
            RunFailure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "webhook processing lane is at capacity",
            )
        })?
        .map_err(|_| {
            RunFailure::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the gateway is shutting down",
            )
        })?;
    let session_key = match request.session_key.as_deref().filter(|k| !k.is_empty()) {
        Some(key) => SessionKey::parse(key),
        None => SessionKey::parse(&format!(
            "webhook:{}:{}:{}",
            agent.id,
            webhook.id,
            &Uuid::new_v4().simple().to_string()[..8]
        )),
    }
    .map_err(|e| RunFailure::new(StatusCode::BAD_REQUEST, format!("invalid request: {e}")))?;
    let user_id = request
        .user_id
        .clone()
        .filter(|u| !u.is_empty())
        .unwrap_or_else(|| format!("webhook:{}", webhook.id));
    let chat = ChatInput {
        media: Vec::new(),
        tenant_id: webhook.tenant_id,
        agent_key: agent.agent_key.clone(),
        session_key: session_key.clone(),
        user_id,
        trust: Trust::User,
        channel: "webhook".to_owned(),
        message: input.text.clone(),
        idempotency_key: None,
        from_channel: false,
        overrides: TurnOverrides {
            model: request.model.clone().filter(|m| !m.is_empty()),
            extra_system_prompt: input.system.clone(),
            ..Default::default()
        },
    };
    let turn = state
        .runtime
        .start_turn(chat, Detail::Outcome)
        .await
        .map_err(|e| RunFailure::from(Refusal::from(e)))?;
    let answered = AbortOnDrop {
        state,
        tenant: webhook.tenant_id,
        session: session_key,
        armed: true,
    };
    let outcome = turn.events.outcome().await;
    let mut answered = answered;
    answered.armed = false;
    let done = answer(outcome).map_err(RunFailure::from)?;
    let usage = &done.usage;
    let prompt = usage.input_tokens + usage.cache_creation_tokens + usage.cache_read_tokens;
    Ok(Ran {
        output: done.content,
        usage: json!({
            "prompt_tokens": prompt,
            "completion_tokens": usage.output_tokens,
            "total_tokens": prompt + usage.output_tokens,
        }),
    })
}

/// Aborts the session's run when the waiting call gives up (a timeout drops the future).
struct AbortOnDrop<'a> {
    state: &'a AppState,
    tenant: goclaw_core::TenantId,
    session: SessionKey,
    armed: bool,
}

impl Drop for AbortOnDrop<'_> {
    fn drop(&mut self) {
        if !self.armed {
            return;
        }
        let runtime = self.state.runtime.clone();
        let tenant = self.tenant;
        let session = self.session.clone();
        tokio::spawn(async move {
            runtime.abort(tenant, &session).await;
        });
    }
}
