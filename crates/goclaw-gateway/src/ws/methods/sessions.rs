//! `sessions.*`: listing, previewing, patching, deleting, resetting and compacting sessions.
//! Non-admin callers only ever see their own sessions. A patch's label and metadata are capped
//! in size and spend the caller's write budget.

use goclaw_core::{Session, SessionFilter, SessionKey, SessionPatch, StoreError};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::{parse, session_key};
use crate::quotas::{MAX_SESSION_LABEL_CHARS, MAX_SESSION_METADATA_BYTES, admit_write, check_size};
use crate::ws::frames::{ErrorCode, ErrorShape};
use crate::ws::wire;

/// A store failure as a protocol error; internals are logged, not sent.
pub fn store_error(error: &StoreError) -> ErrorShape {
    match error {
        StoreError::NotFound(what) => ErrorShape::not_found(format!("{what} not found")),
        StoreError::Conflict(what) => {
            ErrorShape::new(ErrorCode::AlreadyExists, format!("{what} already exists"))
        }
        other => {
            tracing::error!(error = %other, "store operation failed");
            ErrorShape::internal("internal error")
        }
    }
}

/// Loads a session the caller may access.
pub async fn owned_session(ctx: &Ctx<'_>, key: &SessionKey) -> Result<Session, ErrorShape> {
    let session = ctx
        .state
        .store
        .sessions()
        .get(ctx.principal.tenant_id, key)
        .await
        .map_err(|e| store_error(&e))?;
    if !ctx.may_see_user(&session.user_id) {
        return Err(ErrorShape::unauthorized(
            "permission denied: not your session",
        ));
    }
    Ok(session)
}

/// Longest transcript a history call returns.
const HISTORY_LIMIT: u32 = 10_000;

/// The messages of a session a client is shown, oldest first.
pub async fn visible_transcript(
    ctx: &Ctx<'_>,
    session: &Session,
) -> Result<Vec<Value>, ErrorShape> {
    let messages = ctx
        .state
        .store
        .messages()
        .list(session.id, 0, HISTORY_LIMIT)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(wire::visible_messages(&messages))
}

#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
struct ListParams {
    agent_id: Option<String>,
    channel: Option<String>,
    limit: Option<u32>,
    offset: u32,
}

pub async fn list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ListParams = parse(params)?;
    let tenant = ctx.principal.tenant_id;
    let agent_id = match params.agent_id.as_deref().filter(|a| !a.is_empty()) {
        Some(raw) => {
            let key = super::params::agent_key(raw)?;
            let agent = ctx
                .state
                .store
                .agents()
                .get_by_key(tenant, &key)
                .await
                .map_err(|e| store_error(&e))?;
            Some(agent.id)
        }
        None => None,
    };
    let limit = params.limit.unwrap_or(20).clamp(1, 200);
    let filter = SessionFilter {
        agent_id,
        user_id: ctx.listing_user(),
        channel: params.channel.filter(|c| !c.is_empty()),
        limit,
        offset: params.offset,
    };
    let (sessions, total) = ctx
        .state
        .store
        .sessions()
        .list(tenant, &filter)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({
        "sessions": sessions.iter().map(wire::session).collect::<Vec<_>>(),
        "total": total,
        "limit": limit,
        "offset": params.offset,
    }))
}

#[derive(Deserialize)]
struct KeyParams {
    key: String,
}

pub async fn preview(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: KeyParams = parse(params)?;
    let key = session_key(&params.key)?;
    let session = owned_session(ctx, &key).await?;
    Ok(json!({
        "key": key.to_string(),
        "messages": visible_transcript(ctx, &session).await?,
        "summary": session.summary,
    }))
}

#[derive(Deserialize)]
struct PatchParams {
    key: String,
    label: Option<String>,
    model: Option<String>,
    metadata: Option<Value>,
}

pub async fn patch(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: PatchParams = parse(params)?;
    let key = session_key(&params.key)?;
    owned_session(ctx, &key).await?;
    if params.metadata.as_ref().is_some_and(|m| !m.is_object()) {
        return Err(ErrorShape::invalid("metadata must be an object"));
    }
    let label_chars = params.label.as_deref().map_or(0, |l| l.chars().count());
    check_size(
        ctx.principal,
        "label",
        label_chars,
        MAX_SESSION_LABEL_CHARS,
        "characters",
    )?;
    let metadata_bytes = params.metadata.as_ref().map_or(0, |m| m.to_string().len());
    check_size(
        ctx.principal,
        "metadata",
        metadata_bytes,
        MAX_SESSION_METADATA_BYTES,
        "bytes",
    )?;
    admit_write(
        ctx.state,
        ctx.principal,
        &format!("conn:{}", ctx.conn_id),
        &ctx.remote.to_string(),
        "sessions.patch",
    )?;
    let patch = SessionPatch {
        label: params.label,
        model: params.model,
        metadata: params.metadata,
    };
    ctx.state
        .store
        .sessions()
        .patch(ctx.principal.tenant_id, &key, patch)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "ok": true, "key": key.to_string() }))
}

pub async fn delete(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: KeyParams = parse(params)?;
    let key = session_key(&params.key)?;
    owned_session(ctx, &key).await?;
    ctx.state.runtime.abort(ctx.principal.tenant_id, &key).await;
    ctx.state
        .store
        .sessions()
        .delete(ctx.principal.tenant_id, &key)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "ok": true }))
}

pub async fn reset(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: KeyParams = parse(params)?;
    let key = session_key(&params.key)?;
    owned_session(ctx, &key).await?;
    ctx.state.runtime.abort(ctx.principal.tenant_id, &key).await;
    ctx.state
        .store
        .sessions()
        .reset(ctx.principal.tenant_id, &key)
        .await
        .map_err(|e| store_error(&e))?;
    Ok(json!({ "ok": true }))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CompactParams {
    key: String,
    keep_last: Option<usize>,
}

pub async fn compact(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: CompactParams = parse(params)?;
    let key = session_key(&params.key)?;
    owned_session(ctx, &key).await?;
    let keep_last = params.keep_last.unwrap_or(4).max(1);
    let outcome = ctx
        .state
        .runtime
        .compact(ctx.principal.tenant_id, &key, keep_last)
        .await
        .map_err(|e| ErrorShape::internal(e.to_string()))?;
    Ok(wire::compact_outcome(&outcome))
}
