//! `sessions.*`: listing, previewing, patching, deleting, resetting and compacting sessions.
//! Non-admin callers only ever see their own sessions. A patch's label and metadata are capped
//! in size and spend the caller's write budget.
//!
//! A key with no session behind it yet answers reads as an empty session when the caller could
//! start it (the key lies in its own namespace); a key the caller may not see is refused alike
//! whether a session exists under it or not.

use std::collections::HashMap;

use goclaw_core::{Session, SessionFilter, SessionKey, SessionNamespace, SessionPatch, StoreError};
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

/// The session `key` names, if the caller may see it; `None` when no session exists under the
/// key yet and the caller could start one there. Someone else's session, and a key the caller
/// could not start a session under, are refused with the same answer, so a refusal never says
/// whether a session exists.
pub async fn visible_session(
    ctx: &Ctx<'_>,
    key: &SessionKey,
) -> Result<Option<Session>, ErrorShape> {
    let refused = || ErrorShape::unauthorized("permission denied: not your session");
    let found = ctx
        .state
        .store
        .sessions()
        .get(ctx.principal.tenant_id, key)
        .await;
    match found {
        Ok(session) if ctx.may_see_user(&session.user_id) => Ok(Some(session)),
        Ok(_) => Err(refused()),
        Err(StoreError::NotFound(_)) => {
            let principal = ctx.principal;
            if SessionNamespace::of(key).admits(&principal.user_id, principal.trust()) {
                Ok(None)
            } else {
                Err(refused())
            }
        }
        Err(other) => Err(store_error(&other)),
    }
}

/// Loads a session the caller may access, for calls that change it: a missing one is
/// `NOT_FOUND` (see [`visible_session`] for who is told so).
pub async fn owned_session(ctx: &Ctx<'_>, key: &SessionKey) -> Result<Session, ErrorShape> {
    visible_session(ctx, key)
        .await?
        .ok_or_else(|| ErrorShape::not_found("session not found"))
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

/// Which sessions `sessions.list` (and `GET /v1/sessions`) returns.
#[derive(Deserialize, Default)]
#[serde(default, rename_all = "camelCase")]
pub(crate) struct ListParams {
    pub(crate) agent_id: Option<String>,
    pub(crate) channel: Option<String>,
    pub(crate) limit: Option<u32>,
    pub(crate) offset: u32,
}

pub async fn list(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: ListParams = parse(params)?;
    page(
        ctx.state,
        ctx.principal.tenant_id,
        ctx.listing_user(),
        params,
    )
    .await
}

/// A page of the tenant's sessions (only `user`'s when given), newest first, in GoClaw's
/// `sessions.list` shape.
pub(crate) async fn page(
    state: &crate::routes::AppState,
    tenant: goclaw_core::TenantId,
    user: Option<String>,
    params: ListParams,
) -> Result<Value, ErrorShape> {
    let limit = params.limit.unwrap_or(20).clamp(1, 200);
    let offset = params.offset;
    let page = |sessions: Vec<Value>, total: u64| -> Value {
        json!({
            "sessions": sessions,
            "total": total,
            "limit": limit,
            "offset": offset,
        })
    };
    let agents = state
        .store
        .agents()
        .list(tenant)
        .await
        .map_err(|e| store_error(&e))?;
    let agent_id = match params.agent_id.as_deref().filter(|a| !a.is_empty()) {
        Some(raw) => {
            let key = super::params::agent_key(raw)?;
            // Sessions of an agent that does not exist: there are none.
            match agents.iter().find(|a| a.agent_key == key) {
                Some(agent) => Some(agent.id),
                None => return Ok(page(Vec::new(), 0)),
            }
        }
        None => None,
    };
    let filter = SessionFilter {
        agent_id,
        user_id: user,
        channel: params.channel.filter(|c| !c.is_empty()),
        limit,
        offset,
    };
    let (sessions, total) = state
        .store
        .sessions()
        .list(tenant, &filter)
        .await
        .map_err(|e| store_error(&e))?;
    let by_id: HashMap<_, _> = agents.iter().map(|a| (a.id, a)).collect();
    let runtime = &state.runtime;
    let items = sessions
        .iter()
        .map(|s| {
            let agent = s.agent_id.and_then(|id| by_id.get(&id).copied());
            let primary = match agent {
                Some(agent) => runtime.primary_model(agent, Some(s)),
                None => (String::new(), s.model.clone()),
            };
            wire::session(s, agent, primary)
        })
        .collect();
    Ok(page(items, total))
}

#[derive(Deserialize)]
struct KeyParams {
    key: String,
}

pub async fn preview(ctx: &Ctx<'_>, params: Value) -> Result<Value, ErrorShape> {
    let params: KeyParams = parse(params)?;
    let key = session_key(&params.key)?;
    let (messages, summary) = match visible_session(ctx, &key).await? {
        Some(session) => (
            visible_transcript(ctx, &session).await?,
            session.summary.unwrap_or_default(),
        ),
        None => (Vec::new(), String::new()),
    };
    Ok(json!({ "key": key.to_string(), "messages": messages, "summary": summary }))
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
