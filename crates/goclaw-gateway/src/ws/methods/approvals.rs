//! `exec.approval.*`: operators list pending exec approvals and resolve them, and the
//! `exec.approval.requested` / `exec.approval.resolved` events they are pushed. Each request
//! belongs to the user of the run that asked; below admin a caller lists, resolves and is sent
//! only its own (the table's `Filter::OwnUser`), and someone else's request is "not found".

use goclaw_tools::exec::{ApprovalDecision, ApprovalEvent, ApprovalRequest};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::parse;
use crate::auth::Principal;
use crate::scopes::{self, Event, Filter, Owner};
use crate::ws::frames::{self, ErrorShape};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ResolveParams {
    id: String,
    #[serde(default)]
    always: bool,
}

/// `exec.approval.list` → `{pending: [...]}`.
pub async fn list(ctx: &Ctx<'_>) -> Result<Value, ErrorShape> {
    let pending: Vec<Value> = match &ctx.state.approvals {
        Some(broker) => broker
            .list(ctx.principal.tenant_id)
            .iter()
            .filter(|request| visible("exec.approval.list", ctx.principal, request))
            .map(request_payload)
            .collect(),
        None => Vec::new(),
    };
    Ok(json!({ "pending": pending }))
}

/// `exec.approval.approve {id, always}` and `exec.approval.deny {id}`.
pub async fn resolve(ctx: &Ctx<'_>, params: Value, allow: bool) -> Result<Value, ErrorShape> {
    let params: ResolveParams = parse(params)?;
    let decision = match (allow, params.always) {
        (false, _) => ApprovalDecision::Deny,
        (true, false) => ApprovalDecision::AllowOnce,
        (true, true) => ApprovalDecision::AllowAlways,
    };
    let not_found = || ErrorShape::not_found(format!("no pending approval {}", params.id));
    let Some(broker) = &ctx.state.approvals else {
        return Err(not_found());
    };
    let method = if allow {
        "exec.approval.approve"
    } else {
        "exec.approval.deny"
    };
    let pending = broker.list(ctx.principal.tenant_id);
    let mine = pending
        .iter()
        .any(|request| request.id == params.id && visible(method, ctx.principal, request));
    if !mine {
        return Err(not_found());
    }
    let by = if ctx.principal.user_id.is_empty() {
        "operator"
    } else {
        ctx.principal.user_id.as_str()
    };
    broker
        .resolve(ctx.principal.tenant_id, &params.id, decision, by)
        .await
        .map_err(|e| ErrorShape::not_found(e.to_string()))?;
    Ok(json!({ "resolved": true, "decision": decision.as_str() }))
}

/// Whether `principal` may see `request` under the filter of `method`'s entry.
fn visible(method: &str, principal: &Principal, request: &ApprovalRequest) -> bool {
    let filter = scopes::method_rule(method).map_or(Filter::OwnUser, |r| r.filter);
    filter.admits(principal, owner(request.tenant_id, &request.user_id))
}

fn owner(tenant_id: goclaw_core::TenantId, user_id: &str) -> Owner<'_> {
    Owner { tenant_id, user_id }
}

/// The event frame for `event`, if a connection signed in as `principal` may be sent it
/// (the entries of `exec.approval.requested` / `exec.approval.resolved` in the access table).
pub fn event_frame(event: &ApprovalEvent, principal: Option<&Principal>) -> Option<Value> {
    let (name, owner, payload) = match event {
        ApprovalEvent::Requested(request) => (
            Event::ExecApprovalRequested,
            owner(request.tenant_id, &request.user_id),
            request_payload(request),
        ),
        ApprovalEvent::Resolved {
            tenant_id,
            user_id,
            id,
            decision,
        } => (
            Event::ExecApprovalResolved,
            owner(*tenant_id, user_id),
            json!({ "id": id, "decision": decision.as_str(), "userId": user_id }),
        ),
    };
    scopes::may_receive(name, principal, Some(owner)).then(|| frames::event(name, payload))
}

/// A pending request as `exec.approval.list` and `exec.approval.requested` carry it
/// (`createdAt` in epoch milliseconds, as GoClaw).
fn request_payload(request: &ApprovalRequest) -> Value {
    json!({
        "id": request.id,
        "toolName": "exec",
        "command": request.command,
        "agentId": request.agent_key,
        "sessionKey": request.session_key,
        "userId": request.user_id,
        "createdAt": request.created_at_ms,
    })
}
