//! `chat.*`: sending a message to an agent (answered when the run ends, with `agent` events
//! streaming meanwhile), history, abort, inject and run status.

use goclaw_agent::{AbortOutcome, ChatInput, Detail, RunOutcome};
use goclaw_core::{NewMessage, Role as MessageRole};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

use super::params::{parse, resolve_agent, session_key};
use super::sessions::{owned_session, store_error, visible_session, visible_transcript};
use super::{Ctx, Reply};
use crate::quotas::{admit_write, check_size};
use crate::ratelimit::{RATE_LIMITED_MESSAGE, millis_ceil, user_key};
use crate::turns::{self, Admission, Refusal};
use crate::ws::frames::{ErrorCode, ErrorShape};
use crate::ws::wire;

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct SendParams {
    message: String,
    agent_id: Option<String>,
    session_key: Option<String>,
    /// A retry with the same key gets the first request's run instead of a new one.
    idempotency_key: Option<String>,
    /// Files for the agent: `[{path, filename?}]` or bare paths (uploads from
    /// `/v1/media/upload`, or the caller's own workspace files).
    media: Vec<crate::files::attach::MediaItem>,
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
    let principal = ctx.principal;
    if principal.user_id.is_empty() {
        return Err(ErrorShape::invalid("user_id is required"));
    }
    if params.message.trim().is_empty() {
        return Err(ErrorShape::invalid("message is required"));
    }
    let agent = resolve_agent(params.agent_id.as_deref(), params.session_key.as_deref())?;
    let key = match params.session_key.as_deref().filter(|k| !k.is_empty()) {
        Some(raw) => session_key(raw)?,
        None => session_key(&format!("agent:{agent}:ws:direct:{}", Uuid::new_v4()))?,
    };
    let (media, message) = attachments(ctx, &agent, &params).await?;
    let input = ChatInput {
        media,
        tenant_id: principal.tenant_id,
        agent_key: agent,
        session_key: key,
        user_id: principal.user_id.clone(),
        trust: principal.trust(),
        channel: "ws".to_owned(),
        message,
        idempotency_key: turns::idempotency_key(params.idempotency_key.as_deref()),
        from_channel: false,
        overrides: Default::default(),
    };
    let admission = Admission {
        rate_key: user_key(principal.tenant_id, &principal.user_id),
        user_id: &principal.user_id,
        remote: ctx.remote.to_string(),
        endpoint: "chat.send",
    };
    // The connection's watcher already forwards the run's events; this call only waits for
    // the end.
    let turn = turns::start(ctx.state, admission, input, Detail::Outcome)
        .await
        .map_err(refusal)?;
    let session_key = turn.session_key.to_string();
    let files = ctx.state.files.clone();
    Ok(Reply::Later(Box::pin(async move {
        outcome_payload(turn.events.outcome().await, &session_key, &files)
    })))
}

/// The message's files kept in the run's workspace, and its text with a line for each.
async fn attachments(
    ctx: &Ctx<'_>,
    agent: &goclaw_core::AgentKey,
    params: &SendParams,
) -> Result<(Vec<goclaw_core::MediaRef>, String), ErrorShape> {
    if params.media.is_empty() {
        return Ok((Vec::new(), params.message.clone()));
    }
    let principal = ctx.principal;
    let workspace = match ctx
        .state
        .runtime
        .workspace_of(principal.tenant_id, agent, &principal.user_id)
        .await
    {
        Ok(workspace) => workspace,
        Err(goclaw_agent::RuntimeError::AgentNotFound(key)) => {
            return Err(ErrorShape::not_found(format!("agent not found: {key}")));
        }
        Err(error) => {
            tracing::error!(error = %error, "the run's workspace is not known");
            return Err(ErrorShape::internal("internal error"));
        }
    };
    let (refs, lines) =
        crate::files::attach::from_paths(&ctx.state.files, principal, &workspace, &params.media)
            .await
            .map_err(|error| ErrorShape::invalid(error.to_string()))?;
    Ok((
        refs,
        crate::files::attach::with_lines(&params.message, &lines),
    ))
}

