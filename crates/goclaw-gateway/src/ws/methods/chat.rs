//! `chat.*`: sending a message to an agent (answered when the run ends, with `agent` events
//! streaming meanwhile), history, abort, inject and run status.

use goclaw_agent::{ChatInput, Lane, RunOutcome, RuntimeError};
use goclaw_core::{NewMessage, Role as MessageRole};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::params::{parse, resolve_agent, session_key};
use super::sessions::{owned_session, store_error, visible_transcript};
use super::{Ctx, Reply};
use crate::quotas::{admit_write, check_size};
use crate::ratelimit::{RATE_LIMITED_MESSAGE, millis_ceil, user_key};
use crate::ws::frames::{ErrorCode, ErrorShape};
use crate::ws::wire;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SendParams {
    message: String,
    agent_id: Option<String>,
    session_key: Option<String>,
}

/// Submits a message; the reply comes when the run ends.
pub async fn send(ctx: &Ctx<'_>, params: Value) -> Reply {
    match submit(ctx, params).await {
        Ok(reply) => reply,
        Err(error) => Reply::Now(Err(error)),
    }
}

async fn submit(ctx: &Ctx<'_>, params: Value) -> Result<Reply, ErrorShape> {
    let params: SendParams = parse(params)?;
    if ctx.principal.user_id.is_empty() {
        return Err(ErrorShape::invalid("user_id is required"));
    }
    if params.message.trim().is_empty() {
        return Err(ErrorShape::invalid("message is required"));
    }
    let agent = resolve_agent(params.agent_id.as_deref(), params.session_key.as_deref())?;
    // Whose session it is, and whether a new key lies in the caller's namespace, is the
    // runtime's decision (`RuntimeError::SessionNotOwned`).
    let key = match params.session_key.as_deref().filter(|k| !k.is_empty()) {
        Some(raw) => session_key(raw)?,
        None => session_key(&format!("agent:{agent}:ws:direct:{}", Uuid::new_v4()))?,
    };
    admit(ctx)?;
    let input = ChatInput {
        tenant_id: ctx.principal.tenant_id,
        agent_key: agent,
        session_key: key,
        user_id: ctx.principal.user_id.clone(),
        trust: ctx.principal.trust(),
        channel: "ws".to_owned(),
        message: params.message,
        lane: Lane::Main,
    };
    let submission = ctx
        .state
        .runtime
        .submit(input)
        .await
        .map_err(|e| runtime_error(&e))?;
    let session_key = submission.session_key.to_string();
    Ok(Reply::Later(Box::pin(async move {
        let outcome = submission.outcome.await.map_err(|_| {
            ErrorShape::new(
                ErrorCode::Unavailable,
                "gateway is shutting down, please retry shortly",
            )
        })?;
        outcome_payload(outcome, &session_key)
    })))
}

/// Takes a token of the caller's `gateway.rate_limit_rpm` budget (keyed by user, else by
/// connection). A refusal is `RESOURCE_EXHAUSTED` with `retryAfterMs` — GoClaw answers
/// `INVALID_REQUEST`; the dedicated code lets clients tell "wait" from "fix your request".
fn admit(ctx: &Ctx<'_>) -> Result<(), ErrorShape> {
    let principal = ctx.principal;
    let key = if principal.user_id.is_empty() {
        format!("conn:{}", ctx.conn_id)
    } else {
        user_key(principal.tenant_id, &principal.user_id)
    };
    let remote = ctx.remote.to_string();
    ctx.state
        .rate_limiter
        .admit(&key, &principal.user_id, &remote, "chat.send")
        .map_err(|wait| {
            ctx.state.metrics.rate_limit_hit("chat.send");
            ErrorShape {
                retry_after_ms: Some(millis_ceil(wait)),
                ..ErrorShape::new(ErrorCode::ResourceExhausted, RATE_LIMITED_MESSAGE)
            }
        })
}

