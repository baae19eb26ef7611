//! `exec.approval.*`: operators list pending exec approvals and resolve them, and the
//! `exec.approval.requested` / `exec.approval.resolved` events they are pushed.

use goclaw_tools::exec::{ApprovalDecision, ApprovalEvent, ApprovalRequest};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Ctx;
use super::params::parse;
use crate::auth::{Principal, Role};
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
    let Some(broker) = &ctx.state.approvals else {
        return Err(ErrorShape::not_found(format!(
            "approval {} not found",
            params.id
        )));
    };
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

/// The event frame for `event`, if `principal` may see it: an operator or above of its tenant.
pub fn event_frame(event: &ApprovalEvent, principal: Option<&Principal>) -> Option<Value> {
    let principal = principal?;
    if principal.role < Role::Operator {
        return None;
    }
    match event {
        ApprovalEvent::Requested(request) if request.tenant_id == principal.tenant_id => Some(
            frames::event("exec.approval.requested", request_payload(request)),
        ),
        ApprovalEvent::Resolved {
            tenant_id,
            id,
            decision,
        } if *tenant_id == principal.tenant_id => Some(frames::event(
            "exec.approval.resolved",
            json!({ "id": id, "decision": decision.as_str() }),
        )),
        _ => None,
    }
}

fn request_payload(request: &ApprovalRequest) -> Value {
    json!({
        "id": request.id,
        "command": request.command,
        "agentId": request.agent_key,
        "sessionKey": request.session_key,
        "createdAt": request.created_at_ms,
    })
}