/// The reply to `chat.send` for a finished run.
fn outcome_payload(
    outcome: RunOutcome,
    session_key: &str,
    files: &crate::files::FileAccess,
) -> Result<Value, ErrorShape> {
    if let RunOutcome::Cancelled { run_id, .. } = outcome {
        return Ok(
            json!({ "runId": run_id.to_string(), "sessionKey": session_key, "cancelled": true }),
        );
    }
    let answer = turns::answer(outcome).map_err(refusal)?;
    let (content, media) = crate::files::attach::answer_media(files, &answer.content);
    let mut payload = json!({
        "runId": answer.run_id.to_string(),
        "sessionKey": session_key,
        "content": content,
        "usage": wire::usage(&answer.usage),
    });
    if !media.is_empty() {
        payload["media"] = Value::Array(media);
    }
    if let Some(thinking) = answer.thinking.filter(|t| !t.is_empty()) {
        payload["thinking"] = Value::String(thinking);
    }
    Ok(payload)
}

/// A refused or failed turn as a protocol error. A rate-limit refusal is `RESOURCE_EXHAUSTED`
/// with `retryAfterMs` — GoClaw answers `INVALID_REQUEST`; the dedicated code lets clients
/// tell "wait" from "fix your request".
pub fn refusal(refusal: Refusal) -> ErrorShape {
    match refusal {
        Refusal::Invalid(message) => ErrorShape::invalid(message),
        Refusal::NotFound(message) => ErrorShape::not_found(message),
        Refusal::Forbidden(message) => ErrorShape::unauthorized(message),
        Refusal::RateLimited(wait) => ErrorShape {
            retry_after_ms: Some(millis_ceil(wait)),
            ..ErrorShape::new(ErrorCode::ResourceExhausted, RATE_LIMITED_MESSAGE)
        },
        Refusal::Exhausted(reason) | Refusal::QuotaExceeded(reason) => {
            ErrorShape::new(ErrorCode::ResourceExhausted, reason)
        }
        Refusal::Cancelled => ErrorShape::new(ErrorCode::Unavailable, "run was cancelled"),
        Refusal::Failed(error) => ErrorShape::internal(error),
        Refusal::Unavailable(message) => ErrorShape::new(ErrorCode::Unavailable, message),
        Refusal::Internal => ErrorShape::internal("internal error"),
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
    // A session with no message yet has an empty history.
    let messages = match visible_session(ctx, &key).await? {
        Some(session) => visible_transcript(ctx, &session).await?,
        None => Vec::new(),
    };
    Ok(json!({ "sessionKey": key.to_string(), "messages": messages }))
}

/// Cancels the session's running and queued runs; a session with nothing running (or none at
/// all yet) answers `aborted: false, notFound: true`, as GoClaw does.
pub async fn abort(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: SessionParams = parse(params)?;
    let key = session_key(&params.session_key)?;
    let outcome = match visible_session(ctx, &key).await? {
        Some(_) => ctx.state.runtime.abort(ctx.principal.tenant_id, &key).await,
        None => AbortOutcome::default(),
    };
    Ok(json!({
        "ok": true,
        "aborted": outcome.aborted,
        "stopped": outcome.aborted,
        "forced": false,
        "alreadyAborting": false,
        "notFound": !outcome.aborted,
        "unauthorized": false,
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

/// Whether the session runs and where; a session with no message yet is idle.
pub async fn session_status(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: SessionParams = parse(params)?;
    let key = session_key(&params.session_key)?;
    visible_session(ctx, &key).await?;
    let status = ctx
        .state
        .runtime
        .session_status(ctx.principal.tenant_id, &key);
    Ok(wire::session_status(&status))
}