/// The reply to `chat.send` for a finished run.
fn outcome_payload(outcome: RunOutcome, session_key: &str) -> Result<Value, ErrorShape> {
    match outcome {
        RunOutcome::Completed {
            run_id,
            content,
            thinking,
            usage,
            ..
        } => {
            let mut payload = json!({
                "runId": run_id.to_string(),
                "sessionKey": session_key,
                "content": content,
                "usage": wire::usage(&usage),
            });
            if let Some(thinking) = thinking.filter(|t| !t.is_empty()) {
                payload["thinking"] = Value::String(thinking);
            }
            Ok(payload)
        }
        RunOutcome::Cancelled { run_id, .. } => {
            Ok(json!({ "runId": run_id.to_string(), "sessionKey": session_key, "cancelled": true }))
        }
        RunOutcome::Failed { error, .. } => Err(ErrorShape::internal(error)),
        RunOutcome::Dropped { reason } => {
            Err(ErrorShape::new(ErrorCode::ResourceExhausted, reason))
        }
    }
}

/// A runtime refusal as a protocol error.
pub fn runtime_error(error: &RuntimeError) -> ErrorShape {
    match error {
        RuntimeError::AgentNotFound(agent) => {
            ErrorShape::not_found(format!("agent {agent} not found"))
        }
        RuntimeError::Store(e) => store_error(e),
        RuntimeError::InjectionBlocked { .. } => ErrorShape::invalid(error.to_string()),
        RuntimeError::SessionNotOwned(_) => ErrorShape::unauthorized(error.to_string()),
        other => ErrorShape::new(ErrorCode::Unavailable, other.to_string()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SessionParams {
    session_key: String,
}

pub async fn history(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: SessionParams = parse(params)?;
    let key = session_key(&params.session_key)?;
    let session = owned_session(ctx, &key).await?;
    let messages = visible_transcript(ctx, &session).await?;
    Ok(json!({ "sessionKey": key.to_string(), "messages": messages }))
}

pub async fn abort(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: SessionParams = parse(params)?;
    let key = session_key(&params.session_key)?;
    owned_session(ctx, &key).await?;
    let outcome = ctx.state.runtime.abort(ctx.principal.tenant_id, &key).await;
    Ok(json!({
        "ok": true,
        "aborted": outcome.aborted,
        "runIds": outcome.run_ids.iter().map(ToString::to_string).collect::<Vec<_>>(),
    }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InjectParams {
    session_key: String,
    message: String,
    label: Option<String>,
}

/// Appends an assistant message to a session's transcript. The message is capped at
/// `gateway.max_message_chars` (refused, not cut: it is not the user's own words) and spends the
/// caller's write budget.
pub async fn inject(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: InjectParams = parse(params)?;
    let key = session_key(&params.session_key)?;
    check_size(
        ctx.principal,
        "message",
        params.message.len(),
        ctx.state.runtime.max_message_chars(),
        "bytes",
    )?;
    let session = owned_session(ctx, &key).await?;
    admit_write(
        ctx.state,
        ctx.principal,
        &format!("conn:{}", ctx.conn_id),
        &ctx.remote.to_string(),
        "chat.inject",
    )?;
    let label: Option<String> = params.label.map(|l| l.chars().take(100).collect());
    let content = match label.as_deref().filter(|l| !l.is_empty()) {
        Some(label) => format!("[{label}]\n\n{}", params.message),
        None => params.message,
    };
    let mut message = NewMessage::text(MessageRole::Assistant, content);
    message.metadata = json!({ "injected": true });
    let stored = ctx
        .state
        .store
        .messages()
        .append(session.id, message)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "ok": true, "messageId": stored.id.to_string() }))
}

pub async fn session_status(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: SessionParams = parse(params)?;
    let key = session_key(&params.session_key)?;
    owned_session(ctx, &key).await?;
    let status = ctx
        .state
        .runtime
        .session_status(ctx.principal.tenant_id, &key);
    Ok(wire::session_status(&status))
}
